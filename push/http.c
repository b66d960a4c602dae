/* http.c - libmicrohttpd in external epoll mode: routes, SSE streams, the WebSocket handshake, health and metrics. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <microhttpd.h>
#include <jansson.h>
#include "http.h"
#include "hub.h"
#include "log.h"
#include "origin.h"
#include "req.h"
#include "sse.h"
#include "tail.h"
#include "util.h"
#include "wsconn.h"

/* The response buffer of a stream. Events are written to the socket by
 * us; libmicrohttpd reads from the stream only what is left when the
 * server stops, so a small buffer does, and it is allocated (and
 * zeroed) for every stream. */
#define SSE_BLOCK 128
/* Per-connection memory of MHD (request headers, write buffer). MHD
 * touches all of it and keeps it for the life of a stream or upgraded
 * socket, so it is most of a subscriber's cost; requests whose headers
 * pass ~6 KB (huge cookies) get 431. */
#define HTTP_MEMORY_LIMIT 8192
#define RETRY_AFTER_S "5"
/* Connections MHD takes past our limit, so that 503 can still be said. */
#define HTTP_HEADROOM 64
/* Pending connections the kernel holds (it caps this at somaxconn): a
 * proxy may open hundreds at once when a page's clients reconnect. */
#define HTTP_BACKLOG 1024
/* The Unix socket's mode is 0660: the web server must be in our group. */
#define HTTP_UNIX_UMASK 0117

/* A WebSocket handshake in flight: the request owns it until the
 * upgrade hands conn to the hub, or the request ends without one. */
struct ws_handshake {
	struct conn *conn;
	int upgraded;
};

typedef enum MHD_Result (*route_fn)(struct push *px, struct MHD_Connection *mc,
	const char *method, const char *version, void **req_cls);

struct route {
	const char *path;
	route_fn fn;
	const char *allow;
};

/* --- small helpers ------------------------------------------------------ */

static const char *header(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
}

static const char *arg(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_text(struct MHD_Connection *mc, unsigned status,
	const char *type, const char *body, size_t len,
	const char *extra_name, const char *extra_value)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
		MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (extra_name != NULL)
		MHD_add_response_header(r, extra_name, extra_value);
	ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *mc, unsigned status,
	json_t *body, const char *extra_name, const char *extra_value)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	enum MHD_Result ret;

	json_decref(body);
	if (text == NULL)
		return MHD_NO;
	ret = send_text(mc, status, "application/json", text, strlen(text),
		extra_name, extra_value);
	free(text);
	return ret;
}

/* send_error answers with the JSON error body every flowpush answer has. */
static enum MHD_Result send_ferr(struct MHD_Connection *mc,
	const struct ferr *err, const char *extra_name,
	const char *extra_value)
{
	unsigned status = err->status ? (unsigned)err->status : 500;

	return send_json(mc, status, ferr_to_json(err), extra_name,
		extra_value);
}

static enum MHD_Result send_error(struct MHD_Connection *mc, int status,
	const char *code, const char *message, const char *extra_name,
	const char *extra_value)
{
	struct ferr err;
	enum MHD_Result ret;

	ferr_init(&err);
	ferr_set(&err, status, code, "%s", message);
	ret = send_ferr(mc, &err, extra_name, extra_value);
	ferr_release(&err);
	return ret;
}

static int over_limit(struct push *px)
{
	return (long)(px->n_sse + px->n_ws) >= px->max_conns;
}

