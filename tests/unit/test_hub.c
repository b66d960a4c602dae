/* test_hub.c - the subscriber layer: fan-out, resume and reset, catch-up, heartbeats; fake transports, a real journal, no sockets. */
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
#include <cmocka.h>
#include "hub.h"
#include "pushfake.h"
#include "req.h"
#include "util.h"
#include "ws.h"

#define ID1 "0f8fad5b-d9cb-469f-a165-70867728950e"

struct fixture {
	struct fake_db db;
	struct conn_set set;
	struct tail tail;
	struct hub hub;
};

/* start_daemon wires the layers as main.c does, without the HTTP side. */
static void start_daemon(struct fixture *fx)
{
	struct tail_sink sink;

	conn_set_init(&fx->set, NULL, (size_t)fx->db.cfg.push_outbound_cap);
	hub_init(&fx->hub, &fx->set, &fx->tail, &fx->db.cfg);
	hub_tail_sink(&fx->hub, &sink);
	assert_int_equal(tail_init(&fx->tail, &fx->db.cfg, NULL, &sink), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || fake_db_setup(&fx->db, 1))
		return -1;
	memset(&fake_counts, 0, sizeof(fake_counts));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	conn_set_release(&fx->set);
	tail_release(&fx->tail);
	fake_db_teardown(&fx->db);
	free(fx);
	return 0;
}

/* subscribe makes a fake subscriber to topics, resuming after since
 * when since >= 0. */
static struct fake_conn *subscribe(struct fixture *fx, const char *topics,
	int64_t since)
{
	struct fake_conn *f = fake_conn_new(&fx->set);
	struct push_req r;
	struct ferr e;

	memset(&r, 0, sizeof(r));
	ferr_init(&e);
	assert_int_equal(topic_list_parse(topics, &r.topics, &e), 0);
	r.has_since = since >= 0;
	r.since = since >= 0 ? since : 0;
	hub_subscribe(&fx->hub, &f->c, &r);
	req_release(&r);
	return f;
}

/* event_line is how the fake transport shows event seq. */
static const char *event_line(int64_t seq)
{
	static char line[32];

	snprintf(line, sizeof(line), "id: %lld\n", (long long)seq);
	return line;
}

static void hub_publish__two_subscribers__each_get_the_event_once(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *a, *b;
	int64_t seq;

	start_daemon(fx);
	a = subscribe(fx, "*", -1);
	b = subscribe(fx, "personas", -1);
	seq = fake_db_append(&fx->db, "personas", ID1);
	tail_poll(&fx->tail);
	conn_flush_dirty(&fx->set);
	assert_int_equal(fake_count(a, event_line(seq)), 1);
	assert_int_equal(fake_count(b, event_line(seq)), 1);
	assert_int_equal(fx->hub.stats.deliveries, 2);
}

/* last_dirty is the connection the writer reaches last after this turn
 * (the dirty list is flushed from its head). */
static struct conn *last_dirty(struct conn_set *set)
{
	struct conn *c = set->dirty;

	while (c != NULL && c->dnext != NULL)
		c = c->dnext;
	return c;
}

static void hub_publish__many_events__no_subscriber_is_always_served_last(
	void **state)
{
	enum { SUBS = 10, EVENTS = 40 };
	struct fixture *fx = *state;
	struct fake_conn *f[SUBS];
	int last[SUBS] = { 0 }, i, e, most = 0;
	int64_t seq[EVENTS];

	start_daemon(fx);
	for (i = 0; i < SUBS; i++)
		f[i] = subscribe(fx, "*", -1);
	for (e = 0; e < EVENTS; e++) {
		struct conn *c;

		seq[e] = fake_db_append(&fx->db, "personas", ID1);
		tail_poll(&fx->tail);
		c = last_dirty(&fx->set);
		assert_non_null(c);
		for (i = 0; i < SUBS; i++)
			if (&f[i]->c == c)
				last[i]++;
		conn_flush_dirty(&fx->set);
	}
	/* Fair: each is last about EVENTS / SUBS = 4 times; a fixed order
	 * makes one of them last 40 times. */
	for (i = 0; i < SUBS; i++) {
		most = last[i] > most ? last[i] : most;
		for (e = 0; e < EVENTS; e++)
			assert_int_equal(fake_count(f[i], event_line(seq[e])), 1);
	}
	assert_in_range(most, 1, 8);
}

