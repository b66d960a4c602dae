/* test_db.c - unit tests for common/db.c and common/schema.c: opening, pragmas, migration. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"
#include "schema.h"
#include "log.h"
#include "dbtmp.h"


static void schema_open__create__migrates_with_pragmas(void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;
	sqlite3 *db;
	sqlite3_stmt *st;

	ferr_init(&e);
	db = schema_open(&fx->cfg, DB_CREATE, &e);
	assert_non_null(db);
	assert_int_equal(dbtmp_int(db, "PRAGMA user_version"),
		SCHEMA_VERSION);
	assert_int_equal(dbtmp_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(dbtmp_int(db, "PRAGMA synchronous"), 1);
	assert_int_equal(dbtmp_int(db, "SELECT count(*) FROM journal"), 0);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
		&st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* The record tables come from schema_create in the same step. */
	assert_true(dbtmp_int(db, "SELECT count(*) FROM sqlite_master"
		" WHERE type = 'table' AND name NOT IN ('journal',"
		" 'sqlite_sequence')") > 0);
	sqlite3_close_v2(db);
}

static void db_open__missing_file_without_create__fails_naming_it(
	void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;

	ferr_init(&e);
	assert_null(schema_open(&fx->cfg, DB_READWRITE, &e));
	assert_int_equal(e.status, 500);
	assert_non_null(strstr(e.message, fx->path));
	assert_null(strstr(e.message, "unable"));
	assert_int_equal(access(fx->path, F_OK), -1);
	ferr_release(&e);
}

static void schema_open__twice__keeps_schema_version(void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;
	sqlite3 *a, *b;

	ferr_init(&e);
	a = schema_open(&fx->cfg, DB_CREATE, &e);
	assert_non_null(a);
	b = schema_open(&fx->cfg, DB_READWRITE, &e);
	assert_non_null(b);
	assert_int_equal(dbtmp_int(b, "PRAGMA user_version"),
		SCHEMA_VERSION);
	sqlite3_close_v2(b);
	sqlite3_close_v2(a);
}

static void schema_open__newer_schema__is_refused(void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;
	sqlite3 *db;

	ferr_init(&e);
	db = schema_open(&fx->cfg, DB_CREATE, &e);
	assert_non_null(db);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
		NULL, NULL), SQLITE_OK);
	sqlite3_close_v2(db);
	assert_null(schema_open(&fx->cfg, DB_READWRITE, &e));
	assert_string_equal(e.code, "schema_too_new");
	ferr_release(&e);
}

