/* backup.c - a consistent copy of a live database with SQLite's online backup API. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "config.h"
#include "db.h"
#include "dbx.h"
#include "journal.h"
#include "util.h"

#define BACKUP_STEP_PAGES 1024
#define BACKUP_NAP_MS 20

/* fail_file sets the error of a file operation on path. Returns -1. */
static int fail_file(struct ferr *err, const char *what, const char *path)
{
	return ferr_set(err, 500, "backup_failed", "Cannot %s %s: %s.", what,
		path, strerror(errno));
}

/* fail_copy sets the error of an SQLite step of the copy: a full disk
 * is named as such, other codes by SQLite's short text (the admin reads
 * it, no client). Returns -1. */
static int fail_copy(int rc, struct ferr *err)
{
	if ((rc & 0xff) == SQLITE_FULL)
		return ferr_set(err, 507, "storage_full", "The disk of the "
			"backup is full; no backup was written.");
	return ferr_set(err, 500, "backup_failed", "The copy failed (%s); "
		"no backup was written.", sqlite3_errstr(rc));
}

/* check_target refuses a path that is the source database or one in
 * use (its -wal beside it), and, without overwrite, any existing path.
 * Returns 0 or -1 with err set. */
static int check_target(sqlite3 *src, const char *path, int overwrite,
	struct ferr *err)
{
	const char *db = sqlite3_db_filename(src, "main");
	struct stat a, b;
	char wal[4096];

	if (lstat(path, &a) != 0)
		return 0;
	if (db != NULL && stat(db, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return ferr_set(err, 409, "file_exists", "%s is the database "
			"itself; back it up to another file.", path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (lstat(wal, &b) == 0)
		return ferr_set(err, 409, "file_exists", "%s has a -wal file "
			"beside it: a database in use. Stop what uses it, or "
			"back up to another file.", path);
	if (!overwrite)
		return ferr_set(err, 409, "file_exists", "%s exists; give "
			"--force to replace it.", path);
	return 0;
}

/* temp_create makes a new empty file "<path>.tmp-XXXXXX" (mode 0600)
 * and returns its name (the caller frees), or NULL with err set. */
static char *temp_create(const char *path, struct ferr *err)
{
	size_t n = strlen(path) + sizeof(".tmp-XXXXXX");
	char *tmp = malloc(n);
	int fd;

	if (tmp == NULL) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		return NULL;
	}
	snprintf(tmp, n, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fail_file(err, "create a file beside", path);
		free(tmp);
		return NULL;
	}
	close(fd);
	return tmp;
}

/* sync_path flushes the file (or folder) at path to the disk. */
static int sync_path(const char *path, int folder, struct ferr *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (folder ? O_DIRECTORY : 0));
	int rc;

	if (fd < 0)
		return fail_file(err, "open", path);
	rc = fsync(fd);
	close(fd);
	return rc == 0 ? 0 : fail_file(err, "sync", path);
}

/* place gives the finished copy tmp its name path: replacing what is
 * there with overwrite, else never (link fails on an existing name, so
 * a file that appeared meanwhile is not lost). Returns 0 or -1. */
static int place(const char *tmp, const char *path, int overwrite,
	struct ferr *err)
{
	char *dir;
	int rc;

	if (overwrite) {
		if (rename(tmp, path) < 0)
			return fail_file(err, "write", path);
	} else if (link(tmp, path) < 0) {
		if (errno == EEXIST)
			return ferr_set(err, 409, "file_exists", "%s exists; "
				"give --force to replace it.", path);
		return fail_file(err, "write", path);
	} else {
		unlink(tmp);
	}
	dir = config_path_dir(path, CONFIG_DIR_AS_WRITTEN);
	if (dir == NULL)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	rc = sync_path(dir, 1, err);
	free(dir);
	return rc;
}

/* step_all runs the backup's steps to the end, reporting progress and
 * waiting out a busy or locked database for at most o->busy_ms. */
static int step_all(sqlite3_backup *b, const struct backup_opts *o,
	struct ferr *err)
{
	struct timespec nap = { 0, BACKUP_NAP_MS * 1000000L };
	int pages = o->step_pages > 0 ? o->step_pages : BACKUP_STEP_PAGES;
	int64_t busy_since = 0, now;
	int rc;

	for (;;) {
		rc = sqlite3_backup_step(b, pages);
		if (rc == SQLITE_OK || rc == SQLITE_DONE) {
			long total = sqlite3_backup_pagecount(b);

			busy_since = 0;
			if (o->progress_cb != NULL)
				o->progress_cb(total - sqlite3_backup_remaining(
					b), total, o->arg);
			if (rc == SQLITE_DONE)
				return 0;
			continue;
		}
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return fail_copy(rc, err);
		now = util_mono_ms();
		if (busy_since == 0)
			busy_since = now;
		else if (now - busy_since > o->busy_ms)
			return ferr_set(err, 503, "busy_database", "The "
				"database stayed busy for %ld ms; no backup "
				"was written.", o->busy_ms);
		nanosleep(&nap, NULL);
	}
}

/* copy_snapshot copies src into dst inside one read transaction on src
 * and gives the newest seq of that snapshot and the copy's size. */
static int copy_snapshot(sqlite3 *src, sqlite3 *dst,
	const struct backup_opts *o, struct backup_result *res,
	struct ferr *err)
{
	sqlite3_backup *b;
	struct dbx x;
	int rc, result = -1;

	/* The read of the seq opens the snapshot that every step copies:
	 * writes of other connections after it are not in the copy, and
	 * do not make the copy start over. */
	if (db_exec(src, "BEGIN", "backup", err) < 0)
		return -1;
	dbx_init_sqlite(&x, src);
	if (journal_last_seq(&x, &res->seq, err) < 0)
		goto out;
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (b == NULL) {
		fail_copy(sqlite3_errcode(dst), err);
		goto out;
	}
	rc = step_all(b, o, err);
	res->pages = sqlite3_backup_pagecount(b);
	if (sqlite3_backup_finish(b) != SQLITE_OK && rc == 0)
		rc = fail_copy(sqlite3_errcode(dst), err);
	result = rc;
out:
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	return result;
}

/* finish_copy makes the copy stand alone (a rollback journal: no -wal
 * file needed beside it) and reads its page size. */
static int finish_copy(sqlite3 *dst, struct backup_result *res,
	struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
		NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(dst, "PRAGMA page_size", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		res->page_size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : fail_copy(rc, err);
}

int backup_copy(sqlite3 *src, const char *path,
	const struct backup_opts *opts, struct backup_result *res,
	struct ferr *err)
{
	sqlite3 *dst = NULL;
	char *tmp = NULL;
	int rc, result = -1;

	memset(res, 0, sizeof(*res));
	if (check_target(src, path, opts->overwrite, err) < 0)
		return -1;
	tmp = temp_create(path, err);
	if (tmp == NULL)
		return -1;
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		fail_copy(rc, err);
		goto out;
	}
	if (copy_snapshot(src, dst, opts, res, err) < 0 ||
	    finish_copy(dst, res, err) < 0)
		goto out;
	rc = sqlite3_close(dst);
	dst = NULL;
	if (rc != SQLITE_OK) {
		fail_copy(rc, err);
		goto out;
	}
	if (sync_path(tmp, 0, err) < 0 ||
	    place(tmp, path, opts->overwrite, err) < 0)
		goto out;
	result = 0;
out:
	if (dst != NULL)
		sqlite3_close(dst);
	/* After place() the name is gone (rename) or a second link. */
	unlink(tmp);
	free(tmp);
	return result;
}
