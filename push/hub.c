/* hub.c - subscribers: start and resume, fan-out of shared buffers, outbound queues and their writing, slow consumers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "hub.h"
#include "http.h"
#include "log.h"
#include "sse.h"
#include "tail.h"
#include "util.h"
#include "wsconn.h"

#define HUB_DB_BATCH 256
#define HUB_DB_BATCHES 1	/* catch-up reads per hub_refill call */
#define HUB_SWEEP_MS 250
#define HUB_IOV_MAX 64

int hub_init(struct push *px)
{
	char text[32];
	uint8_t ping[WS_HEADER_MAX];
	size_t n;

	n = sse_format_comment(text, sizeof(text), "heartbeat");
	px->sse_heartbeat = pbuf_new(text, n);
	n = ws_frame_header(ping, WS_OP_PING, 1, 0);
	px->ws_ping = pbuf_new(ping, n);
	if (px->sse_heartbeat == NULL || px->ws_ping == NULL)
		return -1;
	return 0;
}

void hub_release(struct push *px)
{
	struct conn *c;

	hub_free_deferred(px);
	while (px->conns != NULL) {
		c = px->conns;
		hub_unlink(px, c);
		if (c->kind == CONN_WS)
			wsconn_release(px, c);
		hub_conn_free(c);
	}
	pbuf_unref(px->sse_heartbeat);
	pbuf_unref(px->ws_ping);
	px->sse_heartbeat = NULL;
	px->ws_ping = NULL;
}

struct conn *hub_conn_new(struct push *px, enum conn_kind kind,
	struct push_req *r)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->kind = kind;
	c->px = px;
	c->topics = r->topics;
	memset(&r->topics, 0, sizeof(r->topics));
	c->fd = -1;
	c->w.fd = -1;
	c->last_rx = util_mono_ms();
	ws_parser_init(&c->parser);
	return c;
}

void hub_conn_free(struct conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->qn; i++)
		pbuf_unref(c->q[(c->qhead + i) % c->qcap]);
	free(c->q);
	topic_list_release(&c->topics);
	free(c);
}

/* queue_push appends b to c's queue, growing it as needed. */
static int queue_push(struct push *px, struct conn *c, struct pbuf *b)
{
	if (c->qn == c->qcap) {
		size_t cap = c->qcap ? c->qcap * 2 : 8, i;
		struct pbuf **q = malloc(cap * sizeof(*q));

		if (q == NULL)
			return -1;
		for (i = 0; i < c->qn; i++)
			q[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = q;
		c->qcap = cap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qn) % c->qcap] = pbuf_ref(b);
	if (c->qn == 0) {
		c->stall_since = util_mono_ms();
		px->n_backlogged++;
	}
	c->qn++;
	c->qbytes += b->len;
	return 0;
}

void hub_mark_dirty(struct push *px, struct conn *c)
{
	if (c->dirty || c->state == CONN_DEAD)
		return;
	c->dirty = 1;
	c->dnext = px->dirty;
	px->dirty = c;
}

int hub_enqueue(struct push *px, struct conn *c, struct pbuf *b)
{
	if (c->state != CONN_OPEN)
		return -1;
	/* One event larger than the cap still goes to an idle connection;
	 * otherwise a single big record would cut every subscriber off. */
	if (c->qn > 0 &&
		c->qbytes + b->len > (size_t)px->cfg->push_outbound_cap) {
		hub_drop(px, c, WS_CLOSE_POLICY, "outbound queue full");
		return -1;
	}
	if (queue_push(px, c, b)) {
		hub_drop(px, c, WS_CLOSE_INTERNAL, "out of memory");
		return -1;
	}
	hub_mark_dirty(px, c);
	return 0;
}

int hub_enqueue_force(struct push *px, struct conn *c, struct pbuf *b)
{
	if (queue_push(px, c, b))
		return -1;
	hub_mark_dirty(px, c);
	return 0;
}