static void hub_fanout_written__after_a_live_event__times_it_once(
	void **state)
{
	struct fixture *fx = *state;
	int64_t now;

	start_daemon(fx);
	subscribe(fx, "*", -1);
	hub_fanout_written(&fx->hub, util_now_ms());
	assert_int_equal(fx->hub.stats.fanout_count, 0);
	fake_db_append(&fx->db, "personas", ID1);
	tail_poll(&fx->tail);
	conn_flush_dirty(&fx->set);
	assert_true(fx->tail.stats.commit_ms > 0);
	/* As if the writes ended 7 ms after the commit: the 10 ms bucket. */
	now = fx->tail.stats.commit_ms + 7;
	hub_fanout_written(&fx->hub, now);
	hub_fanout_written(&fx->hub, now + 100);
	assert_int_equal(fx->hub.stats.fanout_count, 1);
	assert_int_equal(fx->hub.stats.fanout_sum_ms, 7);
	assert_int_equal(fx->hub.stats.fanout_le[3], 1);
	assert_int_equal(hub_fanout_le[3], 10);
}

static void hub_publish__topic_not_asked_for__is_not_queued(void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;

	start_daemon(fx);
	f = subscribe(fx, "dashboard", -1);
	fake_db_append(&fx->db, "personas", ID1);
	tail_poll(&fx->tail);
	conn_flush_dirty(&fx->set);
	assert_int_equal(f->c.qn, 0);
	assert_int_equal(f->flushes, 0);
	assert_int_equal(fx->hub.stats.deliveries, 0);
}

static void hub_subscribe__without_since__starts_live_from_the_newest(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;

	fake_db_append(&fx->db, "personas", ID1);
	start_daemon(fx);
	f = subscribe(fx, "*", -1);
	assert_true(f->c.sub.live);
	assert_int_equal(f->c.qn, 0);
	assert_int_equal(fx->hub.stats.resumes, 0);
}

static void hub_subscribe__since_in_ring__gets_backlog_then_goes_live(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;
	int64_t s1, s2, s3;

	s1 = fake_db_append(&fx->db, "personas", ID1);
	s2 = fake_db_append(&fx->db, "personas", ID1);
	s3 = fake_db_append(&fx->db, "personas", ID1);
	start_daemon(fx);
	f = subscribe(fx, "*", s1);
	conn_flush_dirty(&fx->set);
	assert_true(f->c.sub.live);
	assert_int_equal(fake_count(f, event_line(s1)), 0);
	assert_int_equal(fake_count(f, event_line(s2)), 1);
	assert_int_equal(fake_count(f, event_line(s3)), 1);
	assert_true(strstr(fake_out(f), event_line(s2)) <
		strstr(fake_out(f), event_line(s3)));
	assert_int_equal(fx->hub.stats.resumes, 1);
	assert_int_equal(fx->hub.stats.resets, 0);
}

static void hub_subscribe__since_before_pruned_rows__gets_a_reset(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;
	int64_t s1, s3;

	s1 = fake_db_append(&fx->db, "personas", ID1);
	fake_db_append(&fx->db, "personas", ID1);
	s3 = fake_db_append(&fx->db, "personas", ID1);
	fake_db_exec(&fx->db, "DELETE FROM journal WHERE seq <= 2");
	start_daemon(fx);
	f = subscribe(fx, "*", s1 - 1);
	conn_flush_dirty(&fx->set);
	assert_int_equal(f->resets, 1);
	assert_int_equal(f->reset_seq, s3);
	assert_true(f->c.sub.live);
	assert_int_equal(fx->hub.stats.resets, 1);
}

static void hub_subscribe__since_just_before_oldest_kept__gets_no_reset(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;
	int64_t s3;

	fake_db_append(&fx->db, "personas", ID1);
	fake_db_append(&fx->db, "personas", ID1);
	s3 = fake_db_append(&fx->db, "personas", ID1);
	fake_db_exec(&fx->db, "DELETE FROM journal WHERE seq <= 2");
	start_daemon(fx);
	f = subscribe(fx, "*", 2);
	conn_flush_dirty(&fx->set);
	assert_int_equal(f->resets, 0);
	assert_int_equal(fake_count(f, event_line(s3)), 1);
}

