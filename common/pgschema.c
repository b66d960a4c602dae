/* pgschema.c - the PostgreSQL store's tables: records, counters, search, the journal and its doorbell. */
#include <stdlib.h>
#include <string.h>

#include "listq.h"
#include "pgschema.h"
#include "resource.h"
#include "sqltext.h"

/* Any fixed number: the advisory lock that keeps two processes from
 * creating the same tables at once. */
#define PGSCHEMA_LOCK "7261706964"

static const char journal_sql[] =
	"BEGIN;"
	"SELECT pg_advisory_xact_lock(" PGSCHEMA_LOCK ");"
	"CREATE TABLE IF NOT EXISTS journal_seq ("
	" one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),"
	" seq BIGINT NOT NULL);"
	"INSERT INTO journal_seq(one, seq) VALUES (TRUE, 0)"
	" ON CONFLICT DO NOTHING;"
	"CREATE TABLE IF NOT EXISTS journal ("
	" seq BIGINT PRIMARY KEY, ts TEXT NOT NULL, topic TEXT NOT NULL,"
	" action TEXT NOT NULL, id TEXT, version BIGINT, actor TEXT,"
	" data TEXT, prev TEXT);"
	"CREATE OR REPLACE FUNCTION flowpush_journal_notify() RETURNS trigger"
	" LANGUAGE plpgsql AS $f$ BEGIN"
	" PERFORM pg_notify('" PGSCHEMA_CHANNEL "', '');"
	" RETURN NULL; END $f$;"
	"DROP TRIGGER IF EXISTS journal_notify ON journal;"
	"CREATE TRIGGER journal_notify AFTER INSERT ON journal"
	" FOR EACH STATEMENT EXECUTE FUNCTION flowpush_journal_notify();"
	"COMMIT;";

int pgschema_journal(struct dbx *x, struct ferr *err)
{
	if (dbx_kind(x) != DBX_PG)
		return ferr_set(err, 500, "internal_error", "Not a PostgreSQL"
			" store.");
	if (dbx_exec(x, journal_sql, "journal schema", err) < 0) {
		dbx_rollback(x);
		return -1;
	}
	return 0;
}

/* The text of the whole schema is built from the resource table only. */
#define PGSCHEMA_TEXT (256 * 1024)

/* add_text appends the search text of row (NEW, or none for the
 * generated column): the searchable fields one per line, A-Z folded, as
 * SQLite's search table holds it. */
static void add_text(struct sqltext *s, const struct resource *r)
{
	const struct field *f;
	int first = 1;

	sqltext_add(s, "translate(");
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_SEARCH))
			continue;
		sqltext_add(s, "%scoalesce(data::jsonb ->> '%s', '')",
			first ? "" : " || chr(10) || ", f->name);
		first = 0;
	}
	if (first)
		sqltext_add(s, "''");
	sqltext_add(s, ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
		"'abcdefghijklmnopqrstuvwxyz')");
}

/* add_key appends the counter key of one filter of row: name=JSON. */
static void add_key(struct sqltext *s, const struct field *f, const char *row)
{
	sqltext_add(s, "'%s=' || coalesce((%s.doc -> '%s')::text, "
		"'null')", f->name, row, f->name);
}

/* add_count appends the statement that moves the counters of row (OLD or
 * NEW) by delta: the total, every filter and every pair of filters, as
 * listq_count_key names them. */
static void add_count(struct sqltext *s, const struct resource *r,
	const char *row, int delta)
{
	const struct field *f, *g;

	sqltext_add(s, " INSERT INTO counts(topic, key, n) SELECT '%s', k, %d "
		"FROM (VALUES ('')", r->name, delta);
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_FILTER))
			continue;
		sqltext_add(s, ", (");
		add_key(s, f, row);
		sqltext_add(s, ")");
		for (g = f + 1; g->name; g++) {
			if (!(g->flags & FF_FILTER))
				continue;
			sqltext_add(s, ", (");
			add_key(s, f, row);
			sqltext_add(s, " || '&' || ");
			add_key(s, g, row);
			sqltext_add(s, ")");
		}
	}
	sqltext_add(s, ") AS v(k) ON CONFLICT (topic, key) DO UPDATE SET "
		"n = counts.n + excluded.n;");
}

