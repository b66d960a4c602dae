/* hub.c - subscribers: where each starts or resumes, fan-out of shared event buffers, catch-up reads, heartbeats; no transport known. */
#include <stdint.h>
#include <string.h>
#include "hub.h"
#include "journal.h"
#include "ws.h"

#define HUB_DB_BATCH 256
#define HUB_DB_BATCHES 1	/* catch-up reads per refill call */
#define HUB_SWEEP_MS 250

/* A catch-up read in progress: the subscriber and its hub. */
struct db_read {
	struct hub *h;
	struct conn *c;
	int full;          /* the queue had no room: skip the rest */
};

static size_t budget(const struct hub *h)
{
	return h->set->outbound_cap / 2;
}

/* The WebSocket close codes (ws.h) say why a subscriber is dropped;
 * other transports ignore them. */

/*
 * send_event queues ev in the form c's transport needs. Returns 0, 1
 * when c's queue has no room for it now (nothing queued: the caller
 * reads it again later), -1 when c was dropped. One event always fits
 * an empty queue, however large.
 */
static int send_event(struct hub *h, struct conn *c, struct pevent *ev)
{
	struct pbuf *b = c->ops->event_buf(ev);

	if (b == NULL) {
		conn_drop(c, WS_CLOSE_INTERNAL, "out of memory");
		return -1;
	}
	if (c->qn > 0 && c->qbytes + b->len > h->set->outbound_cap)
		return 1;
	if (conn_enqueue(c, b))
		return -1;
	h->stats.deliveries++;
	return 0;
}

/* send_reset tells c to refetch, then lets it follow from the newest
 * seq: after the reset it is a live subscriber like any other. */
static void send_reset(struct hub *h, struct conn *c, int64_t seq)
{
	if (c->ops->reset(c, seq)) {
		conn_drop(c, WS_CLOSE_INTERNAL, "out of memory");
		return;
	}
	h->stats.resets++;
	c->sub.live = 1;
	c->sub.cursor = h->tail->ring.last;
}

static int refill_row_cb(void *data, int64_t seq, struct pevent *ev)
{
	struct db_read *rf = data;
	struct hub *h = rf->h;
	struct conn *c = rf->c;

	/* A whole batch could pass the outbound cap and get c dropped.
	 * Past the budget the cursor stays put: the rest is read again
	 * once the queue has drained. */
	if (c->state != CONN_OPEN || c->qbytes >= budget(h))
		return 1;
	if (ev != NULL && topic_list_match(&c->sub.topics, ev->topic, ev->id) &&
		send_event(h, c, ev) == 1) {
		rf->full = 1;
		return 1;
	}
	c->sub.cursor = seq;
	return 0;
}

/* refill_ring queues what the ring holds after c's cursor, within the
 * budget; c goes live when it reached the end. Returns 0, 1 when the
 * queue had no room for the next event (again once it drained), -1 when
 * c was dropped. */
static int refill_ring(struct hub *h, struct conn *c)
{
	struct ring *r = &h->tail->ring;
	size_t i = ring_find(r, c->sub.cursor);

	for (; i < r->n && c->qbytes < budget(h) && c->state == CONN_OPEN;
		i++) {
		struct pevent *ev = ring_at(r, i);

		if (topic_list_match(&c->sub.topics, ev->topic, ev->id)) {
			int rc = send_event(h, c, ev);

			if (rc != 0)
				return rc;
		}
		c->sub.cursor = ev->seq;
	}
	if (i == r->n) {
		c->sub.cursor = r->last;
		c->sub.live = 1;
	}
	return 0;
}

/* refill queues more backlog for a subscriber that is catching up: up
 * to half the outbound cap, and at most one database batch per call
 * (h->catching_up is then set so the loop calls hub_catch_up soon). */
static void refill(struct hub *h, struct conn *c)
{
	struct ring *r = &h->tail->ring;
	struct db_read rf = { h, c, 0 };
	int n, reads = 0;

	while (!c->sub.live && !c->sub.pending && c->state == CONN_OPEN &&
		c->qbytes < budget(h)) {
		if (ring_covers(r, c->sub.cursor)) {
			if (refill_ring(h, c))
				return;
			continue;
		}
		/* A subscriber whose topics match few rows would read the
		 * whole journal in one go and stall every other client:
		 * one batch per call, and the loop comes back at once. */
		if (reads++ == HUB_DB_BATCHES) {
			h->catching_up = 1;
			return;
		}
		/* Older than the ring: read the database, never past what
		 * the ring holds, so the two meet without a gap. */
		h->stats.db_catchup_reads++;
		n = tail_read_range(h->tail, c->sub.cursor, r->floor,
			HUB_DB_BATCH, refill_row_cb, &rf);
		if (n < 0 || rf.full)
			return;   /* rf.full: again once the queue drained */
		if (n == 0) {
			/* Pruned while this subscriber was catching up. */
			send_reset(h, c, r->last);
			return;
		}
	}
}

