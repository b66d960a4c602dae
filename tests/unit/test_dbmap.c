/* test_dbmap.c - unit tests for common/dbmap.c: connections of a process reading through one map. */
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
#include "dbmap.h"
#include "log.h"
#include "dbtmp.h"

static sqlite3 *open_db(struct dbtmp *fx, long mmap_mb, int flags)
{
	struct ferr e;
	sqlite3 *db;

	ferr_init(&e);
	fx->cfg.mmap_mb = mmap_mb;
	db = db_open(&fx->cfg, flags | DB_MAP, &e);
	assert_non_null(db);
	ferr_release(&e);
	return db;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}


/* A digest of every row, the same whichever way the pages are read. */
#define DIGEST "SELECT count(*) * 1000003 + sum(length(v)) + " \
	"sum(unicode(substr(v, 1 + k % 400, 1)) * k) FROM t"

/* add appends n rows of 400 bytes from key first on. */
static void add(sqlite3 *db, int first, int n)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "WITH RECURSIVE s(i) AS (SELECT %d UNION "
		"ALL SELECT i + 1 FROM s WHERE i < %d) INSERT INTO t(k, v) "
		"SELECT i, substr(hex(randomblob(200)), 1, 400) FROM s",
		first, first + n - 1);
	exec(db, sql);
}

/* new_table makes the file with an empty table t, through a connection
 * of this process (mapped unless mmap_mb is 0), and returns it. */
static sqlite3 *new_table(struct dbtmp *fx, long mmap_mb)
{
	sqlite3 *db = open_db(fx, mmap_mb, DB_CREATE);

	exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
	return db;
}

static void two_connections__share_one_map__and_read_what_plain_reads(
	void **state)
{
	struct dbtmp *fx = *state;
	struct dbmap_stats s0, s1;
	sqlite3 *a, *b, *plain;

	a = new_table(fx, 64);
	add(a, 1, 3000);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	b = open_db(fx, 64, 0);
	plain = open_db(fx, 0, 0);
	dbmap_stats(&s0);
	assert_int_equal(s0.maps, 1);
	assert_int_equal(dbtmp_int(b, DIGEST), dbtmp_int(plain, DIGEST));
	dbmap_stats(&s1);
	/* The 1.2 MB of rows came out of the map, not from reads. */
	assert_true(s1.fetches - s0.fetches > 250);
	assert_int_equal(s1.maps, 1);
	assert_int_equal(s1.readers, 2);
	sqlite3_close_v2(a);
	sqlite3_close_v2(b);
	dbmap_stats(&s1);
	assert_int_equal(s1.readers, 0);
	/* Kept for the process (map_get says why), and found again. */
	assert_int_equal(s1.maps, 1);
	a = open_db(fx, 64, 0);
	dbmap_stats(&s1);
	assert_int_equal(s1.maps, 1);
	assert_int_equal(s1.readers, 1);
	sqlite3_close_v2(a);
	sqlite3_close_v2(plain);
}

/* child_count is the other process: a fresh program (a forked copy
 * would share this one's SQLite state), which counts t's rows with a
 * plain connection and closes it. A process that takes itself for the
 * last user of the file checkpoints and deletes the WAL as it closes. */
static int child_count(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1,
	    &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	printf("%lld\n", v);
	return v < 0;
}

static long long count_in_child(const char *path)
{
	char cmd[512];
	long long n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "/proc/%d/exe --count '%s'", (int)getpid(),
		path);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lld", &n), 1);
	assert_int_equal(pclose(f), 0);
	return n;
}

/* Mapping a file must not drop the locks SQLite holds on it in this
 * process (closing any descriptor of a file does): another process would
 * then delete the WAL this one still writes into, and lose its commits. */
