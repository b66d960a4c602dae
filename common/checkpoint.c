/* checkpoint.c - the WAL checkpointer: copies the WAL into the database on a thread of its own, off the request path. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "db.h"
#include "log.h"
#include "util.h"

/* While writes are few (the WAL stays under wal_checkpoint_pages), what
 * was committed is checkpointed within this long: with
 * synchronous=NORMAL a commit reaches the disk at the next checkpoint's
 * sync, so this also bounds what a power cut can take back. */
#define CHECKPOINT_IDLE_MS 1000
/* A RESTART holds the write lock while it waits for readers to leave
 * the WAL: it waits this long at most, and is tried once a second. */
#define CHECKPOINT_RESTART_WAIT_MS 20
#define CHECKPOINT_RESTART_GAP_MS 1000

/* deadline_in fills ts with now + ms on the clock the conditions use. */
static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* wal_hook_cb runs in the committing thread after every commit of a
 * watched connection, with the WAL's size in frames: it only marks work
 * for the thread, so the commit returns at once. */
static int wal_hook_cb(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct checkpoint *c = arg;

	(void)db;
	(void)name;
	pthread_mutex_lock(&c->lock);
	c->dirty = 1;
	if (frames >= c->pages) {
		c->due = 1;
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
	return SQLITE_OK;
}

/* run_once checkpoints: PASSIVE, then RESTART when the WAL is still at
 * wal_max_pages or more (a writer that never pauses, or a reader that
 * keeps an old snapshot, keeps the WAL from starting again). Called
 * without the lock; only this thread touches c->db. */
static void run_once(struct checkpoint *c, struct checkpoint_stats *s)
{
	int frames = 0, copied = 0, rc;
	int64_t now;

	rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		&frames, &copied);
	now = util_mono_ms();
	if (rc == SQLITE_OK && frames >= c->max_pages &&
	    now - c->last_restart_ms >= CHECKPOINT_RESTART_GAP_MS) {
		c->last_restart_ms = now;
		s->restarts++;
		log_msg(LOG_WARN, "the WAL holds %d frames (wal_max_pages "
			"%ld): writers wait for a RESTART checkpoint", frames,
			c->max_pages);
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL,
			SQLITE_CHECKPOINT_RESTART, &frames, &copied);
	}
	s->runs++;
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
		s->failures++;
		log_msg(LOG_WARN, "checkpoint: %s (sqlite %d)",
			sqlite3_errmsg(c->db), rc);
	}
	s->wal_frames = frames;
	s->copied = copied;
}

static void *checkpoint_main(void *arg)
{
	struct checkpoint *c = arg;
	struct checkpoint_stats s;
	struct timespec until;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		if (!c->due) {
			deadline_in(&until, CHECKPOINT_IDLE_MS);
			pthread_cond_timedwait(&c->wake, &c->lock, &until);
		}
		if (c->stop || (!c->due && !c->dirty))
			continue;
		c->due = 0;
		c->dirty = 0;
		s = c->stats;
		pthread_mutex_unlock(&c->lock);
		run_once(c, &s);
		pthread_mutex_lock(&c->lock);
		c->stats = s;
		pthread_cond_broadcast(&c->ran);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* conds_init makes both conditions wait on the monotonic clock. */
static int conds_init(struct checkpoint *c)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return -1;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
		pthread_cond_init(&c->wake, &attr) != 0;
	if (!rc && pthread_cond_init(&c->ran, &attr) != 0) {
		pthread_cond_destroy(&c->wake);
		rc = 1;
	}
	pthread_condattr_destroy(&attr);
	return rc ? -1 : 0;
}

int checkpoint_start(struct checkpoint *c, const struct config *cfg,
	struct ferr *err)
{
	int have_lock = 0, have_conds = 0;

	memset(c, 0, sizeof(*c));
	c->pages = cfg->wal_checkpoint_pages;
	c->max_pages = cfg->wal_max_pages;
	/* PostgreSQL checkpoints by itself. */
	if (config_database_is_pg(cfg->database))
		c->pages = 0;
	if (c->pages == 0)
		return 0;
	c->db = db_open(cfg, DB_READWRITE, err);
	if (!c->db)
		return -1;
	sqlite3_busy_timeout(c->db, CHECKPOINT_RESTART_WAIT_MS);
	/* Its own connection never writes; it must not checkpoint twice. */
	sqlite3_wal_autocheckpoint(c->db, 0);
	have_lock = pthread_mutex_init(&c->lock, NULL) == 0;
	have_conds = have_lock && conds_init(c) == 0;
	c->last_restart_ms = util_mono_ms() - CHECKPOINT_RESTART_GAP_MS;
	if (have_conds &&
	    pthread_create(&c->thread, NULL, checkpoint_main, c) == 0) {
		c->started = 1;
		return 0;
	}
	if (have_conds) {
		pthread_cond_destroy(&c->ran);
		pthread_cond_destroy(&c->wake);
	}
	if (have_lock)
		pthread_mutex_destroy(&c->lock);
	sqlite3_close_v2(c->db);
	c->db = NULL;
	return ferr_set(err, 500, "internal_error",
		"Cannot start the checkpoint thread.");
}

int checkpoint_watch(struct checkpoint *c, sqlite3 *db)
{
	if (c == NULL || !c->started || db == NULL)
		return -1;
	sqlite3_wal_hook(db, wal_hook_cb, c);
	return 0;
}

int checkpoint_wait(struct checkpoint *c, long long runs, long timeout_ms,
	struct checkpoint_stats *out)
{
	struct timespec until;
	int result = 0;

	if (!c->started)
		return -1;
	deadline_in(&until, timeout_ms);
	pthread_mutex_lock(&c->lock);
	while (c->stats.runs < runs && !c->stop && result == 0)
		if (pthread_cond_timedwait(&c->ran, &c->lock, &until) ==
		    ETIMEDOUT)
			result = -1;
	if (c->stats.runs < runs)
		result = -1;
	if (out != NULL)
		*out = c->stats;
	pthread_mutex_unlock(&c->lock);
	return result;
}

void checkpoint_stats(struct checkpoint *c, struct checkpoint_stats *out)
{
	if (!c->started) {
		memset(out, 0, sizeof(*out));
		return;
	}
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}

void checkpoint_stop(struct checkpoint *c)
{
	if (!c->started)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->wake);
	pthread_cond_broadcast(&c->ran);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->ran);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	sqlite3_close_v2(c->db);
	c->db = NULL;
	c->started = 0;
}