void hub_consumed(struct push *px, struct conn *c, size_t n)
{
	if (n == 0)
		return;
	px->m.bytes_out += n;
	c->qbytes -= n;
	c->qoff += n;
	while (c->qn > 0 && c->qoff >= c->q[c->qhead]->len) {
		c->qoff -= c->q[c->qhead]->len;
		pbuf_unref(c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qn--;
	}
	if (c->qn == 0) {
		c->qoff = 0;
		c->stall_since = 0;
		px->n_backlogged--;
		/* Give back the memory of a queue that grew for a burst. */
		if (c->qcap > 64) {
			free(c->q);
			c->q = NULL;
			c->qcap = 0;
			c->qhead = 0;
		}
	} else {
		c->stall_since = util_mono_ms();
	}
}

int hub_send(struct push *px, struct conn *c)
{
	struct iovec iov[HUB_IOV_MAX];
	struct msghdr msg;
	size_t i, cnt, total;
	ssize_t n;

	while (c->qn > 0) {
		total = 0;
		cnt = c->qn < HUB_IOV_MAX ? c->qn : HUB_IOV_MAX;
		for (i = 0; i < cnt; i++) {
			struct pbuf *b = c->q[(c->qhead + i) % c->qcap];
			size_t skip = i == 0 ? c->qoff : 0;

			iov[i].iov_base = b->data + skip;
			iov[i].iov_len = b->len - skip;
			total += iov[i].iov_len;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = cnt;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		hub_consumed(px, c, (size_t)n);
		/* A short write means the socket is full: asking again at
		 * once would only earn an EAGAIN. */
		if ((size_t)n < total)
			return 1;
		if (c->qn == 0 && !c->live && c->state == CONN_OPEN)
			hub_refill(px, c);
	}
	return 0;
}

void hub_discard(struct push *px, struct conn *c, int keep_partial)
{
	size_t keep = keep_partial && c->qn > 0 && c->qoff > 0 ? 1 : 0;

	while (c->qn > keep) {
		size_t last = (c->qhead + c->qn - 1) % c->qcap;

		c->qbytes -= c->q[last]->len;
		pbuf_unref(c->q[last]);
		c->qn--;
	}
	if (c->qn == 0) {
		if (c->stall_since != 0)
			px->n_backlogged--;
		c->qoff = 0;
		c->qbytes = 0;
		c->stall_since = 0;
	}
}

/* send_event queues ev in the form c's transport needs. */
static int send_event(struct push *px, struct conn *c, struct pevent *ev)
{
	struct pbuf *b = c->kind == CONN_WS ? ev->ws : pevent_sse(ev);

	if (b == NULL) {
		hub_drop(px, c, WS_CLOSE_INTERNAL, "out of memory");
		return -1;
	}
	if (hub_enqueue(px, c, b))
		return -1;
	px->m.deliveries++;
	return 0;
}

/* send_reset tells c to refetch, then lets it follow from the newest
 * seq: after the reset it is a live subscriber like any other. */
static void send_reset(struct push *px, struct conn *c, int64_t seq)
{
	char json[64], text[128];
	uint8_t hdr[WS_HEADER_MAX];
	struct pbuf *b = NULL;
	int n;
	size_t h, len;

	if (c->kind == CONN_WS) {
		n = snprintf(json, sizeof(json),
			"{\"action\":\"reset\",\"seq\":%" PRId64 "}", seq);
		h = ws_frame_header(hdr, WS_OP_TEXT, 1, (uint64_t)n);
		b = pbuf_new(NULL, h + (size_t)n);
		if (b != NULL) {
			memcpy(b->data, hdr, h);
			memcpy(b->data + h, json, (size_t)n);
		}
	} else {
		n = snprintf(json, sizeof(json), "{\"seq\":%" PRId64 "}", seq);
		/* The id moves the browser's Last-Event-ID past the gap, so
		 * its next reconnect does not ask for the same reset. */
		len = sse_format_event(text, sizeof(text), "reset", seq, json,
			(size_t)n);
		b = pbuf_new(text, len);
	}
	hub_discard(px, c, 1);
	/* The discard also took the retry line route_sse queued first; a
	 * stream whose headers are not out yet must still start with it. */
	if (b != NULL && c->kind == CONN_SSE && !c->took_over &&
		hub_enqueue_force(px, c, px->sse_retry)) {
		pbuf_unref(b);
		b = NULL;
	}
	if (b == NULL || hub_enqueue_force(px, c, b)) {
		pbuf_unref(b);
		hub_drop(px, c, WS_CLOSE_INTERNAL, "out of memory");
		return;
	}
	pbuf_unref(b);
	px->m.resets++;
	c->live = 1;
	c->cursor = px->ring.last;
}

static void refill_row_cb(struct push *px, int64_t seq, struct pevent *ev,
	void *data)
{
	struct conn *c = data;

	if (c->state != CONN_OPEN)
		return;
	/* A whole batch could pass the outbound cap and get c dropped.
	 * Past the budget the cursor stays put: the rest of the batch is
	 * read again once the queue has drained. */
	if (c->qbytes >= (size_t)px->cfg->push_outbound_cap / 2)
		return;
	if (ev != NULL && topic_list_match(&c->topics, ev->topic, ev->id))
		send_event(px, c, ev);
	c->cursor = seq;
}

void hub_refill(struct push *px, struct conn *c)
{
	size_t budget = (size_t)px->cfg->push_outbound_cap / 2;
	struct ring *r = &px->ring;
	int n, reads = 0;

	while (!c->live && !c->pending && c->state == CONN_OPEN &&
		c->qbytes < budget) {
		if (ring_covers(r, c->cursor)) {
			size_t i = ring_find(r, c->cursor);

			for (; i < r->n && c->qbytes < budget &&
				c->state == CONN_OPEN; i++) {
				struct pevent *ev = ring_at(r, i);

				if (topic_list_match(&c->topics, ev->topic,
					ev->id) && send_event(px, c, ev))
					return;
				c->cursor = ev->seq;
			}
			if (i == r->n) {
				c->cursor = r->last;
				c->live = 1;
			}
			continue;
		}
		/* A subscriber whose topics match few rows would read the
		 * whole journal in one go and stall every other client:
		 * one batch per call, and the loop comes back at once. */
		if (reads++ == HUB_DB_BATCHES) {
			px->catching_up = 1;
			return;
		}
		/* Older than the ring: read the database, never past what
		 * the ring holds, so the two meet without a gap. */
		px->m.db_catchup_reads++;
		n = tail_read_range(px, c->cursor, r->floor, HUB_DB_BATCH,
			refill_row_cb, c);
		if (n < 0)
			return;
		if (n == 0) {
			/* Pruned while this subscriber was catching up. */
			send_reset(px, c, r->last);
			return;
		}
	}
}

void hub_catch_up(struct push *px)
{
	size_t budget = (size_t)px->cfg->push_outbound_cap / 2;
	struct conn *c, *next;

	if (!px->catching_up)
		return;
	px->catching_up = 0;
	/* A full queue is refilled as it drains (hub_send), not here. */
	for (c = px->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_OPEN && !c->live && !c->pending &&
			c->qbytes < budget)
			hub_refill(px, c);
	}
}

/* start decides where a new subscriber begins; the journal is readable. */
static void start(struct push *px, struct conn *c, int has_since,
	int64_t since)
{
	struct ring *r = &px->ring;
	int64_t first = 0;

	c->pending = 0;
	if (!has_since) {
		c->live = 1;
		c->cursor = r->last;
		return;
	}
	px->m.resumes++;
	if (since > r->last) {
		/* The page may have read a seq whose doorbell is still on
		 * its way: catch up before calling since "in the future". */
		tail_poll(px);
		if (since > r->last) {
			send_reset(px, c, r->last);
			return;
		}
	}
	/* The database decides what was pruned, even where the ring still
	 * holds the events: the API answers the same since the same way. */
	if (tail_first_seq(px, &first)) {
		/* Cannot tell now: keep it waiting for the database. */
		c->pending = 1;
		c->cursor = since;
		return;
	}
	/* An empty table with a past: everything was pruned. */
	if ((first == 0 && since < r->last) ||
		(first > 0 && since < first - 1)) {
		send_reset(px, c, r->last);
		return;
	}
	c->cursor = since;
	hub_refill(px, c);
}

void hub_add(struct push *px, struct conn *c, int has_since, int64_t since)
{
	c->next = px->conns;
	if (px->conns != NULL)
		px->conns->prev = c;
	px->conns = c;
	if (c->kind == CONN_WS)
		px->n_ws++;
	else
		px->n_sse++;
	c->has_since = has_since;
	if (!px->tail.ready) {
		c->pending = 1;
		c->cursor = since;
		return;
	}
	start(px, c, has_since, since);
}

void hub_journal_ready(struct push *px)
{
	struct conn *c;

	for (c = px->conns; c != NULL; c = c->next)
		if (c->pending && c->state == CONN_OPEN)
			start(px, c, c->has_since, c->cursor);
}

void hub_reset_all(struct push *px)
{
	struct conn *c;

	for (c = px->conns; c != NULL; c = c->next)
		if (c->state == CONN_OPEN && !c->pending)
			send_reset(px, c, px->ring.last);
}

void hub_unlink(struct push *px, struct conn *c)
{
	struct conn **pp;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (px->conns == c)
		px->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->dirty) {
		for (pp = &px->dirty; *pp != NULL; pp = &(*pp)->dnext) {
			if (*pp == c) {
				*pp = c->dnext;
				break;
			}
		}
	}
	if (c->kind == CONN_WS)
		px->n_ws--;
	else
		px->n_sse--;
	if (c->qn > 0)
		px->n_backlogged--;
	c->prev = c->next = NULL;
	c->dirty = 0;
	c->stall_since = 0;
	hub_discard(px, c, 0);
}

