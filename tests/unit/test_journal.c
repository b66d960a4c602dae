/* test_journal.c - unit tests for common/journal.c on a real SQLite file. */
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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"
#include "schema.h"
#include "journal.h"
#include "log.h"

#define ID1 "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ID2 "7c9e6679-7425-40de-944b-e07fc1f90ae7"

struct fixture {
	char dir[64];
	struct config cfg;
	sqlite3 *db;
	struct dbx x;                 /* db through dbx */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ferr e;
	char path[128];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fp-test-journal-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", fx->dir);
	ferr_init(&e);
	unsetenv("FLOWPUSH_CONFIG");
	if (config_load(&fx->cfg, NULL, &e) < 0)
		return -1;
	free(fx->cfg.database);
	fx->cfg.database = strdup(path);
	log_setup("test_journal", "error", "/dev/null");
	fx->db = schema_open(&fx->cfg, DB_CREATE, &e);
	if (fx->db == NULL)
		return -1;
	dbx_init_sqlite(&fx->x, fx->db);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[256];

	sqlite3_close_v2(fx->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	config_release(&fx->cfg);
	free(fx);
	return system(cmd) == 0 ? 0 : -1;
}

/* append commits one event in its own transaction and returns its seq. */
static int64_t append(sqlite3 *db, const char *topic, const char *id,
	const char *name)
{
	struct ferr e;
	int64_t seq = 0;
	json_t *data = name ? json_pack("{s:s}", "name", name) : NULL;
	struct dbx x;

	dbx_init_sqlite(&x, db);
	ferr_init(&e);
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(journal_append(&x, NULL, topic, name ? "created" :
		"deleted", id, id ? 1 : -1, NULL, data, NULL, &seq, &e), 0);
	assert_int_equal(db_commit(db, &e), 0);
	json_decref(data);
	return seq;
}

static json_t *read_all(sqlite3 *db, int64_t since, const char *topics,
	int limit, int64_t *last)
{
	struct topic_list tl;
	struct ferr e;
	struct dbx x;
	json_t *ev;

	dbx_init_sqlite(&x, db);
	ferr_init(&e);
	assert_int_equal(topic_list_parse(topics, &tl, &e), 0);
	ev = journal_read(&x, since, &tl, limit, 0, last, &e);
	assert_non_null(ev);
	topic_list_release(&tl);
	return ev;
}

static void journal_append__in_transaction__is_read_back(void **state)
{
	struct fixture *fx = *state;
	struct ferr e;
	int64_t s1, s2, last = -1;
	json_t *ev, *first, *data;

	ferr_init(&e);
	assert_int_equal(db_begin(fx->db, &e), 0);
	data = json_pack("{s:s, s:i}", "name", "dns-1", "n", 3);
	assert_int_equal(journal_append(&fx->x, NULL, "personas", "created", ID1, 1,
		"alice", data, NULL, &s1, &e), 0);
	json_decref(data);
	assert_int_equal(journal_append(&fx->x, NULL, "dashboard", "updated", NULL,
		-1, NULL, NULL, NULL, &s2, &e), 0);
	assert_int_equal(db_commit(fx->db, &e), 0);
	assert_int_equal(s2, s1 + 1);

	ev = read_all(fx->db, 0, NULL, 100, &last);
	assert_int_equal(json_array_size(ev), 2);
	assert_int_equal(last, s2);
	first = json_array_get(ev, 0);
	assert_int_equal(json_integer_value(json_object_get(first, "seq")),
		s1);
	assert_string_equal(json_string_value(json_object_get(first,
		"topic")), "personas");
	assert_string_equal(json_string_value(json_object_get(first,
		"action")), "created");
	assert_string_equal(json_string_value(json_object_get(first, "id")),
		ID1);
	assert_int_equal(json_integer_value(json_object_get(first,
		"version")), 1);
	assert_string_equal(json_string_value(json_object_get(first,
		"actor")), "alice");
	assert_int_equal(strlen(json_string_value(json_object_get(first,
		"ts"))), 24);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(first, "data"), "name")), "dns-1");
	/* The dashboard row has no id, version, actor or data. */
	first = json_array_get(ev, 1);
	assert_true(json_is_null(json_object_get(first, "id")));
	assert_true(json_is_null(json_object_get(first, "version")));
	assert_true(json_is_null(json_object_get(first, "actor")));
	assert_true(json_is_null(json_object_get(first, "data")));
	json_decref(ev);
}

static void journal_read__since_and_limit__page_in_order(void **state)
{
	struct fixture *fx = *state;
	int64_t seqs[5], last;
	json_t *ev;
	int i;

	for (i = 0; i < 5; i++)
		seqs[i] = append(fx->db, "proxies", ID1, "p");
	ev = read_all(fx->db, seqs[1], NULL, 2, &last);
	assert_int_equal(json_array_size(ev), 2);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(ev, 0), "seq")), seqs[2]);
	assert_int_equal(last, seqs[3]);
	json_decref(ev);
	ev = read_all(fx->db, last, NULL, 100, &last);
	assert_int_equal(json_array_size(ev), 1);
	assert_int_equal(last, seqs[4]);
	json_decref(ev);
	ev = read_all(fx->db, last, NULL, 100, &last);
	assert_int_equal(json_array_size(ev), 0);
	assert_int_equal(last, seqs[4]);
	json_decref(ev);
}

