/* schema.c - the database's tables, built from the resource table at each schema version. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "listq.h"
#include "log.h"
#include "resource.h"
#include "schema.h"
#include "sqltext.h"

/* SQL text built from the resource table only, never from input. */
struct sql {
	char text[16384];
	struct sqltext t;
};

static void sql_reset(struct sql *s)
{
	sqltext_init(&s->t, s->text, sizeof(s->text));
}

/* exec runs one statement built in s. */
static int exec(sqlite3 *db, struct sql *s, struct ferr *err)
{
	int rc;

	if (s->t.over)
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
static void add_text(struct sqltext *s, const struct resource *r,
	const char *row)
{
	const struct field *f;
	int first = 1;

	sqltext_add(s, "lower(");
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_SEARCH))
			continue;
		sqltext_add(s, "%scoalesce(json_extract(%s.data, '$.%s'), '')",
			first ? "" : " || char(10) || ", row, f->name);
		first = 0;
	}
	if (first)
		sqltext_add(s, "''");
	sqltext_add(s, ")");
}

/* add_key appends the counter key of one filter: name=JSON value. */
static void add_key(struct sqltext *s, const struct field *f, const char *row)
{
	sqltext_add(s, "'%s=' || coalesce(%s.data -> '$.%s', 'null')", f->name,
		row, f->name);
}

/* add_keys appends "SELECT '' AS k UNION ALL SELECT <key> ..." over every
 * filter and every pair of filters (declaration order), reading row; from
 * names the FROM clause of each SELECT ("" in a trigger). */
static void add_keys(struct sqltext *s, const struct resource *r,
	const char *row, const char *from)
{
	const struct field *f, *g;

	sqltext_add(s, "SELECT '' AS k%s", from);
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_FILTER))
			continue;
		sqltext_add(s, " UNION ALL SELECT ");
		add_key(s, f, row);
		sqltext_add(s, "%s", from);
		for (g = f + 1; g->name; g++) {
			if (!(g->flags & FF_FILTER))
				continue;
			sqltext_add(s, " UNION ALL SELECT ");
			add_key(s, f, row);
			sqltext_add(s, " || '&' || ");
			add_key(s, g, row);
			sqltext_add(s, "%s", from);
		}
	}
}

/* add_count appends the statement that moves the counters of row by
 * delta (+1 or -1). */
static void add_count(struct sqltext *s, const struct resource *r,
	const char *row, int delta)
{
	sqltext_add(s, "INSERT INTO counts(topic, key, n) SELECT '%s', k, %d "
		"FROM (", r->name, delta);
	add_keys(s, r, row, "");
	sqltext_add(s, ") WHERE 1 ON CONFLICT(topic, key) DO UPDATE SET "
		"n = n + excluded.n; ");
}

/* add_changed appends "a IS NOT b OR ..." over the fields with flag. */
static void add_changed(struct sqltext *s, const struct resource *r,
	unsigned flag)
{
	const struct field *f;
	int first = 1;

	for (f = r->fields; f->name; f++) {
		if (!(f->flags & flag))
			continue;
		sqltext_add(s,
			"%s(old.data -> '$.%s') IS NOT (new.data -> '$.%s')",
			first ? "" : " OR ", f->name, f->name);
		first = 0;
	}
	if (first)
		sqltext_add(s, "0");
}

/* ins_trigger makes r's insert trigger: the counters, and the search row
 * unless search is 0 (a bulk load adds those once per batch). */
static int ins_trigger(sqlite3 *db, const struct resource *r, int search,
	struct ferr *err)
{
	struct sql s;

	sql_reset(&s);
	sqltext_add(&s.t,
		"CREATE TRIGGER IF NOT EXISTS %s_ins AFTER INSERT ON %s "
		"BEGIN ", r->table, r->table);
	add_count(&s.t, r, "new", 1);
	if (search) {
		sqltext_add(&s.t, "INSERT INTO %s_fts(rowid, text) VALUES "
			"(new.rk, ", r->table);
		add_text(&s.t, r, "new");
		sqltext_add(&s.t, "); ");
	}
	sqltext_add(&s.t, "END");
	return exec(db, &s, err);
}

/* triggers keep the search table and the counters in the transaction of
 * every write, whichever code path writes. */
