/* pgschema.h - the PostgreSQL store's tables: the journal, its counter and the doorbell trigger. */
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

#endif
