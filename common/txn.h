/* txn.h - one write transaction, with its effect on the dashboard. */
#ifndef FP_TXN_H
#define FP_TXN_H

#include <jansson.h>
#include "ferr.h"
#include "resource.h"
#include "store.h"

/* What a write does to the dashboard: nothing, certainly move it (a
 * record came or went, so a total changed), or perhaps (a counted field
 * changed: compare the figures before and after). */
enum dash_effect { DASH_NONE, DASH_ALWAYS, DASH_COMPARE };

/* A write in progress: one transaction and its effect on the dashboard. */
struct txn {
	struct store *st;
	enum dash_effect dash;
	json_t *dash_before;
	int open;
};

/* txn_begin starts a write on st: BEGIN IMMEDIATE, or nothing inside a
 * batch (the batch's transaction holds the write). 0 or -1 with err. */
int txn_begin(struct txn *t, struct store *st, struct ferr *err);

/*
 * txn_dashboard is called before the row changes, with the stored record
 * (NULL on create) and the new one (NULL on delete), to learn whether the
 * write may move the dashboard's figures. 0 or -1 with err.
 */
int txn_dashboard(struct txn *t, const struct resource *res, json_t *old,
	json_t *rec, struct ferr *err);

/* txn_commit journals the dashboard when its figures moved, commits and
 * rings the doorbell (a batch does both at its own commit). */
int txn_commit(struct txn *t, const struct store_write *w,
	struct ferr *err);

/* txn_end rolls back a write that did not commit (inside a batch: marks
 * the batch failed) and frees what t holds. Always call it. */
void txn_end(struct txn *t);

/* txn_dashboard_append journals the dashboard's figures as they are now,
 * unless before (the figures before the write; NULL: always) equals them.
 * 0 or -1 with err. */
int txn_dashboard_append(struct store *st, json_t *before,
	const char *actor, struct ferr *err);

#endif
