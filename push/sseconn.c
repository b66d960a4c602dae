/* sseconn.c - the SSE transport: a libmicrohttpd stream detached once its headers are out, then written from the connection's queue. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>
#include "sse.h"
#include "sseconn.h"

/* The response buffer of a stream. libmicrohttpd reads nothing from the
 * stream (the reader only detaches it), so the smallest block does; it
 * is allocated for every stream. */
#define SSE_BLOCK 64

/* While we write a stream, only a hang-up matters: what the client
 * sends is never read (the request is complete), and EPOLLIN would fire
 * again and again for bytes nobody takes. */
static const unsigned SSE_MASK = EPOLLRDHUP;

/*
 * A stream. Until its headers are out it is libmicrohttpd's connection;
 * then it is detached: the stream keeps a duplicate of the socket and
 * libmicrohttpd ends its connection at once, freeing its memory (the
 * request's pool, 8 KiB or more, would otherwise stay for the stream's
 * whole life). From then on the socket is ours to write and to close.
 */
struct sseconn {
	struct conn c;             /* first: the core */
	struct sseconn_kind *kind;
	struct MHD_Connection *mc; /* until detached */
	int detached;              /* c->fd is ours; MHD forgot the stream */
	int ending;                /* end the stream once drained */
};

static struct sseconn *sse_of(struct conn *c)
{
	return (struct sseconn *)c;
}

/* end_now ends a stream at once (slow consumer, dead peer, the end of a
 * drained stream: the response is delimited by the connection's close). */
static void end_now(struct sseconn *s)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c = &s->c;

	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	conn_discard(c, 0);
	if (s->detached) {
		conn_close_socket(c);
		conn_unlink(c);
		conn_free_later(c);
		return;
	}
	/* Still libmicrohttpd's (its headers are not out): a peer that does
	 * not read keeps it from finishing them; shutting the socket down
	 * makes it notice, close, and free the stream (free_cb). */
	ci = MHD_get_connection_info(s->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		shutdown(ci->connect_fd, SHUT_RDWR);
	c->set->kick = 1;
}

/* flush writes as much of a stream's queue as its socket takes (nothing
 * before its headers are out), and ends a stream that is ending once its
 * queue is empty. */
static void flush(struct conn *c)
{
	struct sseconn *s = sse_of(c);
	int rc = conn_flush_queue(c, SSE_MASK);

	if (rc < 0 || (rc == 0 && s->ending && s->detached))
		end_now(s);
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
 * detach makes the stream ours: libmicrohttpd calls the reader only once
 * the headers have left its buffer, so the socket holds nothing of its
 * own. The stream keeps a duplicate of the socket; the reader then
 * reports the end of the body and libmicrohttpd closes its descriptor
 * without a shutdown (MHD_USE_TURBO), which leaves the socket open
 * through ours. The response does not use chunked encoding (see
 * sseconn_response), so the events go out as they are. Returns 0 or -1.
 */
static int detach(struct sseconn *s)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c = &s->c;
	int fd, one = 1;

	ci = MHD_get_connection_info(s->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return -1;
	fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (loop_add(c->set->loop, &c->w, fd, SSE_MASK, io_cb, c)) {
		c->w.fd = -1;
		close(fd);
		return -1;
	}
	c->fd = fd;
	s->detached = 1;
	s->mc = NULL;
	/* Events are small and latency matters more than packet count. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_mark_dirty(c);
	return 0;
}

/* reader_cb is called once the headers are out: the stream detaches and
 * libmicrohttpd's part ends there. */
static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sseconn *s = cls;

	(void)pos;
	(void)buf;
	(void)max;
	if (s->c.state == CONN_DEAD || s->detached || detach(s))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/* free_cb: libmicrohttpd is done with the response. A detached stream
 * lives on; one that never detached (the peer left, the server stopped,
 * the headers failed) is freed here. */
static void free_cb(void *cls)
{
	struct sseconn *s = cls;
	struct conn *c = &s->c;

	if (s->detached)
		return;
	s->mc = NULL;
	c->state = CONN_DEAD;
	/* Freed after the turn: an event for c may still be waiting in
	 * this turn's batch. */
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
	if (b != NULL && !s->detached &&
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

/* abandon: the server stops now. A detached stream is closed here; one
 * that is still libmicrohttpd's is freed when the server stops. */
static void abandon(struct conn *c)
{
	struct sseconn *s = sse_of(c);

	s->ending = 1;
	if (s->detached)
		end_now(s);
}

static void sse_free(struct conn *c)
{
	conn_close_socket(c);
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