static enum MHD_Result send_busy(struct push *px, struct MHD_Connection *mc)
{
	px->m.refused_limit++;
	return send_error(mc, 503, "too_many_connections",
		"the push server is full; retry later",
		MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
}

/* read_request checks since, topics and token of a subscription. */
static int read_request(struct push *px, struct MHD_Connection *mc,
	int sse, struct push_req *r, struct ferr *err)
{
	struct push_req_in in;
	const char *auth = header(mc, MHD_HTTP_HEADER_AUTHORIZATION);

	memset(&in, 0, sizeof(in));
	in.since = arg(mc, "since");
	in.last_event_id = sse ? header(mc, "Last-Event-ID") : NULL;
	in.topics = arg(mc, "topics");
	in.token = arg(mc, "token");
	/* Scripts may send the token as a bearer header instead. */
	if (in.token == NULL && auth != NULL &&
		strncmp(auth, "Bearer ", 7) == 0)
		in.token = auth + 7;
	return req_parse(r, &in, px->cfg->secret, util_now_ms() / 1000, err);
}

/* scheme_of gives the scheme the page used. flowpushd speaks plain HTTP,
 * so it is "http" unless a trusted proxy (push_trusted_proxies: peer
 * addresses, "unix" for the Unix socket) says otherwise in
 * X-Forwarded-Proto. Nobody else's forwarded headers are believed; the
 * host is always the Host header, which every proxy recipe preserves. */
static const char *scheme_of(struct push *px, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci;
	const char *proto = header(mc, "X-Forwarded-Proto");
	char peer[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *sa;

	if (proto == NULL)
		return "http";
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	if (sa == NULL || sa->sa_family == AF_UNIX)
		strcpy(peer, "unix");
	else if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
			sa)->sin_addr, peer, sizeof(peer));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
			sa)->sin6_addr, peer, sizeof(peer));
	if (!origin_list_has(px->cfg->push_trusted_proxies, peer))
		return "http";
	return strcasecmp(proto, "https") == 0 ? "https" : "http";
}

/* origin_ok applies the one same-origin rule (common/origin.c). */
static int origin_ok(struct push *px, struct MHD_Connection *mc,
	const char *origin)
{
	return origin_allowed(origin, scheme_of(px, mc),
		header(mc, MHD_HTTP_HEADER_HOST), px->cfg->push_origins);
}

/* set_sndbuf bounds what the kernel holds for a stream (see PUSH_SNDBUF). */
static void set_sndbuf(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci;
	int size = PUSH_SNDBUF;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &size,
			sizeof(size));
}

/* --- SSE ----------------------------------------------------------------- */

/* While we write a stream, only a hang-up matters: what the client
 * sends is never read (the request is complete), and EPOLLIN would fire
 * again and again for bytes nobody takes. */
static const unsigned SSE_MASK = EPOLLRDHUP;

/* sse_hand_back gives the socket back to libmicrohttpd and wakes the
 * connection; its reader then ends the stream (or fails it, for a killed
 * one) and the server closes the socket - never we. */
static void sse_hand_back(struct push *px, struct conn *c)
{
	if (c->w.fd >= 0)
		loop_del(px->loop, &c->w);
	c->fd = -1;
	if (c->suspended && c->mc != NULL) {
		c->suspended = 0;
		MHD_resume_connection(c->mc);
		px->mhd_kick = 1;
	}
}

static void sse_io_cb(struct loop *loop, int fd, void *data, unsigned events)
{
	struct conn *c = data;

	if (c->state == CONN_DEAD)
		return;
	/* The peer went away: stop counting it now rather than at the next
	 * write that fails. */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		http_sse_kill(c->px, c);
		return;
	}
	if (events & EPOLLOUT)
		http_sse_flush(c->px, c);
}

/*
 * sse_take_over makes the stream ours to write. libmicrohttpd calls the
 * reader only once the headers have left its buffer, so the socket holds
 * nothing of its own; it stays suspended from now until the stream ends,
 * which costs one epoll removal here instead of a resume and a suspend
 * per event. The response does not use chunked encoding (see route_sse),
 * so the events go out as they are. Returns 0 or -1.
 */
