/* db.h - opening the SQLite database with the pragmas every process needs. */
#ifndef FP_DB_H
#define FP_DB_H

#include <sqlite3.h>
#include "config.h"
#include "ferr.h"

enum db_flags {
	DB_READWRITE = 0,
	DB_READONLY = 1,  /* flowpushd: never writes */
	DB_CREATE = 2,    /* create the file if missing (flowpush init) */
};

/*
 * db_open opens cfg->database: WAL, synchronous=NORMAL, foreign_keys=ON,
 * busy_timeout from the config. Unless DB_READONLY, it also migrates the
 * schema to the current version (PRAGMA user_version). Returns the handle
 * (close with sqlite3_close_v2), or NULL with err set (503 when the file is
 * busy, 500 otherwise; the message names the file, not SQLite's text).
 */
sqlite3 *db_open(const struct config *cfg, int flags, struct ferr *err);

/* db_migrate brings the schema to DB_SCHEMA_VERSION in one transaction. */
int db_migrate(sqlite3 *db, struct ferr *err);

#define DB_SCHEMA_VERSION 3

/*
 * schema_create (common/schema.c) creates the record tables. db_migrate
 * calls it inside its transaction when moving from version 0 to 1, after
 * the journal table exists. Returns 0 or -1 with err set.
 */
int schema_create(sqlite3 *db, struct ferr *err);

/*
 * schema_rebuild_derived (common/schema.c) fills the search tables and the
 * counters from the records, as the triggers would have, and drops the
 * indexes that version 2 kept for counting. db_migrate calls it inside its
 * transaction when moving an older file to version 3. Returns 0 or -1.
 */
int schema_rebuild_derived(sqlite3 *db, struct ferr *err);

/* db_begin starts BEGIN IMMEDIATE; db_commit and db_rollback end it.
 * They return 0 or -1 with err set (503 busy_database on SQLITE_BUSY). */
int db_begin(sqlite3 *db, struct ferr *err);
int db_commit(sqlite3 *db, struct ferr *err);
void db_rollback(sqlite3 *db);

/* db_fail maps an SQLite result code to err: BUSY/LOCKED -> 503 with
 * Retry-After, anything else -> 500 internal_error; the SQLite text is
 * logged, never returned. what names the operation for the log. Returns -1. */
int db_fail(sqlite3 *db, int rc, const char *what, struct ferr *err);

#endif
