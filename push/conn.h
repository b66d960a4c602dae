/* conn.h - one subscriber connection whatever its transport: the outbound queue, its writer, the dirty and free-later lists. */
#ifndef FP_CONN_H
#define FP_CONN_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "loop.h"
#include "topic.h"

/* Kernel send buffer of a subscriber socket. Left to autotuning it grows
 * to megabytes, hiding a client that stopped reading from the outbound
 * cap and costing memory; 64 KiB still fills any link events need. */
#define CONN_SNDBUF 65536

struct conn;

/* The transports, only to count their connections apart (metrics,
 * health); no code branches on it. */
enum conn_kind { CONN_SSE = 0, CONN_WS = 1, CONN_KINDS };

enum conn_state {
	CONN_OPEN = 0,
	CONN_CLOSING,   /* close frame queued/sent, waiting for the peer */
	CONN_DEAD,      /* being torn down; receives nothing */
};

/*
 * What a transport (sseconn.c, wsconn.c) does for its connections: the
 * layers above reach the socket only through these. Every function gets
 * the core struct conn the transport's own struct begins with.
 */
struct conn_ops {
	enum conn_kind kind;
	const char *name;          /* "SSE", "WebSocket": for log lines */
	/* event_buf gives ev in this transport's form (borrowed), NULL when
	 * out of memory. */
	struct pbuf *(*event_buf)(struct pevent *ev);
	/* reset replaces what is queued (a buffer partly sent stays) with a
	 * message telling the client to refetch and follow from seq.
	 * Returns 0 or -1 when out of memory. */
	int (*reset)(struct conn *c, int64_t seq);
	/* flush writes the queue as far as the socket takes it. */
	void (*flush)(struct conn *c);
	/* drop closes c at once as a slow consumer (code and reason are for
	 * a WebSocket close frame); called only while c is open. */
	void (*drop)(struct conn *c, uint16_t code, const char *reason);
	/* heartbeat keeps an idle connection alive and finds dead peers. */
	void (*heartbeat)(struct conn *c, int64_t now);
	/* expire ends a closing connection whose close took too long; NULL
	 * when the transport never closes slowly. */
	void (*expire)(struct conn *c, int64_t now);
	/* shutdown ends an open connection politely: the server stops. */
	void (*shutdown)(struct conn *c);
	/* abandon gives the socket back to the server at once, which must
	 * stop now; c may be freed. */
	void (*abandon)(struct conn *c);
	/* free releases the transport's part (conn_release for the core)
	 * and frees c; c is in no list any more. */
	void (*free)(struct conn *c);
};

/* Called when c's queue ran empty during a write, while c is open: the
 * layer above may queue more (a subscriber reading its backlog). */
typedef void (*conn_drained_cb)(void *data, struct conn *c);

/* Every connection, and what is due to them after this loop turn. */
struct conn_set {
	struct loop *loop;
	size_t outbound_cap;       /* bytes a queue may hold */
	struct conn *all;
	size_t n[CONN_KINDS];
	size_t n_backlogged;       /* connections with a non-empty queue */
	struct conn *dirty;        /* to flush after this turn */
	struct conn *to_free;      /* to free after this turn */
	/* The server below the transports (libmicrohttpd) has work: run it
	 * before the loop sleeps. */
	int kick;
	conn_drained_cb drained_cb;
	void *drained_data;
	uint64_t bytes_out;        /* bytes handed to sockets */
	uint64_t slow_drops;       /* connections closed as slow consumers */
};

/* The state the subscriber layer (hub.c) keeps per connection. It lives
 * here to save an allocation per subscriber; the transports never touch
 * it and conn.c only frees the topics. */
struct conn_sub {
	struct topic_list topics;
	int live;                  /* gets each new event directly */
	int pending;               /* waits for the journal to be readable */
	int has_since;
	int64_t cursor;            /* not live: last seq queued */
	uint64_t pass;             /* the last fan-out that visited it */
};

/* The core of a connection; a transport's struct begins with it. */
struct conn {
	const struct conn_ops *ops;
	struct conn_set *set;
	enum conn_state state;
	struct conn_sub sub;

