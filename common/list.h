/* list.h - one window of a collection: what GET /api/{c} answers. */
#ifndef FP_LIST_H
#define FP_LIST_H

#include <jansson.h>
#include "ferr.h"
#include "form.h"
#include "resource.h"
#include "store.h"

/*
 * list_window answers GET /api/{c}: query holds q, sort,
 * the filters (fields marked FF_FILTER), ids, limit and after or before
 * (docs/LISTS.md). Returns a new {"items":[..],"next":..,"prev":..,
 * "seq":N,"total":T,"totalIsLowerBound":B} read in one transaction, or
 * NULL with err (400 naming a bad parameter).
 */
json_t *list_window(struct store *st, const struct resource *res,
	const struct form *query, struct ferr *err);

#endif
