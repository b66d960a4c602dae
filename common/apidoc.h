/* apidoc.h - the API reference generated from the resource table. */
#ifndef FP_APIDOC_H
#define FP_APIDOC_H

#include <stdio.h>

/* apidoc_write writes docs/API.md (Markdown) to out. */
void apidoc_write(FILE *out);

#endif
