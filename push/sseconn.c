/* sseconn.c - the SSE transport: a libmicrohttpd stream taken over once its headers are out, written from the connection's queue. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "sse.h"
#include "sseconn.h"

/* The response buffer of a stream. Events are written to the socket by
 * us; libmicrohttpd reads from the stream only what is left when the
 * server stops, so a small buffer does, and it is allocated (and
 * zeroed) for every stream. */
#define SSE_BLOCK 128

/* While we write a stream, only a hang-up matters: what the client
 * sends is never read (the request is complete), and EPOLLIN would fire
 * again and again for bytes nobody takes. */
static const unsigned SSE_MASK = EPOLLRDHUP;

/* A stream. Its socket is libmicrohttpd's: borrowed while the
 * connection is suspended, and closed by the server at the end. */
struct sseconn {
	struct conn c;             /* first: the core */
	struct sseconn_kind *kind;
	struct MHD_Connection *mc;
	int suspended;             /* libmicrohttpd leaves it alone */
	int took_over;             /* fd was ours; MHD only ends it now */
	int ending;                /* end the stream once drained */
};

static struct sseconn *sse_of(struct conn *c)
{
	return (struct sseconn *)c;
}

/* hand_back gives the socket back to libmicrohttpd and wakes the
 * connection; its reader then ends the stream (or fails it, for a killed
 * one) and the server closes the socket - never we. */
static void hand_back(struct sseconn *s)
{
	struct conn *c = &s->c;

	if (c->w.fd >= 0)
		loop_del(c->set->loop, &c->w);
	c->fd = -1;
	if (s->suspended && s->mc != NULL) {
		s->suspended = 0;
		MHD_resume_connection(s->mc);
		c->set->kick = 1;
	}
}

/* end_now ends a stream at once (slow consumer, dead peer). */
static void end_now(struct sseconn *s)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c = &s->c;

	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	conn_discard(c, 0);
	if (s->mc == NULL)
		return;
	/* A peer that does not read keeps libmicrohttpd from finishing a
	 * response it is still sending; shutting the socket down makes it
	 * notice and close. */
	ci = MHD_get_connection_info(s->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		shutdown(ci->connect_fd, SHUT_RDWR);
	hand_back(s);
	c->set->kick = 1;
}

/* flush writes as much of a stream's queue as its socket takes (nothing
 * before its headers are out), and ends a stream that is ending once its
 * queue is empty. */
static void flush(struct conn *c)
{
	struct sseconn *s = sse_of(c);
	int rc = conn_flush_queue(c, SSE_MASK);

	if (rc < 0)
		end_now(s);
	else if (rc == 0 && s->ending)
		hand_back(s);
}

static void io_cb(struct loop *loop, int fd, void *data, unsigned events)
{
	struct conn *c = data;

	if (c->state == CONN_DEAD)
		return;
	/* The peer went away: stop counting it now rather than at the next
	 * write that fails. */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		end_now(sse_of(c));
		return;
	}
	if (events & EPOLLOUT)
		flush(c);
}

/*
 * take_over makes the stream ours to write. libmicrohttpd calls the
 * reader only once the headers have left its buffer, so the socket holds
 * nothing of its own; it stays suspended from now until the stream ends,
 * which costs one epoll removal here instead of a resume and a suspend
 * per event. The response does not use chunked encoding (see
 * sseconn_response), so the events go out as they are. Returns 0 or -1.
 */
