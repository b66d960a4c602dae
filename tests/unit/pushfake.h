/* pushfake.h - test doubles for the daemon's layers: a transport that counts calls and records bytes, and a journal database in a temporary folder. */
#ifndef FP_PUSHFAKE_H
#define FP_PUSHFAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "conn.h"
#include "db.h"

/* What the fake transport saw, for every fake connection; frees are
 * counted here because the connection is gone by then. */
struct fake_counts {
	int frees;
};
extern struct fake_counts fake_counts;

/* A connection of the fake transport. */
struct fake_conn {
	struct conn c;             /* first: the core */
	int flushes, drops, heartbeats, resets, expires, shutdowns, abandons;
	uint16_t drop_code;
	int64_t reset_seq;
	char out[262144];          /* what flush took from the queue */
	size_t out_len;
	int stalled;               /* flush takes nothing (a full socket) */
};

/* fake_conn_new makes an unlinked fake connection of set. */
struct fake_conn *fake_conn_new(struct conn_set *set);

/* fake_out gives what c received so far as a string (borrowed). */
const char *fake_out(struct fake_conn *f);

/* fake_count counts the occurrences of needle in what c received. */
int fake_count(struct fake_conn *f, const char *needle);

/* A journal database of its own, in a temporary folder. */
struct fake_db {
	char dir[64];
	struct config cfg;
	sqlite3 *db;               /* the writer; NULL until created */
};

/* fake_db_setup loads the default config pointing at a database in a new
 * folder (no doorbell); with create, the database is made. 0 or -1. */
int fake_db_setup(struct fake_db *fx, int create);

/* fake_db_create makes the database (migrated, empty journal). */
void fake_db_create(struct fake_db *fx);

/* fake_db_teardown closes and removes everything. */
void fake_db_teardown(struct fake_db *fx);

/* fake_db_append commits one created event about id (may be NULL) in
 * topic and returns its seq. */
int64_t fake_db_append(struct fake_db *fx, const char *topic, const char *id);

/* fake_db_exec runs sql on the writer. */
void fake_db_exec(struct fake_db *fx, const char *sql);

#endif
