/* demo.h - realistic demo data for flowpush demo, loaded through the store. */
#ifndef FP_DEMO_H
#define FP_DEMO_H

#include <stdio.h>
#include "store.h"

/*
 * demo_has_data is non-zero when any collection already holds a record
 * (*has set), 0 otherwise. Returns 0 or -1 with err set.
 */
int demo_has_data(struct store *st, int *has, struct ferr *err);

/*
 * demo_load creates personas, keyword sets, proxies, proxy pools and
 * campaigns of every type in several states, each through store_create,
 * store_patch and store_action so that validation, the journal and the
 * doorbell apply as for any client. suffix (may be NULL or "") is
 * appended to every name so a second load does not clash with unique
 * names. One line per record goes to out (may be NULL). Returns the
 * number of records created, or -1 with err set (records made before the
 * failure stay).
 */
int demo_load(struct store *st, const char *actor, const char *suffix,
	FILE *out, struct ferr *err);

#endif
