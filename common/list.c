/* list.c - one window of a collection: search, sort, filters, keyset paging and a cheap total. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "store.h"
#include "db.h"
#include "journal.h"
#include "listq.h"
#include "sqltext.h"

/*
 * How q is answered. The trigram index finds the matching rows; when they
 * are few (at most LISTQ_COUNT_BOUND) the query starts from them and sorts
 * them. When they are many, a window of the sort index holds matches
 * densely, so the query walks the sort index and checks each row's folded
 * text, stopping at the window's end; the folded text is what the index
 * was built from, so both ways find the same rows.
 */
enum q_plan { Q_NONE, Q_FROM_MATCHES, Q_FROM_SORT };

/* A value to bind, in the order of the ? in the statement. */
struct bindv {
	enum { BV_INT, BV_REAL, BV_TEXT, BV_EMPTY_BLOB } kind;
	long long i;
	double r;
	const char *t;                /* borrowed */
};

/* One statement being built: SQL text and its values. */
struct stmt_text {
	char sql[8192 + 40 * LISTQ_IDS_MAX];
	struct sqltext t;
	struct bindv v[LISTQ_IDS_MAX + 32];
	int nv;
};

static void st_bind(struct stmt_text *s, struct bindv v)
{
	if (s->nv == (int)(sizeof(s->v) / sizeof(s->v[0]))) {
		s->t.over = 1;
		return;
	}
	s->v[s->nv++] = v;
}

static void st_bind_key(struct stmt_text *s, const struct listq_key *k)
{
	struct bindv v = { .kind = BV_EMPTY_BLOB };

	if (k->type == LK_INT) {
		v.kind = BV_INT;
		v.i = k->i;
	} else if (k->type == LK_REAL) {
		v.kind = BV_REAL;
		v.r = k->r;
	} else if (k->type == LK_TEXT) {
		v.kind = BV_TEXT;
		v.t = k->text;
	}
	st_bind(s, v);
}

/* st_prepare compiles s and binds its values. */
static int st_prepare(struct dbx *x, struct stmt_text *s,
	struct dbx_stmt **out, struct ferr *err)
{
	int i;

	*out = NULL;
	if (s->t.over)
		return ferr_set(err, 500, "internal_error", "The query is too "
			"long.");
	if (dbx_prepare(x, s->sql, "list prepare", out, err) < 0)
		return -1;
	for (i = 0; i < s->nv; i++) {
		const struct bindv *v = &s->v[i];

		if (v->kind == BV_INT)
			dbx_bind_int64(*out, i + 1, v->i);
		else if (v->kind == BV_REAL)
			dbx_bind_double(*out, i + 1, v->r);
		else if (v->kind == BV_TEXT)
			dbx_bind_text(*out, i + 1, v->t);
		else
			dbx_bind_empty_blob(*out, i + 1);
	}
	return 0;
}

/* What one list request needs along the way. */
struct lister {
	struct store *st;
	const struct listq *lq;
	enum q_plan plan;
	int pg;                       /* PostgreSQL's dialect */
	char key[256];                /* the sort expression */
	char match[LISTQ_Q_MAX * 2 + 8]; /* q as an FTS5 phrase, or on
					  PostgreSQL as a LIKE pattern */
	struct stmt_text *s;          /* scratch, one statement at a time */
};

static void add_from(struct lister *l)
{
	const char *t = l->lq->res->table;

	if (l->plan == Q_FROM_MATCHES && l->pg) {
		/* The few matches first, from the trigram index, then sorted:
		 * OFFSET 0 keeps the planner from walking a sort index and
		 * testing every row instead. Named as the table, so that the
		 * conditions read them. */
		sqltext_add(&l->s->t, " FROM (SELECT * FROM %s WHERE search "
			"LIKE ? OFFSET 0) AS %s", t, t);
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = l->match });
	} else if (l->plan == Q_FROM_MATCHES)
		/* CROSS JOIN keeps the matches as the outer loop. */
		sqltext_add(&l->s->t, " FROM %s_fts CROSS JOIN %s ON %s.rk = "
			"%s_fts.rowid", t, t, t, t);
	else
		sqltext_add(&l->s->t, " FROM %s", t);
}

