/* wsconn.c - the WebSocket transport after the upgrade: client frames in, queued frames out, the close handshake. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "log.h"
#include "util.h"
#include "ws.h"
#include "wsconn.h"

#define WS_READ_CHUNK 16384
#define WS_READS_PER_TURN 4  /* so one chatty client cannot hog the loop */
/* The longest a close handshake may take. */
#define WS_CLOSE_WAIT_MS 1000

static const unsigned WS_MASK_IN = EPOLLIN | EPOLLRDHUP;

/* An upgraded WebSocket. Its socket is ours: libmicrohttpd was done with
 * the connection right after the upgrade. */
struct wsconn {
	struct conn c;             /* first: the core */
	struct wsconn_kind *kind;
	struct ws_parser parser;
	int close_after_flush;     /* close TCP once the queue is empty */
	int64_t close_deadline;    /* mono ms to give up on a close */
	int64_t ping_sent;         /* mono ms of the unanswered ping, or 0 */
	int64_t last_rx;
	struct ws_rate rate;       /* client frames allowed */
	uint64_t frames_paid;      /* parser frames already taken from it */
	unsigned mask_in;          /* what the socket is watched for */
};

static struct wsconn *ws_of(struct conn *c)
{
	return (struct wsconn *)c;
}

/* kill_now closes the TCP connection now. */
static void kill_now(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	conn_close_socket(c);
	conn_unlink(c);
	conn_free_later(c);
}

/* close_with starts the close handshake with code and reason; with
 * discard the unsent events are dropped first (slow consumers). */
static void close_with(struct conn *c, uint16_t code, const char *reason,
	int discard)
{
	uint8_t frame[WS_CLOSE_FRAME_MAX];
	struct pbuf *b;
	size_t n;

	if (c->state != CONN_OPEN)
		return;
	if (discard)
		conn_discard(c, 1);
	n = ws_close_frame(frame, code, reason);
	b = event_buf_new(frame, n);
	if (b == NULL || conn_enqueue_force(c, b)) {
		event_buf_unref(b);
		kill_now(c);
		return;
	}
	event_buf_unref(b);
	c->state = CONN_CLOSING;
	ws_of(c)->close_deadline = util_mono_ms() + WS_CLOSE_WAIT_MS;
}

static void send_pong(struct conn *c, const uint8_t *p, size_t n)
{
	uint8_t hdr[WS_HEADER_MAX];
	size_t h = ws_frame_header(hdr, WS_OP_PONG, 1, n);
	struct pbuf *b = event_buf_new(NULL, h + n);

	if (b == NULL) {
		kill_now(c);
		return;
	}
	memcpy(b->data, hdr, h);
	memcpy(b->data + h, p, n);
	/* A client that pings without reading counts against its cap. */
	conn_enqueue(c, b);
	event_buf_unref(b);
}

static void peer_closed(struct conn *c, uint16_t code)
{
	struct wsconn *w = ws_of(c);

	if (c->state == CONN_OPEN) {
		/* Echo the peer's code (none when it sent none). */
		close_with(c, code == WS_CLOSE_NO_STATUS ? 0 : code, NULL, 1);
		w->close_after_flush = 1;
		return;
	}
	/* Our close was first: the handshake is complete once it left. */
	w->close_after_flush = 1;
	if (c->qn == 0)
		kill_now(c);
}

/* over_budget closes a connection whose client sent more frames than its
 * budget (a ping flood would keep the daemon busy answering). */
static int over_budget(struct wsconn *w)
{
	uint64_t n = w->parser.frames - w->frames_paid;

	if (n == 0)
		return 0;
	w->frames_paid = w->parser.frames;
	if (ws_rate_take(&w->rate, w->last_rx, n, w->kind->frame_rate,
		w->kind->frame_burst) == 0)
		return 0;
	if (w->c.state == CONN_OPEN) {
		log_msg(LOG_INFO, "closing a WebSocket that sends more than %ld "
			"frames a second", w->kind->frame_rate);
		close_with(&w->c, WS_CLOSE_POLICY, "too many frames", 1);
		/* Whatever else it sends stays unread in the kernel (the
		 * flood then fills its own socket buffers): the close frame
		 * goes out and the close wait ends the connection. */
		w->parser.failed = 1;
		w->mask_in = 0;
		loop_mod(w->c.set->loop, &w->c.w, EPOLLOUT);
	}
	return 1;
}

static void handle_input(struct conn *c, uint8_t *buf, size_t n)
{
	struct wsconn *w = ws_of(c);
	struct ws_event ev;
	size_t off = 0;

	w->last_rx = util_mono_ms();
	while (c->state != CONN_DEAD) {
		off += ws_parser_feed(&w->parser, buf + off, n - off, &ev);
		if (over_budget(w))
			return;
		switch (ev.type) {
		case WS_EV_NONE:
			return;
		case WS_EV_DATA:
		case WS_EV_MESSAGE:
		case WS_EV_PONG:
			/* Client messages are validated, then ignored. */
			break;
		case WS_EV_PING:
			if (c->state == CONN_OPEN)
				send_pong(c, ev.data, ev.len);
			break;
		case WS_EV_CLOSE:
			peer_closed(c, ev.code);
			return;
		case WS_EV_ERROR:
			log_msg(LOG_INFO, "WebSocket protocol error: %s",
				ev.reason);
			close_with(c, ev.code, ev.reason, 1);
			return;
		}
	}
}

