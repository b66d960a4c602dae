/* test_conn.c - the transport-neutral connection core: queue, cap, writer, dirty and free-later lists. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "conn.h"
#include "log.h"
#include "pushfake.h"
#include "ws.h"

static struct pbuf *text(const char *s)
{
	struct pbuf *b = event_buf_new(s, strlen(s));

	assert_non_null(b);
	return b;
}

/* queue queues s on c and drops the caller's reference. */
static int queue(struct conn *c, const char *s)
{
	struct pbuf *b = text(s);
	int rc = conn_enqueue(c, b);

	event_buf_unref(b);
	return rc;
}

static int setup(void **state)
{
	static struct conn_set set;

	log_setup("test_conn", "error", "/dev/null");
	conn_set_init(&set, NULL, 16);
	memset(&fake_counts, 0, sizeof(fake_counts));
	*state = &set;
	return 0;
}

static int teardown(void **state)
{
	conn_set_release(*state);
	return 0;
}

static void conn_enqueue__within_the_cap__queues_and_marks_dirty_once(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);

	conn_link(&f->c);
	assert_int_equal(queue(&f->c, "abc"), 0);
	assert_int_equal(queue(&f->c, "def"), 0);
	assert_int_equal(f->c.qbytes, 6);
	assert_int_equal(set->n_backlogged, 1);
	conn_flush_dirty(set);
	assert_int_equal(f->flushes, 1);
	assert_string_equal(fake_out(f), "abcdef");
	assert_int_equal(set->n_backlogged, 0);
	assert_int_equal(set->bytes_out, 6);
}

static void conn_enqueue__past_the_cap__drops_the_connection_once(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);

	conn_link(&f->c);
	assert_int_equal(queue(&f->c, "0123456789"), 0);
	assert_int_equal(queue(&f->c, "0123456789"), -1);
	assert_int_equal(f->drops, 1);
	assert_int_equal(f->drop_code, WS_CLOSE_POLICY);
	assert_int_equal(set->slow_drops, 1);
	/* Dropped: nothing more is taken, and no second drop. */
	assert_int_equal(queue(&f->c, "x"), -1);
	assert_int_equal(f->drops, 1);
	assert_int_equal(conn_set_count(set), 0);
	assert_int_equal(fake_counts.frees, 0);
	conn_free_deferred(set);
	assert_int_equal(fake_counts.frees, 1);
}

static void conn_enqueue__event_over_the_cap__goes_to_an_idle_queue(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);

	conn_link(&f->c);
	assert_int_equal(queue(&f->c, "a record bigger than the cap"), 0);
	assert_int_equal(f->drops, 0);
}

static void conn_send__over_a_socket__writes_the_queue_in_order(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);
	char buf[64];
	int sv[2];
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	conn_link(&f->c);
	f->c.fd = sv[0];
	queue(&f->c, "one,");
	queue(&f->c, "two,");
	queue(&f->c, "six");
	assert_int_equal(conn_send(&f->c), 0);
	assert_int_equal(f->c.qn, 0);
	n = read(sv[1], buf, sizeof(buf) - 1);
	assert_int_equal(n, 11);
	buf[n] = '\0';
	assert_string_equal(buf, "one,two,six");
	assert_int_equal(set->bytes_out, 11);
	close(sv[0]);
	close(sv[1]);
}

static int drained;

static void drained_cb(void *data, struct conn *c)
{
	drained++;
	/* Queue once more, as a subscriber catching up would. */
	if (drained == 1)
		queue(c, "more");
}

static void conn_send__queue_drained__asks_the_layer_above_for_more(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);
	char buf[64];
	int sv[2];
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	drained = 0;
	set->drained_cb = drained_cb;
	conn_link(&f->c);
	f->c.fd = sv[0];
	queue(&f->c, "first,");
	assert_int_equal(conn_send(&f->c), 0);
	assert_int_equal(drained, 2);
	n = read(sv[1], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "first,more");
	close(sv[0]);
	close(sv[1]);
}