/* add_where appends the conditions of the request (not the position),
 * the search as plan says. */
static void add_where(struct lister *l, enum q_plan plan)
{
	const struct listq *lq = l->lq;
	const char *t = lq->res->table;
	char expr[256];
	size_t i;

	sqltext_add(&l->s->t, " WHERE 1 = 1");
	for (i = 0; i < lq->nfilters; i++) {
		const struct listq_filter *f = &lq->filters[i];

		listq_filter_expr(l->pg, f->field, expr, sizeof(expr));
		sqltext_add(&l->s->t, " AND %s = ?", expr);
		if (f->is_bool && l->pg)
			st_bind(l->s, (struct bindv){ .kind = BV_TEXT,
				.t = f->boolean ? "true" : "false" });
		else if (f->is_bool)
			st_bind(l->s, (struct bindv){ .kind = BV_INT,
				.i = f->boolean });
		else
			st_bind(l->s, (struct bindv){ .kind = BV_TEXT,
				.t = f->text });
	}
	if (lq->ids) {
		sqltext_add(&l->s->t, " AND %s.id IN (NULL", t);
		for (i = 0; i < lq->nids; i++) {
			sqltext_add(&l->s->t, ", ?");
			st_bind(l->s, (struct bindv){ .kind = BV_TEXT,
				.t = lq->ids[i] });
		}
		sqltext_add(&l->s->t, ")");
	}
	if (plan == Q_FROM_SORT && l->pg) {
		/* Many matches: walking the sort index finds them densely
		 * (add_from has the few matches' case). */
		sqltext_add(&l->s->t, " AND %s.search LIKE ?", t);
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = l->match });
	} else if (plan == Q_FROM_MATCHES && l->pg) {
		/* add_from took the matches. */
	} else if (plan == Q_FROM_MATCHES) {
		sqltext_add(&l->s->t, " AND %s_fts MATCH ?", t);
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = l->match });
	} else if (plan == Q_FROM_SORT) {
		/* The folded text straight from the search table's own
		 * content table (FTS5's %_content: id, c0): a B-tree lookup,
		 * where a lookup through the FTS5 table costs twice the time
		 * (docs/BENCHMARKS.md). */
		sqltext_add(&l->s->t,
			" AND instr((SELECT c0 FROM %s_fts_content WHERE id = "
			"%s.rk), ?) > 0", t, t);
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT,
			.t = lq->q_folded });
	}
}

/* add_position_of appends "strictly after (k, id)" for the columns key and
 * idcol. */
static void add_position_of(struct lister *l, const char *key,
	const char *idcol, const struct listq_key *k, const char *id, int asc)
{
	const char *ge = asc ? ">=" : "<=", *gt = asc ? ">" : "<";

	sqltext_add(&l->s->t,
		" AND %s %s ? AND (%s %s ? OR %s %s ?)", key, ge, key, gt,
		idcol, gt);
	st_bind_key(l->s, k);
	st_bind_key(l->s, k);
	st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = id });
}

/* add_position appends "strictly after (key, id)" in the order asc (or
 * before it when !asc), written so that SQLite seeks the index on its
 * first term. */
static void add_position(struct lister *l, const struct listq_key *k,
	const char *id, int asc)
{
	char tid[80];

	snprintf(tid, sizeof(tid), "%s.id", l->lq->res->table);
	add_position_of(l, l->key, tid, k, id, asc);
}

/* add_order_of appends the order of (key, idcol), asc or not, and the
 * limit. */
static void add_order_of(struct lister *l, const char *key,
	const char *idcol, int asc, long long limit)
{
	const char *dir = asc ? "ASC" : "DESC";

	sqltext_add(&l->s->t, " ORDER BY %s %s, %s %s LIMIT %lld", key, dir,
		idcol, dir, limit);
}

