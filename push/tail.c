/* tail.c - following the journal: doorbell datagrams, the data_version safety net, bounded batch reads. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <jansson.h>
#include "db.h"
#include "hub.h"
#include "journal.h"
#include "log.h"
#include "tail.h"
#include "util.h"

#define TAIL_BATCH 256
#define TAIL_BATCHES_PER_POLL 4   /* then let the loop write what it has */
#define TAIL_BUSY_MS 50           /* a reader must never stall the loop */
#define TAIL_RETRY_MS 1000

static const char SQL_READ[] =
	"SELECT " JOURNAL_COLUMNS " FROM journal"
	" WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3";
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

static void close_db(struct push *px, const char *why)
{
	struct tail *t = &px->tail;

	if (t->db == NULL)
		return;
	log_msg(LOG_WARN, "closing the database (%s); retrying", why);
	sqlite3_finalize(t->st_read);
	sqlite3_finalize(t->st_version);
	sqlite3_close_v2(t->db);
	t->st_read = NULL;
	t->st_version = NULL;
	t->db = NULL;
	t->ready = 0;
	t->next_open_ms = util_mono_ms() + TAIL_RETRY_MS;
}

static int read_version(struct push *px, int64_t *v)
{
	struct tail *t = &px->tail;
	int rc = sqlite3_step(t->st_version);

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(t->st_version, 0);
	sqlite3_reset(t->st_version);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* make_event turns the current row into an event; NULL when the row
 * cannot be parsed (or memory ran out). */
static struct pevent *make_event(sqlite3_stmt *st)
{
	const char *topic = (const char *)sqlite3_column_text(st, 2);
	const char *id = (const char *)sqlite3_column_text(st, 4);
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
	ev = pevent_new(sqlite3_column_int64(st, 0), topic, id, text,
		strlen(text));
	free(text);
	return ev;
}

static void skip_row(struct push *px, int64_t seq)
{
	px->m.skipped_rows++;
	log_msg(LOG_WARN, "skipping journal row %" PRId64
		": it cannot be parsed", seq);
}

/* handle_row publishes one new row and keeps it in the ring. */
static void handle_row(struct push *px, sqlite3_stmt *st)
{
	int64_t seq = sqlite3_column_int64(st, 0);
	struct pevent *ev = make_event(st);
	int64_t ts;

	if (ev == NULL) {
		skip_row(px, seq);
		ring_advance(&px->ring, seq);
		return;
	}
	px->m.events_in++;
	ts = ts_parse_ms((const char *)sqlite3_column_text(st, 1));
	if (ts > 0 && !px->tail.preloading)
		px->m.lag_ms = util_now_ms() - ts;
	ring_push(&px->ring, ev);
	hub_publish(px, ev);
	pevent_unref(ev);
}

/* step_error decides what a failed read means: a lock is retried soon,
 * anything else reopens the database. */
static void step_error(struct push *px, int rc)
{
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		px->tail.busy = 1;
		log_msg(LOG_DEBUG, "journal is locked; retrying");
		return;
	}
	log_msg(LOG_ERROR, "reading the journal failed: %s",
		sqlite3_errstr(rc));
	close_db(px, "read error");
}

void tail_poll(struct push *px)
{
	struct tail *t = &px->tail;
	int batch, rows, rc = SQLITE_DONE;

	if (!t->ready || t->polling)
		return;
	t->polling = 1;
	t->more = 0;
	t->busy = 0;
	for (batch = 0; batch < TAIL_BATCHES_PER_POLL; batch++) {
		sqlite3_bind_int64(t->st_read, 1, px->ring.last);
		sqlite3_bind_int64(t->st_read, 2, INT64_MAX);
		sqlite3_bind_int(t->st_read, 3, TAIL_BATCH);
		rows = 0;
		while ((rc = sqlite3_step(t->st_read)) == SQLITE_ROW) {
			handle_row(px, t->st_read);
			rows++;
		}
		/* Reset at once: an open read would keep its snapshot and
		 * starve checkpoints. */
		sqlite3_reset(t->st_read);
		if (rc != SQLITE_DONE) {
			step_error(px, rc);
			break;
		}
		if (rows < TAIL_BATCH)
			break;
		if (batch == TAIL_BATCHES_PER_POLL - 1)
			t->more = 1;
	}
	t->polling = 0;
}