static void opening_again__keeps_this_process_locks__no_commit_lost(
	void **state)
{
	struct dbtmp *fx = *state;
	sqlite3 *a, *b, *plain;

	a = open_db(fx, 64, DB_CREATE);
	exec(a, "PRAGMA wal_autocheckpoint=0");
	exec(a, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
	add(a, 1, 10);
	/* More connections of this process, through the map and not. */
	b = open_db(fx, 64, 0);
	assert_int_equal(dbtmp_int(b, "SELECT count(*) FROM t"), 10);
	sqlite3_close_v2(b);
	b = open_db(fx, 64, 0);
	assert_int_equal(count_in_child(fx->path), 10);
	/* a still writes into the WAL every process reads. */
	add(a, 11, 5);
	plain = open_db(fx, 0, 0);
	assert_int_equal(dbtmp_int(plain, "SELECT count(*) FROM t"), 15);
	assert_int_equal(count_in_child(fx->path), 15);
	sqlite3_close_v2(plain);
	sqlite3_close_v2(b);
	sqlite3_close_v2(a);
}

static void map__follows_the_file_as_another_connection_grows_it(
	void **state)
{
	struct dbtmp *fx = *state;
	struct dbmap_stats s0, s1;
	sqlite3 *a, *b, *plain;

	a = new_table(fx, 64);
	add(a, 1, 10);
	b = open_db(fx, 64, 0);
	assert_int_equal(dbtmp_int(b, "SELECT count(*) FROM t"), 10);
	/* The file grows past what b's map saw, in commits b did not make,
	 * and the WAL is written back into it. */
	for (int i = 0; i < 20; i++)
		add(a, 11 + i * 500, 500);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	plain = open_db(fx, 0, 0);
	dbmap_stats(&s0);
	assert_int_equal(dbtmp_int(b, "SELECT count(*) FROM t"), 10010);
	assert_int_equal(dbtmp_int(b, DIGEST), dbtmp_int(plain, DIGEST));
	dbmap_stats(&s1);
	assert_true(s1.fetches - s0.fetches > 1000);
	/* Rows changed in place are seen changed. */
	exec(a, "UPDATE t SET v = 'x' || substr(v, 2) WHERE k % 7 = 0");
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(dbtmp_int(b, DIGEST), dbtmp_int(plain, DIGEST));
	sqlite3_close_v2(a);
	sqlite3_close_v2(b);
	sqlite3_close_v2(plain);
}

static void map__a_file_that_shrinks_is_read_right(void **state)
{
	struct dbtmp *fx = *state;
	sqlite3 *a, *b, *plain;

	a = new_table(fx, 64);
	add(a, 1, 8000);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	b = open_db(fx, 64, 0);
	assert_int_equal(dbtmp_int(b, "SELECT count(*) FROM t"), 8000);
	exec(a, "DELETE FROM t WHERE k > 100");
	exec(a, "VACUUM");
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	plain = open_db(fx, 0, 0);
	assert_true(dbtmp_int(plain, "PRAGMA page_count") < 100);
	assert_int_equal(dbtmp_int(b, "SELECT count(*) FROM t"), 100);
	assert_int_equal(dbtmp_int(b, DIGEST), dbtmp_int(plain, DIGEST));
	/* And grows again. */
	add(a, 101, 4000);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(dbtmp_int(b, DIGEST), dbtmp_int(plain, DIGEST));
	sqlite3_close_v2(a);
	sqlite3_close_v2(b);
	sqlite3_close_v2(plain);
}

/* fetch__past_the_end__gives_no_page: a page the file does not hold
 * (yet) is read the usual way, never handed out from the map, where
 * touching it would kill the process; once the file holds it, it is. */
static void fetch__past_the_end__gives_no_page(void **state)
{
	struct dbtmp *fx = *state;
	sqlite3_file *f = NULL;
	sqlite3_int64 size = 0;
	unsigned char buf[4096];
	void *p = NULL;
	sqlite3 *a, *b;

	a = new_table(fx, 64);
	add(a, 1, 100);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	b = open_db(fx, 64, 0);
	assert_int_equal(sqlite3_file_control(b, "main",
		SQLITE_FCNTL_FILE_POINTER, &f), SQLITE_OK);
	assert_int_equal(f->pMethods->xFileSize(f, &size), SQLITE_OK);
	assert_true(size >= 8192);
	/* Inside the file: the page, equal to what a read gives. */
	assert_int_equal(f->pMethods->xFetch(f, 4096, 4096, &p), SQLITE_OK);
	assert_non_null(p);
	assert_int_equal(f->pMethods->xRead(f, buf, 4096, 4096), SQLITE_OK);
	assert_memory_equal(p, buf, 4096);
	f->pMethods->xUnfetch(f, 4096, p);
	/* Past the end, or past the map: none. */
	assert_int_equal(f->pMethods->xFetch(f, size, 4096, &p), SQLITE_OK);
	assert_null(p);
	assert_int_equal(f->pMethods->xFetch(f, 64LL << 20, 4096, &p),
		SQLITE_OK);
	assert_null(p);
	/* Once another connection has grown the file, the page is there. */
	add(a, 101, 2000);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(f->pMethods->xFetch(f, size, 4096, &p), SQLITE_OK);
	assert_non_null(p);
	assert_int_equal(f->pMethods->xRead(f, buf, 4096, size), SQLITE_OK);
	assert_memory_equal(p, buf, 4096);
	sqlite3_close_v2(a);
	sqlite3_close_v2(b);
}

/* A file renamed over the database while a connection holds the old one:
 * a new connection reads the new file through a map of its own. */
static void file_renamed_over__new_connections_read_the_new_file(
	void **state)
{
	struct dbtmp *fx = *state;
	struct dbmap_stats s0, s1;
	char other[160], path[128];
	sqlite3 *a, *b;

	a = new_table(fx, 64);
	add(a, 1, 500);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(dbtmp_int(a, "SELECT count(*) FROM t"), 500);
	/* Another database of 30 rows, put in place by rename. */
	snprintf(path, sizeof(path), "%s", fx->path);
	snprintf(other, sizeof(other), "%s/other.db", fx->dir);
	free(fx->cfg.database);
	fx->cfg.database = strdup(other);
	b = new_table(fx, 0);
	add(b, 1, 30);
	exec(b, "PRAGMA journal_mode=DELETE");
	sqlite3_close_v2(b);
	assert_int_equal(rename(other, path), 0);
	free(fx->cfg.database);
	fx->cfg.database = strdup(path);
	dbmap_stats(&s0);
	b = open_db(fx, 64, 0);
	assert_int_equal(dbtmp_int(b, "SELECT count(*) FROM t"), 30);
	dbmap_stats(&s1);
	assert_int_equal(s1.maps, s0.maps + 1);
	/* The old connection still reads the file it opened. */
	assert_int_equal(dbtmp_int(a, "SELECT count(*) FROM t"), 500);
	sqlite3_close_v2(b);
	sqlite3_close_v2(a);
}

static void mmap_mb_0__maps_nothing(void **state)
{
	struct dbtmp *fx = *state;
	struct dbmap_stats s0, s1;
	sqlite3 *a;

	a = new_table(fx, 0);
	add(a, 1, 2000);
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	dbmap_stats(&s0);
	assert_int_equal(dbtmp_int(a, "SELECT count(*) FROM t"), 2000);
	dbmap_stats(&s1);
	assert_int_equal(s1.maps, s0.maps);
	assert_true(s1.fetches == s0.fetches);
	sqlite3_close_v2(a);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		two_connections__share_one_map__and_read_what_plain_reads,
			dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
		opening_again__keeps_this_process_locks__no_commit_lost,
			dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			map__follows_the_file_as_another_connection_grows_it,
			dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			map__a_file_that_shrinks_is_read_right, dbtmp_setup,
			dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
			fetch__past_the_end__gives_no_page, dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(
		file_renamed_over__new_connections_read_the_new_file,
			dbtmp_setup, dbtmp_teardown),
		cmocka_unit_test_setup_teardown(mmap_mb_0__maps_nothing,
			dbtmp_setup, dbtmp_teardown),
	};

	if (argc == 3 && strcmp(argv[1], "--count") == 0)
		return child_count(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