static void add_order(struct lister *l, int asc, long long limit)
{
	char tid[80];

	snprintf(tid, sizeof(tid), "%s.id", l->lq->res->table);
	add_order_of(l, l->key, tid, asc, limit);
}

static void reset(struct lister *l)
{
	sqltext_init(&l->s->t, l->s->sql, sizeof(l->s->sql));
	l->s->nv = 0;
}

/* key_of reads column col as a sort key (the empty blob is NULL). */
static int key_of(struct dbx_stmt *stmt, int col, struct listq_key *k)
{
	memset(k, 0, sizeof(*k));
	switch (dbx_column_type(stmt, col)) {
	case DBX_INTEGER:
		k->type = LK_INT;
		k->i = dbx_column_int64(stmt, col);
		return 0;
	case DBX_FLOAT:
		k->type = LK_REAL;
		k->r = dbx_column_double(stmt, col);
		return 0;
	case DBX_TEXT:
		k->type = LK_TEXT;
		k->text = strdup(dbx_column_text(stmt, col));
		return k->text ? 0 : -1;
	default:
		k->type = LK_NULL;
		return 0;
	}
}

/* A page of rows with the key and id of its first and last. */
struct page {
	json_t *items;
	struct listq_key first_key, last_key;
	char first_id[40], last_id[40];
	int more;                     /* a row beyond the limit exists */
	int has_total;                /* total below was counted */
	long long total;              /* rows of the request, any position */
};

static void page_release(struct page *p)
{
	json_decref(p->items);
	free(p->first_key.text);
	free(p->last_key.text);
	memset(p, 0, sizeof(*p));
}

/* The columns of a row for store_row_record, each with the table's name. */
#define ROW_COLS "%s.id, %s.version, %s.created_at, %s.updated_at, " \
	"%s.data, %s.secret"

/* read_page reads up to limit rows strictly after the position (k, id)
 * (from the start when k is NULL) in the order asc. Rows come in that
 * order; the caller reverses a backward page. */
static int read_page(struct lister *l, const struct listq_key *k,
	const char *id, int asc, long long limit, struct page *p,
	struct ferr *err)
{
	const struct listq *lq = l->lq;
	const struct resource *res = lq->res;
	const char *t = res->table;
	struct dbx_stmt *stmt = NULL;
	int rc, count = 0, result = -1, keys_first, counted;

	reset(l);
	/* Up to a thousand search matches are sorted by their keys alone and
	 * only the page's rows are read whole: sorting whole rows copied
	 * every match's record into the sorter (twice the time at a million
	 * records, docs/BENCHMARKS.md). The outer loop is the sorted page, so
	 * its order is kept. */
	keys_first = l->plan == Q_FROM_MATCHES && !l->pg;
	/* With filters or ids the total is not the match count: the keys of
	 * the matches that pass are kept once (a few bytes each) and both
	 * sorted and counted, so the total needs no second search. */
	counted = keys_first && (lq->nfilters || lq->ids);
	if (counted)
		sqltext_add(&l->s->t, "WITH m AS MATERIALIZED (SELECT %s AS k, "
			"%s.id AS i, %s.rk AS r", l->key, t, t);
	else if (keys_first)
		sqltext_add(&l->s->t, "SELECT w.k, " ROW_COLS " FROM (SELECT "
			"%s AS k, %s.id AS i, %s.rk AS r", t, t, t, t, t, t,
			l->key, t, t);
	else
		sqltext_add(&l->s->t, "SELECT %s, " ROW_COLS, l->key, t, t,
			t, t, t, t);
	add_from(l);
	add_where(l, l->plan);
	if (counted) {
		sqltext_add(&l->s->t, ") SELECT w.k, " ROW_COLS ", (SELECT "
			"count(*) FROM m) FROM (SELECT k, i, r FROM m WHERE "
			"1 = 1", t, t, t, t, t, t);
		if (k)
			add_position_of(l, "k", "i", k, id, asc);
		add_order_of(l, "k", "i", asc, limit + 1);
	} else {
		if (k)
			add_position(l, k, id, asc);
		add_order(l, asc, limit + 1);
	}
	if (keys_first)
		sqltext_add(&l->s->t, ") AS w CROSS JOIN %s ON %s.rk = w.r "
			"ORDER BY w.k %s, w.i %s", t, t, asc ? "ASC" : "DESC",
			asc ? "ASC" : "DESC");
	if (st_prepare(&l->st->x, l->s, &stmt, err))
		return -1;
	p->items = json_array();
	while ((rc = dbx_step(stmt, err)) == DBX_ROW) {
		json_t *rec;

		if (count == limit) {
			p->more = 1;
			break;
		}
		if (count == 0) {
			if (counted) {
				p->total = dbx_column_int64(stmt, 7);
				p->has_total = 1;
			}
			if (key_of(stmt, 0, &p->first_key))
				goto nomem;
			snprintf(p->first_id, sizeof(p->first_id), "%s",
				dbx_column_text(stmt, 1));
		}
		free(p->last_key.text);
		if (key_of(stmt, 0, &p->last_key))
			goto nomem;
		snprintf(p->last_id, sizeof(p->last_id), "%s",
			dbx_column_text(stmt, 1));
		rec = store_row_record(res, stmt, 1);
		if (res->derive)
			res->derive(rec);
		json_array_append_new(p->items, rec);
		count++;
	}
	if (rc == DBX_ERROR)
		goto out;
	result = 0;
	goto out;
nomem:
	ferr_set(err, 500, "internal_error", "Out of memory.");
out:
	dbx_finalize(stmt);
	return result;
}