static int sse_take_over(struct push *px, struct conn *c)
{
	const union MHD_ConnectionInfo *ci;
	int one = 1;

	ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return -1;
	if (loop_add(px->loop, &c->w, ci->connect_fd, SSE_MASK, sse_io_cb,
		c)) {
		c->w.fd = -1;
		return -1;
	}
	c->fd = ci->connect_fd;
	/* Events are small and latency matters more than packet count. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	MHD_suspend_connection(c->mc);
	c->suspended = 1;
	hub_mark_dirty(px, c);
	return 0;
}

static ssize_t sse_reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct conn *c = cls;
	struct push *px = c->px;
	size_t n = 0, i;

	if (c->state == CONN_DEAD)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (!c->took_over && !c->ending && !px->stopping) {
		c->took_over = 1;
		if (sse_take_over(px, c))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		return 0;
	}
	/* The stream is ending. What its socket did not take before the
	 * server stopped still goes out, through libmicrohttpd. */
	for (i = 0; i < c->qn && n < max; i++) {
		struct pbuf *b = c->q[(c->qhead + i) % c->qcap];
		size_t skip = i == 0 ? c->qoff : 0;
		size_t k = b->len - skip;

		if (k > max - n)
			k = max - n;
		memcpy(buf + n, b->data + skip, k);
		n += k;
	}
	if (n > 0) {
		hub_consumed(px, c, n);
		return (ssize_t)n;
	}
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void sse_free_cb(void *cls)
{
	struct conn *c = cls;
	struct push *px = c->px;

	/* The server closes only connections it runs, so the socket has
	 * left our epoll set already; this is for the day it does not. */
	if (c->w.fd >= 0)
		loop_del(px->loop, &c->w);
	c->fd = -1;
	c->mc = NULL;
	c->suspended = 0;
	c->state = CONN_DEAD;
	/* Freed after the turn: an event for c's socket may still be
	 * waiting in this turn's batch. */
	hub_unlink(px, c);
	hub_free_later(px, c);
}

void http_sse_flush(struct push *px, struct conn *c)
{
	int rc;

	if (c->state == CONN_DEAD || c->fd < 0)
		return;
	rc = hub_send(px, c);
	if (rc < 0) {
		http_sse_kill(px, c);
		return;
	}
	if (c->state == CONN_DEAD)
		return;
	if (rc > 0) {
		loop_mod(px->loop, &c->w, SSE_MASK | EPOLLOUT);
		return;
	}
	loop_mod(px->loop, &c->w, SSE_MASK);
	if (c->ending)
		sse_hand_back(px, c);
}

void http_sse_kill(struct push *px, struct conn *c)
{
	const union MHD_ConnectionInfo *ci;

	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	hub_discard(px, c, 0);
	if (c->mc == NULL)
		return;
	/* A peer that does not read keeps libmicrohttpd from finishing a
	 * response it is still sending; shutting the socket down makes it
	 * notice and close. */
	ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		shutdown(ci->connect_fd, SHUT_RDWR);
	sse_hand_back(px, c);
	px->mhd_kick = 1;
}

/* add_cors lets pages from allowed origins read the stream. */
static void add_cors(struct push *px, struct MHD_Connection *mc,
	struct MHD_Response *r)
{
	const char *origin = header(mc, MHD_HTTP_HEADER_ORIGIN);

	if (origin == NULL ||
		!origin_ok(px, mc, origin))
		return;
	MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
}

static enum MHD_Result sse_preflight(struct push *px,
	struct MHD_Connection *mc)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(0, (void *)"",
		MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	add_cors(px, mc, r);
	MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET");
	MHD_add_response_header(r, "Access-Control-Allow-Headers",
		"Last-Event-ID, Cache-Control, Authorization");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	ret = MHD_queue_response(mc, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result route_sse(struct push *px, struct MHD_Connection *mc,
	const char *method, const char *version, void **req_cls)
{
	struct push_req req;
	struct ferr err;
	struct conn *c;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		return sse_preflight(px, mc);
	ferr_init(&err);
	if (read_request(px, mc, 1, &req, &err)) {
		ret = send_ferr(mc, &err, NULL, NULL);
		ferr_release(&err);
		return ret;
	}
	ferr_release(&err);
	if (over_limit(px) || px->stopping) {
		req_release(&req);
		return send_busy(px, mc);
	}
	c = hub_conn_new(px, CONN_SSE, &req);
	if (c == NULL) {
		req_release(&req);
		return MHD_NO;
	}
	c->mc = mc;
	set_sndbuf(mc);
	/* retry: goes first, before any event and before the backlog. */
	if (hub_enqueue_force(px, c, px->sse_retry)) {
		hub_conn_free(c);
		return MHD_NO;
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK,
		sse_reader_cb, c, sse_free_cb);
	if (r == NULL) {
		/* The queued retry line counts c as backlogged: uncount. */
		hub_discard(px, c, 0);
		hub_conn_free(c);
		return MHD_NO;
	}
	/* No chunked encoding: the stream ends when the connection closes,
	 * so the events we write to the socket need no framing. The status
	 * line stays HTTP/1.1 and "Connection: close" is added. */
	MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
		MHD_RO_END);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		"text/event-stream; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	add_cors(px, mc, r);
	hub_add(px, c, req.has_since, req.since);
	ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
	/* MHD now holds the response; sse_free_cb runs when it is done. */
	MHD_destroy_response(r);
	return ret;
}

/* --- WebSocket ------------------------------------------------------------ */

static void upgrade_cb(void *cls, struct MHD_Connection *mc, void *req_cls,
	const char *extra, size_t extra_n, MHD_socket sock,
	struct MHD_UpgradeResponseHandle *urh)
{
	struct ws_handshake *hs = cls;
	struct conn *c = hs->conn;
	struct push *px = c->px;

	hs->upgraded = 1;
	hs->conn = NULL;
	c->urh = urh;
	hub_add(px, c, c->has_since, c->cursor);
	wsconn_start(px, c, sock, urh, extra, extra_n);
}

static enum MHD_Result route_ws(struct push *px, struct MHD_Connection *mc,
	const char *method, const char *version, void **req_cls)
{
	const char *key = header(mc, "Sec-WebSocket-Key");
	const char *wsver = header(mc, "Sec-WebSocket-Version");
	char accept[WS_ACCEPT_LEN];
	struct ws_handshake *hs;
	struct push_req req;
	struct ferr err;
	struct conn *c;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!req_header_has_token(header(mc, MHD_HTTP_HEADER_UPGRADE),
		"websocket") ||
		!req_header_has_token(header(mc, MHD_HTTP_HEADER_CONNECTION),
			"upgrade"))
		return send_error(mc, 426, "upgrade_required",
			"this endpoint speaks WebSocket only",
			MHD_HTTP_HEADER_UPGRADE, "websocket");
	if (strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
		return send_error(mc, 400, "bad_handshake",
			"a WebSocket handshake needs HTTP/1.1", NULL, NULL);
	if (wsver == NULL || strcmp(wsver, "13") != 0)
		return send_error(mc, 426, "unsupported_version",
			"only WebSocket version 13 is supported",
			"Sec-WebSocket-Version", "13");
	if (ws_accept_key(key, accept))
		return send_error(mc, 400, "bad_handshake",
			"Sec-WebSocket-Key must be 16 bytes in base64",
			NULL, NULL);
	if (!origin_ok(px, mc, header(mc, MHD_HTTP_HEADER_ORIGIN)))
		return send_error(mc, 403, "forbidden_origin",
			"this origin may not open a WebSocket here",
			NULL, NULL);
	ferr_init(&err);
	if (read_request(px, mc, 0, &req, &err)) {
		ret = send_ferr(mc, &err, NULL, NULL);
		ferr_release(&err);
		return ret;
	}
	ferr_release(&err);
	if (over_limit(px) || px->stopping) {
		req_release(&req);
		return send_busy(px, mc);
	}
	c = hub_conn_new(px, CONN_WS, &req);
	hs = calloc(1, sizeof(*hs));
	if (c == NULL || hs == NULL) {
		req_release(&req);
		hub_conn_free(c);
		free(hs);
		return MHD_NO;
	}
	c->has_since = req.has_since;
	c->cursor = req.since;
	hs->conn = c;
	r = MHD_create_response_for_upgrade(upgrade_cb, hs);
	if (r == NULL) {
		hub_conn_free(c);
		free(hs);
		return MHD_NO;
	}
	/* 0.9.75 does not add Connection: Upgrade by itself. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
	*req_cls = hs;
	ret = MHD_queue_response(mc, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return ret;
}

/* --- health and metrics -------------------------------------------------- */

static int64_t lag_seq(struct push *px)
{
	int64_t last = 0;

	if (tail_db_last(px, &last) != 0 || last < px->ring.last)
		return 0;
	return last - px->ring.last;
}

static enum MHD_Result route_health(struct push *px,
	struct MHD_Connection *mc, const char *method, const char *version,
	void **req_cls)
{
	json_t *body;

	body = json_pack("{s:s, s:{s:I, s:I}, s:I, s:I, s:I, s:b, s:I}",
		"status", px->tail.ready ? "ok" : "waiting_for_database",
		"connections",
		"websocket", (json_int_t)px->n_ws,
		"sse", (json_int_t)px->n_sse,
		"lastSeq", (json_int_t)px->ring.last,
		"lagSeq", (json_int_t)lag_seq(px),
		"lagMs", (json_int_t)px->m.lag_ms,
		"database", px->tail.ready,
		"uptime",
		(json_int_t)((util_mono_ms() - px->started_ms) / 1000));
	return send_json(mc, px->tail.ready ? 200 : 503, body, NULL, NULL);
}

/* A growing text buffer for the metrics page. */
struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void sbuf_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sbuf_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 256;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL) {
			b->failed = 1;
			return;
		}
	}
}

