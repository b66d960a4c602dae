/* http.c - libmicrohttpd in external epoll mode: the route table, the SSE and WebSocket handshakes, health and metrics pages. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <jansson.h>
#include "dbx.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "origin.h"
#include "req.h"
#include "util.h"
#include "ws.h"

/* Per-connection memory of MHD (request headers, write buffer), held only
 * during the handshake: a subscriber detaches from libmicrohttpd once its
 * response headers are out, so this costs nothing per open subscriber.
 * Requests of up to about 30 KB fit, cookie jars of up to about 14 KB
 * (libmicrohttpd keeps cookies twice; the web server recipes drop them
 * anyway: the daemon reads none); past it libmicrohttpd answers 431
 * itself, in HTML, which the recipes replace or forestall. */
#define HTTP_MEMORY_LIMIT 32768
#define RETRY_AFTER_S "5"
/* Connections MHD takes past our limit, so that 503 can still be said. */
#define HTTP_HEADROOM 64
/* Pending connections the kernel holds (it caps this at somaxconn): a
 * proxy may open hundreds at once when a page's clients reconnect. */
#define HTTP_BACKLOG 1024
/* The Unix socket's mode is 0660: the web server must be in our group. */
#define HTTP_UNIX_UMASK 0117

/* A WebSocket handshake in flight: the request owns it, with the checked
 * subscription, until the upgrade hands conn to the hub, or the request
 * ends without one. */
struct ws_handshake {
	struct http *h;
	struct conn *conn;
	struct push_req req;
	int upgraded;
};

typedef enum MHD_Result (*route_fn)(struct http *h, struct MHD_Connection *mc,
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

static int over_limit(struct http *h)
{
	return (long)conn_set_count(h->set) >= h->max_conns;
}

static enum MHD_Result send_busy(struct http *h, struct MHD_Connection *mc)
{
	h->refused_limit++;
	return send_error(mc, 503, "too_many_connections",
		"the push server is full; retry later",
		MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
}

/* read_request checks since, topics and token of a subscription. */
static int read_request(struct http *h, struct MHD_Connection *mc,
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
	return req_parse(r, &in, h->cfg->secret, util_now_ms() / 1000, err);
}

/* scheme_of gives the scheme the page used. flowpushd speaks plain HTTP,
 * so it is "http" unless a trusted proxy (push_trusted_proxies: peer
 * addresses, "unix" for the Unix socket) says otherwise in
 * X-Forwarded-Proto. Nobody else's forwarded headers are believed; the
 * host is always the Host header, which every proxy recipe preserves. */
static const char *scheme_of(struct http *h, struct MHD_Connection *mc)
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
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			(const void *)sa)->sin6_addr, peer, sizeof(peer));
	if (!origin_list_has(h->cfg->push_trusted_proxies, peer))
		return "http";
	return strcasecmp(proto, "https") == 0 ? "https" : "http";
}

/* origin_ok applies the one same-origin rule (common/origin.c). */
static int origin_ok(struct http *h, struct MHD_Connection *mc,
	const char *origin)
{
	return origin_allowed(origin, scheme_of(h, mc),
		header(mc, MHD_HTTP_HEADER_HOST), h->cfg->push_origins);
}

/* --- SSE ----------------------------------------------------------------- */

/* add_cors lets pages from allowed origins read the stream. */
static void add_cors(struct http *h, struct MHD_Connection *mc,
	struct MHD_Response *r)
{
	const char *origin = header(mc, MHD_HTTP_HEADER_ORIGIN);

	if (origin == NULL ||
		!origin_ok(h, mc, origin))
		return;
	MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
}