static void flush(struct conn *c)
{
	int rc = conn_flush_queue(c, ws_of(c)->mask_in);

	if (rc < 0 || (rc == 0 && ws_of(c)->close_after_flush))
		kill_now(c);
}

static void io_cb(struct loop *loop, int fd, void *data, unsigned events)
{
	struct conn *c = data;
	uint8_t buf[WS_READ_CHUNK];
	ssize_t n;
	int i;

	if (c->state == CONN_DEAD)
		return;
	/* Not reading any more, only the socket's failure is news. */
	if (ws_of(c)->mask_in == 0 && (events & (EPOLLHUP | EPOLLERR))) {
		kill_now(c);
		return;
	}
	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
		ws_of(c)->mask_in != 0) {
		for (i = 0; i < WS_READS_PER_TURN; i++) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n == 0) {
				kill_now(c);
				return;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				if (errno == EINTR)
					continue;
				kill_now(c);
				return;
			}
			/* After a close or an error the parser takes nothing:
			 * the bytes are read only to see the peer go. */
			handle_input(c, buf, (size_t)n);
			if (c->state == CONN_DEAD || ws_of(c)->mask_in == 0 ||
				(size_t)n < sizeof(buf))
				break;
		}
	}
	if ((events & EPOLLOUT) && c->state != CONN_DEAD)
		flush(c);
}

static struct pbuf *event_buf(struct pevent *ev)
{
	return ev->ws;
}

static int reset(struct conn *c, int64_t seq)
{
	char json[64];
	uint8_t hdr[WS_HEADER_MAX];
	struct pbuf *b;
	size_t h;
	int n;

	n = snprintf(json, sizeof(json),
		"{\"action\":\"reset\",\"seq\":%" PRId64 "}", seq);
	h = ws_frame_header(hdr, WS_OP_TEXT, 1, (uint64_t)n);
	b = event_buf_new(NULL, h + (size_t)n);
	if (b != NULL) {
		memcpy(b->data, hdr, h);
		memcpy(b->data + h, json, (size_t)n);
	}
	conn_discard(c, 1);
	if (b == NULL || conn_enqueue_force(c, b)) {
		event_buf_unref(b);
		return -1;
	}
	event_buf_unref(b);
	return 0;
}

static void drop(struct conn *c, uint16_t code, const char *reason)
{
	close_with(c, code, reason, 1);
}

/* heartbeat pings; a WebSocket that did not answer the last ping is
 * closed as a dead peer. */
static void heartbeat(struct conn *c, int64_t now)
{
	struct wsconn *w = ws_of(c);

	if (w->ping_sent != 0 && w->last_rx < w->ping_sent) {
		log_msg(LOG_INFO, "closing a WebSocket that missed a pong");
		kill_now(c);
		return;
	}
	if (conn_enqueue(c, w->kind->ping) == 0)
		w->ping_sent = now;
}

static void expire(struct conn *c, int64_t now)
{
	if (now >= ws_of(c)->close_deadline)
		kill_now(c);
}

static void shut(struct conn *c)
{
	close_with(c, WS_CLOSE_GOING_AWAY, "server shutting down", 0);
}

static void ws_free(struct conn *c)
{
	conn_close_socket(c);
	conn_release(c);
	free(ws_of(c));
}

/* abandon: the server stops now. */
static void abandon(struct conn *c)
{
	kill_now(c);
}

static const struct conn_ops ws_ops = {
	.kind = CONN_WS,
	.name = "WebSocket",
	.event_buf = event_buf,
	.reset = reset,
	.flush = flush,
	.drop = drop,
	.heartbeat = heartbeat,
	.expire = expire,
	.shutdown = shut,
	.abandon = abandon,
	.free = ws_free,
};

int wsconn_kind_init(struct wsconn_kind *k, struct conn_set *set,
	long frame_rate)
{
	uint8_t ping[WS_HEADER_MAX];
	size_t n = ws_frame_header(ping, WS_OP_PING, 1, 0);

	k->set = set;
	k->frame_rate = frame_rate;
	k->frame_burst = frame_rate * 10;
	k->ping = event_buf_new(ping, n);
	return k->ping == NULL ? -1 : 0;
}

void wsconn_kind_release(struct wsconn_kind *k)
{
	event_buf_unref(k->ping);
	k->ping = NULL;
}

struct conn *wsconn_new(struct wsconn_kind *k)
{
	struct wsconn *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	conn_init(&w->c, k->set, &ws_ops);
	w->kind = k;
	w->last_rx = util_mono_ms();
	w->mask_in = WS_MASK_IN;
	ws_rate_init(&w->rate, w->last_rx, k->frame_burst);
	ws_parser_init(&w->parser);
	return &w->c;
}

int wsconn_start(struct conn *c, int fd, const char *extra, size_t n)
{
	uint8_t buf[WS_READ_CHUNK];
	int flags, one = 1, sndbuf = CONN_SNDBUF;

	c->fd = fd;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		goto fail;
	/* Events are small and latency matters more than packet count. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (loop_add(c->set->loop, &c->w, fd, WS_MASK_IN, io_cb, c))
		goto fail;
	while (n > 0 && c->state != CONN_DEAD && ws_of(c)->mask_in != 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		memcpy(buf, extra, k);
		handle_input(c, buf, k);
		extra += k;
		n -= k;
	}
	return 0;
fail:
	kill_now(c);
	return -1;
}