static void hub_subscribe__since_in_the_future__polls_then_resets(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;
	int64_t s1, s2;

	s1 = fake_db_append(&fx->db, "personas", ID1);
	start_daemon(fx);
	/* Written but not read yet: the doorbell is still on its way. */
	s2 = fake_db_append(&fx->db, "personas", ID1);
	f = subscribe(fx, "*", s2);
	assert_int_equal(f->resets, 0);
	assert_int_equal(fx->tail.ring.last, s2);
	f = subscribe(fx, "*", s2 + 5);
	assert_int_equal(f->resets, 1);
	assert_int_equal(f->reset_seq, s2);
	assert_true(s1 < s2);
}

static void hub_subscribe__journal_not_readable__waits_until_it_is(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;
	char cmd[128];
	int64_t s1, s2;

	/* A daemon started before the database exists. */
	sqlite3_close_v2(fx->db.db);
	fx->db.db = NULL;
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/t.db*", fx->db.dir);
	assert_int_equal(system(cmd), 0);
	start_daemon(fx);
	assert_false(fx->tail.ready);
	f = subscribe(fx, "*", 0);
	assert_true(f->c.sub.pending);
	fake_db_create(&fx->db);
	s1 = fake_db_append(&fx->db, "personas", ID1);
	s2 = fake_db_append(&fx->db, "personas", ID1);
	tail_tick(&fx->tail, INT64_MAX / 2);
	assert_true(fx->tail.ready);
	conn_flush_dirty(&fx->set);
	assert_false(f->c.sub.pending);
	assert_int_equal(fake_count(f, event_line(s1)), 1);
	assert_int_equal(fake_count(f, event_line(s2)), 1);
}

static void hub_refill__older_than_the_ring__reads_database_in_batches(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;
	int i, turns = 0;
	int64_t last = 0;

	fx->db.cfg.push_ring_size = 16;
	fake_db_exec(&fx->db, "BEGIN");
	for (i = 0; i < 600; i++)
		fake_db_exec(&fx->db, "INSERT INTO journal(ts, topic, action,"
			" data) VALUES('2024-01-01T00:00:00.000Z', 'dashboard',"
			" 'updated', '{}')");
	fake_db_exec(&fx->db, "COMMIT");
	start_daemon(fx);
	last = fx->tail.ring.last;
	assert_int_equal(last, 600);
	f = subscribe(fx, "*", 0);
	/* Each turn of the loop: write, then one more batch. */
	while (!f->c.sub.live && turns++ < 100) {
		conn_flush_dirty(&fx->set);
		hub_catch_up(&fx->hub);
	}
	conn_flush_dirty(&fx->set);
	assert_true(f->c.sub.live);
	assert_int_equal(fake_count(f, "id: "), 600);
	assert_int_equal(fake_count(f, event_line(1)), 1);
	assert_int_equal(fake_count(f, event_line(600)), 1);
	/* 584 rows older than the ring, 256 a batch. */
	assert_int_equal(fx->hub.stats.db_catchup_reads, 3);
	assert_true(turns >= 2);
}

static void hub_reset_all__database_recreated__resets_every_subscriber(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *a, *b;

	fake_db_append(&fx->db, "personas", ID1);
	start_daemon(fx);
	a = subscribe(fx, "*", -1);
	b = subscribe(fx, "personas", -1);
	hub_reset_all(&fx->hub);
	assert_int_equal(a->resets, 1);
	assert_int_equal(b->resets, 1);
	assert_int_equal(fx->hub.stats.resets, 2);
}

static void hub_tick__heartbeat_due__beats_every_open_subscriber_once(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *a, *b, *c;

	start_daemon(fx);
	a = subscribe(fx, "*", -1);
	b = subscribe(fx, "*", -1);
	c = subscribe(fx, "*", -1);
	c->c.state = CONN_CLOSING;
	hub_tick(&fx->hub, 1000000);
	assert_int_equal(a->heartbeats, 1);
	assert_int_equal(b->heartbeats, 1);
	assert_int_equal(c->heartbeats, 0);
	assert_int_equal(c->expires, 1);
	/* Not due again within the period. */
	hub_tick(&fx->hub, 1000001);
	assert_int_equal(a->heartbeats, 1);
}