static void metric(struct sbuf *b, const char *name, const char *type,
	const char *help, uint64_t v)
{
	sbuf_add(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help,
		name, type, name, v);
}

static enum MHD_Result route_metrics(struct push *px,
	struct MHD_Connection *mc, const char *method, const char *version,
	void **req_cls)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	struct push_metrics *m = &px->m;
	enum MHD_Result ret;

	b.p = malloc(4096);
	b.cap = b.p != NULL ? 4096 : 0;
	b.failed = b.p == NULL;
	sbuf_add(&b, "# HELP flowpush_connections Open subscriber "
		"connections.\n# TYPE flowpush_connections gauge\n"
		"flowpush_connections{transport=\"websocket\"} %zu\n"
		"flowpush_connections{transport=\"sse\"} %zu\n",
		px->n_ws, px->n_sse);
	metric(&b, "flowpush_events_in_total", "counter",
		"Journal rows read and published.", m->events_in);
	metric(&b, "flowpush_events_out_total", "counter",
		"Events queued to subscribers.", m->deliveries);
	metric(&b, "flowpush_bytes_out_total", "counter",
		"Bytes handed to subscriber sockets.", m->bytes_out);
	metric(&b, "flowpush_resumes_total", "counter",
		"Subscriptions that resumed from a seq.", m->resumes);
	metric(&b, "flowpush_resets_total", "counter",
		"Reset messages sent.", m->resets);
	metric(&b, "flowpush_slow_consumer_drops_total", "counter",
		"Connections closed as slow consumers.", m->slow_drops);
	metric(&b, "flowpush_refused_total", "counter",
		"Subscriptions refused at the connection limit.",
		m->refused_limit);
	metric(&b, "flowpush_skipped_rows_total", "counter",
		"Journal rows skipped because they could not be parsed.",
		m->skipped_rows);
	metric(&b, "flowpush_catchup_reads_total", "counter",
		"Resume batches read from the database.", m->db_catchup_reads);
	metric(&b, "flowpush_last_seq", "gauge",
		"Newest journal seq read.", (uint64_t)px->ring.last);
	metric(&b, "flowpush_journal_lag_seq", "gauge",
		"Journal rows written but not yet read.",
		(uint64_t)lag_seq(px));
	metric(&b, "flowpush_journal_lag_ms", "gauge",
		"Commit to read delay of the newest event, ms.",
		(uint64_t)(m->lag_ms > 0 ? m->lag_ms : 0));
	metric(&b, "flowpush_ring_events", "gauge",
		"Events kept in memory for resumes.", (uint64_t)px->ring.n);
	metric(&b, "flowpush_uptime_seconds", "gauge",
		"Seconds since the daemon started.",
		(uint64_t)((util_mono_ms() - px->started_ms) / 1000));
	if (b.failed) {
		free(b.p);
		return MHD_NO;
	}
	ret = send_text(mc, 200, "text/plain; version=0.0.4", b.p, b.len,
		NULL, NULL);
	free(b.p);
	return ret;
}

