/* ring.h - the newest journal events kept in memory, so most resumes never read the database; no I/O. */
#ifndef FP_RING_H
#define FP_RING_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

/*
 * The ring is complete over (floor, last]: it holds every event the
 * follower delivered with a seq in that range. Seqs rise but may have
 * gaps (rows skipped as unreadable, rows of other kinds); ring_advance
 * records such a gap so last still says how far the journal was read.
 */
struct ring {
	struct pevent **slots;
	size_t cap;
	size_t head;        /* index of the oldest event */
	size_t n;
	size_t bytes;       /* event_cost of the events held */
	size_t max_bytes;   /* budget; 0: none */
	int64_t floor;
	int64_t last;
};

/* ring_init prepares an empty ring of cap slots (cap >= 1) holding at
 * most max_bytes of events (0: no byte budget), complete over
 * (floor, floor]. Returns 0, or -1 when out of memory. */
int ring_init(struct ring *r, size_t cap, size_t max_bytes, int64_t floor);

/* ring_release drops every event and frees the slots. */
void ring_release(struct ring *r);

/* ring_reset drops every event; the ring becomes empty at floor. */
void ring_reset(struct ring *r, int64_t floor);

/*
 * ring_push appends ev (the ring takes a reference); ev->seq must be above
 * last. While the slots are full or the events' bytes would pass the
 * budget, the oldest event is dropped and floor moves to its seq; the
 * newest event always stays, however large.
 */
void ring_push(struct ring *r, struct pevent *ev);

/* ring_advance moves last to seq (when higher) without an event. */
void ring_advance(struct ring *r, int64_t seq);

/* ring_covers is non-zero when the events after since are all here:
 * floor <= since <= last. */
int ring_covers(const struct ring *r, int64_t since);

/* ring_find returns the position of the first event with seq > since
 * (r->n when none). */
size_t ring_find(const struct ring *r, int64_t since);

/* ring_at returns the event at position i, 0 being the oldest (borrowed). */
struct pevent *ring_at(const struct ring *r, size_t i);

#endif
