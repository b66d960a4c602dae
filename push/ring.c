/* ring.c - the newest journal events kept in memory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include "ring.h"

int ring_init(struct ring *r, size_t cap, size_t max_bytes, int64_t floor)
{
	r->bytes = 0;
	r->max_bytes = max_bytes;
	r->slots = calloc(cap > 0 ? cap : 1, sizeof(*r->slots));
	r->cap = cap > 0 ? cap : 1;
	r->head = 0;
	r->n = 0;
	r->floor = floor;
	r->last = floor;
	return r->slots != NULL ? 0 : -1;
}

void ring_reset(struct ring *r, int64_t floor)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		event_unref(ring_at(r, i));
	r->head = 0;
	r->n = 0;
	r->bytes = 0;
	r->floor = floor;
	r->last = floor;
}

void ring_release(struct ring *r)
{
	ring_reset(r, 0);
	free(r->slots);
	r->slots = NULL;
}

/* over reports whether adding cost bytes leaves no room. */
static int over(const struct ring *r, size_t cost)
{
	if (r->n == r->cap)
		return 1;
	return r->max_bytes > 0 && r->n > 0 && r->bytes + cost > r->max_bytes;
}

void ring_push(struct ring *r, struct pevent *ev)
{
	size_t cost = event_cost(ev);

	while (over(r, cost)) {
		struct pevent *old = r->slots[r->head];

		r->floor = old->seq;
		r->bytes -= event_cost(old);
		event_unref(old);
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
	r->slots[(r->head + r->n) % r->cap] = event_ref(ev);
	r->n++;
	r->bytes += cost;
	r->last = ev->seq;
}

void ring_advance(struct ring *r, int64_t seq)
{
	if (seq > r->last)
		r->last = seq;
}

int ring_covers(const struct ring *r, int64_t since)
{
	return since >= r->floor && since <= r->last;
}

struct pevent *ring_at(const struct ring *r, size_t i)
{
	return r->slots[(r->head + i) % r->cap];
}

size_t ring_find(const struct ring *r, int64_t since)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ring_at(r, mid)->seq <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