	/* outbound queue of shared buffers */
	struct pbuf **q;
	size_t qhead, qn, qcap;
	size_t qoff;               /* bytes of q[qhead] already sent */
	size_t qbytes;             /* unsent bytes in the queue */
	int64_t stall_since;       /* mono ms the queue last moved; 0 empty */

	struct conn *prev, *next;  /* all connections */
	struct conn *dnext;        /* dirty list (this turn) */
	int dirty;
	struct conn *fnext;        /* free-after-turn list */

	/* The socket the queue is written to, ours once the handshake is
	 * done; -1 before (the queue waits) and after it was closed. */
	int fd;
	struct loop_watch w;
};

/* conn_set_init prepares an empty set on loop with a queue cap. */
void conn_set_init(struct conn_set *set, struct loop *loop, size_t cap);

/* conn_set_release frees every connection (those deferred too), at
 * exit. */
void conn_set_release(struct conn_set *set);

/* conn_set_count gives how many connections the set holds. */
size_t conn_set_count(const struct conn_set *set);

/* conn_init prepares c (zeroed by the caller's allocation) as a
 * connection of set served by ops; it is in no list yet. */
void conn_init(struct conn *c, struct conn_set *set,
	const struct conn_ops *ops);

/* conn_release frees what the core holds (queue, topics); the
 * transport's free calls it. */
void conn_release(struct conn *c);

/* conn_free frees c through its transport; c must be in no list. NULL is
 * ignored. */
void conn_free(struct conn *c);

/* conn_link adds c to the set and its count. */
void conn_link(struct conn *c);

/* conn_unlink takes c out of every list and count and empties its queue
 * (it stays allocated). */
void conn_unlink(struct conn *c);

/* conn_enqueue appends buffer b (a reference is taken) to c's queue.
 * When the queue would pass the outbound cap the connection is dropped as
 * a slow consumer instead. Returns 0, or -1 when c is not open or was
 * dropped. */
int conn_enqueue(struct conn *c, struct pbuf *b);

/* conn_enqueue_force queues b whatever the cap and state (close frames,
 * resets). Returns 0 or -1 when out of memory. */
int conn_enqueue_force(struct conn *c, struct pbuf *b);

/* conn_discard empties c's queue; with keep_partial a buffer already
 * partly sent stays, so a frame is never cut in the middle. */
void conn_discard(struct conn *c, int keep_partial);

/* conn_take copies up to max bytes from the head of c's queue into buf
 * and counts them as sent. Returns how many. */
size_t conn_take(struct conn *c, void *buf, size_t max);

/*
 * conn_send writes as much of c's queue to c->fd as the kernel takes, the
 * queued buffers as one iovec per sendmsg (the shared bytes are never
 * copied); as the queue empties the drained callback may queue more.
 * Returns 0 when the queue is empty, 1 when bytes remain (the socket is
 * full: wait for EPOLLOUT), -1 when the socket failed.
 */
int conn_send(struct conn *c);

/*
 * conn_flush_queue is a transport's flush: conn_send, then c's watch set
 * to idle_mask, with EPOLLOUT added while bytes remain. Returns -1 when
 * the socket failed (the transport ends c), 1 while bytes remain or when
 * c is gone, 0 when the queue is empty.
 */
int conn_flush_queue(struct conn *c, unsigned idle_mask);

/* conn_drop closes c as a slow consumer (WebSocket code and reason),
 * counted and logged; nothing when c is not open. */
void conn_drop(struct conn *c, uint16_t code, const char *reason);

/* conn_mark_dirty asks for c to be flushed after this turn. */
void conn_mark_dirty(struct conn *c);

/* conn_flush_dirty flushes every dirty connection. */
void conn_flush_dirty(struct conn_set *set);

/* conn_close_socket stops watching c's socket and closes it, once: after
 * the handshake every transport owns its socket (libmicrohttpd let go of
 * it). */
void conn_close_socket(struct conn *c);

/* conn_free_later frees c after this turn (deferred so no callback of
 * the same turn sees freed memory); c must be unlinked. */
void conn_free_later(struct conn *c);

/* conn_free_deferred frees what conn_free_later collected. */
void conn_free_deferred(struct conn_set *set);

#endif