void hub_remove(struct push *px, struct conn *c)
{
	hub_unlink(px, c);
	hub_conn_free(c);
}

void hub_publish(struct push *px, struct pevent *ev)
{
	struct conn *c, *next;

	for (c = px->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state != CONN_OPEN || !c->live)
			continue;
		if (topic_list_match(&c->topics, ev->topic, ev->id))
			send_event(px, c, ev);
	}
}

void hub_flush(struct push *px)
{
	struct conn *c;

	while (px->dirty != NULL) {
		c = px->dirty;
		px->dirty = c->dnext;
		c->dirty = 0;
		c->dnext = NULL;
		if (c->state == CONN_DEAD)
			continue;
		if (c->kind == CONN_WS)
			wsconn_flush(px, c);
		else
			http_sse_flush(px, c);
	}
}

void hub_free_later(struct push *px, struct conn *c)
{
	c->fnext = px->to_free;
	px->to_free = c;
}

void hub_free_deferred(struct push *px)
{
	struct conn *c;

	while (px->to_free != NULL) {
		c = px->to_free;
		px->to_free = c->fnext;
		wsconn_release(px, c);
		hub_conn_free(c);
	}
}

void hub_drop(struct push *px, struct conn *c, uint16_t code,
	const char *reason)
{
	if (c->state != CONN_OPEN)
		return;
	px->m.slow_drops++;
	log_msg(LOG_INFO, "dropping a %s subscriber: %s",
		c->kind == CONN_WS ? "WebSocket" : "SSE", reason);
	if (c->kind == CONN_WS)
		wsconn_close(px, c, code, reason, 1);
	else
		http_sse_kill(px, c);
}