static void hub_tick__queue_stalled_past_timeout__drops_the_subscriber(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;

	start_daemon(fx);
	f = subscribe(fx, "*", -1);
	f->stalled = 1;
	fake_db_append(&fx->db, "personas", ID1);
	tail_poll(&fx->tail);
	conn_flush_dirty(&fx->set);
	f->c.stall_since = 1;
	hub_tick(&fx->hub, 1 + fx->db.cfg.push_dispatch_timeout_ms + 1);
	assert_int_equal(f->drops, 1);
	assert_int_equal(f->drop_code, WS_CLOSE_TRY_LATER);
	assert_int_equal(fx->set.slow_drops, 1);
}

static void hub_publish__queue_full__falls_behind_then_gets_every_event(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *f;
	int64_t seqs[30], now = util_mono_ms();
	int i;

	/* Room for a few events of about 300 bytes. */
	fx->db.cfg.push_outbound_cap = 1000;
	start_daemon(fx);
	f = subscribe(fx, "*", -1);
	f->stalled = 1;
	for (i = 0; i < 30; i++)
		seqs[i] = fake_db_append(&fx->db, "personas", ID1);
	tail_poll(&fx->tail);
	conn_flush_dirty(&fx->set);
	/* A burst is no reason to close: the queue stays within the cap and
	 * the rest waits in the ring. */
	assert_int_equal(f->drops, 0);
	assert_false(f->c.sub.live);
	assert_int_equal(fx->hub.stats.fell_behind, 1);
	assert_true(f->c.qbytes <= 1000);
	f->stalled = 0;
	/* The sweep refills it (on a socket, the drained queue does). */
	for (i = 0; i < 100 && !f->c.sub.live; i++) {
		conn_mark_dirty(&f->c);   /* the socket takes bytes again */
		conn_flush_dirty(&fx->set);
		hub_tick(&fx->hub, now + i * 1000);
		conn_flush_dirty(&fx->set);
	}
	assert_true(f->c.sub.live);
	for (i = 0; i < 30; i++)
		assert_int_equal(fake_count(f, event_line(seqs[i])), 1);
	/* In order. */
	for (i = 1; i < 30; i++)
		assert_true(strstr(fake_out(f), event_line(seqs[i - 1])) <
			strstr(fake_out(f), event_line(seqs[i])));
	assert_int_equal(f->drops, 0);
}

static void hub_shutdown__open_subscribers__are_each_ended_once(
	void **state)
{
	struct fixture *fx = *state;
	struct fake_conn *a, *b;

	start_daemon(fx);
	a = subscribe(fx, "*", -1);
	b = subscribe(fx, "*", -1);
	b->c.state = CONN_CLOSING;
	hub_shutdown(&fx->hub);
	assert_int_equal(a->shutdowns, 1);
	assert_int_equal(b->shutdowns, 0);
	assert_true(fx->hub.stopping);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(hub_publish__two_subscribers__each_get_the_event_once),
		T(hub_publish__many_events__no_subscriber_is_always_served_last),
		T(hub_fanout_written__after_a_live_event__times_it_once),
		T(hub_publish__topic_not_asked_for__is_not_queued),
		T(hub_subscribe__without_since__starts_live_from_the_newest),
		T(hub_subscribe__since_in_ring__gets_backlog_then_goes_live),
		T(hub_subscribe__since_before_pruned_rows__gets_a_reset),
		T(hub_subscribe__since_just_before_oldest_kept__gets_no_reset),
		T(hub_subscribe__since_in_the_future__polls_then_resets),
		T(hub_subscribe__journal_not_readable__waits_until_it_is),
		T(hub_refill__older_than_the_ring__reads_database_in_batches),
		T(hub_reset_all__database_recreated__resets_every_subscriber),
		T(hub_tick__heartbeat_due__beats_every_open_subscriber_once),
		T(hub_tick__queue_stalled_past_timeout__drops_the_subscriber),
		T(hub_publish__queue_full__falls_behind_then_gets_every_event),
		T(hub_shutdown__open_subscribers__are_each_ended_once),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
