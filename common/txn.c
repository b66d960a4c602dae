/* txn.c - one write transaction, with its effect on the dashboard. */
#include <string.h>

#include "dashboard.h"
#include "db.h"
#include "journal.h"
#include "txn.h"

int txn_dashboard_append(struct dbx *db, json_t *before, const char *actor,
	struct ferr *err)
{
	json_t *after = dashboard_compute(db, err);
	int result = 0;

	if (!after)
		return -1;
	if ((!before || !json_equal(after, before)) &&
	    journal_append(db, NULL, "dashboard", "updated", NULL, -1, actor,
	    after, NULL, NULL, err))
		result = -1;
	json_decref(after);
	return result;
}

int txn_begin(struct txn *t, struct dbx *db, struct txn_batch *b,
	const char *doorbell, struct ferr *err)
{
	memset(t, 0, sizeof(*t));
	t->db = db;
	t->batch = b;
	t->doorbell = doorbell;
	/* Inside a batch a write is part of the batch's transaction. A
	 * savepoint per write would let one refused record leave the others,
	 * but it makes the search index flush at every write (a third of a
	 * bulk load's time): a failed write fails the batch instead. */
	if (!b->open && (dbx_begin(db, err) || journal_write_lock(db, err))) {
		dbx_rollback(db);
		return -1;
	}
	t->open = 1;
	return 0;
}

/*
 * txn_dashboard is called before the row changes, with the stored record
 * (NULL on create) and the new one (NULL on delete). Most writes, such as
 * a worker's progress report, touch no counted field and cost the
 * dashboard nothing.
 */
int txn_dashboard(struct txn *t, const struct resource *res,
	json_t *old, json_t *rec, struct ferr *err)
{
	const struct field *f;

	if (!res->dashboard)
		return 0;
	if (!old || !rec) {
		t->dash = DASH_ALWAYS;
		return 0;
	}
	for (f = res->fields; f->name; f++) {
		json_t *a = json_object_get(old, f->name);
		json_t *b = json_object_get(rec, f->name);

		if (!(f->flags & FF_DASH) || a == b || (a && b &&
		    json_equal(a, b)))
			continue;
		/* The dashboard counts each value of an enum and the true
		 * values of a boolean: such a change surely moves a figure,
		 * and a boolean going from null to false moves none. */
		if (f->type == FT_ENUM) {
			t->dash = DASH_ALWAYS;
			return 0;
		}
		if (f->type == FT_BOOL) {
			if (json_is_true(a) != json_is_true(b)) {
				t->dash = DASH_ALWAYS;
				return 0;
			}
			continue;
		}
		t->dash_before = dashboard_compute(t->db, err);
		if (!t->dash_before)
			return -1;
		t->dash = DASH_COMPARE;
		return 0;
	}
	return 0;
}

/* txn_commit journals the dashboard when its figures moved, commits and
 * rings the doorbell. */
int txn_commit(struct txn *t, const char *actor, struct ferr *err)
{
	if (t->batch->open) {
		/* One dashboard row for the whole batch, at its commit. */
		if (t->dash != DASH_NONE)
			t->batch->dash = 1;
		t->open = 0;
		return 0;
	}
	if (t->dash != DASH_NONE && txn_dashboard_append(t->db,
	    t->dash == DASH_COMPARE ? t->dash_before : NULL, actor, err))
		return -1;
	if (dbx_commit(t->db, err))
		return -1;
	t->open = 0;
	journal_doorbell(t->doorbell);
	return 0;
}

void txn_end(struct txn *t)
{
	if (t->open && t->batch->open)
		t->batch->failed = 1;
	else if (t->open)
		dbx_rollback(t->db);
	json_decref(t->dash_before);
	t->dash_before = NULL;
	t->open = 0;
}

int txn_batch_begin(struct dbx *db, struct txn_batch *b, struct ferr *err)
{
	/* A batch dirties many index pages: keep them in memory until the
	 * commit rather than spill them to the WAL one by one, and keep each
	 * write's savepoint journal in memory too. */
	if (dbx_kind(db) == DBX_SQLITE && dbx_exec(db, "PRAGMA cache_size = "
	    "-131072; PRAGMA temp_store = MEMORY", "batch", err) < 0)
		return -1;
	if (dbx_begin(db, err))
		return -1;
	if (journal_write_lock(db, err)) {
		dbx_rollback(db);
		return -1;
	}
	memset(b, 0, sizeof(*b));
	b->open = 1;
	return 0;
}

int txn_batch_commit(struct dbx *db, struct txn_batch *b, const char *doorbell,
	const char *actor, struct ferr *err)
{
	b->open = 0;
	if (b->failed) {
		dbx_rollback(db);
		return ferr_set(err, 500, "internal_error", "A write of the "
			"batch failed; the batch was rolled back.");
	}
	if (b->dash && txn_dashboard_append(db, NULL, actor, err)) {
		dbx_rollback(db);
		return -1;
	}
	if (dbx_commit(db, err))
		return -1;
	journal_doorbell(doorbell);
	return 0;
}

void txn_batch_rollback(struct dbx *db, struct txn_batch *b)
{
	b->open = 0;
	dbx_rollback(db);
}