/* add_records appends the table of r with its indexes and triggers. */
static void add_records(struct sqltext *s, const struct resource *r)
{
	const struct field *f, *sf;
	const char *sname;
	char key[256], filter[128], a[128];
	int any = 0;
	size_t m;

	/* The record is its JSON text, as on SQLite: answers give it back
	 * byte for byte. doc is the same parsed once at each write: every
	 * index, filter, sort and trigger reads it instead of parsing the
	 * text again (a record has a dozen index expressions or more). The
	 * search text is a column PostgreSQL keeps too. */
	sqltext_add(s, "CREATE TABLE IF NOT EXISTS %s ("
		"rk BIGSERIAL PRIMARY KEY, id TEXT COLLATE \"C\" NOT NULL UNIQUE, "
		"version BIGINT NOT NULL, "
		"created_at TEXT COLLATE \"C\" NOT NULL, "
		"updated_at TEXT COLLATE \"C\" NOT NULL, "
		"data TEXT NOT NULL, secret TEXT, "
		"doc JSONB GENERATED ALWAYS AS (data::jsonb) STORED, "
		"search TEXT COLLATE \"C\" GENERATED ALWAYS AS (", r->table);
	add_text(s, r);
	sqltext_add(s, ") STORED);");
	sqltext_add(s, "CREATE INDEX IF NOT EXISTS %s_search ON %s USING gin "
		"(search gin_trgm_ops);", r->table, r->table);
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_UNIQUE))
			continue;
		listq_text_expr(1, f->name, a, sizeof(a));
		sqltext_add(s, "CREATE UNIQUE INDEX IF NOT EXISTS %s_%s_unique "
			"ON %s (", r->table, f->name, r->table);
		if (f->unique_with) {
			char w[128];

			listq_text_expr(1, f->unique_with, w, sizeof(w));
			sqltext_add(s, "%s, ", w);
		}
		sqltext_add(s, "%s);", a);
	}
	/* An index per sort, and per filter and sort, as on SQLite. */
	for (m = 0; listq_sort_at(r, m, &sf, &sname); m++) {
		listq_sort_expr(1, sf, sname, key, sizeof(key));
		sqltext_add(s, "CREATE INDEX IF NOT EXISTS %s_by_%s ON %s "
			"((%s), id);", r->table, sname, r->table, key);
		for (f = r->fields; f->name; f++) {
			if (!(f->flags & FF_FILTER))
				continue;
			listq_filter_expr(1, f, filter, sizeof(filter));
			sqltext_add(s, "CREATE INDEX IF NOT EXISTS %s_%s_by_%s "
				"ON %s ((%s), (%s), id);", r->table, f->name,
				sname, r->table, filter, key);
		}
	}
	/* The counters, in the transaction of every write. */
	sqltext_add(s, "CREATE OR REPLACE FUNCTION %s_count() RETURNS "
		"trigger LANGUAGE plpgsql AS $f$ BEGIN "
		"IF TG_OP <> 'INSERT' THEN", r->table);
	add_count(s, r, "OLD", -1);
	sqltext_add(s, " END IF; IF TG_OP <> 'DELETE' THEN");
	add_count(s, r, "NEW", 1);
	sqltext_add(s, " END IF; RETURN NULL; END $f$;");
	sqltext_add(s, "DROP TRIGGER IF EXISTS %s_count ON %s;"
		"CREATE TRIGGER %s_count AFTER INSERT OR DELETE ON %s "
		"FOR EACH ROW EXECUTE FUNCTION %s_count();"
		"DROP TRIGGER IF EXISTS %s_count_upd ON %s;",
		r->table, r->table, r->table, r->table, r->table, r->table,
		r->table);
	/* Most updates (a worker's progress) change no filter. */
	for (f = r->fields; f->name; f++)
		if (f->flags & FF_FILTER)
			any = 1;
	if (!any)
		return;
	sqltext_add(s, "CREATE TRIGGER %s_count_upd AFTER UPDATE OF data ON "
		"%s FOR EACH ROW WHEN (", r->table, r->table);
	any = 0;
	for (f = r->fields; f->name; f++) {
		if (!(f->flags & FF_FILTER))
			continue;
		sqltext_add(s, "%s(OLD.doc -> '%s') IS DISTINCT FROM "
			"(NEW.doc -> '%s')", any ? " OR " : "",
			f->name, f->name);
		any = 1;
	}
	sqltext_add(s, ") EXECUTE FUNCTION %s_count();", r->table);
}

