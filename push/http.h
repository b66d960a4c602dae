/* http.h - the HTTP side: libmicrohttpd in external epoll mode, routes, SSE streams, the WebSocket handshake. */
#ifndef FP_HTTP_H
#define FP_HTTP_H

#include "push.h"

/* http_unix_path gives the socket path of a push_listen of the form
 * unix:PATH (borrowed from cfg), or NULL for a TCP address. */
const char *http_unix_path(const struct config *cfg);

/* http_start starts the server on cfg push_listen:push_port, or on the
 * Unix stream socket push_listen names, and adds its epoll descriptor to
 * the loop. Returns 0 or -1 (logged). */
int http_start(struct push *px);

/* http_run lets libmicrohttpd do its pending work. */
void http_run(struct push *px);

/* http_timeout gives how long the loop may sleep for libmicrohttpd's sake
 * in ms (-1: as long as it likes). */
int http_timeout(struct push *px);

/* http_quiesce stops accepting new connections and removes the Unix
 * socket file, if any. */
void http_quiesce(struct push *px);

/* http_stop resumes every suspended stream and stops the server. */
void http_stop(struct push *px);

/* http_sse_flush writes as much of a stream's queue as its socket takes
 * (nothing before its headers are out), and ends a stream that is
 * ending once its queue is empty. */
void http_sse_flush(struct push *px, struct conn *c);

/* http_sse_kill ends a stream at once (slow consumer, dead peer). */
void http_sse_kill(struct push *px, struct conn *c);

#endif
