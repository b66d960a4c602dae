/* resource.h - the table of collections, declared once as data. */
#ifndef FP_RESOURCE_H
#define FP_RESOURCE_H

#include <jansson.h>
#include "ferr.h"
#include "field.h"
#include "form.h"

/* resources is the table of collections, terminated by a NULL-name row. */
extern const struct resource resources[];

/* resource_find returns the collection named name, or NULL. */
const struct resource *resource_find(const char *name);

#endif
