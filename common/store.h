/* store.h - the generic CRUD engine over the resource table. */
#ifndef FP_STORE_H
#define FP_STORE_H

#include <stdint.h>
#include <sqlite3.h>
#include <jansson.h>
#include "backup.h"
#include "checkpoint.h"
#include "config.h"
#include "dbx.h"
#include "ferr.h"
#include "form.h"
#include "resource.h"
#include "topic.h"
#include "seal.h"
#include "txn.h"

/* A statement kept prepared: writes to the record tables compile their
 * triggers, which costs more than running them. */
struct store_stmt {
	char *sql;
	struct dbx_stmt *stmt;
	int busy;
};

#define STORE_STMTS 32

/* One store per thread: it owns one SQLite connection. */
struct store {
	sqlite3 *db;
	struct dbx x;                 /* db through the dbx interface */
	struct store_stmt stmts[STORE_STMTS];
	struct dbx_stmt *journal_stmt; /* journal_append's, kept */
	const struct resource *bulk;  /* the batch's bulk collection */
	int64_t bulk_rk;              /* its newest row key before */
	const struct config *cfg;     /* borrowed; outlives the store */
	struct txn_batch batch;       /* the batch open, if any */
	/* data_key (seals new secrets) and data_key_previous (still opens
	 * those sealed before a rekey) */
	struct seal_key keys[2];
	long long keys_mtime_ns;      /* the config file's, when they were
					 read: a rekey changes it */
};

/* What a write needs besides its body. */
struct store_write {
	const char *actor;            /* REMOTE_USER or NULL */
	long long if_match;           /* expected version, or -1 for none */
};

/* store_open opens (and migrates) the database of cfg. Returns 0, or -1
 * with err set: 503 when busy, else 500 with a message that does not name
 * the file (db_open logs it). */
int store_open(struct store *st, const struct config *cfg, struct ferr *err);
void store_close(struct store *st);

/* store_checkpoint_watch hands the WAL checkpoints of st's writes to c
 * (common/checkpoint.h), which must outlive the store; c NULL or not
 * started: SQLite's auto-checkpoint stays. */
void store_checkpoint_watch(struct store *st, struct checkpoint *c);


/* A read that spans several statements runs in one deferred transaction,
 * so that the seq it reports and the rows it returns are one snapshot:
 * store_read_begin opens it (0, or -1 with err set), store_read_end ends
 * it. */
int store_read_begin(struct store *st, struct ferr *err);
void store_read_end(struct store *st);

/* store_row_record turns the columns "id, version, created_at, updated_at,
 * data, secret" (from column first of stmt) into the record as the API
 * shows it: the secrets' flags (hasPassword), never the secrets, which it
 * does not open. New reference. */
json_t *store_row_record(const struct resource *res, struct dbx_stmt *stmt,
	int first);

/*
 * store_batch_begin opens one write transaction for many writes (bulk
 * loads). No write rings the doorbell or journals the dashboard until
 * store_batch_commit, which journals one dashboard row when a write moved
 * it, commits and rings once. A write that fails inside the batch fails
 * the batch: store_batch_commit then rolls it all back and says so.
 * bulk, when not NULL, is the collection the batch creates many records
 * of: their search rows are then added once, at the commit
 * (schema_bulk_begin). store_batch_rollback drops the whole batch. Both
 * return 0 or -1 with err set.
 */
int store_batch_begin(struct store *st, const struct resource *bulk,
	struct ferr *err);
int store_batch_commit(struct store *st, const struct store_write *w,
	struct ferr *err);
void store_batch_rollback(struct store *st);

/*
 * store_refresh_stats has the database look at its tables again after a
 * bulk load (demo --scale, import), so that its planner knows how few
 * rows a search matches: on PostgreSQL an ANALYZE, which autovacuum
 * would run only a while later (until then a search of a fresh million
 * rows may scan them). Nothing on SQLite, whose plans do not use such
 * statistics. Returns 0, or -1 with err set.
 */
int store_refresh_stats(struct store *st, struct ferr *err);

/* store_field_ignored is non-zero when writes ignore the top-level field
 * name of res in a body: the server-made id, version, createdAt and
 * updatedAt, the has<Secret> flags and the fields declared read-only. */
int store_field_ignored(const struct resource *res, const char *name);

/* store_get returns the record (new reference) or NULL with 404. */
json_t *store_get(struct store *st, const struct resource *res,
	const char *id, struct ferr *err);

/*
 * store_create validates body (borrowed) as a whole record, stores it with
 * its journal row (and dashboard row) in one transaction, rings the
 * doorbell and returns the record as GET would show it. Errors: 422
 * validation (fields named), 409 unique clash, 503 busy.
 */
json_t *store_create(struct store *st, const struct resource *res,
	json_t *body, const struct store_write *w, struct ferr *err);

/* store_replace is PUT (whole record), store_patch is PATCH (RFC 7396
 * merge patch). Both 404 on a missing record, 412 when w->if_match names
 * another version, then as store_create. */
json_t *store_replace(struct store *st, const struct resource *res,
	const char *id, json_t *body, const struct store_write *w,
	struct ferr *err);
json_t *store_patch(struct store *st, const struct resource *res,
	const char *id, json_t *patch, const struct store_write *w,
	struct ferr *err);

