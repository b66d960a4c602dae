/* formjson.h - an HTML form's pairs turned into a record's JSON body. */
#ifndef FP_FORMJSON_H
#define FP_FORMJSON_H

#include <jansson.h>
#include "ferr.h"
#include "field.h"
#include "form.h"

/*
 * formjson_decode turns decoded form pairs into a JSON body shaped by
 * the resource's fields: dotted names nest ("configDetails.resolvers"),
 * "rules[0].pattern" indexes arrays, a repeated name of an array-of-scalars
 * field collects items, otherwise the last value wins; strings become
 * numbers/booleans per the field type ("true", "false", "on", "1", "0");
 * "" is null where the field is nullable. Pairs whose name starts with '_'
 * are skipped. res NULL gives a flat object of strings. Returns a new
 * reference or NULL with err set (422 naming the field).
 */
json_t *formjson_decode(const struct resource *res,
	const struct form *f, struct ferr *err);

#endif
