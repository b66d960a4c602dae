/* txn.h - one write transaction, with its effect on the dashboard. */
#ifndef FP_TXN_H
#define FP_TXN_H

#include <jansson.h>
#include "ferr.h"
#include "dbx.h"
#include "field.h"

/* What a write does to the dashboard: nothing, certainly move it (a
 * record came or went, so a total changed), or perhaps (a counted field
 * changed: compare the figures before and after). */
enum dash_effect { DASH_NONE, DASH_ALWAYS, DASH_COMPARE };

/* A write in progress: one transaction and its effect on the dashboard. */
/* A connection's write state between transactions: the batch open on it,
 * if any (store_batch_begin). Start zeroed. */
struct txn_batch {
	int open;
	int dash;                     /* a write of the batch moved the
					 dashboard */
	int failed;                   /* a write of the batch failed */
};

struct txn {
	struct dbx *db;
	struct txn_batch *batch;
	const char *doorbell;         /* rung after the commit */
	enum dash_effect dash;
	json_t *dash_before;
	int open;
};

/* txn_begin starts a write on db: BEGIN IMMEDIATE, or nothing inside
 * the open batch b (its transaction holds the write); doorbell is the
 * socket to ring after the commit ("" or NULL: none). 0 or -1 with err. */
int txn_begin(struct txn *t, struct dbx *db, struct txn_batch *b,
	const char *doorbell, struct ferr *err);

/*
 * txn_dashboard is called before the row changes, with the stored record
 * (NULL on create) and the new one (NULL on delete), to learn whether the
 * write may move the dashboard's figures. 0 or -1 with err.
 */
int txn_dashboard(struct txn *t, const struct resource *res, json_t *old,
	json_t *rec, struct ferr *err);

/* txn_commit journals the dashboard when its figures moved, commits and
 * rings the doorbell (a batch does both at its own commit). */
int txn_commit(struct txn *t, const char *actor, struct ferr *err);

/* txn_end rolls back a write that did not commit (inside a batch: marks
 * the batch failed) and frees what t holds. Always call it. */
void txn_end(struct txn *t);

/* txn_dashboard_append journals the dashboard's figures as they are now,
 * unless before (the figures before the write; NULL: always) equals them.
 * 0 or -1 with err. */
int txn_dashboard_append(struct dbx *db, json_t *before, const char *actor,
	struct ferr *err);

/*
 * txn_batch_begin opens one transaction for many writes on db (bulk
 * loads); txn_batch_commit journals one dashboard row when a write moved
 * it, commits and rings once, or rolls everything back (500) when a write
 * of the batch failed; txn_batch_rollback drops the batch. 0 or -1 with
 * err.
 */
int txn_batch_begin(struct dbx *db, struct txn_batch *b, struct ferr *err);
int txn_batch_commit(struct dbx *db, struct txn_batch *b, const char *doorbell,
	const char *actor, struct ferr *err);
void txn_batch_rollback(struct dbx *db, struct txn_batch *b);

#endif
