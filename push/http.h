/* http.h - libmicrohttpd in external epoll mode: the route table, the SSE and WebSocket handshakes, health and metrics pages. */
#ifndef FP_HTTP_H
#define FP_HTTP_H

#include <stdint.h>
#include "conn.h"
#include "hub.h"
#include "listen.h"
#include "sseconn.h"
#include "tail.h"
#include "wsconn.h"

struct MHD_Daemon;

/* The HTTP side of the daemon. */
struct http {
	const struct config *cfg;  /* borrowed */
	struct loop *loop;
	struct conn_set *set;      /* borrowed: for limits and counts */
	struct hub *hub;           /* borrowed: subscriptions go there */
	struct tail *tail;         /* borrowed: health figures */
	struct sseconn_kind sse;
	struct wsconn_kind ws;
	struct MHD_Daemon *mhd;
	struct loop_watch mhd_w;
	struct listen_unix unix_sock; /* push_listen = unix:PATH */
	long max_conns;            /* subscribers served at once */
	uint64_t refused_limit;    /* 503 answers at the connection limit */
	int stopping;              /* new subscriptions are refused */
	int64_t started_ms;        /* mono ms, for the uptime */
	char instance[256];        /* push_instance, or the host name */
};

/* http_init prepares h over the borrowed parts (nothing listens yet);
 * the caller sets max_conns. Returns 0 or -1 when out of memory;
 * http_stop is due either way. */
int http_init(struct http *h, const struct config *cfg, struct loop *loop,
	struct conn_set *set, struct hub *hub, struct tail *tail);

/* http_start starts the server on cfg push_listen:push_port, or on the
 * Unix stream socket push_listen names, and adds its epoll descriptor to
 * the loop. Returns 0 or -1 (logged). */
int http_start(struct http *h);

/* http_run lets libmicrohttpd do its pending work. */
void http_run(struct http *h);

/* http_timeout gives how long the loop may sleep for libmicrohttpd's sake
 * in ms (-1: as long as it likes). */
int http_timeout(struct http *h);

/* http_quiesce stops accepting new connections and removes the Unix
 * socket file, if any. */
void http_quiesce(struct http *h);

/* http_stop hands every connection back to the server, stops it and
 * drops what http_init made. */
void http_stop(struct http *h);

#endif