static void journal_read__byte_budget__stops_before_the_event_past_it(
	void **state)
{
	struct fixture *fx = *state;
	char big[3001];
	int64_t seqs[4], last = 0;
	struct ferr e;
	json_t *ev;
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 4; i++)
		seqs[i] = append(fx->db, "proxies", ID1, big);
	ferr_init(&e);
	/* Room for two events of about 3 KB, not three. */
	ev = journal_read(&fx->x, seqs[0] - 1, NULL, 100, 7000, &last, &e);
	assert_int_equal(json_array_size(ev), 2);
	assert_int_equal(last, seqs[1]);
	json_decref(ev);
	/* One event always fits, however small the budget. */
	ev = journal_read(&fx->x, last, NULL, 100, 10, &last, &e);
	assert_int_equal(json_array_size(ev), 1);
	assert_int_equal(last, seqs[2]);
	json_decref(ev);
}

static void journal_newest_floor__stops_at_rows_or_bytes(void **state)
{
	struct fixture *fx = *state;
	char big[3001];
	int64_t seqs[5], floor = -1;
	struct ferr e;
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ferr_init(&e);
	assert_int_equal(journal_newest_floor(&fx->x, 10, 100, &floor, &e), 0);
	assert_int_equal(floor, 0);
	for (i = 0; i < 5; i++)
		seqs[i] = append(fx->db, "proxies", ID1, big);
	/* Everything fits: from the start. */
	assert_int_equal(journal_newest_floor(&fx->x, 10, 1 << 20, &floor,
		&e), 0);
	assert_int_equal(floor, 0);
	/* Rows of about 3 KB: two fit in 7000 bytes. */
	assert_int_equal(journal_newest_floor(&fx->x, 10, 7000, &floor, &e),
		0);
	assert_int_equal(floor, seqs[2]);
	/* At most three rows. */
	assert_int_equal(journal_newest_floor(&fx->x, 3, 1 << 20, &floor, &e),
		0);
	assert_int_equal(floor, seqs[1]);
	/* The newest row counts whatever its size. */
	assert_int_equal(journal_newest_floor(&fx->x, 10, 10, &floor, &e), 0);
	assert_int_equal(floor, seqs[3]);
}

static void journal_read__topics__filter_and_advance_last(void **state)
{
	struct fixture *fx = *state;
	int64_t a, b, c, d, last;
	json_t *ev;

	a = append(fx->db, "personas", ID1, "x");
	b = append(fx->db, "campaigns", ID1, "c1");
	c = append(fx->db, "campaigns", ID2, "c2");
	d = append(fx->db, "proxies", ID2, "p");
	ev = read_all(fx->db, 0, "personas,campaigns/" ID2, 100, &last);
	assert_int_equal(json_array_size(ev), 2);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(ev, 0), "seq")), a);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(ev, 1), "seq")), c);
	/* Filtered-out rows are not read again. */
	assert_int_equal(last, d);
	json_decref(ev);
	ev = read_all(fx->db, 0, "campaigns", 1, &last);
	assert_int_equal(json_array_size(ev), 1);
	assert_int_equal(last, b);
	json_decref(ev);
}

static void journal_append__rolled_back__leaves_no_row(void **state)
{
	struct fixture *fx = *state;
	struct ferr e;
	int64_t before, seq, after, last;
	json_t *ev;

	ferr_init(&e);
	before = append(fx->db, "personas", ID1, "kept");
	assert_int_equal(db_begin(fx->db, &e), 0);
	assert_int_equal(journal_append(&fx->x, NULL, "personas", "updated", ID1, 2,
		NULL, NULL, NULL, &seq, &e), 0);
	db_rollback(fx->db);
	ev = read_all(fx->db, before, NULL, 100, &last);
	assert_int_equal(json_array_size(ev), 0);
	json_decref(ev);
	assert_int_equal(journal_last_seq(&fx->x, &after, &e), 0);
	assert_int_equal(after, before);
	/* The next committed row follows on with no gap. */
	assert_int_equal(append(fx->db, "personas", ID1, "next"), before + 1);
}

static void journal_prune__everything__never_rewinds_seq(void **state)
{
	struct fixture *fx = *state;
	struct ferr e;
	int64_t last, first, seq;
	long deleted = -1;
	int i;

	ferr_init(&e);
	assert_int_equal(journal_last_seq(&fx->x, &last, &e), 0);
	assert_int_equal(last, 0);
	assert_int_equal(journal_first_seq(&fx->x, &first, &e), 0);
	assert_int_equal(first, 0);
	for (i = 0; i < 7; i++)
		seq = append(fx->db, "personas", ID1, "n");
	assert_int_equal(journal_prune(&fx->x, 0, 0, 3, &deleted, &e), 0);
	assert_int_equal(deleted, 7);
	assert_int_equal(journal_first_seq(&fx->x, &first, &e), 0);
	assert_int_equal(first, 0);
	assert_int_equal(journal_last_seq(&fx->x, &last, &e), 0);
	assert_int_equal(last, seq);
	assert_int_equal(append(fx->db, "personas", ID1, "n"), seq + 1);
}

