/* tail.h - following the journal: the doorbell socket, the data_version safety net, bounded batch reads into the ring. */
#ifndef FP_TAIL_H
#define FP_TAIL_H

#include <stdint.h>
#include <sys/types.h>
#include <sqlite3.h>
#include "dbx.h"
/* db.h brings common/config.h; a bare "config.h" from push/ could find
 * the build's autoconf header instead. */
#include "db.h"
#include "event.h"
#include "listen.h"
#include "loop.h"
#include "ring.h"

/* Where the follower reports; tail never calls the layers above
 * directly. Every callback gets data. */
struct tail_sink {
	/* publish_cb: ev (borrowed) was read and is in the ring. */
	void (*publish_cb)(void *data, struct pevent *ev);
	/* ready_cb: the journal has become readable. */
	void (*ready_cb)(void *data);
	/* reset_cb: the journal went back (a database recreated under the
	 * daemon); called before ready_cb. */
	void (*reset_cb)(void *data);
	void *data;
};

/* Counters for /push/metrics; monotonic unless said otherwise. */
struct tail_stats {
	uint64_t events_in;        /* journal rows turned into events */
	uint64_t skipped_rows;     /* rows that could not be parsed */
	int64_t lag_ms;            /* commit to read, last event (gauge) */
	int64_t commit_ms;         /* commit time of the newest live event
	                            * not yet timed to its writes, or 0 */
};

/* The journal follower. */
struct tail {
	const struct config *cfg;  /* borrowed */
	struct loop *loop;
	struct tail_sink sink;
	struct ring ring;          /* the newest events, for resumes */
	struct tail_stats stats;
	sqlite3 *db;               /* SQLite: the file, read-only */
	struct dbx x;              /* db through the dbx interface */
	struct dbx *pg;            /* PostgreSQL: the connection, LISTENing */
	struct dbx *xr;            /* what reads go through: &x or pg */
	struct loop_watch lw;      /* pg's socket: notifications */
	int64_t retry_ms;          /* PostgreSQL: the next reconnect delay */
	int notified;              /* PostgreSQL: a commit was announced
	                            * during the preload */
	struct dbx_stmt *st_read;
	sqlite3_stmt *st_version;
	int64_t data_version;
	dev_t dev;
	ino_t ino;
	struct listen_unix doorbell;
	struct loop_watch w;
	int doorbell_lost;         /* its file went and binding again failed */
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

/*
 * tail_init prepares the ring (cfg push_ring_size and push_ring_bytes),
 * binds the doorbell
 * (cfg doorbell, when set) on loop and tries to open the database; a
 * missing database is retried later, not an error. sink is copied.
 * Returns 0, or -1 when the doorbell cannot be bound or memory ran out.
 * tail_release is due either way.
 */
int tail_init(struct tail *t, const struct config *cfg, struct loop *loop,
	const struct tail_sink *sink);

/* tail_release closes the database and the doorbell and frees the ring. */
void tail_release(struct tail *t);

/* tail_poll reads the rows committed since the last read (a bounded
 * amount per call; t->more says whether to call again soon), keeps them
 * in the ring and publishes them to the sink. */
void tail_poll(struct tail *t);

/* tail_tick retries opening the database and runs the data_version
 * check when due. */
void tail_tick(struct tail *t, int64_t now);

/* A catch-up row: its seq and the event (borrowed), or NULL when it was
 * skipped. Non-zero stops the read after this row. */
typedef int (*tail_row_cb)(void *data, int64_t seq, struct pevent *ev);

/*
 * tail_read_range reads at most limit rows with after < seq <= upto from
 * the database, oldest first, calling cb for each until it asks to stop.
 * Returns how many rows were read, or -1 when the database cannot be read
 * now.
 */
int tail_read_range(struct tail *t, int64_t after, int64_t upto, int limit,
	tail_row_cb cb, void *data);

/* tail_first_seq gives the oldest seq kept in the database (0: none).
 * Returns 0 or -1. */
int tail_first_seq(struct tail *t, int64_t *first);

/* tail_lag_seq gives how many journal rows were written but not yet
 * read (0 when the database cannot tell). */
int64_t tail_lag_seq(struct tail *t);

#endif
