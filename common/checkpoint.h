/* checkpoint.h - the WAL checkpointer: copies the WAL into the database on a thread of its own, off the request path. */
#ifndef FP_CHECKPOINT_H
#define FP_CHECKPOINT_H

#include <pthread.h>
#include <sqlite3.h>
#include "config.h"
#include "ferr.h"

/*
 * SQLite's own auto-checkpoint runs inside the COMMIT of whichever write
 * passes wal_autocheckpoint pages: that request then copies the WAL into
 * the database and waits for two fsyncs, up to 30 ms at a million
 * records, and every commit after it does the same until the WAL starts
 * again (docs/BENCHMARKS.md). A process with many writing connections hands
 * that work to one thread instead: checkpoint_watch replaces the
 * auto-checkpoint of a connection by a hook that only wakes the thread.
 */

/* What the thread has done so far; read with checkpoint_stats. */
struct checkpoint_stats {
	long long runs;          /* checkpoints run (PASSIVE and RESTART) */
	long long restarts;      /* of them, RESTART ones: the WAL had passed
				    wal_max_pages */
	long long failures;      /* runs that failed, SQLITE_BUSY aside */
	int wal_frames;          /* frames in the WAL after the last run */
	int copied;              /* of them, copied into the database */
};

struct checkpoint {
	sqlite3 *db;             /* the thread's own connection */
	long pages;              /* wal_checkpoint_pages: wake at this many */
	long max_pages;          /* wal_max_pages: past it, RESTART */
	pthread_t thread;
	pthread_mutex_t lock;    /* guards everything below */
	pthread_cond_t wake;     /* a commit asks for a run, or stop */
	pthread_cond_t ran;      /* a run ended */
	int started;             /* the thread runs */
	int due;                 /* a commit left the WAL at pages or more */
	int dirty;               /* commits since the last run */
	int stop;
	long long last_restart_ms;
	struct checkpoint_stats stats;
};

/*
 * checkpoint_start opens a connection of its own to cfg->database (which
 * must exist) and starts the thread, which checkpoints (PASSIVE: writers
 * and readers go on meanwhile) when a watched connection's commit leaves
 * cfg->wal_checkpoint_pages frames or more in the WAL, and otherwise
 * within a second of a commit, so the WAL is synced and small while
 * writes are few. When the WAL has reached cfg->wal_max_pages it runs a
 * RESTART checkpoint instead, at most once a second, which makes writers
 * wait for it so that the next write starts the WAL from its beginning.
 * cfg->wal_checkpoint_pages 0 starts nothing: watched connections keep
 * SQLite's auto-checkpoint. Returns 0 (also then), or -1 with err set;
 * either way checkpoint_stop is safe.
 */
int checkpoint_start(struct checkpoint *c, const struct config *cfg,
	struct ferr *err);

/*
 * checkpoint_watch hands the checkpoints of db, a connection that writes
 * to the same database, to c: it replaces SQLite's auto-checkpoint with a
 * hook that wakes c's thread. c must outlive db, or db must be closed
 * first. Returns 0, or -1 when c is NULL or did not start: db is then
 * left as it is (its commits checkpoint by themselves).
 */
int checkpoint_watch(struct checkpoint *c, sqlite3 *db);

/*
 * checkpoint_wait waits until the thread has ended runs runs in all, or
 * timeout_ms have passed, and copies the counters to out (may be NULL).
 * It does not wake the thread. Returns 0, or -1 on timeout or when c is
 * not running.
 */
int checkpoint_wait(struct checkpoint *c, long long runs, long timeout_ms,
	struct checkpoint_stats *out);

/* checkpoint_stats copies the counters to out. */
void checkpoint_stats(struct checkpoint *c, struct checkpoint_stats *out);

/*
 * checkpoint_stop ends the thread (a run in progress finishes first) and
 * closes its connection. Connections still watching c must be closed
 * before. Safe on a c that did not start, and twice.
 */
void checkpoint_stop(struct checkpoint *c);

#endif