static enum MHD_Result sse_preflight(struct http *h,
	struct MHD_Connection *mc)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(0, (void *)"",
		MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	add_cors(h, mc, r);
	MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET");
	MHD_add_response_header(r, "Access-Control-Allow-Headers",
		"Last-Event-ID, Cache-Control, Authorization");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	ret = MHD_queue_response(mc, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result route_sse(struct http *h, struct MHD_Connection *mc,
	const char *method, const char *version, void **req_cls)
{
	struct push_req req;
	struct ferr err;
	struct conn *c;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		return sse_preflight(h, mc);
	ferr_init(&err);
	if (read_request(h, mc, 1, &req, &err)) {
		ret = send_ferr(mc, &err, NULL, NULL);
		ferr_release(&err);
		return ret;
	}
	ferr_release(&err);
	if (over_limit(h) || h->stopping) {
		req_release(&req);
		return send_busy(h, mc);
	}
	c = sseconn_new(&h->sse, mc);
	if (c == NULL) {
		req_release(&req);
		return MHD_NO;
	}
	r = sseconn_response(c);
	if (r == NULL) {
		/* The queued retry line counts c as backlogged: uncount. */
		conn_discard(c, 0);
		conn_free(c);
		req_release(&req);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		"text/event-stream; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	add_cors(h, mc, r);
	hub_subscribe(h->hub, c, &req);
	ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
	/* MHD now holds the response; the stream frees c when it is done. */
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

	int fd = fcntl(sock, F_DUPFD_CLOEXEC, 0);

	hs->upgraded = 1;
	hs->conn = NULL;
	/* The WebSocket keeps a duplicate of the socket and libmicrohttpd
	 * ends its connection now (closing its descriptor, no shutdown):
	 * its memory (the request's pool) is not held for the socket's
	 * whole life. */
	if (fd < 0) {
		conn_free(c);
	} else {
		hub_subscribe(hs->h->hub, c, &hs->req);
		wsconn_start(c, fd, extra, extra_n);
	}
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	hs->h->set->kick = 1;
}

/* ws_check answers a request that is no valid WebSocket handshake and
 * returns 1; 0 with accept filled when it is one. */
static int ws_check(struct http *h, struct MHD_Connection *mc,
	const char *version, char accept[WS_ACCEPT_LEN], enum MHD_Result *ret)
{
	const char *key = header(mc, "Sec-WebSocket-Key");
	const char *wsver = header(mc, "Sec-WebSocket-Version");

	if (!req_header_has_token(header(mc, MHD_HTTP_HEADER_UPGRADE),
		"websocket") ||
		!req_header_has_token(header(mc, MHD_HTTP_HEADER_CONNECTION),
			"upgrade"))
		*ret = send_error(mc, 426, "upgrade_required",
			"this endpoint speaks WebSocket only",
			MHD_HTTP_HEADER_UPGRADE, "websocket");
	else if (strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
		*ret = send_error(mc, 400, "bad_handshake",
			"a WebSocket handshake needs HTTP/1.1", NULL, NULL);
	else if (wsver == NULL || strcmp(wsver, "13") != 0)
		*ret = send_error(mc, 426, "unsupported_version",
			"only WebSocket version 13 is supported",
			"Sec-WebSocket-Version", "13");
	else if (ws_accept_key(key, accept))
		*ret = send_error(mc, 400, "bad_handshake",
			"Sec-WebSocket-Key must be 16 bytes in base64",
			NULL, NULL);
	else if (!origin_ok(h, mc, header(mc, MHD_HTTP_HEADER_ORIGIN)))
		*ret = send_error(mc, 403, "forbidden_origin",
			"this origin may not open a WebSocket here",
			NULL, NULL);
	else
		return 0;
	return 1;
}

static enum MHD_Result route_ws(struct http *h, struct MHD_Connection *mc,
	const char *method, const char *version, void **req_cls)
{
	char accept[WS_ACCEPT_LEN];
	struct ws_handshake *hs;
	struct push_req req;
	struct ferr err;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (ws_check(h, mc, version, accept, &ret))
		return ret;
	ferr_init(&err);
	if (read_request(h, mc, 0, &req, &err)) {
		ret = send_ferr(mc, &err, NULL, NULL);
		ferr_release(&err);
		return ret;
	}
	ferr_release(&err);
	if (over_limit(h) || h->stopping) {
		req_release(&req);
		return send_busy(h, mc);
	}
	hs = calloc(1, sizeof(*hs));
	if (hs == NULL) {
		req_release(&req);
		return MHD_NO;
	}
	hs->h = h;
	hs->req = req;
	hs->conn = wsconn_new(&h->ws);
	r = hs->conn != NULL ? MHD_create_response_for_upgrade(upgrade_cb, hs) :
		NULL;
	if (r == NULL) {
		conn_free(hs->conn);
		req_release(&hs->req);
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

static enum MHD_Result route_health(struct http *h,
	struct MHD_Connection *mc, const char *method, const char *version,
	void **req_cls)
{
	struct tail *t = h->tail;
	json_t *body;

	body = json_pack("{s:s, s:s, s:s, s:{s:I, s:I}, s:I, s:I, s:I, s:b, "
		"s:I}",
		"status", t->ready ? "ok" : "waiting_for_database",
		"instance", h->instance,
		"store", config_database_is_pg(h->cfg->database) ? "postgresql" : "sqlite",
		"connections",
		"websocket", (json_int_t)h->set->n[CONN_WS],
		"sse", (json_int_t)h->set->n[CONN_SSE],
		"lastSeq", (json_int_t)t->ring.last,
		"lagSeq", (json_int_t)tail_lag_seq(t),
		"lagMs", (json_int_t)t->stats.lag_ms,
		"database", t->ready,
		"uptime",
		(json_int_t)((util_mono_ms() - h->started_ms) / 1000));
	return send_json(mc, t->ready ? 200 : 503, body, NULL, NULL);
}

static enum MHD_Result route_metrics(struct http *h,
	struct MHD_Connection *mc, const char *method, const char *version,
	void **req_cls)
{
	struct metrics_src src;
	enum MHD_Result ret;
	size_t len = 0;
	char *text;

	src.set = h->set;
	src.hub = h->hub;
	src.tail = h->tail;
	src.refused_limit = h->refused_limit;
	src.started_ms = h->started_ms;
	text = metrics_render(&src, &len);
	if (text == NULL)
		return MHD_NO;
	ret = send_text(mc, 200, "text/plain; version=0.0.4", text, len,
		NULL, NULL);
	free(text);
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
	struct http *h = cls;
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
	return rt->fn(h, mc, method, version, req_cls);
}

static void completed_cb(void *cls, struct MHD_Connection *mc,
	void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct ws_handshake *hs = *req_cls;

	if (hs == NULL)
		return;
	/* The handshake never reached the upgrade: nobody else has conn. */
	if (!hs->upgraded)
		conn_free(hs->conn);
	req_release(&hs->req);
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

int http_init(struct http *h, const struct config *cfg, struct loop *loop,
	struct conn_set *set, struct hub *hub, struct tail *tail)
{
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->loop = loop;
	h->set = set;
	h->hub = hub;
	h->tail = tail;
	h->unix_sock.fd = -1;
	h->started_ms = util_mono_ms();
	if (cfg->push_instance != NULL && cfg->push_instance[0] != '\0')
		snprintf(h->instance, sizeof(h->instance), "%s",
			cfg->push_instance);
	else if (gethostname(h->instance, sizeof(h->instance) - 1) != 0)
		snprintf(h->instance, sizeof(h->instance), "flowpushd");
	if (sseconn_kind_init(&h->sse, set, cfg->push_retry_ms) ||
		wsconn_kind_init(&h->ws, set, cfg->push_client_frame_rate))
		return -1;
	return 0;
}

/* where fills where[0] with the listening socket or address: a Unix
 * socket is handed to MHD ready (it binds TCP only). Returns 0 or -1
 * (logged). */
static int where(struct http *h, struct MHD_OptionItem *where,
	struct sockaddr_storage *sa, int *v6)
{
	const char *upath = listen_unix_path(h->cfg->push_listen);

	*v6 = 0;
	if (upath != NULL) {
		if (listen_unix_open(&h->unix_sock, upath, SOCK_STREAM,
			HTTP_UNIX_UMASK, HTTP_BACKLOG, "push_listen"))
			return -1;
		where->option = MHD_OPTION_LISTEN_SOCKET;
		where->value = h->unix_sock.fd;
		return 0;
	}
	if (listen_tcp_addr(h->cfg->push_listen, h->cfg->push_port, sa,
		v6) == 0) {
		log_msg(LOG_ERROR, "push_listen is neither a numeric address "
			"nor unix:PATH: %s", h->cfg->push_listen);
		return -1;
	}
	where->option = MHD_OPTION_SOCK_ADDR;
	where->ptr_value = sa;
	return 0;
}

int http_start(struct http *h)
{
	struct sockaddr_storage sa;
	struct MHD_OptionItem opt[2];
	const union MHD_DaemonInfo *di;
	/* TURBO: libmicrohttpd closes a connection it ends without shutting
	 * the socket down, which a detached stream's duplicate relies on. */
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_UPGRADE | MHD_USE_TURBO |
		MHD_USE_ERROR_LOG;
	unsigned timeout = 30;
	const char *upath = listen_unix_path(h->cfg->push_listen);
	int v6 = 0;

	memset(opt, 0, sizeof(opt));
	opt[1].option = MHD_OPTION_END;
	if (where(h, &opt[0], &sa, &v6))
		return -1;
	if (v6)
		flags |= MHD_USE_IPv6;
	/* Streams are kept busy by heartbeats; the timeout is for requests
	 * that stall before they are complete (half-open, slowloris). */
	if (h->cfg->push_heartbeat * 2 + 10 > timeout)
		timeout = (unsigned)(h->cfg->push_heartbeat * 2 + 10);
	h->mhd = MHD_start_daemon(flags,
		upath != NULL ? 0 : (uint16_t)h->cfg->push_port,
		NULL, NULL, access_cb, h,
		MHD_OPTION_EXTERNAL_LOGGER, logger_cb, h,
		MHD_OPTION_ARRAY, opt,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)(h->max_conns + HTTP_HEADROOM),
		MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)HTTP_BACKLOG,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
		MHD_OPTION_END);
	if (h->mhd == NULL) {
		if (upath != NULL)
			log_msg(LOG_ERROR, "cannot serve on unix:%s", upath);
		else
			log_msg(LOG_ERROR, "cannot listen on %s:%ld: %s",
				h->cfg->push_listen, h->cfg->push_port,
				strerror(errno));
		listen_unix_unlink(&h->unix_sock);
		return -1;
	}
	di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || loop_add(h->loop, &h->mhd_w, di->epoll_fd,
		EPOLLIN, mhd_cb, h)) {
		log_msg(LOG_ERROR, "cannot watch the HTTP server");
		return -1;
	}
	return 0;
}

void http_run(struct http *h)
{
	h->set->kick = 0;
	if (h->mhd != NULL)
		MHD_run(h->mhd);
}

int http_timeout(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (h->mhd == NULL || MHD_get_timeout(h->mhd, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void http_quiesce(struct http *h)
{
	MHD_socket fd;

	h->stopping = 1;
	if (h->mhd == NULL)
		return;
	fd = MHD_quiesce_daemon(h->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	listen_unix_unlink(&h->unix_sock);
}

void http_stop(struct http *h)
{
	struct conn *c, *next;

	if (h->mhd != NULL) {
		/* Every subscriber is closed now; a stream whose headers
		 * are not out yet goes with libmicrohttpd's connection. */
		for (c = h->set->all; c != NULL; c = next) {
			next = c->next;
			c->ops->abandon(c);
		}
		conn_free_deferred(h->set);
		MHD_run(h->mhd);
		loop_del(h->loop, &h->mhd_w);
		MHD_stop_daemon(h->mhd);
		h->mhd = NULL;
		listen_unix_unlink(&h->unix_sock);
	}
	sseconn_kind_release(&h->sse);
	wsconn_kind_release(&h->ws);
}
