/* journal.h - the change journal: appending in the writer's transaction. */
#ifndef FP_JOURNAL_H
#define FP_JOURNAL_H

#include <stdint.h>
#include "dbx.h"
#include <jansson.h>
#include "ferr.h"
#include "topic.h"

/*
 * The table (created by schema_migrate):
 *   journal(seq INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL,
 *           topic TEXT NOT NULL, action TEXT NOT NULL, id TEXT,
 *           version INTEGER, actor TEXT, data TEXT, prev TEXT)
 * The event JSON (API /api/changes and push) is
 *   {"seq":N,"topic":..,"action":..,"id":..,"version":..,"ts":..,
 *    "actor":..,"data":<data parsed>}
 */

/* The columns every reader selects, in the order journal_event_json reads
 * them. prev (version 3) holds what a change replaced, see store.c. */
#define JOURNAL_COLUMNS "seq, ts, topic, action, id, version, actor, data, prev"

/*
 * journal_write_lock takes, at the start of a write transaction on
 * PostgreSQL, the row lock of journal_seq that journal_append would take
 * later: writers then run one at a time from their first statement, as
 * SQLite's BEGIN IMMEDIATE makes them, and two writers can never hold the
 * counters and the journal in opposite orders (a deadlock). Nothing on
 * SQLite. Returns 0, or -1 with err set.
 */
int journal_write_lock(struct dbx *x, struct ferr *err);

/*
 * journal_append inserts one row inside the caller's open transaction.
 * data and prev (borrowed, may be NULL) must already be free of secrets;
 * prev is the object of the values the change replaced, events carry it
 * as "prev". id may be NULL and a negative version is stored as NULL
 * (dashboard rows). keep, when not NULL, holds the prepared statement
 * between calls on x (NULL at first; the caller finalizes it before
 * closing x); NULL prepares one for this call. Returns 0 and the new seq
 * in *seq (may be NULL), or -1 with err set.
 */
int journal_append(struct dbx *x, struct dbx_stmt **keep, const char *topic,
	const char *action, const char *id, int64_t version, const char *actor,
	json_t *data, json_t *prev, int64_t *seq, struct ferr *err);

/* journal_last_seq gives the newest seq ever committed (SQLite:
 * sqlite_sequence, PostgreSQL: the counter journal_seq; pruning everything
 * rewinds neither), 0 if none. */
int journal_last_seq(struct dbx *x, int64_t *seq, struct ferr *err);

/* journal_first_seq gives the oldest seq still kept, or 0 when empty. */
int journal_first_seq(struct dbx *x, int64_t *seq, struct ferr *err);

/*
 * journal_newest_floor gives in *floor the seq above which the newest
 * rows, at most max_rows of them, hold at most max_bytes of data and prev
 * text together (the newest row always counts, however large): where a
 * reader keeping the newest events within a budget starts. 0 when the
 * whole journal fits. Returns 0 or -1 with err set.
 */
int journal_newest_floor(struct dbx *x, int64_t max_rows, int64_t max_bytes,
	int64_t *floor, struct ferr *err);

/*
 * journal_reset_due is the one reset rule: non-zero when a client that has
 * seen every event up to since must refetch instead of following, given
 * the oldest kept seq first (0: none kept) and the newest seq ever written
 * last. That is when since is ahead of last (a database recreated under
 * it) or when events after since were pruned. The API, the push daemon and
 * the CLI all answer the same since the same way.
 */
int journal_reset_due(int64_t since, int64_t first, int64_t last);

/*
 * journal_read returns a new JSON array of the events with seq > since that
 * topics (NULL = all) match, oldest first, at most limit events and, past
 * the first, at most max_bytes of stored event text (0: no byte bound);
 * *last is set to the seq the next call should pass as since (the last
 * seq examined, so filtered-out rows are not read again). Rows whose data
 * cannot be parsed are skipped with a log line.
 */
json_t *journal_read(struct dbx *x, int64_t since,
	const struct topic_list *topics, int limit, size_t max_bytes,
	int64_t *last, struct ferr *err);

/* journal_event_json builds the event object from one row of
 * "SELECT " JOURNAL_COLUMNS " FROM journal" (columns 0..7, and prev as
 * column 8 when the statement has it). Returns a new reference or NULL. */
json_t *journal_event_json(struct dbx_stmt *stmt);

/*
 * journal_prune deletes rows older than keep_days (0 = no age limit) while
 * more than keep_rows remain (0 = no count limit), in transactions of at
 * most batch rows so writers are never blocked for long. *deleted gets the
 * count. Returns 0 or -1 with err set.
 */
int journal_prune(struct dbx *x, long keep_days, long keep_rows, long batch,
	long *deleted, struct ferr *err);

/* journal_doorbell rings flowpushd: one byte to the Unix datagram socket at
 * path, non-blocking; every error is ignored (the daemon also polls). */
void journal_doorbell(const char *path);

/*
 * journal_range_prepare prepares the one range read of the journal: the
 * rows with after < seq <= upto, oldest first, at most limit, columns as
 * JOURNAL_COLUMNS; bind them with journal_range_bind. The statement is
 * the caller's to finalize (dbx_finalize). Returns 0, or -1 with *st
 * NULL and err set.
 */
int journal_range_prepare(struct dbx *x, struct dbx_stmt **st,
	struct ferr *err);

/* journal_range_bind sets the range of a journal_range_prepare statement
 * (reset between reads). */
void journal_range_bind(struct dbx_stmt *st, int64_t after, int64_t upto,
	int limit);

#endif