static int triggers(sqlite3 *db, const struct resource *r, struct ferr *err)
{
	struct sql s;

	if (ins_trigger(db, r, 1, err))
		return -1;

	sql_reset(&s);
	sqltext_add(&s.t,
		"CREATE TRIGGER IF NOT EXISTS %s_del AFTER DELETE ON %s "
		"BEGIN ", r->table, r->table);
	add_count(&s.t, r, "old", -1);
	sqltext_add(&s.t,
		"DELETE FROM %s_fts WHERE rowid = old.rk; END", r->table);
	if (exec(db, &s, err))
		return -1;

	/* Most updates (a worker's progress) change neither: the WHEN
	 * clauses keep them cheap. */
	sql_reset(&s);
	sqltext_add(&s.t,
		"CREATE TRIGGER IF NOT EXISTS %s_upd_count AFTER UPDATE "
		"OF data ON %s WHEN ", r->table, r->table);
	add_changed(&s.t, r, FF_FILTER);
	sqltext_add(&s.t, " BEGIN ");
	add_count(&s.t, r, "old", -1);
	add_count(&s.t, r, "new", 1);
	sqltext_add(&s.t, "END");
	if (exec(db, &s, err))
		return -1;

	sql_reset(&s);
	sqltext_add(&s.t,
		"CREATE TRIGGER IF NOT EXISTS %s_upd_text AFTER UPDATE "
		"OF data ON %s WHEN ", r->table, r->table);
	add_changed(&s.t, r, FF_SEARCH);
	sqltext_add(&s.t, " BEGIN UPDATE %s_fts SET text = ", r->table);
	add_text(&s.t, r, "new");
	sqltext_add(&s.t, " WHERE rowid = new.rk; END");
	return exec(db, &s, err);
}

/* sort_indexes makes, for every sort, an index on (key, id), and one on
 * (filter, key, id) per filter: a window of any sort under one filter
 * reads only its own rows. */
static int sort_indexes(sqlite3 *db, const struct resource *r,
	struct ferr *err)
{
	const struct field *sf, *ff;
	const char *sname;
	char key[256], filter[256];
	struct sql s;
	size_t m;

	for (m = 0; listq_sort_at(r, m, &sf, &sname); m++) {
		listq_sort_expr(0, sf, sname, key, sizeof(key));
		sql_reset(&s);
		sqltext_add(&s.t,
			"CREATE INDEX IF NOT EXISTS %s_by_%s ON %s(%s, id)",
			r->table, sname, r->table, key);
		if (exec(db, &s, err))
			return -1;
		for (ff = r->fields; ff->name; ff++) {
			if (!(ff->flags & FF_FILTER))
				continue;
			listq_filter_expr(0, ff, filter, sizeof(filter));
			sql_reset(&s);
			sqltext_add(&s.t,
				"CREATE INDEX IF NOT EXISTS %s_%s_by_%s ON "
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
		/* Unique within unique_with (personaType) when it is set. */
		sqltext_add(&s.t, "CREATE UNIQUE INDEX IF NOT EXISTS "
			"%s_%s_unique ON %s(", r->table, f->name, r->table);
		if (f->unique_with)
			sqltext_add(&s.t, "json_extract(data, '$.%s'), ",
				f->unique_with);
		sqltext_add(&s.t, "json_extract(data, '$.%s'))", f->name);
		if (exec(db, &s, err))
			return -1;
	}
	return 0;
}

/* schema_create makes whatever record table, index, search table or
 * trigger is missing, so it serves every step of the migration. */
static int schema_create(sqlite3 *db, struct ferr *err)
{
	const struct resource *r;
	struct sql s;

	sql_reset(&s);
	/* Rows of every collection and filter value, kept by the triggers:
	 * list totals and the dashboard read them instead of counting. */
	sqltext_add(&s.t,
		"CREATE TABLE IF NOT EXISTS counts (topic TEXT NOT NULL, "
		"key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (topic, "
		"key)) WITHOUT ROWID");
	if (exec(db, &s, err))
		return -1;
	for (r = resources; r->name; r++) {
		/* rk makes the search table's rowid; the record itself is
		 * JSON so a new field needs no migration. */
		sql_reset(&s);
		sqltext_add(&s.t, "CREATE TABLE IF NOT EXISTS %s ("
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
		sqltext_add(&s.t,
			"CREATE VIRTUAL TABLE IF NOT EXISTS %s_fts USING "
			"fts5(text, tokenize = 'trigram case_sensitive 1')",
			r->table);
		if (exec(db, &s, err) || unique_indexes(db, r, err) ||
		    sort_indexes(db, r, err) || triggers(db, r, err))
			return -1;
	}
	return 0;
}

/* schema_rebuild_derived fills the search tables and the counters from
 * the records, as the triggers would have, and drops the indexes that
 * version 2 kept for counting (the step to version 3). */
static int schema_rebuild_derived(sqlite3 *db, struct ferr *err)
{
	const struct resource *r;
	const struct field *f;
	struct sql s;

	sql_reset(&s);
	sqltext_add(&s.t, "DELETE FROM counts");
	if (exec(db, &s, err))
		return -1;
	for (r = resources; r->name; r++) {
		/* Version 2's expression indexes of counted fields gave way
		 * to the counters. */
		for (f = r->fields; f->name; f++) {
			if (!(f->flags & FF_DASH))
				continue;
			sql_reset(&s);
			sqltext_add(&s.t,
				"DROP INDEX IF EXISTS %s_%s_dash", r->table,
				f->name);
			if (exec(db, &s, err))
				return -1;
		}
		sql_reset(&s);
		sqltext_add(&s.t,
			"DELETE FROM %s_fts; INSERT INTO %s_fts(rowid, "
			"text) SELECT rk, ", r->table, r->table);
		add_text(&s.t, r, r->table);
		sqltext_add(&s.t, " FROM %s", r->table);
		if (exec(db, &s, err))
			return -1;
		sql_reset(&s);
		sqltext_add(&s.t,
			"INSERT INTO counts(topic, key, n) SELECT '%s', k, "
			"count(*) FROM (", r->name);
		{
			char from[128];

			snprintf(from, sizeof(from), " FROM %s", r->table);
			add_keys(&s.t, r, r->table, from);
		}
		sqltext_add(&s.t, ") GROUP BY k");
		if (exec(db, &s, err))
			return -1;
	}
	return 0;
}

/* drop_ins_trigger drops r's insert trigger. */
static int drop_ins_trigger(sqlite3 *db, const struct resource *r,
	struct ferr *err)
{
	struct sql s;

	sql_reset(&s);
	sqltext_add(&s.t, "DROP TRIGGER IF EXISTS %s_ins", r->table);
	return exec(db, &s, err);
}

int schema_bulk_begin(sqlite3 *db, const struct resource *r,
	int64_t *last_rk, struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	char sql[128];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(rk), 0) FROM %s",
		r->table);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(db, rc, "bulk", err);
	}
	*last_rk = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return drop_ins_trigger(db, r, err) || ins_trigger(db, r, 0, err) ?
		-1 : 0;
}

