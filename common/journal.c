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
#include "journal.h"
#include "log.h"
#include "util.h"

/* A filtered read examines at most this many rows, so one call with a
 * narrow topic over a long journal stays short; *last tells the caller
 * where to go on. */
#define JOURNAL_SCAN_MAX 10000

int journal_append(sqlite3 *db, sqlite3_stmt **keep, const char *topic,
	const char *action, const char *id, int64_t version, const char *actor,
	json_t *data, json_t *prev, int64_t *seq, struct ferr *err)
{
	static const char sql[] = "INSERT INTO journal"
		"(ts, topic, action, id, version, actor, data, prev)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = NULL;
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
		rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
		if (rc != SQLITE_OK) {
			db_fail(db, rc, "journal append", err);
			goto out;
		}
		if (keep != NULL)
			*keep = st;
	}
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	if (id != NULL)
		sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	/* A negative version means "none" (dashboard rows). */
	if (version >= 0)
		sqlite3_bind_int64(st, 5, version);
	if (actor != NULL)
		sqlite3_bind_text(st, 6, actor, -1, SQLITE_STATIC);
	if (text != NULL)
		sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
	if (ptext != NULL)
		sqlite3_bind_text(st, 8, ptext, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		db_fail(db, rc, "journal append", err);
		goto out;
	}
	if (seq != NULL)
		*seq = sqlite3_last_insert_rowid(db);
	result = 0;
out:
	if (keep != NULL && st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	free(text);
	free(ptext);
	return result;
}

/* query_int64 runs sql (no parameters) and reads column 0 of the first
 * row; no row or NULL gives 0. */
static int query_int64(sqlite3 *db, const char *sql, int64_t *out,
	struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	int rc, result = -1;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, "journal seq", err);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
	} else if (rc == SQLITE_DONE) {
		*out = 0;
	} else {
		db_fail(db, rc, "journal seq", err);
		goto out;
	}
	result = 0;
out:
	sqlite3_finalize(st);
	return result;
}

int journal_last_seq(sqlite3 *db, int64_t *seq, struct ferr *err)
{
	return query_int64(db, "SELECT seq FROM sqlite_sequence"
		" WHERE name = 'journal'", seq, err);
}

int journal_first_seq(sqlite3 *db, int64_t *seq, struct ferr *err)
{
	return query_int64(db, "SELECT min(seq) FROM journal", seq, err);
}

int journal_newest_floor(sqlite3 *db, int64_t max_rows, int64_t max_bytes,
	int64_t *floor, struct ferr *err)
{
	/* length() of a BLOB is its bytes (of TEXT it would count
	 * characters); no row is decoded. */
	static const char sql[] = "SELECT seq, "
		"coalesce(length(CAST(data AS BLOB)), 0) + "
		"coalesce(length(CAST(prev AS BLOB)), 0) "
		"FROM journal ORDER BY seq DESC LIMIT ?1";
	sqlite3_stmt *st = NULL;
	int64_t bytes = 0, rows = 0;
	int rc;

	*floor = 0;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "journal sizes", err);
	sqlite3_bind_int64(st, 1, max_rows + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);

		bytes += sqlite3_column_int64(st, 1);
		if (rows++ == max_rows || (rows > 1 && bytes > max_bytes)) {
			*floor = seq;
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, rc, "journal sizes", err);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static json_t *column_string(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	if (t == NULL)
		return json_null();
	return json_string((const char *)t);
}

json_t *journal_event_json(sqlite3_stmt *stmt)
{
	json_t *ev = NULL, *data = NULL, *topic, *action, *id, *ts, *actor;
	json_t *version;
	const unsigned char *text = sqlite3_column_text(stmt, 7);

	if (text != NULL) {
		data = json_loads((const char *)text, JSON_DECODE_ANY, NULL);
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
	if (sqlite3_column_type(stmt, 5) == SQLITE_NULL)
		version = json_null();
	else
		version = json_integer(sqlite3_column_int64(stmt, 5));
	/* json_pack "o" steals every reference, NULL ones included. */
	ev = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"seq", (json_int_t)sqlite3_column_int64(stmt, 0),
		"topic", topic, "action", action, "id", id,
		"version", version, "ts", ts, "actor", actor, "data", data);
	if (ev != NULL && sqlite3_column_count(stmt) > 8 &&
	    sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
		json_t *prev = json_loads((const char *)sqlite3_column_text(
			stmt, 8), 0, NULL);

		if (prev != NULL)
			json_object_set_new(ev, "prev", prev);
	}
	return ev;
}

