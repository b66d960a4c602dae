/* scale.h - flowpush demo --scale: many generated records per collection. */
#ifndef FP_SCALE_H
#define FP_SCALE_H

#include <stdio.h>
#include "store.h"

/*
 * scale_load creates n records in each collection (or only in the
 * collection named only, when not NULL) through store_create
 * (validation, counters, search tables and journal rows as for any
 * client), in transactions of 2,000 writes with one dashboard row and one
 * doorbell each. A tenth of the campaigns run (with progress), a tenth are
 * queued; two thirds of the proxies have a health check. Names and
 * addresses carry a random tag, so loads can be repeated. Progress lines go
 * to out (may be NULL) about once a second. Returns the number of records
 * created, or -1 with err set (batches committed before stay).
 */
long long scale_load(struct store *st, const char *actor, long long n,
	const char *only, FILE *out, struct ferr *err);

#endif
