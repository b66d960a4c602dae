/* test_tail.c - the journal follower: what it reports to its sink, the ring it fills, range reads, the doorbell's stale-socket rule. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>
#include "pushfake.h"
#include "tail.h"

#define ID1 "0f8fad5b-d9cb-469f-a165-70867728950e"

/* A sink that counts what it is told. */
struct record {
	int published, ready, resets;
	int64_t seqs[64];
};

static void publish_cb(void *data, struct pevent *ev)
{
	struct record *r = data;

	if (r->published < 64)
		r->seqs[r->published] = ev->seq;
	r->published++;
}

static void ready_cb(void *data)
{
	((struct record *)data)->ready++;
}

static void reset_cb(void *data)
{
	((struct record *)data)->resets++;
}

struct fixture {
	struct fake_db db;
	struct tail tail;
	struct record rec;
	struct loop *loop;
	char doorbell[108];        /* a socket path: sun_path holds 108 */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || fake_db_setup(&fx->db, 1))
		return -1;
	fx->tail.doorbell.fd = -1;
	fx->loop = loop_new();
	snprintf(fx->doorbell, sizeof(fx->doorbell), "%s/doorbell",
		fx->db.dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	tail_release(&fx->tail);
	loop_free(fx->loop);
	fake_db_teardown(&fx->db);
	free(fx);
	return 0;
}

static int start(struct fixture *fx)
{
	struct tail_sink sink = { publish_cb, ready_cb, reset_cb, &fx->rec };

	return tail_init(&fx->tail, &fx->db.cfg, fx->loop, &sink);
}

static void tail_init__journal_with_rows__fills_the_ring_and_is_ready(
	void **state)
{
	struct fixture *fx = *state;
	int64_t s2;

	fake_db_append(&fx->db, "personas", ID1);
	s2 = fake_db_append(&fx->db, "personas", ID1);
	assert_int_equal(start(fx), 0);
	assert_true(fx->tail.ready);
	assert_int_equal(fx->rec.ready, 1);
	assert_int_equal(fx->rec.resets, 0);
	assert_int_equal(fx->tail.ring.n, 2);
	assert_int_equal(fx->tail.ring.last, s2);
	/* Nobody is subscribed before the start: published all the same. */
	assert_int_equal(fx->rec.published, 2);
	assert_int_equal(fx->tail.stats.lag_ms, 0);
}

static void tail_poll__new_rows__are_published_in_order(void **state)
{
	struct fixture *fx = *state;
	int64_t s1, s2;

	assert_int_equal(start(fx), 0);
	s1 = fake_db_append(&fx->db, "personas", ID1);
	s2 = fake_db_append(&fx->db, "dashboard", NULL);
	assert_int_equal(tail_lag_seq(&fx->tail), 2);
	tail_poll(&fx->tail);
	assert_int_equal(fx->rec.published, 2);
	assert_int_equal(fx->rec.seqs[0], s1);
	assert_int_equal(fx->rec.seqs[1], s2);
	assert_int_equal(fx->tail.stats.events_in, 2);
	assert_int_equal(tail_lag_seq(&fx->tail), 0);
	assert_false(fx->tail.more);
}

static void tail_poll__unparseable_row__is_skipped_counted_and_passed(
	void **state)
{
	struct fixture *fx = *state;
	int64_t s3;

	assert_int_equal(start(fx), 0);
	fake_db_exec(&fx->db, "INSERT INTO journal(ts, topic, action, data)"
		" VALUES('2024-01-01T00:00:00.000Z', 'dashboard', 'updated',"
		" '{not json')");
	s3 = fake_db_append(&fx->db, "personas", ID1);
	tail_poll(&fx->tail);
	assert_int_equal(fx->rec.published, 1);
	assert_int_equal(fx->rec.seqs[0], s3);
	assert_int_equal(fx->tail.stats.skipped_rows, 1);
	assert_int_equal(fx->tail.ring.last, s3);
}

static void tail_poll__many_rows__stops_at_its_bound_and_says_more(
	void **state)
{
	struct fixture *fx = *state;
	int i;

	assert_int_equal(start(fx), 0);
	fake_db_exec(&fx->db, "BEGIN");
	for (i = 0; i < 1100; i++)
		fake_db_exec(&fx->db, "INSERT INTO journal(ts, topic, action,"
			" data) VALUES('2024-01-01T00:00:00.000Z', 'dashboard',"
			" 'updated', '{}')");
	fake_db_exec(&fx->db, "COMMIT");
	tail_poll(&fx->tail);
	assert_true(fx->tail.more);
	assert_int_equal(fx->rec.published, 1024);
	tail_poll(&fx->tail);
	assert_false(fx->tail.more);
	assert_int_equal(fx->rec.published, 1100);
}

static int64_t range_seqs[16];
static int range_n;

static int row_cb(void *data, int64_t seq, struct pevent *ev)
{
	if (range_n < 16)
		range_seqs[range_n] = seq;
	range_n++;
	return data != NULL && range_n == *(int *)data;
}

static void tail_read_range__after_upto_and_limit__bound_the_rows(
	void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < 6; i++)
		fake_db_append(&fx->db, "personas", ID1);
	assert_int_equal(start(fx), 0);
	range_n = 0;
	assert_int_equal(tail_read_range(&fx->tail, 1, 5, 3, row_cb, NULL), 3);
	assert_int_equal(range_seqs[0], 2);
	assert_int_equal(range_seqs[2], 4);
	range_n = 0;
	assert_int_equal(tail_read_range(&fx->tail, 3, 5, 10, row_cb, NULL),
		2);
	assert_int_equal(range_seqs[1], 5);
}

