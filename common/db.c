/* db.c - the SQLite connection: opening with the shared pragmas, transactions, errors. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "dbmap.h"

/* fail_readonly sets the 503 of a database that cannot be written now. */
static int fail_readonly(struct ferr *err)
{
	int was_set = ferr_is_set(err);

	ferr_set(err, 503, "storage_readonly", "The database cannot be "
		"written now (read-only); try again later.");
	if (!was_set && err != NULL)
		err->retry_after = 30;
	return -1;
}

int db_fail(sqlite3 *db, int rc, const char *what, struct ferr *err)
{
	int prim = rc & 0xff;
	int was_set = ferr_is_set(err);

	log_msg(prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? LOG_WARN :
		LOG_ERROR, "%s: %s (sqlite %d)", what != NULL ? what : "sqlite",
		db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
		ferr_set(err, 503, "busy_database",
			"The database is busy; try again shortly.");
		if (!was_set && err != NULL)
			err->retry_after = 1;
		return -1;
	}
	/* Storage faults an operator can fix (and that end by themselves
	 * once fixed: nothing is cached) get names of their own. */
	if (prim == SQLITE_READONLY)
		return fail_readonly(err);
	if (prim == SQLITE_FULL)
		return ferr_set(err, 507, "storage_full", "The database's disk "
			"is full; nothing was written.");
	return ferr_set(err, 500, "internal_error", "Internal error.");
}

int db_exec(sqlite3 *db, const char *sql, const char *what,
	struct ferr *err)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, what, err);
	return 0;
}

int db_begin(sqlite3 *db, struct ferr *err)
{
	return db_exec(db, "BEGIN IMMEDIATE", "begin", err);
}

int db_commit(sqlite3 *db, struct ferr *err)
{
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	db_fail(db, rc, "commit", err);
	/* The callee cleans up on its own failure: a transaction left open
	 * would hold the write lock for the next request. */
	db_rollback(db);
	return -1;
}

void db_rollback(sqlite3 *db)
{
	if (db != NULL && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int db_user_version(sqlite3 *db, int *version, struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	int rc, result = -1;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, "read user_version", err);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(db, rc, "read user_version", err);
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	result = 0;
out:
	sqlite3_finalize(st);
	return result;
}

/* db_pragma_text runs a pragma that answers one text row. */
static int db_pragma_text(sqlite3 *db, const char *sql, char *out, size_t n,
	struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	int rc, result = -1;
	const unsigned char *t;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, sql, err);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, rc, sql, err);
		goto out;
	}
	t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	snprintf(out, n, "%s", t != NULL ? (const char *)t : "");
	result = 0;
out:
	sqlite3_finalize(st);
	return result;
}

/* db_vfs names the VFS a connection opens through: with mmap_mb set,
 * the one that reads through one map per process (dbmap.c), so that a
 * page read by one of flowpush.fcgi's threads costs the others nothing
 * and a commit elsewhere does not drop it. SQLite's own memory map is per
 * connection and dropped at every commit of another connection: 16
 * threads each faulting the same pages in again made searches at a
 * million records slower at p99 than reading them (docs/BENCHMARKS.md). */
static const char *db_vfs(const struct config *cfg)
{
	unsigned long long bytes = (unsigned long long)cfg->mmap_mb << 20;

	if (cfg->mmap_mb <= 0)
		return NULL;
	/* Address space, not memory; a 32-bit process has little of it. */
	if (bytes > SIZE_MAX / 4)
		bytes = SIZE_MAX / 4;
	if (dbmap_register((size_t)bytes) < 0) {
		log_msg(LOG_WARN, "mmap_mb: SQLite has no VFS to map "
			"through; reading without a map");
		return NULL;
	}
	return DBMAP_VFS;
}

/* db_mmap turns on reads through the map for a connection opened through
 * db_vfs (SQLite fetches pages only while its mmap_size is above 0; the
 * VFS answers how much is mapped). */
static int db_mmap(sqlite3 *db, const char *vfs, struct ferr *err)
{
	if (vfs == NULL)
		return 0;
	return db_exec(db, "PRAGMA mmap_size=1048576", "mmap_size", err);
}

void db_name_file(struct ferr *err, const char *path)
{
	/* Name the file rather than say nothing useful. */
	if (err != NULL && err->status == 500 &&
	    strcmp(err->code, "internal_error") == 0)
		snprintf(err->message, sizeof(err->message),
			"Cannot open the database %s.", path);
}

sqlite3 *db_open(const struct config *cfg, int flags, struct ferr *err)
{
	sqlite3 *db = NULL;
	int oflags, rc, ok = 0;
	char mode[32];
	const char *path = cfg->database, *vfs;

	/* Not a file: SQLite would make one of that name. Records, lists and
	 * the CLI's commands are not on PostgreSQL yet (docs/SCALING.md). */
	if (config_database_is_pg(path)) {
		ferr_set(err, 501, "database_unsupported", "This program cannot "
			"use a PostgreSQL database yet (only flowpushd can); "
			"set database to an SQLite file.");
		return NULL;
	}
	if (flags & DB_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE;
	if ((flags & DB_CREATE) && !(flags & DB_READONLY))
		oflags |= SQLITE_OPEN_CREATE;
	vfs = (flags & DB_MAP) ? db_vfs(cfg) : NULL;
	rc = sqlite3_open_v2(path, &db, oflags, vfs);
	if (rc != SQLITE_OK) {
		log_msg(LOG_ERROR, "open %s: %s", path,
			db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		if ((rc & 0xff) == SQLITE_BUSY)
			db_fail(NULL, rc, "open", err);
		else
			ferr_set(err, 500, "database_unavailable",
				"Cannot open the database %s.", path);
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)cfg->busy_timeout_ms);
	if (!(flags & DB_READONLY)) {
		/* Asking for WAL takes a lock that the busy handler does not
		 * wait for; ask only when the file is not in WAL yet (a new
		 * file), and retry briefly while another opener converts it. */
		if (db_pragma_text(db, "PRAGMA journal_mode", mode,
			sizeof(mode), err) < 0)
			goto out;
		for (int i = 0; strcmp(mode, "wal") != 0 && i < 50; i++) {
			struct ferr e2;

			ferr_init(&e2);
			if (db_pragma_text(db, "PRAGMA journal_mode=WAL", mode,
			    sizeof(mode), &e2) < 0)
				sqlite3_sleep(20);
			ferr_release(&e2);
		}
		if (strcmp(mode, "wal") != 0) {
			log_msg(LOG_ERROR, "%s: journal_mode is %s, not wal",
				path, mode);
			ferr_set(err, 500, "database_unavailable",
				"Cannot use WAL mode on the database %s.",
				path);
			goto out;
		}
	}
	if (db_exec(db, "PRAGMA synchronous=NORMAL", "synchronous", err) < 0 ||
	    db_exec(db, "PRAGMA foreign_keys=ON", "foreign_keys", err) < 0 ||
	    db_mmap(db, vfs, err) < 0)
		goto out;
	ok = 1;
out:
	if (!ok && !(flags & DB_READONLY) && access(path, W_OK) != 0 &&
	    errno == EROFS) {
		/* A write-mode open fails on a read-only file system (WAL
		 * cannot make its index): say so, not "cannot open". */
		if (err != NULL)
			ferr_release(err);
		fail_readonly(err);
	} else if (!ok) {
		db_name_file(err, path);
	}
	if (!ok) {
		sqlite3_close_v2(db);
		db = NULL;
	}
	return db;
}
