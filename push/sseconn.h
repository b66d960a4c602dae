/* sseconn.h - the SSE transport: a libmicrohttpd stream detached once its headers are out, then written from the connection's queue. */
#ifndef FP_SSECONN_H
#define FP_SSECONN_H

#include "conn.h"

struct MHD_Connection;
struct MHD_Response;

/* What every stream shares: its set and the fixed lines it sends. */
struct sseconn_kind {
	struct conn_set *set;
	struct pbuf *retry;        /* "retry: N", first on every stream */
	struct pbuf *heartbeat;    /* a comment that keeps proxies patient */
};

/* sseconn_kind_init makes the shared lines for streams of set, with a
 * reconnect delay of retry_ms. Returns 0 or -1 when out of memory. */
int sseconn_kind_init(struct sseconn_kind *k, struct conn_set *set,
	long retry_ms);

/* sseconn_kind_release drops the shared lines. */
void sseconn_kind_release(struct sseconn_kind *k);

/*
 * sseconn_new makes the connection of the stream that answers mc, its
 * retry line queued first. It is in no list yet: the caller links it (by
 * subscribing it) or frees it with conn_free. NULL when out of memory.
 */
struct conn *sseconn_new(struct sseconn_kind *k, struct MHD_Connection *mc);

/*
 * sseconn_response makes the stream's response (the caller adds headers,
 * queues and destroys it). Once its headers are out the stream detaches:
 * it keeps the socket and libmicrohttpd forgets the connection. A stream
 * that ends before (the peer left, the server stopped) is freed when
 * libmicrohttpd drops the response. NULL when out of memory (c is still
 * the caller's).
 */
struct MHD_Response *sseconn_response(struct conn *c);

#endif