/* schema_version reads the version the store's tables have (0: none). */
static int schema_version(struct dbx *x, int *version, struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	int rc;

	*version = 0;
	if (dbx_prepare(x, "SELECT CASE WHEN to_regclass('flowpush_schema') "
	    "IS NULL THEN 0 ELSE -1 END", "schema version", &st, err) < 0)
		return -1;
	rc = dbx_step(st, err);
	if (rc == DBX_ROW)
		*version = (int)dbx_column_int64(st, 0);
	dbx_finalize(st);
	if (rc != DBX_ROW)
		return -1;
	if (*version == 0)
		return 0;
	if (dbx_prepare(x, "SELECT version FROM flowpush_schema",
	    "schema version", &st, err) < 0)
		return -1;
	rc = dbx_step(st, err);
	*version = rc == DBX_ROW ? (int)dbx_column_int64(st, 0) : 0;
	dbx_finalize(st);
	return rc == DBX_ERROR ? -1 : 0;
}

/* utf8_check refuses a database whose encoding is not UTF8: records are
 * UTF-8 text, and a missing text key sorts as U+10FFFF. */
static int utf8_check(struct dbx *x, struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	int rc, ok = 0;

	if (dbx_prepare(x, "SELECT current_setting('server_encoding')",
	    "encoding", &st, err) < 0)
		return -1;
	rc = dbx_step(st, err);
	if (rc == DBX_ROW)
		ok = strcmp(dbx_column_text(st, 0), "UTF8") == 0;
	dbx_finalize(st);
	if (rc != DBX_ROW)
		return -1;
	if (!ok)
		return ferr_set(err, 500, "bad_database", "The PostgreSQL "
			"database must be in UTF8 (createdb -E UTF8 -T "
			"template0).");
	return 0;
}

int pgschema_records(struct dbx *x, struct ferr *err)
{
	const struct resource *r;
	struct sqltext s;
	char *text;
	int version, rc;

	if (dbx_kind(x) != DBX_PG)
		return ferr_set(err, 500, "internal_error", "Not a PostgreSQL"
			" store.");
	/* Most opens find the tables made: one query, no lock. */
	if (schema_version(x, &version, err) < 0)
		return -1;
	if (version == PGSCHEMA_VERSION)
		return 0;
	if (version > PGSCHEMA_VERSION)
		return ferr_set(err, 500, "schema_too_new", "The database "
			"has schema version %d; this program knows up to %d.",
			version, PGSCHEMA_VERSION);
	if (utf8_check(x, err) < 0 || pgschema_journal(x, err) < 0)
		return -1;
	text = malloc(PGSCHEMA_TEXT);
	if (text == NULL)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	sqltext_init(&s, text, PGSCHEMA_TEXT);
	sqltext_add(&s, "BEGIN; SELECT pg_advisory_xact_lock(" PGSCHEMA_LOCK
		"); CREATE EXTENSION IF NOT EXISTS pg_trgm;"
		"CREATE TABLE IF NOT EXISTS flowpush_schema ("
		" one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),"
		" version INT NOT NULL);"
		"CREATE TABLE IF NOT EXISTS counts (topic TEXT COLLATE \"C\" "
		"NOT NULL, key TEXT COLLATE \"C\" NOT NULL, n BIGINT NOT NULL, "
		"PRIMARY KEY (topic, key));");
	for (r = resources; r->name; r++)
		add_records(&s, r);
	sqltext_add(&s, "INSERT INTO flowpush_schema(one, version) VALUES "
		"(TRUE, %d) ON CONFLICT (one) DO UPDATE SET version = "
		"excluded.version; COMMIT;", PGSCHEMA_VERSION);
	if (s.over) {
		free(text);
		return ferr_set(err, 500, "internal_error", "The schema "
			"statement is too long.");
	}
	rc = dbx_exec(x, text, "records schema", err);
	free(text);
	if (rc < 0) {
		dbx_rollback(x);
		return -1;
	}
	return 0;
}