static void db_open__readonly__cannot_write(void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;
	sqlite3 *rw, *ro;

	ferr_init(&e);
	rw = schema_open(&fx->cfg, DB_CREATE, &e);
	assert_non_null(rw);
	ro = db_open(&fx->cfg, DB_READONLY, &e);
	assert_non_null(ro);
	assert_int_equal(dbtmp_int(ro, "SELECT count(*) FROM journal"), 0);
	assert_int_not_equal(sqlite3_exec(ro, "INSERT INTO journal(ts, topic,"
		" action) VALUES ('x', 'y', 'z')", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close_v2(ro);
	sqlite3_close_v2(rw);
}

static void db_begin__second_writer__gets_503_busy(void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;
	sqlite3 *a, *b;

	ferr_init(&e);
	a = schema_open(&fx->cfg, DB_CREATE, &e);
	fx->cfg.busy_timeout_ms = 0;
	b = schema_open(&fx->cfg, DB_READWRITE, &e);
	fx->cfg.busy_timeout_ms = 5000;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(db_begin(a, &e), 0);
	assert_int_equal(db_begin(b, &e), -1);
	assert_int_equal(e.status, 503);
	assert_string_equal(e.code, "busy_database");
	assert_int_equal(e.retry_after, 1);
	ferr_release(&e);
	db_rollback(a);
	assert_int_equal(db_begin(b, &e), 0);
	assert_int_equal(db_commit(b, &e), 0);
	sqlite3_close_v2(b);
	sqlite3_close_v2(a);
}

static void db_rollback__undoes_the_transaction(void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;
	sqlite3 *db;

	ferr_init(&e);
	db = schema_open(&fx->cfg, DB_CREATE, &e);
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO journal(ts, topic,"
		" action) VALUES ('x', 'y', 'z')", NULL, NULL, NULL),
		SQLITE_OK);
	db_rollback(db);
	assert_true(sqlite3_get_autocommit(db));
	assert_int_equal(dbtmp_int(db, "SELECT count(*) FROM journal"), 0);
	/* A rollback with nothing open is harmless. */
	db_rollback(db);
	sqlite3_close_v2(db);
}

static void db_fail__codes__map_to_statuses_without_sqlite_text(
	void **state)
{
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(db_fail(NULL, SQLITE_LOCKED, "test", &e), -1);
	assert_int_equal(e.status, 503);
	ferr_release(&e);
	assert_int_equal(db_fail(NULL, SQLITE_CONSTRAINT_UNIQUE, "test", &e),
		-1);
	assert_int_equal(e.status, 500);
	assert_string_equal(e.code, "internal_error");
	assert_null(strstr(e.message, "constraint"));
	ferr_release(&e);
	assert_int_equal(db_fail(NULL, SQLITE_READONLY_DBMOVED, "test", &e),
		-1);
	assert_int_equal(e.status, 503);
	assert_string_equal(e.code, "storage_readonly");
	assert_true(e.retry_after > 0);
	ferr_release(&e);
	assert_int_equal(db_fail(NULL, SQLITE_FULL, "test", &e), -1);
	assert_int_equal(e.status, 507);
	assert_string_equal(e.code, "storage_full");
	ferr_release(&e);
}

/* What a version 2 file looked like: journal without prev, the records
 * of one campaign and one proxy, no search tables, counters or sort
 * indexes, but an index per counted field. */
static const char v2_file[] =
	"CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" ts TEXT NOT NULL, topic TEXT NOT NULL, action TEXT NOT NULL,"
	" id TEXT, version INTEGER, actor TEXT, data TEXT);"
	"CREATE TABLE campaigns (rk INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL,"
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
	" data TEXT NOT NULL CHECK (json_valid(data)), secret TEXT);"
	"CREATE INDEX campaigns_status_dash ON"
	" campaigns(json_extract(data, '$.status'));"
	"INSERT INTO campaigns(id, version, created_at, updated_at, data)"
	" VALUES ('0f8fad5b-d9cb-469f-a165-70867728950e', 1, 'a', 'a',"
	" '{\"name\":\"Old Spring\",\"status\":\"running\","
	"\"campaignType\":\"domain_generation\"}');"
	"INSERT INTO journal(ts, topic, action) VALUES ('x', 'y', 'z');"
	"PRAGMA user_version = 2;";

static void schema_open__version_2_file__gains_search_counters_and_prev(
	void **state)
{
	struct dbtmp *fx = *state;
	struct ferr e;
	sqlite3 *db;

	ferr_init(&e);
	assert_int_equal(sqlite3_open(fx->cfg.database, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v2_file, NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close_v2(db);
	db = schema_open(&fx->cfg, 0, &e);
	assert_non_null(db);
	assert_int_equal(dbtmp_int(db, "PRAGMA user_version"),
		SCHEMA_VERSION);
	assert_int_equal(dbtmp_int(db, "SELECT count(*) FROM sqlite_master "
		"WHERE type = 'index' AND name = 'campaigns_status_dash'"), 0);
	assert_int_equal(dbtmp_int(db, "SELECT count(*) FROM journal "
		"WHERE prev IS NULL"), 1);
	/* The stored record is found by search and counted by filter. */
	assert_int_equal(dbtmp_int(db, "SELECT count(*) FROM campaigns_fts "
		"WHERE campaigns_fts MATCH '\"old spr\"'"), 1);
	assert_int_equal(dbtmp_int(db, "SELECT n FROM counts WHERE "
		"topic = 'campaigns' AND key = 'status=\"running\"'"), 1);
	assert_int_equal(dbtmp_int(db, "SELECT n FROM counts WHERE "
		"topic = 'campaigns' AND key = ''"), 1);
	sqlite3_close_v2(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			schema_open__version_2_file__gains_search_counters_and_prev,
			dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			schema_open__create__migrates_with_pragmas, dbtmp_setup,
			dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
		db_open__missing_file_without_create__fails_naming_it,
			dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			schema_open__twice__keeps_schema_version, dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			schema_open__newer_schema__is_refused, dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			db_open__readonly__cannot_write, dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			db_begin__second_writer__gets_503_busy, dbtmp_setup,
			dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			db_rollback__undoes_the_transaction, dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test(
		db_fail__codes__map_to_statuses_without_sqlite_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