/* any_beyond tells whether a row lies strictly past (k, id) in order asc. */
static int any_beyond(struct lister *l, const struct listq_key *k,
	const char *id, int asc, int *found, struct ferr *err)
{
	struct dbx_stmt *stmt = NULL;
	int rc;

	reset(l);
	sqltext_add(&l->s->t, "SELECT 1");
	add_from(l);
	add_where(l, l->plan);
	add_position(l, k, id, asc);
	add_order(l, asc, 1);
	if (st_prepare(&l->st->x, l->s, &stmt, err))
		return -1;
	rc = dbx_step(stmt, err);
	dbx_finalize(stmt);
	if (rc == DBX_ERROR)
		return -1;
	*found = rc == DBX_ROW;
	return 0;
}

/* count_rows runs "SELECT count(*) ..." built in l->s into *n. */
static int count_rows(struct lister *l, long long *n, struct ferr *err)
{
	struct dbx_stmt *stmt = NULL;
	int rc;

	if (st_prepare(&l->st->x, l->s, &stmt, err))
		return -1;
	rc = dbx_step(stmt, err);
	if (rc == DBX_ROW)
		*n = dbx_column_int64(stmt, 0);
	dbx_finalize(stmt);
	if (rc != DBX_ROW)
		return rc == DBX_DONE ? ferr_set(err, 500, "internal_error",
			"Internal error.") : -1;
	return 0;
}

/* choose_plan counts the trigram matches of q, up to the bound. */
static int choose_plan(struct lister *l, long long *matches,
	struct ferr *err)
{
	const char *t = l->lq->res->table;
	const char *p;
	size_t n = 0;

	*matches = 0;
	if (!l->lq->q_folded) {
		l->plan = Q_NONE;
		return 0;
	}
	if (l->pg) {
		listq_like_pattern(l->lq->q_folded, l->match,
			sizeof(l->match));
		reset(l);
		sqltext_add(&l->s->t, "SELECT count(*) FROM (SELECT 1 FROM "
			"%s WHERE search LIKE ? LIMIT %d) AS c", t,
			LISTQ_COUNT_BOUND + 1);
		goto count;
	}
	/* One phrase, its quotes doubled: q is text, never FTS syntax. */
	l->match[n++] = '"';
	for (p = l->lq->q_folded; *p && n + 3 < sizeof(l->match); p++) {
		if (*p == '"')
			l->match[n++] = '"';
		l->match[n++] = *p;
	}
	l->match[n++] = '"';
	l->match[n] = '\0';
	reset(l);
	sqltext_add(&l->s->t,
		"SELECT count(*) FROM (SELECT 1 FROM %s_fts WHERE "
		"%s_fts MATCH ? LIMIT %d) AS c", t, t, LISTQ_COUNT_BOUND + 1);
count:
	st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = l->match });
	if (count_rows(l, matches, err))
		return -1;
	l->plan = *matches <= LISTQ_COUNT_BOUND ? Q_FROM_MATCHES : Q_FROM_SORT;
	return 0;
}

