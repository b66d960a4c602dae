/* schema.c - record tables, their indexes, search tables and counters, made from the resource table. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "listq.h"
#include "log.h"
#include "resource.h"

/* SQL text built from the resource table only, never from input. A
 * statement that does not fit fails rather than run cut. */
struct sql {
	char text[16384];
	size_t n;
	int over;
};

static void sql_reset(struct sql *s)
{
	s->n = 0;
	s->over = 0;
	s->text[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sql_add(struct sql *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->text + s->n, sizeof(s->text) - s->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->text) - s->n)
		s->over = 1;
	else
		s->n += (size_t)n;
}

/* exec runs one statement built in s. */
static int exec(sqlite3 *db, struct sql *s, struct ferr *err)
{
	int rc;

	if (s->over)
		return ferr_set(err, 500, "internal_error", "A schema "
			"statement is too long.");
	rc = sqlite3_exec(db, s->text, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "schema", err);
	return 0;
}

/* add_text appends the search text of row (new, old or the table name):
 * the searchable fields, one per line, ASCII letters lowercased. The
 * search index is case-sensitive over this folded text, so a trigram
 * match and a plain instr() agree, and the pages can match the same way. */
static void add_text(struct sql *s, const struct resource *r, const char *row)
{
	const struct field *f;
	int first = 1;

	sql_add(s, "lower(");
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_SEARCH))
			continue;
		sql_add(s, "%scoalesce(json_extract(%s.data, '$.%s'), '')",
			first ? "" : " || char(10) || ", row, f->name);
		first = 0;
	}
	if (first)
		sql_add(s, "''");
	sql_add(s, ")");
}

/* add_key appends the counter key of one filter: name=JSON value. */
static void add_key(struct sql *s, const struct field *f, const char *row)
{
	sql_add(s, "'%s=' || coalesce(%s.data -> '$.%s', 'null')", f->name,
		row, f->name);
}

/* add_keys appends "SELECT '' AS k UNION ALL SELECT <key> ..." over every
 * filter and every pair of filters (declaration order), reading row; from
 * names the FROM clause of each SELECT ("" in a trigger). */
static void add_keys(struct sql *s, const struct resource *r,
	const char *row, const char *from)
{
	const struct field *f, *g;

	sql_add(s, "SELECT '' AS k%s", from);
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_FILTER))
			continue;
		sql_add(s, " UNION ALL SELECT ");
		add_key(s, f, row);
		sql_add(s, "%s", from);
		for (g = f + 1; g->name; g++) {
			if (!(g->flags & FF_FILTER))
				continue;
			sql_add(s, " UNION ALL SELECT ");
			add_key(s, f, row);
			sql_add(s, " || '&' || ");
			add_key(s, g, row);
			sql_add(s, "%s", from);
		}
	}
}

/* add_count appends the statement that moves the counters of row by
 * delta (+1 or -1). */
static void add_count(struct sql *s, const struct resource *r,
	const char *row, int delta)
{
	sql_add(s, "INSERT INTO counts(topic, key, n) SELECT '%s', k, %d "
		"FROM (", r->name, delta);
	add_keys(s, r, row, "");
	sql_add(s, ") WHERE 1 ON CONFLICT(topic, key) DO UPDATE SET "
		"n = n + excluded.n; ");
}

/* add_changed appends "a IS NOT b OR ..." over the fields with flag. */
static void add_changed(struct sql *s, const struct resource *r,
	unsigned flag)
{
	const struct field *f;
	int first = 1;

	for (f = r->fields; f->name; f++) {
		if (!(f->flags & flag))
			continue;
		sql_add(s, "%s(old.data -> '$.%s') IS NOT (new.data -> '$.%s')",
			first ? "" : " OR ", f->name, f->name);
		first = 0;
	}
	if (first)
		sql_add(s, "0");
}

/* triggers keep the search table and the counters in the transaction of
 * every write, whichever code path writes. */
static int triggers(sqlite3 *db, const struct resource *r, struct ferr *err)
{
	struct sql s;

	sql_reset(&s);
	sql_add(&s, "CREATE TRIGGER IF NOT EXISTS %s_ins AFTER INSERT ON %s "
		"BEGIN ", r->table, r->table);
	add_count(&s, r, "new", 1);
	sql_add(&s, "INSERT INTO %s_fts(rowid, text) VALUES (new.rk, ",
		r->table);
	add_text(&s, r, "new");
	sql_add(&s, "); END");
	if (exec(db, &s, err))
		return -1;

	sql_reset(&s);
	sql_add(&s, "CREATE TRIGGER IF NOT EXISTS %s_del AFTER DELETE ON %s "
		"BEGIN ", r->table, r->table);
	add_count(&s, r, "old", -1);
	sql_add(&s, "DELETE FROM %s_fts WHERE rowid = old.rk; END", r->table);
	if (exec(db, &s, err))
		return -1;

	/* Most updates (a worker's progress) change neither: the WHEN
	 * clauses keep them cheap. */
	sql_reset(&s);
	sql_add(&s, "CREATE TRIGGER IF NOT EXISTS %s_upd_count AFTER UPDATE "
		"OF data ON %s WHEN ", r->table, r->table);
	add_changed(&s, r, FF_FILTER);
	sql_add(&s, " BEGIN ");
	add_count(&s, r, "old", -1);
	add_count(&s, r, "new", 1);
	sql_add(&s, "END");
	if (exec(db, &s, err))
		return -1;

	sql_reset(&s);
	sql_add(&s, "CREATE TRIGGER IF NOT EXISTS %s_upd_text AFTER UPDATE "
		"OF data ON %s WHEN ", r->table, r->table);
	add_changed(&s, r, FF_SEARCH);
	sql_add(&s, " BEGIN UPDATE %s_fts SET text = ", r->table);
	add_text(&s, r, "new");
	sql_add(&s, " WHERE rowid = new.rk; END");
	return exec(db, &s, err);
}

