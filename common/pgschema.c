/* pgschema.c - the PostgreSQL store's tables: the journal, its counter and the doorbell trigger. */
#include "pgschema.h"

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