/* total_of finds the total of the request: a counter when one answers,
 * else a count that stops at the bound and then says "at least". */
static int total_of(struct lister *l, long long matches, long long *total,
	int *lower, struct ferr *err)
{
	const struct listq *lq = l->lq;
	const char *t = lq->res->table;
	char key[512];
	enum q_plan plan = l->plan;   /* how the page was read */

	*lower = 0;
	if (listq_count_key(lq, key, sizeof(key)) == 0) {
		reset(l);
		sqltext_add(&l->s->t,
			"SELECT coalesce((SELECT n FROM counts WHERE "
			"topic = ? AND key = ?), 0)");
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT,
			.t = lq->res->name });
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = key });
		return count_rows(l, total, err);
	}
	if (plan == Q_FROM_SORT && !lq->ids && lq->nfilters == 0) {
		/* More matches than the bound, and nothing else narrows. */
		*total = matches - 1;
		*lower = 1;
		return 0;
	}
	if (plan == Q_FROM_MATCHES && !lq->ids && lq->nfilters == 0) {
		/* The matches, counted already: nothing else narrows. */
		*total = matches;
		return 0;
	}
	reset(l);
	if (plan == Q_FROM_SORT && l->pg) {
		/* The same on PostgreSQL: the first matches, named as the
		 * table so that the conditions read them. */
		sqltext_add(&l->s->t,
			"SELECT count(*) FROM (SELECT 1 FROM (SELECT * FROM "
			"%s WHERE search LIKE ? LIMIT %d) AS %s", t,
			LISTQ_COUNT_BOUND, t);
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = l->match });
		add_where(l, Q_NONE);
		sqltext_add(&l->s->t, " LIMIT %d) AS c", LISTQ_COUNT_BOUND + 1);
		*lower = 1;
	} else if (plan == Q_FROM_SORT) {
		/* Count among the first matches only: a filter that keeps
		 * few of a million matches must not read them all. */
		sqltext_add(&l->s->t,
			"SELECT count(*) FROM (SELECT 1 FROM (SELECT rowid "
			"AS r FROM %s_fts WHERE %s_fts MATCH ? LIMIT %d) AS m "
			"CROSS JOIN %s ON %s.rk = m.r", t, t,
			LISTQ_COUNT_BOUND, t, t);
		st_bind(l->s, (struct bindv){ .kind = BV_TEXT, .t = l->match });
		/* The matches are joined already: no search condition. */
		add_where(l, Q_NONE);
		sqltext_add(&l->s->t, " LIMIT %d) AS c", LISTQ_COUNT_BOUND + 1);
		*lower = 1;
	} else {
		sqltext_add(&l->s->t, "SELECT count(*) FROM (SELECT 1");
		add_from(l);
		add_where(l, l->plan);
		sqltext_add(&l->s->t, " LIMIT %d) AS c", LISTQ_COUNT_BOUND + 1);
	}
	if (count_rows(l, total, err))
		return -1;
	if (*total > LISTQ_COUNT_BOUND) {
		*total = LISTQ_COUNT_BOUND;
		*lower = 1;
	}
	return 0;
}

/* set_cursor puts name: cursor-of(k, id) or null into out. */
static int set_cursor(struct lister *l, json_t *out, const char *name,
	int present, const struct listq_key *k, const char *id,
	struct ferr *err)
{
	char c[2048];

