/* db.h - the SQLite connection: opening with the pragmas every process needs, transactions, errors. */
#ifndef FP_DB_H
#define FP_DB_H

#include <sqlite3.h>
#include "config.h"
#include "ferr.h"

enum db_flags {
	DB_READWRITE = 0,
	DB_READONLY = 1,  /* flowpushd: never writes */
	DB_CREATE = 2,    /* create the file if missing (flowpush init) */
	DB_MAP = 4,       /* read through the process's map (mmap_mb) */
};

/*
 * db_open opens cfg->database: WAL, synchronous=NORMAL, foreign_keys=ON,
 * busy_timeout from the config. It knows no tables: schema_open
 * (common/schema.h) opens and migrates. Returns the handle (close with
 * sqlite3_close_v2), or NULL with err set (503 when the file is busy, 500
 * otherwise; the message names the file, not SQLite's text).
 */
sqlite3 *db_open(const struct config *cfg, int flags, struct ferr *err);

/* db_exec runs sql (no rows) and returns 0, or -1 with err set through
 * db_fail; what names the operation for the log. */
int db_exec(sqlite3 *db, const char *sql, const char *what,
	struct ferr *err);

/* db_user_version reads PRAGMA user_version into *version; 0 or -1. */
int db_user_version(sqlite3 *db, int *version, struct ferr *err);

/* db_name_file makes a 500 internal_error in err name the database file
 * path instead, for errors met while opening it. */
void db_name_file(struct ferr *err, const char *path);

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
