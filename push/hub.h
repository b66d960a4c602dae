/* hub.h - subscribers: starting and resuming them, fan-out of shared event buffers, outbound queues and their writing, slow consumers. */
#ifndef FP_HUB_H
#define FP_HUB_H

#include "push.h"
#include "req.h"

/* hub_init prepares the subscriber set and the shared heartbeat buffers.
 * Returns 0 or -1 when out of memory. */
int hub_init(struct push *px);

/* hub_release frees every connection still known (at exit). */
void hub_release(struct push *px);

/*
 * hub_conn_new makes a connection of kind for the checked request r,
 * taking over its topics (r needs no release afterwards). It is not yet
 * known to the hub. NULL when out of memory.
 */
struct conn *hub_conn_new(struct push *px, enum conn_kind kind,
	struct push_req *r);

/* hub_conn_free frees a connection that hub_add never took. */
void hub_conn_free(struct conn *c);

/*
 * hub_add makes c a subscriber and queues what it must get first: the
 * backlog after r's since (from the ring or the database), a reset when
 * since is out of range, or nothing when it starts from now.
 */
void hub_add(struct push *px, struct conn *c, int has_since, int64_t since);

/* hub_unlink takes c out of every list and count (it stays allocated). */
void hub_unlink(struct push *px, struct conn *c);

/* hub_remove forgets c (its transport is done with it) and frees it. */
void hub_remove(struct push *px, struct conn *c);

/* hub_publish queues ev on every live subscriber whose topics match. */
void hub_publish(struct push *px, struct pevent *ev);

/* hub_journal_ready starts the subscribers that waited for the journal. */
void hub_journal_ready(struct push *px);

/* hub_reset_all tells every subscriber to refetch: the journal they
 * followed is gone (a database recreated under the daemon). */
void hub_reset_all(struct push *px);

/* hub_enqueue appends buffer b (a reference is taken) to c's queue. When
 * the queue would pass the outbound cap the connection is dropped as a
 * slow consumer instead. Returns 0, or -1 when c was dropped. */
int hub_enqueue(struct push *px, struct conn *c, struct pbuf *b);

/* hub_enqueue_force queues b whatever the cap (close frames, resets).
 * Returns 0 or -1 when out of memory. */
int hub_enqueue_force(struct push *px, struct conn *c, struct pbuf *b);

/* hub_consumed records that n bytes from the head of c's queue left. */
void hub_consumed(struct push *px, struct conn *c, size_t n);

/*
 * hub_send writes as much of c's queue to c->fd as the kernel takes, the
 * queued buffers as one iovec per sendmsg (the shared bytes are never
 * copied), refilling a subscriber that is catching up as its queue
 * empties. Returns 0 when the queue is empty, 1 when bytes remain (the
 * socket is full: wait for EPOLLOUT), -1 when the socket failed.
 */
int hub_send(struct push *px, struct conn *c);

/* hub_discard empties c's queue; with keep_partial a buffer already
 * partly sent stays, so a frame is never cut in the middle. */
void hub_discard(struct push *px, struct conn *c, int keep_partial);

/* hub_refill queues more backlog for a subscriber that is catching up:
 * up to half the outbound cap, and at most one database batch per call
 * (px->catching_up is then set so the loop calls hub_catch_up soon). */
void hub_refill(struct push *px, struct conn *c);

/* hub_catch_up refills, once more each, the subscribers whose catch-up
 * stopped at the batch bound; nothing when px->catching_up is clear. */
void hub_catch_up(struct push *px);

/* hub_mark_dirty asks for c's transport to be kicked after this turn. */
void hub_mark_dirty(struct push *px, struct conn *c);

/* hub_flush kicks the transport of every dirty connection. */
void hub_flush(struct push *px);

/* hub_free_later frees c after this turn (deferred so no callback of the
 * same turn sees freed memory). */
void hub_free_later(struct push *px, struct conn *c);

/* hub_free_deferred frees what hub_free_later collected. */
void hub_free_deferred(struct push *px);

/* hub_tick sends heartbeats and drops stalled connections when due. */
void hub_tick(struct push *px, int64_t now);

/* hub_drop closes c as a slow consumer (WebSocket code and reason). */
void hub_drop(struct push *px, struct conn *c, uint16_t code,
	const char *reason);

/* hub_shutdown closes every WebSocket with 1001 and ends every stream. */
void hub_shutdown(struct push *px);

#endif
