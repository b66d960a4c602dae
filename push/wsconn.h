/* wsconn.h - WebSocket connections after the upgrade: reading client frames, writing queued frames, the close handshake. */
#ifndef FP_WSCONN_H
#define FP_WSCONN_H

#include <stddef.h>
#include "push.h"

/* wsconn_start takes over an upgraded socket for c and handles the bytes
 * the client sent after its handshake. Returns 0, or -1 (c is then
 * already scheduled for closing). */
int wsconn_start(struct push *px, struct conn *c, int fd,
	struct MHD_UpgradeResponseHandle *urh, const char *extra, size_t n);

/* wsconn_flush writes as much of the queue as the socket takes. */
void wsconn_flush(struct push *px, struct conn *c);

/* wsconn_close starts the close handshake with code and reason; with
 * discard the unsent events are dropped first (slow consumers). */
void wsconn_close(struct push *px, struct conn *c, uint16_t code,
	const char *reason, int discard);

/* wsconn_kill closes the TCP connection now. */
void wsconn_kill(struct push *px, struct conn *c);

/* wsconn_release hands the socket back to the HTTP server for closing;
 * called once, when c is freed. */
void wsconn_release(struct push *px, struct conn *c);

#endif
