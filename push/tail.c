/* tail.c - following the journal: doorbell datagrams, the data_version safety net, bounded batch reads into the ring. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <jansson.h>
#include "db.h"
#include "journal.h"
#include "pgschema.h"
#include "log.h"
#include "tail.h"
#include "util.h"

#define TAIL_BATCH 256
#define TAIL_BATCHES_PER_POLL 4   /* then let the loop write what it has */
#define TAIL_BUSY_MS 50           /* a reader must never stall the loop */
#define TAIL_RETRY_MS 1000
#define TAIL_PG_RETRY_MIN_MS 250  /* a lost server: retry after 0.25 s, */
#define TAIL_PG_RETRY_MAX_MS 8000 /* doubling up to 8 s */

static const char SQL_VERSION[] = "PRAGMA data_version";

/* ts_parse_ms reads "YYYY-MM-DDTHH:MM:SS.mmmZ" into ms since the epoch;
 * -1 when it is not in that form. */
static int64_t ts_parse_ms(const char *s)
{
	struct tm tm;
	const char *p;
	int ms = 0;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (p[0] == '.' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
		p[2] <= '9' && p[3] >= '0' && p[3] <= '9')
		ms = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* drop_db closes whatever is open, quietly. */
static void drop_db(struct tail *t)
{
	dbx_finalize(t->st_read);
	t->st_read = NULL;
	if (t->pg != NULL) {
		/* The watch is on a copy of libpq's socket: libpq closes its
		 * own when the connection breaks, and that number may already
		 * be a subscriber's, whose watch must stay. */
		if (t->lw.fd >= 0) {
			loop_del(t->loop, &t->lw);
			close(t->lw.fd);
		}
		t->lw.fd = -1;
		dbx_close(t->pg);
		t->pg = NULL;
	}
	if (t->db != NULL) {
		sqlite3_finalize(t->st_version);
		sqlite3_close_v2(t->db);
	}
	t->st_version = NULL;
	t->db = NULL;
	t->xr = NULL;
	t->ready = 0;
}

static void close_db(struct tail *t, const char *why)
{
	int pg = t->pg != NULL;

	if (t->xr == NULL)
		return;
	log_msg(LOG_WARN, "closing the database (%s); retrying", why);
	drop_db(t);
	if (pg) {
		t->next_open_ms = util_mono_ms() + t->retry_ms;
		t->retry_ms = t->retry_ms * 2 > TAIL_PG_RETRY_MAX_MS ?
			TAIL_PG_RETRY_MAX_MS : t->retry_ms * 2;
	} else {
		t->next_open_ms = util_mono_ms() + TAIL_RETRY_MS;
	}
}

static int read_version(struct tail *t, int64_t *v)
{	int rc = sqlite3_step(t->st_version);

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(t->st_version, 0);
	sqlite3_reset(t->st_version);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* make_event turns the current row into an event; NULL when the row
 * cannot be parsed (or memory ran out). */
static struct pevent *make_event(struct dbx_stmt *st)
{
	const char *topic = dbx_column_text(st, 2);
	const char *id = dbx_column_text(st, 4);
	json_t *obj;
	struct pevent *ev;
	char *text;

	if (topic == NULL)
		return NULL;
	obj = journal_event_json(st);
	if (obj == NULL)
		return NULL;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		return NULL;
	ev = event_new(dbx_column_int64(st, 0), topic, id, text,
		strlen(text));
	free(text);
	return ev;
}

static void skip_row(struct tail *t, int64_t seq)
{
	t->stats.skipped_rows++;
	log_msg(LOG_WARN, "skipping journal row %" PRId64
		": it cannot be parsed", seq);
}

/* handle_row publishes one new row and keeps it in the ring. */
static void handle_row(struct tail *t, struct dbx_stmt *st)
{
	int64_t seq = dbx_column_int64(st, 0);
	struct pevent *ev = make_event(st);
	int64_t ts;

	if (ev == NULL) {
		skip_row(t, seq);
		ring_advance(&t->ring, seq);
		return;
	}
	t->stats.events_in++;
	ts = ts_parse_ms(dbx_column_text(st, 1));
	if (ts > 0 && !t->preloading) {
		t->stats.lag_ms = util_now_ms() - ts;
		t->stats.commit_ms = ts;
	}
	ring_push(&t->ring, ev);
	t->sink.publish_cb(t->sink.data, ev);
	event_unref(ev);
}

/* step_error decides what a failed read means: a lock is retried soon,
 * anything else reopens the database. */
static void step_error(struct tail *t, const struct ferr *err)
{
	if (strcmp(err->code, "busy_database") == 0) {
		t->busy = 1;
		log_msg(LOG_DEBUG, "journal is locked; retrying");
		return;
	}
	log_msg(LOG_ERROR, "reading the journal failed: %s", err->message);
	close_db(t, "read error");
}

/*
 * pg_after_query runs after every query on the LISTEN connection: a
 * commit whose notification came in while the query ran sits in libpq's
 * buffer, where the socket's readiness no longer shows it: read again
 * soon (after the preload, which must end). A connection found broken is
 * closed, to be opened and LISTENed again.
 */
static void pg_after_query(struct tail *t)
{
	int n;

	if (t->pg == NULL || t->polling)
		return;
	n = dbx_pg_notified(t->pg);
	if (n < 0) {
		close_db(t, "connection lost");
	} else if (n > 0) {
		if (t->preloading)
			t->notified = 1;
		else
			t->more = 1;
	}
}

void tail_poll(struct tail *t)
{	int batch, rows, rc = DBX_DONE;
	struct ferr err;

	if (!t->ready || t->polling)
		return;
	t->polling = 1;
	t->more = 0;
	t->busy = 0;
	for (batch = 0; batch < TAIL_BATCHES_PER_POLL; batch++) {
		journal_range_bind(t->st_read, t->ring.last, INT64_MAX,
			TAIL_BATCH);
		rows = 0;
		ferr_init(&err);
		while ((rc = dbx_step(t->st_read, &err)) == DBX_ROW) {
			handle_row(t, t->st_read);
			rows++;
		}
		/* Reset at once: an open read would keep its snapshot and
		 * starve checkpoints. */
		dbx_reset(t->st_read);
		if (rc != DBX_DONE) {
			step_error(t, &err);
			ferr_release(&err);
			break;
		}
		ferr_release(&err);
		if (rows < TAIL_BATCH)
			break;
		if (batch == TAIL_BATCHES_PER_POLL - 1)
			t->more = 1;
	}
	t->polling = 0;
	pg_after_query(t);
}

int tail_read_range(struct tail *t, int64_t after, int64_t upto, int limit,
	tail_row_cb cb, void *data)
{	struct dbx_stmt *st = NULL;
	struct ferr err;
	int rc, rows = 0;

	if (!t->ready)
		return -1;
	/* A statement of its own: a catch-up read may happen while the
	 * follower's statement is between steps. */
	ferr_init(&err);
	if (journal_range_prepare(t->xr, &st, &err)) {
		ferr_release(&err);
		return -1;
	}
	journal_range_bind(st, after, upto, limit);
	while ((rc = dbx_step(st, &err)) == DBX_ROW) {
		int64_t seq = dbx_column_int64(st, 0);
		struct pevent *ev = make_event(st);

		int stop;

		if (ev == NULL)
			skip_row(t, seq);
		stop = cb(data, seq, ev);
		event_unref(ev);
		rows++;
		if (stop) {
			rc = DBX_DONE;
			break;
		}
	}
	dbx_finalize(st);
	pg_after_query(t);
	if (rc != DBX_DONE) {
		log_msg(LOG_WARN, "catch-up read failed: %s", err.message);
		ferr_release(&err);
		return -1;
	}
	ferr_release(&err);
	return rows;
}

int tail_first_seq(struct tail *t, int64_t *first)
{
	struct ferr err;
	int rc;

	if (!t->ready)
		return -1;
	ferr_init(&err);
	rc = journal_first_seq(t->xr, first, &err);
	ferr_release(&err);
	pg_after_query(t);
	return rc;
}

int64_t tail_lag_seq(struct tail *t)
{
	struct ferr err;
	int64_t last = 0;
	int rc;

	if (!t->ready)
		return 0;
	ferr_init(&err);
	rc = journal_last_seq(t->xr, &last, &err);
	ferr_release(&err);
	pg_after_query(t);
	if (rc != 0 || last < t->ring.last)
		return 0;
	return last - t->ring.last;
}

/* open_sqlite opens the file read-only with the statements the tail
 * needs; 0 or -1 (logged once per outage). */
static int open_sqlite(struct tail *t, struct ferr *err)
{
	const struct config *cfg = t->cfg;
	struct stat st;

	if (stat(cfg->database, &st) != 0) {
		if (t->open_failures++ == 0)
			log_msg(LOG_WARN, "waiting for the database %s",
				cfg->database);
		return -1;
	}
	t->db = db_open(cfg, DB_READONLY, err);
	if (t->db == NULL) {
		if (t->open_failures++ == 0)
			log_msg(LOG_WARN, "cannot open the database: %s",
				err->message);
		return -1;
	}
	sqlite3_busy_timeout(t->db, TAIL_BUSY_MS);
	dbx_init_sqlite(&t->x, t->db);
	t->xr = &t->x;
	if (sqlite3_prepare_v2(t->db, SQL_VERSION, -1, &t->st_version,
		NULL) != SQLITE_OK)
		return -1;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	read_version(t, &t->data_version);
	return 0;
}

static void listen_cb(struct loop *loop, int fd, void *data,
	unsigned events)
{
	struct tail *t = data;
	int n = dbx_pg_notified(t->pg);

	if (n < 0) {
		close_db(t, "connection lost");
		return;
	}
	/* Many commits coalesce into one read. */
	if (n > 0)
		tail_poll(t);
}

/* open_pg connects to the PostgreSQL server and LISTENs before the first
 * read, so no commit falls between the two; 0 or -1. */
static int open_pg(struct tail *t, struct ferr *err)
{
	int fd;

	t->pg = dbx_open(t->cfg, DB_READONLY, err);
	if (t->pg == NULL) {
		if (t->open_failures++ == 0)
			log_msg(LOG_WARN, "cannot reach the database: %s",
				err->message);
		t->next_open_ms = util_mono_ms() + t->retry_ms;
		t->retry_ms = t->retry_ms * 2 > TAIL_PG_RETRY_MAX_MS ?
			TAIL_PG_RETRY_MAX_MS : t->retry_ms * 2;
		return -1;
	}
	t->xr = t->pg;
	t->pg->no_reconnect = 1;
	if (dbx_exec(t->pg, "LISTEN " PGSCHEMA_CHANNEL, "listen", err) < 0)
		return -1;
	fd = fcntl(dbx_pg_socket(t->pg), F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || loop_add(t->loop, &t->lw, fd, EPOLLIN, listen_cb,
	    t) < 0) {
		if (fd >= 0)
			close(fd);
		t->lw.fd = -1;
		return -1;
	}
	return 0;
}

/* open_db opens the database read-only and starts following it where the
 * ring stands. Returns 0 or -1 (try again later). */
static int open_db(struct tail *t)
{
	const struct config *cfg = t->cfg;
	int pg = config_database_is_pg(cfg->database);
	struct ferr err;
	int64_t last = 0, floor;
	int recreated = 0;

	t->next_open_ms = util_mono_ms() + TAIL_RETRY_MS;
	ferr_init(&err);
	if (pg ? open_pg(t, &err) : open_sqlite(t, &err)) {
		ferr_release(&err);
		if (pg)
			close_db(t, "cannot follow the journal");
		else
			drop_db(t);
		return -1;
	}
	if (journal_range_prepare(t->xr, &t->st_read, &err) ||
		journal_last_seq(t->xr, &last, &err)) {
		if (t->open_failures++ == 0)
			log_msg(LOG_WARN, "the database has no journal yet");
		ferr_release(&err);
		t->ready = 1;
		close_db(t, "no journal");
		return -1;
	}
	ferr_release(&err);
	/* The preload keeps to the ring's budget before reading a row: an
	 * event costs about twice its text (the WebSocket and SSE forms). */
	if (journal_newest_floor(t->xr, cfg->push_ring_size,
		cfg->push_ring_bytes / 2, &floor, &err)) {
		ferr_release(&err);
		close_db(t, "journal sizes");
		return -1;
	}
	if (!t->opened) {
		ring_reset(&t->ring, floor);
	} else if (last < t->ring.last) {
		log_msg(LOG_WARN, "the journal went back from %" PRId64
			" to %" PRId64 ": the database was recreated",
			t->ring.last, last);
		ring_reset(&t->ring, floor);
		recreated = 1;
	}
	t->opened = 1;
	t->ready = 1;
	t->open_failures = 0;
	t->retry_ms = TAIL_PG_RETRY_MIN_MS;
	log_msg(LOG_INFO, "following the journal of %s from seq %" PRId64,
		config_database_label(cfg), t->ring.last);
	/* Fill the ring before anyone resumes from it. */
	t->preloading = 1;
	t->notified = 0;
	do {
		tail_poll(t);
	} while (t->more && t->ready);
	t->preloading = 0;
	/* Commits announced during the preload: read them next turn. */
	t->more = t->notified;
	if (!t->ready)
		return -1;
	if (recreated)
		t->sink.reset_cb(t->sink.data);
	t->sink.ready_cb(t->sink.data);
	return 0;
}

static void doorbell_cb(struct loop *loop, int fd, void *data,
	unsigned events)
{
	char buf[64];

	/* Many rings coalesce into one read. */
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	tail_poll(data);
}

/* bind_doorbell binds the doorbell socket. A ring only makes the daemon
 * read the journal, so any local writer (the API may run as another
 * user) may ring: mode 0666. */
static int bind_doorbell(struct tail *t)
{
	const char *path = t->cfg->doorbell;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (listen_unix_open(&t->doorbell, path, SOCK_DGRAM, 0111, 0,
		"doorbell"))
		return -1;
	if (loop_add(t->loop, &t->w, t->doorbell.fd, EPOLLIN, doorbell_cb,
		t)) {
		listen_unix_unlink(&t->doorbell);
		close(t->doorbell.fd);
		t->doorbell.fd = -1;
		return -1;
	}
	return 0;
}

/* unbind_doorbell closes the doorbell socket (its file is removed only
 * while it is still ours). */
static void unbind_doorbell(struct tail *t)
{
	if (t->doorbell.fd < 0)
		return;
	loop_del(t->loop, &t->w);
	close(t->doorbell.fd);
	listen_unix_unlink(&t->doorbell);
	t->doorbell.fd = -1;
}

/* doorbell_check binds the doorbell again when its file is gone or is no
 * longer ours (removed by a cleanup of /run, say): writers would ring
 * nobody, and every event would wait for the poll. */
static void doorbell_check(struct tail *t)
{
	const char *path = t->cfg->doorbell;
	struct stat st;

	if (path == NULL || path[0] == '\0')
		return;
	if (t->doorbell.fd >= 0 && lstat(path, &st) == 0 &&
		st.st_dev == t->doorbell.dev && st.st_ino == t->doorbell.ino)
		return;
	if (!t->doorbell_lost)
		log_msg(LOG_WARN, "the doorbell %s is gone; binding it again "
			"(events wait for the %ld ms poll meanwhile)", path,
			t->cfg->push_poll_ms);
	unbind_doorbell(t);
	t->doorbell_lost = bind_doorbell(t) != 0;
	if (!t->doorbell_lost)
		log_msg(LOG_INFO, "the doorbell %s is bound again", path);
}

int tail_init(struct tail *t, const struct config *cfg, struct loop *loop,
	const struct tail_sink *sink)
{
	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->loop = loop;
	t->sink = *sink;
	t->doorbell.fd = -1;
	t->w.fd = -1;
	t->lw.fd = -1;
	t->retry_ms = TAIL_PG_RETRY_MIN_MS;
	if (ring_init(&t->ring, (size_t)cfg->push_ring_size,
		(size_t)cfg->push_ring_bytes, 0))
		return -1;
	if (bind_doorbell(t))
		return -1;
	open_db(t);
	return 0;
}

void tail_release(struct tail *t)
{
	drop_db(t);
	unbind_doorbell(t);
	ring_release(&t->ring);
}

/* replaced is non-zero when the path now names another file than the one
 * open (a database restored or recreated by renaming). */
static int replaced(struct tail *t)
{
	struct stat st;

	if (stat(t->cfg->database, &st) != 0)
		return 0;
	return st.st_dev != t->dev || st.st_ino != t->ino;
}

void tail_tick(struct tail *t, int64_t now)
{
	int64_t v;

	if (!t->ready) {
		if (now >= t->next_open_ms)
			open_db(t);
		return;
	}
	if (t->busy || t->more)
		tail_poll(t);
	if (now < t->next_poll_ms)
		return;
	t->next_poll_ms = now + t->cfg->push_poll_ms;
	doorbell_check(t);
	if (t->pg != NULL) {
		/* The safety net behind NOTIFY: one indexed read. */
		tail_poll(t);
		return;
	}
	if (replaced(t)) {
		close_db(t, "the file was replaced");
		open_db(t);
		return;
	}
	if (read_version(t, &v) != 0)
		return;
	/* The safety net for writers that could not ring the doorbell. */
	if (v != t->data_version) {
		t->data_version = v;
		tail_poll(t);
	}
}
