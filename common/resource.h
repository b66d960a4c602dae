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

/* resource_names_other is non-zero when a field of a, at any depth,
 * references records of b (b other than a): a's records name b's, so b
 * must be loaded first. */
int resource_names_other(const struct resource *a,
	const struct resource *b);

#endif