/* heartbeat keeps proxies from timing idle streams out and finds dead
 * peers: a WebSocket that did not answer the last ping is closed. */
static void heartbeat(struct push *px, struct conn *c, int64_t now)
{
	if (c->state != CONN_OPEN)
		return;
	if (c->kind == CONN_SSE) {
		hub_enqueue(px, c, px->sse_heartbeat);
		return;
	}
	if (c->ping_sent != 0 && c->last_rx < c->ping_sent) {
		log_msg(LOG_INFO, "closing a WebSocket that missed a pong");
		wsconn_kill(px, c);
		return;
	}
	if (hub_enqueue(px, c, px->ws_ping) == 0)
		c->ping_sent = now;
}

static void sweep(struct push *px, struct conn *c, int64_t now)
{
	long timeout = px->cfg->push_dispatch_timeout_ms;

	if (c->state == CONN_CLOSING && c->kind == CONN_WS &&
		now >= c->close_deadline) {
		wsconn_kill(px, c);
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	if (c->qn > 0 && timeout > 0 && now - c->stall_since > timeout) {
		hub_drop(px, c, WS_CLOSE_TRY_LATER, "dispatch timeout");
		return;
	}
	if (!c->live && !c->pending)
		hub_refill(px, c);
	else if (c->pending && px->tail.ready)
		start(px, c, c->has_since, c->cursor);
}

void hub_tick(struct push *px, int64_t now)
{
	struct conn *c, *next;
	int beat = now >= px->next_heartbeat_ms;
	int sweeping = now >= px->next_sweep_ms;

	if (!beat && !sweeping)
		return;
	if (beat)
		px->next_heartbeat_ms = now + px->cfg->push_heartbeat * 1000;
	if (sweeping)
		px->next_sweep_ms = now + (px->n_backlogged > 0 ||
			px->stopping ? HUB_SWEEP_MS : 4 * HUB_SWEEP_MS);
	for (c = px->conns; c != NULL; c = next) {
		next = c->next;
		if (beat)
			heartbeat(px, c, now);
		if (sweeping)
			sweep(px, c, now);
	}
}

void hub_shutdown(struct push *px)
{
	struct conn *c, *next;

	for (c = px->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state != CONN_OPEN)
			continue;
		if (c->kind == CONN_WS) {
			wsconn_close(px, c, WS_CLOSE_GOING_AWAY,
				"server shutting down", 0);
		} else {
			c->ending = 1;
			hub_mark_dirty(px, c);
		}
	}
}