/* drained_cb: a queue ran empty while its socket still takes bytes; a
 * subscriber catching up gets its next share at once. */
static void drained_cb(void *data, struct conn *c)
{
	if (!c->sub.live)
		refill(data, c);
}

void hub_catch_up(struct hub *h)
{
	struct conn *c, *next;

	if (!h->catching_up)
		return;
	h->catching_up = 0;
	/* A full queue is refilled as it drains (drained_cb), not here. */
	for (c = h->set->all; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_OPEN && !c->sub.live && !c->sub.pending &&
			c->qbytes < budget(h))
			refill(h, c);
	}
}

/* start decides where a new subscriber begins; the journal is readable. */
static void start(struct hub *h, struct conn *c, int has_since,
	int64_t since)
{
	struct ring *r = &h->tail->ring;
	int64_t first = 0, last;

	c->sub.pending = 0;
	if (!has_since) {
		c->sub.live = 1;
		c->sub.cursor = r->last;
		return;
	}
	h->stats.resumes++;
	/* The page may have read a seq whose doorbell is still on its way:
	 * catch up before calling since "in the future". */
	if (since > r->last)
		tail_poll(h->tail);
	/* The database decides what was pruned, even where the ring still
	 * holds the events: the API answers the same since the same way.
	 * A since still in the future needs no look: it is reset. */
	if (since <= r->last && tail_first_seq(h->tail, &first)) {
		/* Cannot tell now: keep it waiting for the database. */
		c->sub.pending = 1;
		c->sub.cursor = since;
		return;
	}
	/* Seqs below the oldest kept were written even if the ring never
	 * read them (pruned before the follower came to them). */
	last = first - 1 > r->last ? first - 1 : r->last;
	if (journal_reset_due(since, first, last)) {
		send_reset(h, c, r->last);
		return;
	}
	c->sub.cursor = since;
	refill(h, c);
}

void hub_subscribe(struct hub *h, struct conn *c, struct push_req *r)
{
	c->sub.topics = r->topics;
	memset(&r->topics, 0, sizeof(r->topics));
	c->sub.has_since = r->has_since;
	conn_link(c);
	if (!h->tail->ready) {
		c->sub.pending = 1;
		c->sub.cursor = r->since;
		return;
	}
	start(h, c, r->has_since, r->since);
}

void hub_journal_ready(struct hub *h)
{
	struct conn *c;

	for (c = h->set->all; c != NULL; c = c->next)
		if (c->sub.pending && c->state == CONN_OPEN)
			start(h, c, c->sub.has_since, c->sub.cursor);
}

void hub_reset_all(struct hub *h)
{
	struct conn *c;

	for (c = h->set->all; c != NULL; c = c->next)
		if (c->state == CONN_OPEN && !c->sub.pending)
			send_reset(h, c, h->tail->ring.last);
}

/* fall_behind turns live subscriber c into one catching up from the seq
 * before ev: its queue cannot take ev now. The ring holds ev (the tail
 * keeps an event before publishing it), so the backlog is read from
 * memory as the queue drains; c is closed only when the queue stops
 * moving (the dispatch timeout), not for a burst. */
static void fall_behind(struct hub *h, struct conn *c, struct pevent *ev)
{
	c->sub.live = 0;
	c->sub.cursor = ev->seq - 1;
	h->stats.fell_behind++;
}

const unsigned hub_fanout_le[HUB_FANOUT_BUCKETS] = {
	1, 2, 5, 10, 20, 30, 40, 50, 60, 80, 100, 200, 500, 1000,
};

void hub_fanout_written(struct hub *h, int64_t now_ms)
{
	int64_t commit = h->tail->stats.commit_ms;
	uint64_t ms;
	size_t i = 0;

	if (commit <= 0)
		return;
	h->tail->stats.commit_ms = 0;
	ms = now_ms > commit ? (uint64_t)(now_ms - commit) : 0;
	while (i < HUB_FANOUT_BUCKETS && ms > hub_fanout_le[i])
		i++;
	h->stats.fanout_le[i]++;
	h->stats.fanout_count++;
	h->stats.fanout_sum_ms += ms;
}

