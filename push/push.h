/* push.h - the daemon's shared state: config, loop, HTTP server, journal follower, ring, subscribers, metrics. */
#ifndef FP_PUSH_H
#define FP_PUSH_H

#include <stdint.h>
#include <sys/types.h>
#include <sqlite3.h>
/* db.h brings common/config.h; a bare "config.h" from push/ could find
 * the build's autoconf header instead. */
#include "db.h"
#include "loop.h"
#include "ring.h"
#include "topic.h"
#include "ws.h"

/* The longest a WebSocket close handshake may take. */
#define PUSH_CLOSE_WAIT_MS 1000
/* Kernel send buffer of a subscriber socket. Left to autotuning it grows
 * to megabytes, hiding a client that stopped reading from the outbound
 * cap and costing memory; 64 KiB still fills any link events need. */
#define PUSH_SNDBUF 65536

struct MHD_Daemon;
struct MHD_Connection;
struct MHD_UpgradeResponseHandle;

/* Counters for /push/metrics; monotonic unless said otherwise. */
struct push_metrics {
	uint64_t events_in;        /* journal rows turned into events */
	uint64_t skipped_rows;     /* rows that could not be parsed */
	uint64_t deliveries;       /* events queued to a subscriber */
	uint64_t bytes_out;        /* bytes handed to sockets */
	uint64_t resumes;          /* subscriptions with a since */
	uint64_t resets;           /* reset messages sent */
	uint64_t slow_drops;       /* connections closed as slow consumers */
	uint64_t refused_limit;    /* 503 answers at the connection limit */
	uint64_t db_catchup_reads; /* resume batches read from the database */
	int64_t lag_ms;            /* commit to read, last event (gauge) */
};

enum conn_kind { CONN_SSE = 0, CONN_WS = 1 };

enum conn_state {
	CONN_OPEN = 0,
	CONN_CLOSING,   /* WS: close frame queued/sent, waiting for the peer */
	CONN_DEAD,      /* being torn down; receives nothing */
};

/* One subscriber: an SSE stream or an upgraded WebSocket. */
struct conn {
	enum conn_kind kind;
	enum conn_state state;
	struct push *px;
	struct topic_list topics;
	int live;                  /* gets each new event directly */
	int pending;               /* waits for the journal to be readable */
	int has_since;
	int64_t cursor;            /* not live: last seq queued */

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

	/* The socket we write the queue to: an upgraded WebSocket's, or an
	 * SSE stream's once its headers are out (borrowed: libmicrohttpd
	 * keeps the connection suspended meanwhile and closes it at the
	 * end). -1 while we may not write. */
	int fd;
	struct loop_watch w;

	/* SSE */
	struct MHD_Connection *mc;
	int suspended;             /* libmicrohttpd leaves it alone */
	int took_over;             /* fd was ours; MHD only ends it now */
	int ending;                /* end the stream once drained */

	/* WebSocket */
	struct MHD_UpgradeResponseHandle *urh;
	struct ws_parser parser;
	int close_after_flush;     /* close TCP once the queue is empty */
	int64_t close_deadline;    /* mono ms to give up on a close */
	int64_t ping_sent;         /* mono ms of the unanswered ping, or 0 */
	int64_t last_rx;
};

/* The journal follower's state (tail.c). */
struct tail {
	sqlite3 *db;
	sqlite3_stmt *st_read;
	sqlite3_stmt *st_version;
	int64_t data_version;
	dev_t dev;
	ino_t ino;
	int doorbell_fd;
	struct loop_watch w;
	int ready;                 /* the database is open and read */
	int more;                  /* rows remain: read again at once */
	int64_t next_open_ms;      /* when to try opening again */
	int64_t next_poll_ms;
	int open_failures;
	int opened;                /* the database was open at least once */
	int polling;               /* guards tail_poll against re-entry */
	int busy;                  /* the last read met a lock: retry */
	int preloading;            /* filling the ring: no lag figures */
};

struct push {
	struct config *cfg;
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_watch mhd_w;
	int mhd_kick;              /* run MHD before sleeping */
	/* The Unix socket we bound (push_listen = unix:PATH, borrowed from
	 * cfg), removed when we stop listening if it is still ours; NULL
	 * for TCP or once removed. */
	const char *unix_path;
	dev_t unix_dev;
	ino_t unix_ino;
	int timer_fd;
	struct loop_watch timer_w;
	struct pbuf *sse_retry;
	int signal_fd;
	struct loop_watch signal_w;
	struct tail tail;
	struct ring ring;
	struct push_metrics m;
	long max_conns;

	struct conn *conns;        /* all subscribers */
	size_t n_sse, n_ws;
	size_t n_backlogged;       /* connections with a non-empty queue */
	int catching_up;           /* a catch-up read stopped at its bound */
	struct conn *dirty;
	struct conn *to_free;
	struct pbuf *sse_heartbeat;
	struct pbuf *ws_ping;
	int64_t started_ms;
	int64_t next_heartbeat_ms;
	int64_t next_sweep_ms;
	int stopping;
	int64_t stop_deadline;
	int reopen_logs;
};

#endif
