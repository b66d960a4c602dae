/* txn.c - one write transaction, with its effect on the dashboard. */
#include <string.h>

#include "dashboard.h"
#include "db.h"
#include "journal.h"
#include "txn.h"

int txn_dashboard_append(struct store *st, json_t *before,
	const char *actor, struct ferr *err)
{
	json_t *after = dashboard_compute(st->db, err);
	int result = 0;

	if (!after)
		return -1;
	if ((!before || !json_equal(after, before)) &&
	    journal_append(st->db, "dashboard", "updated", NULL, -1, actor,
	    after, NULL, NULL, err))
		result = -1;
	json_decref(after);
	return result;
}

int txn_begin(struct txn *t, struct store *st, struct ferr *err)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
	/* Inside a batch a write is part of the batch's transaction. A
	 * savepoint per write would let one refused record leave the others,
	 * but it makes the search index flush at every write (a third of a
	 * bulk load's time): a failed write fails the batch instead. */
	if (!st->batch && db_begin(st->db, err))
		return -1;
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
		t->dash_before = dashboard_compute(t->st->db, err);
		if (!t->dash_before)
			return -1;
		t->dash = DASH_COMPARE;
		return 0;
	}
	return 0;
}

/* txn_commit journals the dashboard when its figures moved, commits and
 * rings the doorbell. */
int txn_commit(struct txn *t, const struct store_write *w,
	struct ferr *err)
{
	struct store *st = t->st;

	if (st->batch) {
		/* One dashboard row for the whole batch, at its commit. */
		if (t->dash != DASH_NONE)
			st->batch_dash = 1;
		t->open = 0;
		return 0;
	}
	if (t->dash != DASH_NONE && txn_dashboard_append(st,
	    t->dash == DASH_COMPARE ? t->dash_before : NULL, w->actor, err))
		return -1;
	if (db_commit(st->db, err))
		return -1;
	t->open = 0;
	journal_doorbell(st->cfg->doorbell);
	return 0;
}

void txn_end(struct txn *t)
{
	if (t->open && t->st->batch)
		t->st->batch_failed = 1;
	else if (t->open)
		db_rollback(t->st->db);
	json_decref(t->dash_before);
	t->dash_before = NULL;
	t->open = 0;
}