int tail_read_range(struct push *px, int64_t after, int64_t upto, int limit,
	tail_row_cb cb, void *data)
{
	struct tail *t = &px->tail;
	sqlite3_stmt *st = NULL;
	int rc, rows = 0;

	if (!t->ready)
		return -1;
	/* A statement of its own: a catch-up read may happen while the
	 * follower's statement is between steps. */
	if (sqlite3_prepare_v2(t->db, SQL_READ, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	sqlite3_bind_int(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		struct pevent *ev = make_event(st);

		if (ev == NULL)
			skip_row(px, seq);
		cb(px, seq, ev, data);
		pevent_unref(ev);
		rows++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_msg(LOG_WARN, "catch-up read failed: %s",
			sqlite3_errstr(rc));
		return -1;
	}
	return rows;
}

int tail_first_seq(struct push *px, int64_t *first)
{
	struct ferr err;
	int rc;

	if (!px->tail.ready)
		return -1;
	ferr_init(&err);
	rc = journal_first_seq(px->tail.db, first, &err);
	ferr_release(&err);
	return rc;
}

int tail_db_last(struct push *px, int64_t *last)
{
	struct ferr err;
	int rc;

	if (!px->tail.ready)
		return -1;
	ferr_init(&err);
	rc = journal_last_seq(px->tail.db, last, &err);
	ferr_release(&err);
	return rc;
}

/* open_db opens the database read-only and starts following it where the
 * ring stands. Returns 0 or -1 (try again later). */
static int open_db(struct push *px)
{
	struct tail *t = &px->tail;
	struct config *cfg = px->cfg;
	struct ferr err;
	struct stat st;
	int64_t last = 0, floor;
	int recreated = 0;

	t->next_open_ms = util_mono_ms() + TAIL_RETRY_MS;
	if (stat(cfg->database, &st) != 0) {
		if (t->open_failures++ == 0)
			log_msg(LOG_WARN, "waiting for the database %s",
				cfg->database);
		return -1;
	}
	ferr_init(&err);
	t->db = db_open(cfg, DB_READONLY, &err);
	if (t->db == NULL) {
		if (t->open_failures++ == 0)
			log_msg(LOG_WARN, "cannot open the database: %s",
				err.message);
		ferr_release(&err);
		return -1;
	}
	sqlite3_busy_timeout(t->db, TAIL_BUSY_MS);
	if (sqlite3_prepare_v2(t->db, SQL_READ, -1, &t->st_read, NULL) ||
		sqlite3_prepare_v2(t->db, SQL_VERSION, -1, &t->st_version,
			NULL) ||
		journal_last_seq(t->db, &last, &err)) {
		if (t->open_failures++ == 0)
			log_msg(LOG_WARN, "the database has no journal yet");
		ferr_release(&err);
		t->ready = 1;
		close_db(px, "no journal");
		return -1;
	}
	ferr_release(&err);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	read_version(px, &t->data_version);
	floor = last > px->cfg->push_ring_size ?
		last - px->cfg->push_ring_size : 0;
	if (!t->opened) {
		ring_reset(&px->ring, floor);
	} else if (last < px->ring.last) {
		log_msg(LOG_WARN, "the journal went back from %" PRId64
			" to %" PRId64 ": the database was recreated",
			px->ring.last, last);
		ring_reset(&px->ring, floor);
		recreated = 1;
	}
	t->opened = 1;
	t->ready = 1;
	t->open_failures = 0;
	log_msg(LOG_INFO, "following the journal of %s from seq %" PRId64,
		cfg->database, px->ring.last);
	/* Fill the ring before anyone resumes from it. */
	t->preloading = 1;
	do {
		tail_poll(px);
	} while (t->more && t->ready);
	t->preloading = 0;
	if (!t->ready)
		return -1;
	if (recreated)
		hub_reset_all(px);
	hub_journal_ready(px);
	return 0;
}

static void doorbell_cb(struct loop *loop, int fd, void *data,
	unsigned events)
{
	struct push *px = data;
	char buf[64];

	/* Many rings coalesce into one read. */
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	tail_poll(px);
}

static int bind_doorbell(struct push *px)
{
	struct sockaddr_un sa;
	const char *path = px->cfg->doorbell;
	struct stat st;
	int fd;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERROR, "doorbell path is too long: %s", path);
		return -1;
	}
	/* Only a stale socket is removed, never some other file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_msg(LOG_ERROR, "cannot bind the doorbell %s: %s", path,
			strerror(errno));
		close(fd);
		return -1;
	}
	/* A ring only makes the daemon read the journal, so any local
	 * writer (the API may run as another user) may ring. */
	chmod(path, 0666);
	if (loop_add(px->loop, &px->tail.w, fd, EPOLLIN, doorbell_cb, px)) {
		close(fd);
		unlink(path);
		return -1;
	}
	px->tail.doorbell_fd = fd;
	return 0;
}

int tail_init(struct push *px)
{
	struct tail *t = &px->tail;

	memset(t, 0, sizeof(*t));
	t->doorbell_fd = -1;
	t->w.fd = -1;
	if (bind_doorbell(px))
		return -1;
	open_db(px);
	return 0;
}

void tail_release(struct push *px)
{
	struct tail *t = &px->tail;

	if (t->db != NULL) {
		sqlite3_finalize(t->st_read);
		sqlite3_finalize(t->st_version);
		sqlite3_close_v2(t->db);
		t->db = NULL;
	}
	t->ready = 0;
	if (t->doorbell_fd >= 0) {
		loop_del(px->loop, &t->w);
		close(t->doorbell_fd);
		unlink(px->cfg->doorbell);
		t->doorbell_fd = -1;
	}
}

/* replaced is non-zero when the path now names another file than the one
 * open (a database restored or recreated by renaming). */
static int replaced(struct push *px)
{
	struct stat st;

	if (stat(px->cfg->database, &st) != 0)
		return 0;
	return st.st_dev != px->tail.dev || st.st_ino != px->tail.ino;
}

void tail_tick(struct push *px, int64_t now)
{
	struct tail *t = &px->tail;
	int64_t v;

	if (!t->ready) {
		if (now >= t->next_open_ms)
			open_db(px);
		return;
	}
	if (t->busy || t->more)
		tail_poll(px);
	if (now < t->next_poll_ms)
		return;
	t->next_poll_ms = now + px->cfg->push_poll_ms;
	if (replaced(px)) {
		close_db(px, "the file was replaced");
		open_db(px);
		return;
	}
	if (read_version(px, &v) != 0)
		return;
	/* The safety net for writers that could not ring the doorbell. */
	if (v != t->data_version) {
		t->data_version = v;
		tail_poll(px);
	}
}
