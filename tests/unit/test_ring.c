/* test_ring.c - the in-memory event ring and shared event buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "event.h"
#include "ring.h"

static struct pevent *ev_new(int64_t seq)
{
	struct pevent *ev = event_new(seq, "personas", NULL, "{}", 2);

	assert_non_null(ev);
	return ev;
}

/* push_seq pushes an event and drops the caller's reference. */
static void push_seq(struct ring *r, int64_t seq)
{
	struct pevent *ev = ev_new(seq);

	ring_push(r, ev);
	event_unref(ev);
}

static void ring_init__empty__covers_only_its_floor(void **state)
{
	struct ring r;

	assert_int_equal(ring_init(&r, 4, 0, 10), 0);
	assert_true(ring_covers(&r, 10));
	assert_false(ring_covers(&r, 9));
	assert_false(ring_covers(&r, 11));
	assert_int_equal(ring_find(&r, 10), 0);
	ring_release(&r);
}

static void ring_push__under_capacity__keeps_everything(void **state)
{
	struct ring r;

	ring_init(&r, 4, 0, 0);
	push_seq(&r, 1);
	push_seq(&r, 2);
	push_seq(&r, 3);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.last, 3);
	assert_true(ring_covers(&r, 0));
	assert_int_equal(ring_at(&r, 0)->seq, 1);
	assert_int_equal(ring_at(&r, 2)->seq, 3);
	ring_release(&r);
}

static void ring_push__when_full__drops_oldest_and_raises_floor(void **state)
{
	struct ring r;
	int64_t s;

	ring_init(&r, 3, 0, 0);
	for (s = 1; s <= 5; s++)
		push_seq(&r, s);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.floor, 2);
	assert_false(ring_covers(&r, 1));
	assert_true(ring_covers(&r, 2));
	assert_int_equal(ring_at(&r, 0)->seq, 3);
	assert_int_equal(ring_at(&r, 2)->seq, 5);
	ring_release(&r);
}

static void ring_find__with_gaps__gives_first_later_event(void **state)
{
	struct ring r;

	ring_init(&r, 8, 0, 0);
	push_seq(&r, 2);
	push_seq(&r, 5);
	push_seq(&r, 9);
	assert_int_equal(ring_find(&r, 0), 0);
	assert_int_equal(ring_find(&r, 2), 1);
	assert_int_equal(ring_find(&r, 3), 1);
	assert_int_equal(ring_find(&r, 5), 2);
	assert_int_equal(ring_find(&r, 9), 3);
	ring_release(&r);
}

static void ring_find__after_wrap__stays_ordered(void **state)
{
	struct ring r;
	int64_t s;

	ring_init(&r, 4, 0, 0);
	for (s = 1; s <= 10; s++)
		push_seq(&r, s * 10);
	assert_int_equal(ring_find(&r, 70), 1);
	assert_int_equal(ring_at(&r, ring_find(&r, 75))->seq, 80);
	ring_release(&r);
}

static void ring_advance__gap__moves_last_without_event(void **state)
{
	struct ring r;

	ring_init(&r, 4, 0, 0);
	push_seq(&r, 1);
	ring_advance(&r, 3);
	assert_int_equal(r.last, 3);
	assert_int_equal(r.n, 1);
	assert_true(ring_covers(&r, 3));
	ring_advance(&r, 2);
	assert_int_equal(r.last, 3);
	ring_release(&r);
}

static void ring_reset__drops_events__and_moves_floor(void **state)
{
	struct ring r;

	ring_init(&r, 4, 0, 0);
	push_seq(&r, 1);
	push_seq(&r, 2);
	ring_reset(&r, 100);
	assert_int_equal(r.n, 0);
	assert_true(ring_covers(&r, 100));
	assert_false(ring_covers(&r, 1));
	ring_release(&r);
}

static void ring_push__holds_a_reference__until_evicted(void **state)
{
	struct ring r;
	struct pevent *ev = ev_new(1);

	ring_init(&r, 1, 0, 0);
	ring_push(&r, ev);
	assert_int_equal(ev->refs, 2);
	push_seq(&r, 2);
	assert_int_equal(ev->refs, 1);
	event_unref(ev);
	ring_release(&r);
}

/* big_event makes an event whose JSON is len bytes. */
static struct pevent *big_event(int64_t seq, size_t len)
{
	char *json = malloc(len);
	struct pevent *ev;

