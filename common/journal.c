/* journal.c - the change journal: append, read, prune, ring the daemon. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "db.h"
#include "dbx.h"
#include "journal.h"
#include "log.h"
#include "util.h"

/* A filtered read examines at most this many rows, so one call with a
 * narrow topic over a long journal stays short; *last tells the caller
 * where to go on. */
#define JOURNAL_SCAN_MAX 10000

/* The insert of each store. On PostgreSQL the seq comes from the one-row
 * counter journal_seq, updated in the writer's transaction: its row lock
 * makes the next writer wait until this one has committed, so a reader
 * never sees seq N+1 before N (a sequence would hand out numbers that
 * commit in any order). A trigger on journal NOTIFYs the daemons. */
static const char append_sqlite[] = "INSERT INTO journal"
	"(ts, topic, action, id, version, actor, data, prev)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char append_pg[] = "WITH s AS (UPDATE journal_seq"
	" SET seq = seq + 1 RETURNING seq)"
	" INSERT INTO journal(seq, ts, topic, action, id, version, actor,"
	" data, prev) SELECT s.seq, ?1, ?2, ?3, ?4, CAST(?5 AS BIGINT), ?6,"
	" ?7, ?8 FROM s"
	" RETURNING seq";

int journal_write_lock(struct dbx *x, struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	int rc;

	if (dbx_kind(x) != DBX_PG)
		return 0;
	if (dbx_prepare(x, "SELECT seq FROM journal_seq FOR UPDATE",
	    "write lock", &st, err) < 0)
		return -1;
	rc = dbx_step(st, err);
	dbx_finalize(st);
	return rc == DBX_ERROR ? -1 : 0;
}

int journal_append(struct dbx *x, struct dbx_stmt **keep, const char *topic,
	const char *action, const char *id, int64_t version, const char *actor,
	json_t *data, json_t *prev, int64_t *seq, struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	char ts[UTIL_TS_LEN];
	char *text = NULL, *ptext = NULL;
	int rc, result = -1;

	if (data != NULL)
		text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
	if (prev != NULL)
		ptext = json_dumps(prev, JSON_COMPACT | JSON_ENCODE_ANY);
	if ((data != NULL && text == NULL) || (prev != NULL && ptext == NULL)) {
		ferr_set(err, 500, "internal_error", "Internal error.");
		goto out;
	}
	util_ts_now(ts);
	/* Preparing costs as much as the insert itself: a bulk load keeps
	 * the statement. */
	if (keep != NULL && *keep != NULL) {
		st = *keep;
	} else {
		if (dbx_prepare(x, dbx_kind(x) == DBX_PG ? append_pg :
		    append_sqlite, "journal append", &st, err) < 0)
			goto out;
		if (keep != NULL)
			*keep = st;
	}
	dbx_bind_text(st, 1, ts);
	dbx_bind_text(st, 2, topic);
	dbx_bind_text(st, 3, action);
	dbx_bind_text(st, 4, id);
	/* A negative version means "none" (dashboard rows). */
	if (version >= 0)
		dbx_bind_int64(st, 5, version);
	else
		dbx_bind_null(st, 5);
	dbx_bind_text(st, 6, actor);
	dbx_bind_text(st, 7, text);
	dbx_bind_text(st, 8, ptext);
	rc = dbx_step(st, err);
	if (dbx_kind(x) == DBX_PG) {
		if (rc != DBX_ROW) {
			if (rc == DBX_DONE)
				ferr_set(err, 500, "internal_error", "The journal"
					" has no counter row.");
			goto out;
		}
		if (seq != NULL)
			*seq = dbx_column_int64(st, 0);
	} else {
		if (rc != DBX_DONE)
			goto out;
		if (seq != NULL)
			*seq = sqlite3_last_insert_rowid(dbx_sqlite(x));
	}
	result = 0;
out:
	if (keep != NULL && st != NULL) {
		dbx_reset(st);
		dbx_clear_bindings(st);
	} else {
		dbx_finalize(st);
	}
	free(text);
	free(ptext);
	return result;
}

/* query_int64 runs sql (no parameters) and reads column 0 of the first
 * row; no row or NULL gives 0. */
static int query_int64(struct dbx *x, const char *sql, int64_t *out,
	struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	int rc;

	if (dbx_prepare(x, sql, "journal seq", &st, err) < 0)
		return -1;
	rc = dbx_step(st, err);
	if (rc == DBX_ROW)
		*out = dbx_column_int64(st, 0);
	else if (rc == DBX_DONE)
		*out = 0;
	dbx_finalize(st);
	return rc == DBX_ERROR ? -1 : 0;
}

int journal_last_seq(struct dbx *x, int64_t *seq, struct ferr *err)
{
	if (dbx_kind(x) == DBX_PG)
		return query_int64(x, "SELECT seq FROM journal_seq", seq, err);
	return query_int64(x, "SELECT seq FROM sqlite_sequence"
		" WHERE name = 'journal'", seq, err);
}

int journal_first_seq(struct dbx *x, int64_t *seq, struct ferr *err)
{
	return query_int64(x, "SELECT min(seq) FROM journal", seq, err);
}

int journal_newest_floor(struct dbx *x, int64_t max_rows, int64_t max_bytes,
	int64_t *floor, struct ferr *err)
{
	/* Bytes, not characters; no row is decoded. */
	static const char sql_sqlite[] = "SELECT seq, "
		"coalesce(length(CAST(data AS BLOB)), 0) + "
		"coalesce(length(CAST(prev AS BLOB)), 0) "
		"FROM journal ORDER BY seq DESC LIMIT ?1";
	static const char sql_pg[] = "SELECT seq, "
		"coalesce(octet_length(data), 0) + "
		"coalesce(octet_length(prev), 0) "
		"FROM journal ORDER BY seq DESC LIMIT ?1";
	struct dbx_stmt *st = NULL;
	int64_t bytes = 0, rows = 0;
	int rc;

	*floor = 0;
	if (dbx_prepare(x, dbx_kind(x) == DBX_PG ? sql_pg : sql_sqlite,
	    "journal sizes", &st, err) < 0)
		return -1;
	dbx_bind_int64(st, 1, max_rows + 1);
	while ((rc = dbx_step(st, err)) == DBX_ROW) {
		int64_t seq = dbx_column_int64(st, 0);

		bytes += dbx_column_int64(st, 1);
		if (rows++ == max_rows || (rows > 1 && bytes > max_bytes)) {
			*floor = seq;
			break;
		}
	}
	dbx_finalize(st);
	return rc == DBX_ERROR ? -1 : 0;
}

static json_t *column_string(struct dbx_stmt *stmt, int col)
{
	const char *t = dbx_column_text(stmt, col);

	if (t == NULL)
		return json_null();
	return json_string(t);
}

json_t *journal_event_json(struct dbx_stmt *stmt)
{
	json_t *ev = NULL, *data = NULL, *topic, *action, *id, *ts, *actor;
	json_t *version;
	const char *text = dbx_column_text(stmt, 7);

	if (text != NULL) {
		data = json_loads(text, JSON_DECODE_ANY, NULL);
		if (data == NULL)
			return NULL;
	} else {
		data = json_null();
	}
	topic = column_string(stmt, 2);
	action = column_string(stmt, 3);
	id = column_string(stmt, 4);
	ts = column_string(stmt, 1);
	actor = column_string(stmt, 6);
	if (dbx_column_null(stmt, 5))
		version = json_null();
	else
		version = json_integer(dbx_column_int64(stmt, 5));
	/* json_pack "o" steals every reference, NULL ones included. */
	ev = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"seq", (json_int_t)dbx_column_int64(stmt, 0),
		"topic", topic, "action", action, "id", id,
		"version", version, "ts", ts, "actor", actor, "data", data);
	if (ev != NULL && dbx_column_count(stmt) > 8 &&
	    !dbx_column_null(stmt, 8)) {
		json_t *prev = json_loads(dbx_column_text(stmt, 8), 0, NULL);

		if (prev != NULL)
			json_object_set_new(ev, "prev", prev);
	}
	return ev;
}