static void tail_read_range__callback_asks_to_stop__reads_no_further(
	void **state)
{
	struct fixture *fx = *state;
	int stop_at = 2, i;

	for (i = 0; i < 6; i++)
		fake_db_append(&fx->db, "personas", ID1);
	assert_int_equal(start(fx), 0);
	range_n = 0;
	assert_int_equal(tail_read_range(&fx->tail, 0, 6, 10, row_cb,
		&stop_at), 2);
	assert_int_equal(range_n, 2);
	assert_int_equal(range_seqs[1], 2);
}

static void tail_read_range__database_not_open__fails(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	sqlite3_close_v2(fx->db.db);
	fx->db.db = NULL;
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/t.db*", fx->db.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(start(fx), 0);
	assert_false(fx->tail.ready);
	assert_int_equal(fx->rec.ready, 0);
	assert_int_equal(tail_read_range(&fx->tail, 0, 10, 10, row_cb, NULL),
		-1);
}

static void tail_first_seq__after_pruning__gives_the_oldest_kept(
	void **state)
{
	struct fixture *fx = *state;
	int64_t first = -1;
	int i;

	for (i = 0; i < 4; i++)
		fake_db_append(&fx->db, "personas", ID1);
	fake_db_exec(&fx->db, "DELETE FROM journal WHERE seq <= 2");
	assert_int_equal(start(fx), 0);
	assert_int_equal(tail_first_seq(&fx->tail, &first), 0);
	assert_int_equal(first, 3);
}

static void tail_tick__database_recreated__reports_a_reset_then_ready(
	void **state)
{
	struct fixture *fx = *state;
	char cmd[160];
	int i;

	for (i = 0; i < 3; i++)
		fake_db_append(&fx->db, "personas", ID1);
	assert_int_equal(start(fx), 0);
	sqlite3_close_v2(fx->db.db);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/t.db*", fx->db.dir);
	assert_int_equal(system(cmd), 0);
	fake_db_create(&fx->db);
	fake_db_append(&fx->db, "personas", ID1);
	tail_tick(&fx->tail, INT64_MAX / 2);
	assert_int_equal(fx->rec.resets, 1);
	assert_int_equal(fx->rec.ready, 2);
	assert_int_equal(fx->tail.ring.last, 1);
}

static void unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
}

/* bind_dgram leaves a datagram socket bound at path; returns its fd. */
static int bind_dgram(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	unix_addr(&sa, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void tail_init__doorbell_path_held_by_a_live_socket__is_refused(
	void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	int other = bind_dgram(fx->doorbell);

	fx->db.cfg.doorbell = strdup(fx->doorbell);
	assert_int_equal(start(fx), -1);
	assert_int_equal(lstat(fx->doorbell, &st), 0);
	close(other);
}

static void tail_init__doorbell_left_by_a_dead_daemon__is_replaced(
	void **state)
{
	struct fixture *fx = *state;
	struct stat st;

	close(bind_dgram(fx->doorbell));
	fx->db.cfg.doorbell = strdup(fx->doorbell);
	assert_int_equal(start(fx), 0);
	assert_int_equal(lstat(fx->doorbell, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0666);
	tail_release(&fx->tail);
	assert_int_not_equal(lstat(fx->doorbell, &st), 0);
}

static void tail_tick__doorbell_file_removed__binds_it_again(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un sa;
	struct stat st;
	char ring = 1;
	int fd;

	fx->db.cfg.doorbell = strdup(fx->doorbell);
	assert_int_equal(start(fx), 0);
	/* A cleanup of the folder takes the file away. */
	assert_int_equal(unlink(fx->doorbell), 0);
	tail_tick(&fx->tail, INT64_MAX / 2);
	assert_int_equal(lstat(fx->doorbell, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0666);
	/* The new socket is the one the daemon reads. */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	unix_addr(&sa, fx->doorbell);
	assert_int_equal(sendto(fd, &ring, 1, 0, (struct sockaddr *)&sa,
		sizeof(sa)), 1);
	close(fd);
	assert_int_equal(recv(fx->tail.doorbell.fd, &ring, 1, MSG_DONTWAIT),
		1);
	/* Its file is removed at the end, being ours. */
	tail_release(&fx->tail);
	assert_int_not_equal(lstat(fx->doorbell, &st), 0);
}

static void tail_init__doorbell_path_is_a_plain_file__is_refused(
	void **state)
{
	struct fixture *fx = *state;
	FILE *f = fopen(fx->doorbell, "w");

	assert_non_null(f);
	fclose(f);
	fx->db.cfg.doorbell = strdup(fx->doorbell);
	assert_int_equal(start(fx), -1);
	assert_int_equal(access(fx->doorbell, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(tail_init__journal_with_rows__fills_the_ring_and_is_ready),
		T(tail_poll__new_rows__are_published_in_order),
		T(tail_poll__unparseable_row__is_skipped_counted_and_passed),
		T(tail_poll__many_rows__stops_at_its_bound_and_says_more),
		T(tail_read_range__after_upto_and_limit__bound_the_rows),
		T(tail_read_range__callback_asks_to_stop__reads_no_further),
		T(tail_read_range__database_not_open__fails),
		T(tail_first_seq__after_pruning__gives_the_oldest_kept),
		T(tail_tick__database_recreated__reports_a_reset_then_ready),
		T(tail_init__doorbell_path_held_by_a_live_socket__is_refused),
		T(tail_init__doorbell_left_by_a_dead_daemon__is_replaced),
		T(tail_tick__doorbell_file_removed__binds_it_again),
		T(tail_init__doorbell_path_is_a_plain_file__is_refused),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