	assert_non_null(json);
	memset(json, ' ', len);
	json[0] = '{';
	json[len - 1] = '}';
	ev = event_new(seq, "keyword-sets", "k", json, len);
	free(json);
	assert_non_null(ev);
	return ev;
}

static void ring_push__past_byte_budget__drops_oldest_until_it_fits(
	void **state)
{
	struct ring r;
	int64_t seq;

	ring_init(&r, 1000, 100000, 0);
	for (seq = 1; seq <= 20; seq++) {
		struct pevent *ev = big_event(seq, 20000);

		ring_push(&r, ev);
		event_unref(ev);
		assert_true(r.bytes <= 100000);
	}
	/* Each holds two forms of 20 KB: two fit, the third does not. */
	assert_int_equal(r.n, 2);
	assert_int_equal(r.floor, 18);
	assert_false(ring_covers(&r, 17));
	assert_true(ring_covers(&r, 18));
	assert_int_equal(ring_at(&r, 0)->seq, 19);
	ring_release(&r);
}

static void ring_push__one_event_over_budget__still_kept_alone(void **state)
{
	struct ring r;
	struct pevent *ev = big_event(2, 50000);

	ring_init(&r, 8, 1000, 0);
	push_seq(&r, 1);
	ring_push(&r, ev);
	event_unref(ev);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.floor, 1);
	assert_int_equal(r.last, 2);
	assert_true(r.bytes > 100000);
	push_seq(&r, 3);
	assert_int_equal(r.n, 1);
	assert_true(r.bytes < 1000);
	ring_release(&r);
}

static void event_cost__counts_both_forms(void **state)
{
	struct pevent *ev = big_event(5, 3000);

	assert_true(event_cost(ev) >= 6000);
	assert_true(event_cost(ev) < 6400);
	event_unref(ev);
}

static void pevent_new__ws_frame__wraps_the_json(void **state)
{
	struct pevent *ev = event_new(7, "campaigns", "abc", "{\"a\":1}", 7);
	size_t len;
	const char *json = event_json(ev, &len);

	assert_int_equal(ev->ws->data[0], 0x81);
	assert_int_equal(ev->ws->data[1], 7);
	assert_int_equal(len, 7);
	assert_memory_equal(json, "{\"a\":1}", 7);
	assert_string_equal(ev->id, "abc");
	event_unref(ev);
}

static void pevent_sse__made_once__and_shared(void **state)
{
	struct pevent *ev = event_new(7, "campaigns", NULL, "{}", 2);
	struct pbuf *a = event_sse(ev);
	struct pbuf *b = event_sse(ev);

	assert_ptr_equal(a, b);
	assert_int_equal(a->len, strlen("id: 7\ndata: {}\n\n"));
	assert_memory_equal(a->data, "id: 7\ndata: {}\n\n", a->len);
	event_unref(ev);
}

static void pbuf_unref__last_reference__frees(void **state)
{
	struct pbuf *b = event_buf_new("abc", 3);

	event_buf_ref(b);
	assert_int_equal(b->refs, 2);
	event_buf_unref(b);
	assert_int_equal(b->refs, 1);
	event_buf_unref(b);
	event_buf_unref(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_init__empty__covers_only_its_floor),
		cmocka_unit_test(ring_push__under_capacity__keeps_everything),
		cmocka_unit_test(
		ring_push__when_full__drops_oldest_and_raises_floor),
		cmocka_unit_test(ring_find__with_gaps__gives_first_later_event),
		cmocka_unit_test(ring_find__after_wrap__stays_ordered),
		cmocka_unit_test(ring_advance__gap__moves_last_without_event),
		cmocka_unit_test(ring_reset__drops_events__and_moves_floor),
		cmocka_unit_test(ring_push__holds_a_reference__until_evicted),
		cmocka_unit_test(
		ring_push__past_byte_budget__drops_oldest_until_it_fits),
		cmocka_unit_test(
		ring_push__one_event_over_budget__still_kept_alone),
		cmocka_unit_test(event_cost__counts_both_forms),
		cmocka_unit_test(pevent_new__ws_frame__wraps_the_json),
		cmocka_unit_test(pevent_sse__made_once__and_shared),
		cmocka_unit_test(pbuf_unref__last_reference__frees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