/* row_bytes is what one journal row's event text weighs, as stored. */
static size_t row_bytes(struct dbx_stmt *st)
{
	return dbx_column_bytes(st, 7) + dbx_column_bytes(st, 8) + 256;
}

json_t *journal_read(struct dbx *x, int64_t since,
	const struct topic_list *topics, int limit, size_t max_bytes,
	int64_t *last, struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	json_t *events = NULL;
	int rc, ok = 0, filtered = topics != NULL && !topics->all;
	int64_t seq = since;
	size_t bytes = 0;

	if (limit <= 0)
		limit = 100;
	events = json_array();
	if (events == NULL) {
		ferr_set(err, 500, "internal_error", "Internal error.");
		goto out;
	}
	if (journal_range_prepare(x, &st, err) < 0)
		goto out;
	journal_range_bind(st, since, INT64_MAX,
		filtered && limit < JOURNAL_SCAN_MAX ? JOURNAL_SCAN_MAX : limit);
	while ((int)json_array_size(events) < limit) {
		const char *topic, *id;
		json_t *ev;

		rc = dbx_step(st, err);
		if (rc == DBX_DONE)
			break;
		if (rc != DBX_ROW)
			goto out;
		topic = dbx_column_text(st, 2);
		id = dbx_column_text(st, 4);
		if (filtered && !topic_list_match(topics, topic ? topic : "",
			id)) {
			seq = dbx_column_int64(st, 0);
			continue;
		}
		/* The answer stops before the event that would take it past
		 * its budget, unless it is the first: one record always
		 * fits (its size is bounded by body_limit). */
		bytes += row_bytes(st);
		if (max_bytes > 0 && bytes > max_bytes &&
		    json_array_size(events) > 0)
			break;
		seq = dbx_column_int64(st, 0);
		ev = journal_event_json(st);
		if (ev == NULL) {
			log_msg(LOG_ERROR, "journal row %lld is not valid JSON;"
				" skipped", (long long)seq);
			continue;
		}
		json_array_append_new(events, ev);
	}
	if (last != NULL)
		*last = seq;
	ok = 1;
out:
	dbx_finalize(st);
	if (!ok) {
		json_decref(events);
		events = NULL;
	}
	return events;
}