/* offer queues ev on c when c is a live subscriber that wants it, and
 * marks c as visited by this fan-out. */
static void offer(struct hub *h, struct conn *c, struct pevent *ev)
{
	c->sub.pass = h->fan_pass;
	if (c->state != CONN_OPEN || !c->sub.live ||
		!topic_list_match(&c->sub.topics, ev->topic, ev->id))
		return;
	if (send_event(h, c, ev) == 1)
		fall_behind(h, c, ev);
}

/*
 * hub_publish walks the list from a starting place that moves by the
 * golden ratio of its length from one event to the next, then wraps to
 * the head and stops at the first subscriber this fan-out visited: the
 * subscribers one event reaches last are spread evenly over the list from
 * event to event, so no ordering (the newest or the oldest connections)
 * always waits for everyone else. The sockets are written in this order
 * (reversed) after the turn. Visiting stops on the pass mark rather than
 * on the starting connection, which an offer may have closed.
 */
void hub_publish(struct hub *h, struct pevent *ev)
{
	size_t n = conn_set_count(h->set), k;
	struct conn *c, *next, *start = h->set->all;

	if (n == 0)
		return;
	h->fan_pass++;
	h->fan_start = (h->fan_start + (size_t)((double)n * 0.6180339887)) % n;
	for (k = 0; k < h->fan_start && start != NULL; k++)
		start = start->next;
	for (c = start; c != NULL; c = next) {
		next = c->next;
		offer(h, c, ev);
	}
	for (c = h->set->all; c != NULL && c->sub.pass != h->fan_pass;
		c = next) {
		next = c->next;
		offer(h, c, ev);
	}
}

static void sweep(struct hub *h, struct conn *c, int64_t now)
{
	long timeout = h->cfg->push_dispatch_timeout_ms;

	if (c->state == CONN_CLOSING && c->ops->expire != NULL) {
		c->ops->expire(c, now);
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	if (c->qn > 0 && timeout > 0 && now - c->stall_since > timeout) {
		conn_drop(c, WS_CLOSE_TRY_LATER, "dispatch timeout");
		return;
	}
	if (!c->sub.live && !c->sub.pending)
		refill(h, c);
	else if (c->sub.pending && h->tail->ready)
		start(h, c, c->sub.has_since, c->sub.cursor);
}

void hub_tick(struct hub *h, int64_t now)
{
	struct conn *c, *next;
	int beat = now >= h->next_heartbeat_ms;
	int sweeping = now >= h->next_sweep_ms;

	if (!beat && !sweeping)
		return;
	if (beat)
		h->next_heartbeat_ms = now + h->cfg->push_heartbeat * 1000;
	if (sweeping)
		h->next_sweep_ms = now + (h->set->n_backlogged > 0 ||
			h->stopping ? HUB_SWEEP_MS : 4 * HUB_SWEEP_MS);
	for (c = h->set->all; c != NULL; c = next) {
		next = c->next;
		/* Heartbeats keep proxies from timing idle streams out and
		 * find dead peers. */
		if (beat && c->state == CONN_OPEN)
			c->ops->heartbeat(c, now);
		if (sweeping)
			sweep(h, c, now);
	}
}

void hub_shutdown(struct hub *h)
{
	struct conn *c, *next;

	h->stopping = 1;
	for (c = h->set->all; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_OPEN)
			c->ops->shutdown(c);
	}
}

static void publish_cb(void *data, struct pevent *ev)
{
	hub_publish(data, ev);
}

static void ready_cb(void *data)
{
	hub_journal_ready(data);
}

static void reset_cb(void *data)
{
	hub_reset_all(data);
}

void hub_tail_sink(struct hub *h, struct tail_sink *sink)
{
	sink->publish_cb = publish_cb;
	sink->ready_cb = ready_cb;
	sink->reset_cb = reset_cb;
	sink->data = h;
}

void hub_init(struct hub *h, struct conn_set *set, struct tail *tail,
	const struct config *cfg)
{
	memset(h, 0, sizeof(*h));
	h->set = set;
	h->tail = tail;
	h->cfg = cfg;
	set->drained_cb = drained_cb;
	set->drained_data = h;
}