	if (!present) {
		json_object_set_new(out, name, json_null());
		return 0;
	}
	if (listq_cursor(l->lq, k, id, c, sizeof(c)))
		return ferr_set(err, 500, "internal_error", "A cursor does "
			"not fit.");
	json_object_set_new(out, name, json_string(c));
	return 0;
}

/* page_links sets next and prev around the page just read. */
static int page_links(struct lister *l, struct page *p, json_t *out,
	struct ferr *err)
{
	const struct listq *lq = l->lq;
	int forward = !lq->before, asc = forward ? !lq->desc : lq->desc;
	int empty = json_array_size(p->items) == 0, beyond = 0;
	/* The edge of the page on the side the request came from. */
	const struct listq_key *ek = empty ? &lq->cursor_key :
		(forward ? &p->first_key : &p->last_key);
	const char *eid = empty ? lq->cursor_id :
		(forward ? p->first_id : p->last_id);

	if (lq->has_cursor && any_beyond(l, ek, eid, !asc, &beyond, err))
		return -1;
	if (forward)
		return set_cursor(l, out, "next", p->more, &p->last_key,
			p->last_id, err) ||
			set_cursor(l, out, "prev", beyond, ek, eid, err);
	return set_cursor(l, out, "prev", p->more, &p->first_key,
		p->first_id, err) ||
		set_cursor(l, out, "next", beyond, ek, eid, err);
}

json_t *list_window(struct store *st, const struct resource *res,
	const struct form *query, struct ferr *err)
{
	struct listq lq;
	struct lister l;
	struct page p;
	json_t *out = NULL;
	int64_t seq = 0;
	long long matches = 0, total = 0;
	int lower = 0, in_txn = 0, forward, asc;

	memset(&l, 0, sizeof(l));
	memset(&p, 0, sizeof(p));
	if (listq_parse(&lq, res, query, err))
		goto out;
	l.st = st;
	l.lq = &lq;
	l.s = malloc(sizeof(*l.s));
	if (!l.s) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	l.pg = dbx_kind(&st->x) == DBX_PG;
	listq_sort_expr(l.pg, lq.sort_field, lq.sort, l.key, sizeof(l.key));
	forward = !lq.before;
	asc = forward ? !lq.desc : lq.desc;

	/* One read transaction: the seq and the rows are one snapshot. */
	if (store_read_begin(st, err))
		goto out;
	in_txn = 1;
	if (journal_last_seq(&st->x, &seq, err) ||
	    choose_plan(&l, &matches, err) ||
	    read_page(&l, lq.has_cursor ? &lq.cursor_key : NULL, lq.cursor_id,
	    asc, lq.limit, &p, err))
		goto out;
	if (!forward) {
		/* A backward page was read nearest first. */
		size_t i, n = json_array_size(p.items);
		struct listq_key k = p.first_key;
		char id[40];

		for (i = 0; i < n / 2; i++) {
			json_t *a = json_incref(json_array_get(p.items, i));

			json_array_set(p.items, i, json_array_get(p.items,
				n - 1 - i));
			json_array_set_new(p.items, n - 1 - i, a);
		}
		p.first_key = p.last_key;
		p.last_key = k;
		memcpy(id, p.first_id, sizeof(id));
		memcpy(p.first_id, p.last_id, sizeof(id));
		memcpy(p.last_id, id, sizeof(id));
	}
	if (!lq.has_cursor && !p.more)
		/* The first page holds every row of the request. */
		total = (long long)json_array_size(p.items);
	else if (p.has_total)
		/* The search's matches, counted while sorting them. */
		total = p.total;
	else if (total_of(&l, matches, &total, &lower, err))
		goto out;
	out = json_object();
	json_object_set(out, "items", p.items);
	if (page_links(&l, &p, out, err)) {
		json_decref(out);
		out = NULL;
		goto out;
	}
	json_object_set_new(out, "seq", json_integer(seq));
	json_object_set_new(out, "total", json_integer(total));
	json_object_set_new(out, "totalIsLowerBound", json_boolean(lower));
out:
	if (in_txn)
		store_read_end(st);
	page_release(&p);
	free(l.s);
	listq_release(&lq);
	return out;
}
