/* backup.h - a consistent copy of a live database with SQLite's online backup API. */
#ifndef FP_BACKUP_H
#define FP_BACKUP_H

#include <stdint.h>
#include <sqlite3.h>
#include "ferr.h"

/* What backup_copy reports after each step: pages copied so far and the
 * database's size in pages. */
typedef void (*backup_progress_cb)(long done, long total, void *arg);

/* What one backup_copy is asked to do. */
struct backup_opts {
	int overwrite;                /* replace an existing file at path */
	int step_pages;               /* pages copied per step; <= 0: 1024 */
	long busy_ms;                 /* give up after this long busy */
	backup_progress_cb progress_cb; /* may be NULL */
	void *arg;                    /* for progress_cb */
};

/* What a finished backup holds. */
struct backup_result {
	long pages;
	long page_size;
	int64_t seq;                  /* the newest journal seq it holds */
};

/*
 * backup_copy copies the database of src (borrowed, not inside a
 * transaction) into a new file at path, step by step while other
 * connections go on writing: one read transaction on src spans every step,
 * so the copy is the database as it stood when the copy began (with WAL,
 * writers are not held up; only checkpoints wait). A step that finds the
 * database busy or locked is tried again until opts->busy_ms pass. The
 * copy is written to a temporary file beside path, synced, switched to a
 * rollback journal so it stands alone, and only then named path; a
 * failure leaves no file behind. path is refused (409 file_exists) when it
 * exists, unless opts->overwrite. The file gets mode 0600. Returns 0 with
 * *res filled, or -1 with err set (messages name files: for the admin).
 */
int backup_copy(sqlite3 *src, const char *path,
	const struct backup_opts *opts, struct backup_result *res,
	struct ferr *err);

#endif