/* --- dispatch ------------------------------------------------------------ */

static const struct route routes[] = {
	{ "/push/ws", route_ws, "GET" },
	{ "/push/events", route_sse, "GET, OPTIONS" },
	{ "/push/health", route_health, "GET" },
	{ "/push/metrics", route_metrics, "GET" },
	{ NULL, NULL, NULL },
};

static int method_allowed(const char *allow, const char *method)
{
	return req_header_has_token(allow, method);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *mc,
	const char *url, const char *method, const char *version,
	const char *upload, size_t *upload_size, void **req_cls)
{
	struct push *px = cls;
	const struct route *rt;

	/* Subscriptions carry no body; whatever comes is dropped. */
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*req_cls != NULL)
		return MHD_YES;
	for (rt = routes; rt->path != NULL; rt++)
		if (strcmp(url, rt->path) == 0)
			break;
	if (rt->path == NULL)
		return send_error(mc, 404, "not_found", "no such push endpoint",
			NULL, NULL);
	if (!method_allowed(rt->allow, method))
		return send_error(mc, 405, "method_not_allowed",
			"method not allowed here", MHD_HTTP_HEADER_ALLOW,
			rt->allow);
	return rt->fn(px, mc, method, version, req_cls);
}

static void completed_cb(void *cls, struct MHD_Connection *mc,
	void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct ws_handshake *hs = *req_cls;

	if (hs == NULL)
		return;
	/* The handshake never reached the upgrade: nobody else has conn. */
	if (!hs->upgraded)
		hub_conn_free(hs->conn);
	free(hs);
	*req_cls = NULL;
}