static void journal_prune__keep_rows__keeps_the_newest(void **state)
{
	struct fixture *fx = *state;
	struct ferr e;
	int64_t seq[10], first, last;
	long deleted = -1;
	int i;

	ferr_init(&e);
	for (i = 0; i < 10; i++)
		seq[i] = append(fx->db, "personas", ID1, "n");
	assert_int_equal(journal_prune(&fx->x, 0, 4, 2, &deleted, &e), 0);
	assert_int_equal(deleted, 6);
	assert_int_equal(journal_first_seq(&fx->x, &first, &e), 0);
	assert_int_equal(first, seq[6]);
	assert_int_equal(journal_last_seq(&fx->x, &last, &e), 0);
	assert_int_equal(last, seq[9]);
	assert_int_equal(journal_prune(&fx->x, 0, 4, 2, &deleted, &e), 0);
	assert_int_equal(deleted, 0);
}

static void journal_prune__keep_days__spares_recent_rows(void **state)
{
	struct fixture *fx = *state;
	struct ferr e;
	int64_t first;
	long deleted = -1;
	int i;

	ferr_init(&e);
	for (i = 0; i < 5; i++)
		append(fx->db, "personas", ID1, "n");
	/* Age the three oldest rows by forty days. */
	assert_int_equal(sqlite3_exec(fx->db, "UPDATE journal SET ts ="
		" strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-40 days')"
		" WHERE seq <= 3", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(journal_prune(&fx->x, 30, 0, 100, &deleted, &e), 0);
	assert_int_equal(deleted, 3);
	/* Both limits: old rows among the newest keep_rows stay. */
	assert_int_equal(sqlite3_exec(fx->db, "UPDATE journal SET ts ="
		" strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-40 days')", NULL,
		NULL, NULL), SQLITE_OK);
	assert_int_equal(journal_prune(&fx->x, 30, 1, 100, &deleted, &e), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(journal_first_seq(&fx->x, &first, &e), 0);
	assert_int_equal(first, 5);
}

static void journal_read__unparsable_data__is_skipped(void **state)
{
	struct fixture *fx = *state;
	int64_t last;
	json_t *ev;

	append(fx->db, "personas", ID1, "a");
	assert_int_equal(sqlite3_exec(fx->db, "INSERT INTO journal(ts, topic,"
		" action, id, version, data) VALUES"
		" ('2026-01-01T00:00:00.000Z', 'personas', 'updated', '" ID1
		"', 2, '{broken')", NULL, NULL, NULL), SQLITE_OK);
	append(fx->db, "personas", ID1, "c");
	ev = read_all(fx->db, 0, NULL, 100, &last);
	assert_int_equal(json_array_size(ev), 2);
	assert_int_equal(last, 3);
	json_decref(ev);
}

static void journal_doorbell__rings_a_listening_socket(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un sa;
	char path[128], buf[8];
	int fd;

	snprintf(path, sizeof(path), "%s/bell", fx->dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	journal_doorbell(path);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 1);
	close(fd);
	/* Nobody listening, no path, no socket: nothing happens. */
	journal_doorbell(path);
	journal_doorbell("");
	journal_doorbell(NULL);
	journal_doorbell("/nonexistent/bell");
}

static void journal_reset_due__only_for_a_gap_or_a_future_seq(void **state)
{
	(void)state;
	/* Everything kept: follow. */
	assert_false(journal_reset_due(0, 1, 10));
	assert_false(journal_reset_due(5, 1, 10));
	assert_false(journal_reset_due(10, 1, 10));
	/* Ahead of the newest: the database was recreated. */
	assert_true(journal_reset_due(11, 1, 10));
	assert_true(journal_reset_due(1, 0, 0));
	/* Rows after since were pruned. */
	assert_false(journal_reset_due(4, 5, 10));
	assert_true(journal_reset_due(3, 5, 10));
	/* Everything pruned: behind is a gap, at the end is not. */
	assert_true(journal_reset_due(9, 0, 10));
	assert_false(journal_reset_due(10, 0, 10));
	assert_false(journal_reset_due(0, 0, 0));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(journal_append__in_transaction__is_read_back),
		T(journal_read__since_and_limit__page_in_order),
		T(journal_read__byte_budget__stops_before_the_event_past_it),
		T(journal_newest_floor__stops_at_rows_or_bytes),
		T(journal_read__topics__filter_and_advance_last),
		T(journal_append__rolled_back__leaves_no_row),
		T(journal_prune__everything__never_rewinds_seq),
		T(journal_prune__keep_rows__keeps_the_newest),
		T(journal_prune__keep_days__spares_recent_rows),
		T(journal_read__unparsable_data__is_skipped),
		T(journal_doorbell__rings_a_listening_socket),
		cmocka_unit_test(
		journal_reset_due__only_for_a_gap_or_a_future_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