int schema_bulk_end(sqlite3 *db, const struct resource *r, int64_t last_rk,
	struct ferr *err)
{
	struct sql s;

	/* rk only grows (AUTOINCREMENT): the rows past last_rk are the
	 * batch's, as they stand now. */
	sql_reset(&s);
	sqltext_add(&s.t, "INSERT INTO %s_fts(rowid, text) SELECT rk, ",
		r->table);
	add_text(&s.t, r, r->table);
	sqltext_add(&s.t, " FROM %s WHERE rk > %lld", r->table,
		(long long)last_rk);
	if (exec(db, &s, err))
		return -1;
	return drop_ins_trigger(db, r, err) || ins_trigger(db, r, 1, err) ?
		-1 : 0;
}

static const char journal_ddl[] =
	"CREATE TABLE journal ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" ts TEXT NOT NULL,"
	" topic TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" id TEXT,"
	" version INTEGER,"
	" actor TEXT,"
	" data TEXT,"
	" prev TEXT)";

int schema_migrate(sqlite3 *db, struct ferr *err)
{
	int result = -1, version = 0;
	char sql[64];

	/* Most opens find the schema current: check without the write lock
	 * so that every CGI request does not queue behind the writers. */
	if (db_user_version(db, &version, err) < 0)
		return -1;
	if (version == SCHEMA_VERSION)
		return 0;
	if (db_begin(db, err) < 0)
		return -1;
	/* Read again under the lock: another process may have migrated. */
	if (db_user_version(db, &version, err) < 0)
		goto out;
	if (version > SCHEMA_VERSION) {
		ferr_set(err, 500, "schema_too_new",
			"The database has schema version %d; this program "
			"knows up to %d.", version, SCHEMA_VERSION);
		goto out;
	}
	if (version < 1 &&
	    db_exec(db, journal_ddl, "create journal", err) < 0)
		goto out;
	/* Version 3: events carry prev, the values a change replaced. */
	if (version >= 1 && version < 3 &&
	    db_exec(db, "ALTER TABLE journal ADD COLUMN prev TEXT",
	    "add journal.prev", err) < 0)
		goto out;
	/* schema_create makes whatever is missing, so it serves every step;
	 * version 3's search tables and counters start from the records. */
	if (schema_create(db, err) < 0)
		goto out;
	if (version >= 1 && version < 3 && schema_rebuild_derived(db, err) < 0)
		goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		SCHEMA_VERSION);
	if (db_exec(db, sql, "set user_version", err) < 0)
		goto out;
	if (db_commit(db, err) < 0)
		return -1;
	result = 0;
out:
	if (result < 0)
		db_rollback(db);
	return result;
}

sqlite3 *schema_open(const struct config *cfg, int flags, struct ferr *err)
{
	sqlite3 *db = db_open(cfg, flags, err);

	if (db == NULL || (flags & DB_READONLY))
		return db;
	if (schema_migrate(db, err) < 0) {
		db_name_file(err, cfg->database);
		sqlite3_close_v2(db);
		return NULL;
	}
	return db;
}