/* row_bytes is what one journal row's event text weighs, as stored. */
static size_t row_bytes(sqlite3_stmt *st)
{
	return (size_t)sqlite3_column_bytes(st, 7) +
		(size_t)sqlite3_column_bytes(st, 8) + 256;
}

json_t *journal_read(sqlite3 *db, int64_t since,
	const struct topic_list *topics, int limit, size_t max_bytes,
	int64_t *last, struct ferr *err)
{
	sqlite3_stmt *st = NULL;
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
	if (journal_range_prepare(db, &st) < 0) {
		db_fail(db, sqlite3_errcode(db), "journal read", err);
		goto out;
	}
	journal_range_bind(st, since, INT64_MAX,
		filtered && limit < JOURNAL_SCAN_MAX ? JOURNAL_SCAN_MAX : limit);
	while ((int)json_array_size(events) < limit) {
		const char *topic, *id;
		json_t *ev;

		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			db_fail(db, rc, "journal read", err);
			goto out;
		}
		topic = (const char *)sqlite3_column_text(st, 2);
		id = (const char *)sqlite3_column_text(st, 4);
		if (filtered && !topic_list_match(topics, topic ? topic : "",
			id)) {
			seq = sqlite3_column_int64(st, 0);
			continue;
		}
		/* The answer stops before the event that would take it past
		 * its budget, unless it is the first: one record always
		 * fits (its size is bounded by body_limit). */
		bytes += row_bytes(st);
		if (max_bytes > 0 && bytes > max_bytes &&
		    json_array_size(events) > 0)
			break;
		seq = sqlite3_column_int64(st, 0);
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
	sqlite3_finalize(st);
	if (!ok) {
		json_decref(events);
		events = NULL;
	}
	return events;
}

int journal_prune(sqlite3 *db, long keep_days, long keep_rows, long batch,
	long *deleted, struct ferr *err)
{
	/* A row goes when it is older than the cutoff (if any) and not among
	 * the newest keep_rows (if any). ts grows with seq, so scanning by
	 * seq finds the old rows first without an index on ts. */
	static const char sql[] = "DELETE FROM journal WHERE seq IN ("
		"SELECT seq FROM journal"
		" WHERE (?1 IS NULL OR ts < ?1)"
		" AND (?2 <= 0 OR seq < coalesce((SELECT seq FROM journal"
		" ORDER BY seq DESC LIMIT 1 OFFSET ?2 - 1), -1))"
		" ORDER BY seq LIMIT ?3)";
	sqlite3_stmt *st = NULL;
	char cutoff[UTIL_TS_LEN];
	long total = 0;
	int rc, result = -1, changes;

	if (batch <= 0)
		batch = 1000;
	if (keep_days > 0)
		util_ts_format(util_now_ms() - (int64_t)keep_days * 86400000,
			cutoff);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, "journal prune", err);
		goto out;
	}
	if (keep_days > 0)
		sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keep_rows);
	sqlite3_bind_int64(st, 3, batch);
	do {
		if (db_begin(db, err) < 0)
			goto out;
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			db_fail(db, rc, "journal prune", err);
			db_rollback(db);
			goto out;
		}
		changes = sqlite3_changes(db);
		if (db_commit(db, err) < 0)
			goto out;
		total += changes;
	} while (changes >= batch);
	result = 0;
out:
	sqlite3_finalize(st);
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

int journal_range_prepare(sqlite3 *db, sqlite3_stmt **st)
{
	static const char sql[] = "SELECT " JOURNAL_COLUMNS " FROM journal"
		" WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3";

	*st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}

void journal_range_bind(sqlite3_stmt *st, int64_t after, int64_t upto,
	int limit)
{
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	sqlite3_bind_int(st, 3, limit);
}
