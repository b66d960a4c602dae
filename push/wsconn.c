/* wsconn.c - WebSocket connections after the upgrade: client frames in, queued frames out, the close handshake. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "hub.h"
#include "log.h"
#include "util.h"
#include "wsconn.h"

#define WS_READ_CHUNK 16384
#define WS_READS_PER_TURN 4  /* so one chatty client cannot hog the loop */

static const unsigned WS_MASK_IN = EPOLLIN | EPOLLRDHUP;

static void send_pong(struct push *px, struct conn *c, const uint8_t *p,
	size_t n)
{
	uint8_t hdr[WS_HEADER_MAX];
	size_t h = ws_frame_header(hdr, WS_OP_PONG, 1, n);
	struct pbuf *b = pbuf_new(NULL, h + n);

	if (b == NULL) {
		wsconn_kill(px, c);
		return;
	}
	memcpy(b->data, hdr, h);
	memcpy(b->data + h, p, n);
	/* A client that pings without reading counts against its cap. */
	hub_enqueue(px, c, b);
	pbuf_unref(b);
}

static void peer_closed(struct push *px, struct conn *c, uint16_t code)
{
	if (c->state == CONN_OPEN) {
		/* Echo the peer's code (none when it sent none). */
		wsconn_close(px, c, code == WS_CLOSE_NO_STATUS ? 0 : code,
			NULL, 1);
		c->close_after_flush = 1;
		return;
	}
	/* Our close was first: the handshake is complete once it left. */
	c->close_after_flush = 1;
	if (c->qn == 0)
		wsconn_kill(px, c);
}

static void handle_input(struct push *px, struct conn *c, uint8_t *buf,
	size_t n)
{
	struct ws_event ev;
	size_t off = 0;

	c->last_rx = util_mono_ms();
	while (c->state != CONN_DEAD) {
		off += ws_parser_feed(&c->parser, buf + off, n - off, &ev);
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
				send_pong(px, c, ev.data, ev.len);
			break;
		case WS_EV_CLOSE:
			peer_closed(px, c, ev.code);
			return;
		case WS_EV_ERROR:
			log_msg(LOG_INFO, "WebSocket protocol error: %s",
				ev.reason);
			wsconn_close(px, c, ev.code, ev.reason, 1);
			return;
		}
	}
}

static void ws_io_cb(struct loop *loop, int fd, void *data, unsigned events)
{
	struct conn *c = data;
	uint8_t buf[WS_READ_CHUNK];
	struct push *px = c->px;
	ssize_t n;
	int i;

	if (c->state == CONN_DEAD)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (i = 0; i < WS_READS_PER_TURN; i++) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n == 0) {
				wsconn_kill(px, c);
				return;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				if (errno == EINTR)
					continue;
				wsconn_kill(px, c);
				return;
			}
			/* After a close or an error the parser takes nothing:
			 * the bytes are read only to see the peer go. */
			handle_input(px, c, buf, (size_t)n);
			if (c->state == CONN_DEAD || (size_t)n < sizeof(buf))
				break;
		}
	}
	if ((events & EPOLLOUT) && c->state != CONN_DEAD)
		wsconn_flush(px, c);
}

int wsconn_start(struct push *px, struct conn *c, int fd,
	struct MHD_UpgradeResponseHandle *urh, const char *extra, size_t n)
{
	uint8_t buf[WS_READ_CHUNK];
	int flags, one = 1, sndbuf = PUSH_SNDBUF;

	c->fd = fd;
	c->urh = urh;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		goto fail;
	/* Events are small and latency matters more than packet count. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (loop_add(px->loop, &c->w, fd, WS_MASK_IN, ws_io_cb, c))
		goto fail;
	while (n > 0 && c->state != CONN_DEAD) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		memcpy(buf, extra, k);
		handle_input(px, c, buf, k);
		extra += k;
		n -= k;
	}
	return 0;
fail:
	wsconn_kill(px, c);
	return -1;
}

void wsconn_flush(struct push *px, struct conn *c)
{
	int rc;

	if (c->state == CONN_DEAD || c->fd < 0)
		return;
	rc = hub_send(px, c);
	if (rc < 0) {
		wsconn_kill(px, c);
		return;
	}
	if (c->state == CONN_DEAD)
		return;
	if (rc > 0) {
		loop_mod(px->loop, &c->w, WS_MASK_IN | EPOLLOUT);
		return;
	}
	loop_mod(px->loop, &c->w, WS_MASK_IN);
	if (c->close_after_flush)
		wsconn_kill(px, c);
}

void wsconn_close(struct push *px, struct conn *c, uint16_t code,
	const char *reason, int discard)
{
	uint8_t frame[WS_CLOSE_FRAME_MAX];
	struct pbuf *b;
	size_t n;

	if (c->state != CONN_OPEN)
		return;
	if (discard)
		hub_discard(px, c, 1);
	n = ws_close_frame(frame, code, reason);
	b = pbuf_new(frame, n);
	if (b == NULL || hub_enqueue_force(px, c, b)) {
		pbuf_unref(b);
		wsconn_kill(px, c);
		return;
	}
	pbuf_unref(b);
	c->state = CONN_CLOSING;
	c->close_deadline = util_mono_ms() + PUSH_CLOSE_WAIT_MS;
}

void wsconn_kill(struct push *px, struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	if (c->w.fd >= 0)
		loop_del(px->loop, &c->w);
	hub_unlink(px, c);
	hub_free_later(px, c);
}

void wsconn_release(struct push *px, struct conn *c)
{
	if (c->urh == NULL)
		return;
	/* Never close() an upgraded socket ourselves: the server owns it
	 * and closes it here, after it left our epoll set. */
	MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
	c->urh = NULL;
	c->fd = -1;
	px->mhd_kick = 1;
}