int journal_prune(struct dbx *x, long keep_days, long keep_rows, long batch,
	long *deleted, struct ferr *err)
{
	/* A row goes when it is older than the cutoff (if any) and not among
	 * the newest keep_rows (if any). ts grows with seq, so scanning by
	 * seq finds the old rows first without an index on ts. (The casts
	 * tell PostgreSQL the parameters' types; SQLite ignores them.) */
	static const char sql[] = "DELETE FROM journal WHERE seq IN ("
		"SELECT seq FROM journal"
		" WHERE (CAST(?1 AS TEXT) IS NULL OR ts < CAST(?1 AS TEXT))"
		" AND (CAST(?2 AS BIGINT) <= 0 OR seq < coalesce((SELECT seq"
		" FROM journal ORDER BY seq DESC LIMIT 1"
		" OFFSET CAST(?2 AS BIGINT) - 1), -1))"
		" ORDER BY seq LIMIT ?3)";
	struct dbx_stmt *st = NULL;
	char cutoff[UTIL_TS_LEN];
	long total = 0;
	int rc, result = -1;
	int64_t changes;

	if (batch <= 0)
		batch = 1000;
	if (keep_days > 0)
		util_ts_format(util_now_ms() - (int64_t)keep_days * 86400000,
			cutoff);
	if (dbx_prepare(x, sql, "journal prune", &st, err) < 0)
		goto out;
	dbx_bind_text(st, 1, keep_days > 0 ? cutoff : NULL);
	dbx_bind_int64(st, 2, keep_rows);
	dbx_bind_int64(st, 3, batch);
	do {
		if (dbx_begin(x, err) < 0)
			goto out;
		rc = dbx_step(st, err);
		dbx_reset(st);
		if (rc != DBX_DONE) {
			dbx_rollback(x);
			goto out;
		}
		changes = dbx_changes(x);
		if (dbx_commit(x, err) < 0)
			goto out;
		total += (long)changes;
	} while (changes >= batch);
	result = 0;
out:
	dbx_finalize(st);
	if (deleted != NULL)
		*deleted = total;
	return result;
}

void journal_doorbell(const char *path)
{
	struct sockaddr_un sa;
	size_t n;
	int fd;
	char b = 1;

	if (path == NULL || path[0] == '\0')
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* A full queue, a missing daemon or a stale socket all mean the same:
	 * the daemon's poll will find the change. */
	(void)sendto(fd, &b, 1, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		sizeof(sa));
	close(fd);
}

int journal_reset_due(int64_t since, int64_t first, int64_t last)
{
	if (since > last)
		return 1;
	/* An empty table with a past: everything after since was pruned. */
	return since < last && (first == 0 || since < first - 1);
}

int journal_range_prepare(struct dbx *x, struct dbx_stmt **st,
	struct ferr *err)
{
	static const char sql[] = "SELECT " JOURNAL_COLUMNS " FROM journal"
		" WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3";

	return dbx_prepare(x, sql, "journal read", st, err);
}

void journal_range_bind(struct dbx_stmt *st, int64_t after, int64_t upto,
	int limit)
{
	dbx_bind_int64(st, 1, after);
	dbx_bind_int64(st, 2, upto);
	dbx_bind_int64(st, 3, limit);
}