/*
 * store_import writes an exported record back (flowpush import): rec
 * (borrowed) is the whole record as GET showed it, with its id, version,
 * createdAt and updatedAt, which it keeps, as it keeps the server-made
 * fields (a campaign's status and times, its progress); secret fields
 * (password) are stored when present. Validation is store_create's with
 * those fields checked instead of made, and the record is journaled as
 * "created" at its version. Errors as store_create, plus 422 naming a
 * bad meta field and 409 when the id exists. Returns the record.
 */
json_t *store_import(struct store *st, const struct resource *res,
	json_t *rec, const struct store_write *w, struct ferr *err);

/* A record handed out by store_export (borrowed); returns 0, or -1 with
 * err set to stop. */
typedef int (*store_record_cb)(void *arg, const struct resource *res,
	json_t *rec, struct ferr *err);

/*
 * store_export hands every record of res to cb, oldest first (creation
 * time, then id), as GET shows it; with with_secrets each also carries
 * its secrets opened (proxies' "password"). Call it inside
 * store_read_begin for one snapshot of several collections. Returns 0,
 * or -1 with err set (by cb, or a secret no key opens).
 */
int store_export(struct store *st, const struct resource *res,
	int with_secrets, store_record_cb cb, void *arg, struct ferr *err);

/* store_delete removes a record (404, 412 as above). Deleting a proxy also
 * removes it from every pool in the same transaction. Returns 0 or -1. */
int store_delete(struct store *st, const struct resource *res,
	const char *id, const struct store_write *w, struct ferr *err);

/*
 * store_action moves a campaign along its state machine: action is one of
 * start, run, pause, resume, cancel, complete, fail, archive; body may be
 * NULL (fail reads errorMessage from it). 404 unknown campaign, 400 unknown
 * action, 409 forbidden transition. Returns the record.
 */
json_t *store_action(struct store *st, const char *id, const char *action,
	json_t *body, const struct store_write *w, struct ferr *err);


/* store_dashboard returns the aggregates with "seq" and "activity" (the
 * last 20 events), read in one transaction. */
json_t *store_dashboard(struct store *st, struct ferr *err);

/*
 * store_changes answers /api/changes without waiting: {"events":[..],
 * "seq":M}, or {"reset":true,"seq":M} when since is older than the oldest
 * kept row minus one or newer than the newest seq.
 */
json_t *store_changes(struct store *st, int64_t since,
	const struct topic_list *topics, int limit, struct ferr *err);

/* store_last_seq gives the newest journal seq (for long-poll waiting). */
int store_last_seq(struct store *st, int64_t *seq, struct ferr *err);

/* store_first_seq gives the oldest journal seq still kept, 0 when empty. */
int store_first_seq(struct store *st, int64_t *seq, struct ferr *err);

/*
 * store_journal_prune is journal_prune on the store's connection: it
 * deletes journal rows older than keep_days (0 = no age limit) while more
 * than keep_rows remain (0 = no count limit), in transactions of at most
 * batch rows. *deleted gets the count. Returns 0 or -1 with err set.
 */
int store_journal_prune(struct store *st, long keep_days, long keep_rows,
	long batch, long *deleted, struct ferr *err);

/*
 * store_backup copies the store's database into a new file at path while
 * the API goes on writing (common/backup.h, backup_copy, has the
 * contract): the copy holds every change up to res->seq and none after.
 * Returns 0 or -1 with err set.
 */
int store_backup(struct store *st, const char *path,
	const struct backup_opts *opts, struct backup_result *res,
	struct ferr *err);

/* What store_inspect found in a database file. */
struct store_health {
	char integrity[1024];         /* the first answer of SQLite's
					 integrity check ("ok"), or "" when
					 it did not run (PostgreSQL) */
	int version;                  /* the schema version, -1 if unread */
};

/*
 * store_inspect opens the database of cfg as store_open does (migrating
 * it), runs SQLite's integrity check, reads the schema version and closes
 * the file again: flowpush check. Unlike store_open it keeps db_open's
 * message, which names the file, since only the admin reads it. Returns 0
 * with *h filled, or -1 with err set when the file does not open.
 */
int store_inspect(const struct config *cfg, struct store_health *h,
	struct ferr *err);

/*
 * store_rekey seals again, with the current data key, every stored secret
 * that is not sealed with it (sealed with data_key_previous, or stored
 * before sealing), batch rows per transaction; progress_cb (may be NULL)
 * hears the running count after each batch. *done gets the count. The
 * records' versions do not change and nothing is journaled: a record's
 * content stays the same. 0, or -1 with err (400 no_data_key without a
 * current key).
 */
int store_rekey(struct store *st, long batch,
	void (*progress_cb)(long done, void *arg), void *arg, long *done,
	struct ferr *err);

/* store_unsealed counts the stored secrets not sealed with the current
 * data key (all of them without one). 0 or -1 with err. */
int store_unsealed(struct store *st, long *count, struct ferr *err);

/* store_reload_keys reads the data keys from the config file again
 * (flowpush rekey, after writing new ones). 0 or -1 with err. */
int store_reload_keys(struct store *st, struct ferr *err);

#endif