static int take_over(struct sseconn *s)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c = &s->c;
	int one = 1;

	ci = MHD_get_connection_info(s->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return -1;
	if (loop_add(c->set->loop, &c->w, ci->connect_fd, SSE_MASK, io_cb,
		c)) {
		c->w.fd = -1;
		return -1;
	}
	c->fd = ci->connect_fd;
	/* Events are small and latency matters more than packet count. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	MHD_suspend_connection(s->mc);
	s->suspended = 1;
	conn_mark_dirty(c);
	return 0;
}

/* reader_cb is called once the headers are out, and again only when the
 * stream was handed back to end: the daemon stopping (which marks every
 * open stream ending first), a dead peer, a slow consumer. */
static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sseconn *s = cls;
	struct conn *c = &s->c;
	size_t n;

	if (c->state == CONN_DEAD)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (!s->took_over && !s->ending) {
		s->took_over = 1;
		if (take_over(s))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		return 0;
	}
	/* The stream is ending. What its socket did not take before the
	 * server stopped still goes out, through libmicrohttpd. */
	n = conn_take(c, buf, max);
	if (n > 0)
		return (ssize_t)n;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void free_cb(void *cls)
{
	struct sseconn *s = cls;
	struct conn *c = &s->c;

	/* The server closes only connections it runs, so the socket has
	 * left our epoll set already; this is for the day it does not. */
	if (c->w.fd >= 0)
		loop_del(c->set->loop, &c->w);
	c->fd = -1;
	s->mc = NULL;
	s->suspended = 0;
	c->state = CONN_DEAD;
	/* Freed after the turn: an event for c's socket may still be
	 * waiting in this turn's batch. */
	conn_unlink(c);
	conn_free_later(c);
}

static struct pbuf *event_buf(struct pevent *ev)
{
	return event_sse(ev);
}

static int reset(struct conn *c, int64_t seq)
{
	struct sseconn *s = sse_of(c);
	char json[64], text[128];
	struct pbuf *b;
	size_t len;
	int n;

	n = snprintf(json, sizeof(json), "{\"seq\":%" PRId64 "}", seq);
	/* The id moves the browser's Last-Event-ID past the gap, so its
	 * next reconnect does not ask for the same reset. */
	len = sse_format_event(text, sizeof(text), "reset", seq, json,
		(size_t)n);
	b = event_buf_new(text, len);
	conn_discard(c, 1);
	/* The discard also took the retry line sseconn_new queued first; a
	 * stream whose headers are not out yet must still start with it. */
	if (b != NULL && !s->took_over &&
		conn_enqueue_force(c, s->kind->retry)) {
		event_buf_unref(b);
		b = NULL;
	}
	if (b == NULL || conn_enqueue_force(c, b)) {
		event_buf_unref(b);
		return -1;
	}
	event_buf_unref(b);
	return 0;
}

static void drop(struct conn *c, uint16_t code, const char *reason)
{
	end_now(sse_of(c));
}

static void heartbeat(struct conn *c, int64_t now)
{
	conn_enqueue(c, sse_of(c)->kind->heartbeat);
}

static void shut(struct conn *c)
{
	sse_of(c)->ending = 1;
	conn_mark_dirty(c);
}

static void abandon(struct conn *c)
{
	struct sseconn *s = sse_of(c);

	s->ending = 1;
	hand_back(s);
}

static void sse_free(struct conn *c)
{
	conn_release(c);
	free(sse_of(c));
}

static const struct conn_ops sse_ops = {
	.kind = CONN_SSE,
	.name = "SSE",
	.event_buf = event_buf,
	.reset = reset,
	.flush = flush,
	.drop = drop,
	.heartbeat = heartbeat,
	.expire = NULL,
	.shutdown = shut,
	.abandon = abandon,
	.free = sse_free,
};

int sseconn_kind_init(struct sseconn_kind *k, struct conn_set *set,
	long retry_ms)
{
	char text[48];
	size_t n;

	k->set = set;
	n = sse_format_retry(text, sizeof(text), retry_ms);
	k->retry = event_buf_new(text, n);
	n = sse_format_comment(text, sizeof(text), "heartbeat");
	k->heartbeat = event_buf_new(text, n);
	if (k->retry == NULL || k->heartbeat == NULL)
		return -1;
	return 0;
}

void sseconn_kind_release(struct sseconn_kind *k)
{
	event_buf_unref(k->retry);
	event_buf_unref(k->heartbeat);
	k->retry = NULL;
	k->heartbeat = NULL;
}

struct conn *sseconn_new(struct sseconn_kind *k, struct MHD_Connection *mc)
{
	struct sseconn *s = calloc(1, sizeof(*s));
	const union MHD_ConnectionInfo *ci;
	int size = CONN_SNDBUF;

	if (s == NULL)
		return NULL;
	conn_init(&s->c, k->set, &sse_ops);
	s->kind = k;
	s->mc = mc;
	/* Bound what the kernel holds for the stream (see CONN_SNDBUF). */
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &size,
			sizeof(size));
	/* retry: goes first, before any event and before the backlog. */
	if (conn_enqueue_force(&s->c, k->retry)) {
		conn_free(&s->c);
		return NULL;
	}
	return &s->c;
}

struct MHD_Response *sseconn_response(struct conn *c)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK,
		reader_cb, sse_of(c), free_cb);
	if (r == NULL)
		return NULL;
	/* No chunked encoding: the stream ends when the connection closes,
	 * so the events we write to the socket need no framing. The status
	 * line stays HTTP/1.1 and "Connection: close" is added. */
	MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
		MHD_RO_END);
	return r;
}