static void conn_send__peer_gone__reports_a_failure(void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	conn_link(&f->c);
	f->c.fd = sv[0];
	queue(&f->c, "lost");
	assert_int_equal(conn_send(&f->c), -1);
	close(sv[0]);
}

static void conn_discard__keep_partial__keeps_the_buffer_in_flight(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);
	char buf[4];

	conn_link(&f->c);
	queue(&f->c, "abcd");
	queue(&f->c, "efgh");
	assert_int_equal(conn_take(&f->c, buf, 2), 2);
	conn_discard(&f->c, 1);
	assert_int_equal(f->c.qn, 1);
	assert_int_equal(f->c.qbytes, 2);
	assert_int_equal(conn_take(&f->c, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "cd", 2);
	assert_int_equal(set->n_backlogged, 0);
}

static void conn_discard__nothing_sent__empties_the_queue(void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);

	conn_link(&f->c);
	queue(&f->c, "abcd");
	conn_discard(&f->c, 1);
	assert_int_equal(f->c.qn, 0);
	assert_int_equal(f->c.qbytes, 0);
	assert_int_equal(set->n_backlogged, 0);
}

static void conn_flush_dirty__dead_connection__is_skipped(void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *a = fake_conn_new(set);
	struct fake_conn *b = fake_conn_new(set);

	conn_link(&a->c);
	conn_link(&b->c);
	queue(&a->c, "a");
	queue(&b->c, "b");
	b->c.state = CONN_DEAD;
	conn_flush_dirty(set);
	assert_int_equal(a->flushes, 1);
	assert_int_equal(b->flushes, 0);
	assert_null(set->dirty);
}

static void conn_unlink__dirty_connection__leaves_every_list_and_count(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *a = fake_conn_new(set);
	struct fake_conn *b = fake_conn_new(set);

	conn_link(&a->c);
	conn_link(&b->c);
	queue(&a->c, "a");
	queue(&b->c, "b");
	conn_unlink(&a->c);
	assert_int_equal(conn_set_count(set), 1);
	assert_int_equal(set->n_backlogged, 1);
	assert_ptr_equal(set->all, &b->c);
	assert_ptr_equal(set->dirty, &b->c);
	assert_int_equal(a->c.qn, 0);
	conn_free(&a->c);
	conn_flush_dirty(set);
	assert_int_equal(b->flushes, 1);
}

static void conn_free_later__during_a_turn__frees_only_after_it(
	void **state)
{
	struct conn_set *set = *state;
	struct fake_conn *f = fake_conn_new(set);

	conn_link(&f->c);
	conn_drop(&f->c, WS_CLOSE_TRY_LATER, "test");
	assert_int_equal(fake_counts.frees, 0);
	assert_int_equal(f->c.state, CONN_DEAD);
	conn_free_deferred(set);
	assert_int_equal(fake_counts.frees, 1);
	assert_null(set->to_free);
}

static void conn_set_release__at_exit__frees_every_connection(void **state)
{
	struct conn_set *set = *state;

	conn_link(&fake_conn_new(set)->c);
	conn_link(&fake_conn_new(set)->c);
	conn_set_release(set);
	assert_int_equal(fake_counts.frees, 2);
	assert_int_equal(conn_set_count(set), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(conn_enqueue__within_the_cap__queues_and_marks_dirty_once),
		T(conn_enqueue__past_the_cap__drops_the_connection_once),
		T(conn_enqueue__event_over_the_cap__goes_to_an_idle_queue),
		T(conn_send__over_a_socket__writes_the_queue_in_order),
		T(conn_send__queue_drained__asks_the_layer_above_for_more),
		T(conn_send__peer_gone__reports_a_failure),
		T(conn_discard__keep_partial__keeps_the_buffer_in_flight),
		T(conn_discard__nothing_sent__empties_the_queue),
		T(conn_flush_dirty__dead_connection__is_skipped),
		T(conn_unlink__dirty_connection__leaves_every_list_and_count),
		T(conn_free_later__during_a_turn__frees_only_after_it),
		T(conn_set_release__at_exit__frees_every_connection),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