static void logger_cb(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (!log_enabled(LOG_DEBUG))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_msg(LOG_DEBUG, "http: %s", line);
}

static void mhd_cb(struct loop *loop, int fd, void *data, unsigned events)
{
	http_run(data);
}

/* listen_addr fills sa from the configured address. Returns its length,
 * 0 when the address is not a numeric IPv4 or IPv6 address. */
static socklen_t listen_addr(struct push *px, struct sockaddr_storage *sa,
	int *v6)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	const char *host = px->cfg->push_listen;

	memset(sa, 0, sizeof(*sa));
	*v6 = 0;
	if (host == NULL || host[0] == '\0')
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)px->cfg->push_port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)px->cfg->push_port);
		*v6 = 1;
		return sizeof(*s6);
	}
	return 0;
}

const char *http_unix_path(const struct config *cfg)
{
	const char *l = cfg->push_listen;

	if (l == NULL || strncmp(l, "unix:", 5) != 0)
		return NULL;
	return l + 5;
}

/*
 * clear_stale makes way at path for our socket: a socket file nothing
 * answers on (left by a daemon that was killed) is removed; a socket
 * someone listens on, or a file of another kind, is left alone. Returns
 * 0 when path may be bound, -1 (logged) when not.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, result = -1;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		log_msg(LOG_ERROR, "push_listen: cannot check %s: %s", path,
			strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERROR, "push_listen: %s exists and is not a "
			"socket", path);
		return -1;
	}
	/* Non-blocking: a listener with a full backlog must not hang us;
	 * it answers EAGAIN, which says someone is there all the same. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_msg(LOG_ERROR, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
	    errno == EAGAIN) {
		log_msg(LOG_ERROR, "push_listen: %s is in use by another "
			"process", path);
		goto out;
	}
	if (errno != ECONNREFUSED && errno != ENOENT) {
		log_msg(LOG_ERROR, "push_listen: cannot check %s: %s", path,
			strerror(errno));
		goto out;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		log_msg(LOG_ERROR, "push_listen: cannot remove the stale "
			"socket %s: %s", path, strerror(errno));
		goto out;
	}
	log_msg(LOG_INFO, "removed the stale socket %s", path);
	result = 0;
out:
	close(fd);
	return result;
}

/* listen_unix binds and listens on the Unix stream socket at path, mode
 * 0660. Returns the listening descriptor, or -1 (logged). */
static int listen_unix(struct push *px, const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	size_t len = strlen(path);
	mode_t old;
	int fd = -1, rc, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERROR, "push_listen: a socket path has 1 to %zu "
			"bytes, not %zu: %s", sizeof(sa.sun_path) - 1, len,
			path);
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	if (clear_stale(path, &sa))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	/* Born with its mode: nobody else may connect in between. We are
	 * one thread still, so the process-wide umask is ours to borrow. */
	old = umask(HTTP_UNIX_UMASK);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0)
		goto out;
	if (lstat(path, &st) != 0 || listen(fd, HTTP_BACKLOG) != 0) {
		e = errno;
		unlink(path);
		errno = e;
		goto out;
	}
	px->unix_path = path;
	px->unix_dev = st.st_dev;
	px->unix_ino = st.st_ino;
	return fd;