/* sort_indexes makes, for every sort, an index on (key, id), and one on
 * (filter, key, id) per filter: a window of any sort under one filter
 * reads only its own rows. */
static int sort_indexes(sqlite3 *db, const struct resource *r,
	struct ferr *err)
{
	static const char *const metas[] = { "createdAt", "updatedAt", NULL };
	const struct field *sf = NULL, *ff;
	char key[256], filter[256];
	struct sql s;
	size_t m = 0;

	for (;;) {
		const char *sname;

		if (metas[m]) {
			sname = metas[m++];
			sf = NULL;
		} else {
			sf = sf ? sf + 1 : r->fields;
			while (sf->name && !(sf->flags & FF_SORT))
				sf++;
			if (!sf->name)
				break;
			sname = sf->name;
		}
		listq_sort_expr(sf, sname, key, sizeof(key));
		sql_reset(&s);
		sql_add(&s, "CREATE INDEX IF NOT EXISTS %s_by_%s ON %s(%s, id)",
			r->table, sname, r->table, key);
		if (exec(db, &s, err))
			return -1;
		for (ff = r->fields; ff->name; ff++) {
			if (!(ff->flags & FF_FILTER))
				continue;
			listq_filter_expr(ff, filter, sizeof(filter));
			sql_reset(&s);
			sql_add(&s, "CREATE INDEX IF NOT EXISTS %s_%s_by_%s ON "
				"%s(%s, %s, id)", r->table, ff->name, sname,
				r->table, filter, key);
			if (exec(db, &s, err))
				return -1;
		}
	}
	return 0;
}

static int unique_indexes(sqlite3 *db, const struct resource *r,
	struct ferr *err)
{
	const struct field *f;
	struct sql s;

	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_UNIQUE))
			continue;
		sql_reset(&s);
		if (f->unique_with)
			sql_add(&s, "CREATE UNIQUE INDEX IF NOT EXISTS "
				"%s_%s_unique ON %s(json_extract(data, '$.%s'), "
				"json_extract(data, '$.%s'))", r->table,
				f->name, r->table, f->unique_with, f->name);
		else
			sql_add(&s, "CREATE UNIQUE INDEX IF NOT EXISTS "
				"%s_%s_unique ON %s(json_extract(data, '$.%s'))",
				r->table, f->name, r->table, f->name);
		if (exec(db, &s, err))
			return -1;
	}
	return 0;
}

int schema_create(sqlite3 *db, struct ferr *err)
{
	const struct resource *r;
	struct sql s;

	sql_reset(&s);
	/* Rows of every collection and filter value, kept by the triggers:
	 * list totals and the dashboard read them instead of counting. */
	sql_add(&s, "CREATE TABLE IF NOT EXISTS counts (topic TEXT NOT NULL, "
		"key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (topic, "
		"key)) WITHOUT ROWID");
	if (exec(db, &s, err))
		return -1;
	for (r = resources; r->name; r++) {
		/* rk makes the search table's rowid; the record itself is
		 * JSON so a new field needs no migration. */
		sql_reset(&s);
		sql_add(&s, "CREATE TABLE IF NOT EXISTS %s ("
			"rk INTEGER PRIMARY KEY AUTOINCREMENT, "
			"id TEXT NOT NULL UNIQUE, "
			"version INTEGER NOT NULL, "
			"created_at TEXT NOT NULL, "
			"updated_at TEXT NOT NULL, "
			"data TEXT NOT NULL CHECK (json_valid(data)), "
			"secret TEXT)", r->table);
		if (exec(db, &s, err))
			return -1;
		sql_reset(&s);
		sql_add(&s, "CREATE VIRTUAL TABLE IF NOT EXISTS %s_fts USING "
			"fts5(text, tokenize = 'trigram case_sensitive 1')",
			r->table);
		if (exec(db, &s, err) || unique_indexes(db, r, err) ||
		    sort_indexes(db, r, err) || triggers(db, r, err))
			return -1;
	}
	return 0;
}

int schema_rebuild_derived(sqlite3 *db, struct ferr *err)
{
	const struct resource *r;
	const struct field *f;
	struct sql s;

	sql_reset(&s);
	sql_add(&s, "DELETE FROM counts");
	if (exec(db, &s, err))
		return -1;
	for (r = resources; r->name; r++) {
		/* Version 2's expression indexes of counted fields gave way
		 * to the counters. */
		for (f = r->fields; f->name; f++) {
			if (!(f->flags & FF_DASH))
				continue;
			sql_reset(&s);
			sql_add(&s, "DROP INDEX IF EXISTS %s_%s_dash", r->table,
				f->name);
			if (exec(db, &s, err))
				return -1;
		}
		sql_reset(&s);
		sql_add(&s, "DELETE FROM %s_fts; INSERT INTO %s_fts(rowid, "
			"text) SELECT rk, ", r->table, r->table);
		add_text(&s, r, r->table);
		sql_add(&s, " FROM %s", r->table);
		if (exec(db, &s, err))
			return -1;
		sql_reset(&s);
		sql_add(&s, "INSERT INTO counts(topic, key, n) SELECT '%s', k, "
			"count(*) FROM (", r->name);
		{
			char from[128];

			snprintf(from, sizeof(from), " FROM %s", r->table);
			add_keys(&s, r, r->table, from);
		}
		sql_add(&s, ") GROUP BY k");
		if (exec(db, &s, err))
			return -1;
	}
	return 0;
}
