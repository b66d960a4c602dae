/* pgschema.h - the PostgreSQL store's tables: records, counters, search, the journal and its doorbell. */
#ifndef FP_PGSCHEMA_H
#define FP_PGSCHEMA_H

#include "dbx.h"
#include "ferr.h"

/* The channel a commit that journaled anything NOTIFYs; daemons LISTEN on
 * it (no payload: they read the journal). */
#define PGSCHEMA_CHANNEL "flowpush_journal"

/*
 * pgschema_journal creates, when missing, the journal of a PostgreSQL
 * store in one transaction under an advisory lock (several processes may
 * start at once):
 *   journal_seq(one BOOLEAN PRIMARY KEY, seq BIGINT): one row, the newest
 *     seq; journal_append takes the next one from it in the writer's
 *     transaction, so appends are serialised by its row lock and commit
 *     in seq order, and a rolled-back append gives its number back;
 *   journal(seq BIGINT PRIMARY KEY, ts, topic, action, id, version, actor,
 *     data, prev): the columns of the SQLite journal (common/journal.h),
 *     data and prev as the exact text written;
 *   a statement trigger that NOTIFYs PGSCHEMA_CHANNEL.
 * Returns 0, or -1 with err set.
 */
int pgschema_journal(struct dbx *x, struct ferr *err);

/* The version of the tables pgschema_records makes. */
#define PGSCHEMA_VERSION 1

/*
 * pgschema_records makes, when the store is older than PGSCHEMA_VERSION,
 * the journal (as above) and the records' tables in one transaction under
 * the same advisory lock: per collection a table of the SQLite store's
 * columns (rk, id, version, created_at, updated_at, data as JSON text,
 * secret) with generated columns doc (data as jsonb, which every
 * expression below reads) and search (the searchable fields, A-Z
 * folded) under a pg_trgm GIN index, the unique, sort and filter-and-sort
 * indexes of the resource table (expressions from listq_*_expr), and
 * triggers that keep counts(topic, key, n) as the SQLite store's do.
 * flowpush_schema(version) says what is made; an open that finds the
 * current version costs one query. Returns 0, or -1 with err set
 * (schema_too_new when the store is newer than this program).
 */
int pgschema_records(struct dbx *x, struct ferr *err);

#endif