out:
	log_msg(LOG_ERROR, "cannot listen on unix:%s: %s", path,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* unlink_own_socket removes our socket file, unless a daemon started
 * after us (once we stopped accepting) has bound the path anew. */
static void unlink_own_socket(struct push *px)
{
	struct stat st;

	if (px->unix_path == NULL)
		return;
	if (lstat(px->unix_path, &st) == 0 && st.st_dev == px->unix_dev &&
	    st.st_ino == px->unix_ino)
		unlink(px->unix_path);
	px->unix_path = NULL;
}

int http_start(struct push *px)
{
	struct sockaddr_storage sa;
	struct MHD_OptionItem where[2];
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_UPGRADE |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned timeout = 30;
	const char *upath = http_unix_path(px->cfg);
	char retry[48];
	size_t n;
	int v6 = 0, lfd;

	n = sse_format_retry(retry, sizeof(retry), px->cfg->push_retry_ms);
	px->sse_retry = pbuf_new(retry, n);
	if (px->sse_retry == NULL)
		return -1;
	memset(where, 0, sizeof(where));
	where[1].option = MHD_OPTION_END;
	if (upath != NULL) {
		/* MHD binds TCP only; a Unix socket it is handed ready. */
		lfd = listen_unix(px, upath);
		if (lfd < 0)
			return -1;
		where[0].option = MHD_OPTION_LISTEN_SOCKET;
		where[0].value = lfd;
	} else if (listen_addr(px, &sa, &v6) == 0) {
		log_msg(LOG_ERROR, "push_listen is neither a numeric address "
			"nor unix:PATH: %s", px->cfg->push_listen);
		return -1;
	} else {
		where[0].option = MHD_OPTION_SOCK_ADDR;
		where[0].ptr_value = &sa;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	/* Streams are kept busy by heartbeats; the timeout is for requests
	 * that stall before they are complete (half-open, slowloris). */
	if (px->cfg->push_heartbeat * 2 + 10 > timeout)
		timeout = (unsigned)(px->cfg->push_heartbeat * 2 + 10);
	px->mhd = MHD_start_daemon(flags,
		upath != NULL ? 0 : (uint16_t)px->cfg->push_port,
		NULL, NULL, access_cb, px,
		MHD_OPTION_EXTERNAL_LOGGER, logger_cb, px,
		MHD_OPTION_ARRAY, where,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)(px->max_conns + HTTP_HEADROOM),
		MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)HTTP_BACKLOG,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, px,
		MHD_OPTION_END);
	if (px->mhd == NULL) {
		if (upath != NULL)
			log_msg(LOG_ERROR, "cannot serve on unix:%s", upath);
		else
			log_msg(LOG_ERROR, "cannot listen on %s:%ld: %s",
				px->cfg->push_listen, px->cfg->push_port,
				strerror(errno));
		unlink_own_socket(px);
		return -1;
	}
	di = MHD_get_daemon_info(px->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || loop_add(px->loop, &px->mhd_w, di->epoll_fd,
		EPOLLIN, mhd_cb, px)) {
		log_msg(LOG_ERROR, "cannot watch the HTTP server");
		return -1;
	}
	return 0;
}

void http_run(struct push *px)
{
	px->mhd_kick = 0;
	if (px->mhd != NULL)
		MHD_run(px->mhd);
}

int http_timeout(struct push *px)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (px->mhd == NULL || MHD_get_timeout(px->mhd, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void http_quiesce(struct push *px)
{
	MHD_socket fd;

	if (px->mhd == NULL)
		return;
	fd = MHD_quiesce_daemon(px->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	unlink_own_socket(px);
}

void http_stop(struct push *px)
{
	struct conn *c, *next;

	if (px->mhd == NULL)
		return;
	/* Upgraded sockets go back to MHD, suspended streams are woken:
	 * MHD cannot stop with either outstanding. */
	for (c = px->conns; c != NULL; c = next) {
		next = c->next;
		if (c->kind == CONN_WS) {
			c->state = CONN_DEAD;
			if (c->w.fd >= 0)
				loop_del(px->loop, &c->w);
			hub_unlink(px, c);
			wsconn_release(px, c);
			hub_conn_free(c);
		} else {
			c->ending = 1;
			sse_hand_back(px, c);
		}
	}
	hub_free_deferred(px);
	MHD_run(px->mhd);
	loop_del(px->loop, &px->mhd_w);
	MHD_stop_daemon(px->mhd);
	px->mhd = NULL;
	unlink_own_socket(px);
	pbuf_unref(px->sse_retry);
	px->sse_retry = NULL;
}
