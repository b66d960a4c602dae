/* test_checkpoint.c - the WAL checkpoint thread against a real temporary database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "checkpoint.h"
#include "config.h"
#include "db.h"

struct fixture {
	char dir[64];
	struct config cfg;
	sqlite3 *writer;             /* the connection the thread watches */
	struct checkpoint c;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[128];
	struct ferr err;

	ferr_init(&err);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fp-ckpt-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(config_load(&fx->cfg, "/dev/null", &err), 0);
	snprintf(path, sizeof(path), "%s/t.db", fx->dir);
	free(fx->cfg.database);
	fx->cfg.database = strdup(path);
	fx->writer = db_open(&fx->cfg, DB_CREATE, &err);
	assert_non_null(fx->writer);
	assert_int_equal(db_exec(fx->writer, "CREATE TABLE t(b BLOB)",
		"create", &err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	sqlite3_close_v2(fx->writer);
	checkpoint_stop(&fx->c);
	config_release(&fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* write_bytes commits one row of n bytes on the writer: n / 4096 pages
 * and more of WAL. */
static void write_bytes(struct fixture *fx, int n)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(fx->writer,
		"INSERT INTO t VALUES (zeroblob(?1))", -1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_int(st, 1, n);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void start(struct fixture *fx, long pages, long max_pages)
{
	struct ferr err;

	ferr_init(&err);
	fx->cfg.wal_checkpoint_pages = pages;
	fx->cfg.wal_max_pages = max_pages;
	assert_int_equal(checkpoint_start(&fx->c, &fx->cfg, &err), 0);
	/* 0 pages starts nothing: the writer keeps its auto-checkpoint. */
	assert_int_equal(checkpoint_watch(&fx->c, fx->writer),
		pages == 0 ? -1 : 0);
}

static void checkpoint_start__wal_checkpoint_pages_0__starts_no_thread(
	void **state)
{
	struct fixture *fx = *state;
	struct checkpoint_stats s;

	start(fx, 0, 10000);
	write_bytes(fx, 64 * 1024);
	assert_int_equal(checkpoint_wait(&fx->c, 1, 50, &s), -1);
	checkpoint_stats(&fx->c, &s);
	assert_int_equal(s.runs, 0);
}

static void
checkpoint_watch__commit_past_wal_checkpoint_pages__is_copied_by_the_thread(
	void **state)
{
	struct fixture *fx = *state;
	struct checkpoint_stats s;

	start(fx, 10, 100000);
	write_bytes(fx, 200 * 1024);
	assert_int_equal(checkpoint_wait(&fx->c, 1, 5000, &s), 0);
	assert_true(s.wal_frames >= 50);
	assert_int_equal(s.copied, s.wal_frames);
	assert_int_equal(s.restarts, 0);
	assert_int_equal(s.failures, 0);
}

static void checkpoint_watch__small_commit__is_copied_within_a_few_seconds(
	void **state)
{
	struct fixture *fx = *state;
	struct checkpoint_stats s;

	start(fx, 100000, 200000);
	write_bytes(fx, 100);
	assert_int_equal(checkpoint_wait(&fx->c, 1, 5000, &s), 0);
	assert_true(s.wal_frames > 0);
	assert_int_equal(s.copied, s.wal_frames);
}

static void checkpoint_watch__wal_past_wal_max_pages__starts_it_again(
	void **state)
{
	struct fixture *fx = *state;
	struct checkpoint_stats s;
	int big;

	start(fx, 1, 20);
	write_bytes(fx, 200 * 1024);
	assert_int_equal(checkpoint_wait(&fx->c, 1, 5000, &s), 0);
	assert_int_equal(s.restarts, 1);
	big = s.wal_frames;
	assert_true(big >= 50);
	/* The next write starts from the WAL's first frame. */
	write_bytes(fx, 100);
	assert_int_equal(checkpoint_wait(&fx->c, 2, 5000, &s), 0);
	assert_true(s.wal_frames < big);
}

static void checkpoint_stop__twice__is_safe(void **state)
{
	struct fixture *fx = *state;

	start(fx, 1000, 10000);
	sqlite3_close_v2(fx->writer);
	fx->writer = NULL;
	checkpoint_stop(&fx->c);
	checkpoint_stop(&fx->c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			checkpoint_start__wal_checkpoint_pages_0__starts_no_thread,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			checkpoint_watch__commit_past_wal_checkpoint_pages__is_copied_by_the_thread,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			checkpoint_watch__small_commit__is_copied_within_a_few_seconds,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			checkpoint_watch__wal_past_wal_max_pages__starts_it_again,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			checkpoint_stop__twice__is_safe, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
