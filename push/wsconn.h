/* wsconn.h - the WebSocket transport after the upgrade: client frames in, queued frames out, the close handshake. */
#ifndef FP_WSCONN_H
#define FP_WSCONN_H

#include <stddef.h>
#include "conn.h"


/* What every WebSocket shares: its set, the ping frame and the budget of
 * client frames. */
struct wsconn_kind {
	struct conn_set *set;
	struct pbuf *ping;
	long frame_rate;           /* client frames per second */
	long frame_burst;          /* ... of which this many at once */
};

/* wsconn_kind_init makes the shared frames for WebSockets of set, whose
 * clients may send frame_rate frames a second (a burst of ten seconds'
 * worth). Returns 0 or -1 when out of memory. */
int wsconn_kind_init(struct wsconn_kind *k, struct conn_set *set,
	long frame_rate);

/* wsconn_kind_release drops the shared frames. */
void wsconn_kind_release(struct wsconn_kind *k);

/* wsconn_new makes a WebSocket connection that has no socket yet (the
 * handshake is under way); the caller links or frees it. NULL when out
 * of memory. */
struct conn *wsconn_new(struct wsconn_kind *k);

/* wsconn_start gives c the upgraded socket fd, its own from now on (c
 * closes it), and handles the bytes the client sent after its handshake.
 * Returns 0, or -1 (c is then already scheduled for closing). */
int wsconn_start(struct conn *c, int fd, const char *extra, size_t n);

#endif
