/* dbx.h - one statement interface over the two stores: SQLite (embedded, the default) and PostgreSQL (libpq). */
#ifndef FP_DBX_H
#define FP_DBX_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "config.h"
#include "ferr.h"

/*
 * Modules that run the same SQL on both stores go through dbx: prepare,
 * bind, step, read columns, as with SQLite. SQL is written once with
 * SQLite's numbered parameters (?1, ?2; a bare ? takes the next number)
 * and dbx turns them into PostgreSQL's $1, $2 outside of quotes (so
 * flowpush's SQL has no comments, dollar quotes or jsonb ? operators,
 * where a ? would be taken for a parameter; at most 65535). Where
 * the two dialects differ the caller asks dbx_kind() and passes the
 * statement of its store.
 *
 * On PostgreSQL a statement runs at its first step with the parameters
 * bound then (as text); its rows are read from the whole result, which
 * callers bound with LIMIT. Reset keeps the bindings, as SQLite's does.
 * A statement run a second time (one a caller keeps, such as the store's
 * inserts and lookups) is prepared on the server then, and runs as a
 * prepared statement from then on: PostgreSQL parses and plans it once
 * per session instead of at every run.
 */

enum dbx_kind { DBX_SQLITE, DBX_PG };

/* dbx_step's answers. */
enum { DBX_ERROR = -1, DBX_DONE = 0, DBX_ROW = 1 };

struct pg_conn;
struct dbx_stmt;

/* A connection. Open it with dbx_open, or give an SQLite handle that
 * stays the caller's the interface with dbx_init_sqlite (no allocation:
 * it may live on the stack or in another struct). */
struct dbx {
	enum dbx_kind kind;
	sqlite3 *db;                  /* SQLite */
	int owned;                    /* dbx_close closes db and frees x */
	struct pg_conn *pg;           /* PostgreSQL (libpq's PGconn) */
	int64_t changes;              /* PostgreSQL: of the last command */
	int unique;                   /* the last failed step broke a
					 constraint (unique key, check) */
	int no_reconnect;             /* PostgreSQL: a lost connection stays
					 lost (its owner reopens it: a
					 LISTENing one must LISTEN again) */
	int txn;                      /* PostgreSQL: inside dbx_begin's
					 transaction (a lost connection then
					 fails it; it never reconnects) */
	unsigned session;             /* PostgreSQL: counts reconnects; a
					 statement prepared on the server
					 belongs to one session */
	unsigned prepared;            /* PostgreSQL: names given so far */
	long long lock_timeout_ms;    /* PostgreSQL: set on every session */
};

/*
 * dbx_open connects to cfg->database: SQLite through db_open (flags as
 * there: DB_READONLY, DB_CREATE), PostgreSQL through libpq (flags
 * ignored; the server's roles decide). Returns the connection, or NULL
 * with err set: 503 database_unavailable when the server cannot be
 * reached (the message names no password), 500 otherwise.
 */
struct dbx *dbx_open(const struct config *cfg, int flags, struct ferr *err);

/* dbx_init_sqlite gives the open SQLite connection db the dbx interface
 * in x without taking it. */
void dbx_init_sqlite(struct dbx *x, sqlite3 *db);

/* dbx_close closes what dbx_open opened; of an x set by dbx_init_sqlite
 * it closes nothing. */
void dbx_close(struct dbx *x);

/* dbx_disconnect closes the PostgreSQL connection of x, which stays in
 * place (a struct the caller keeps); nothing for SQLite. */
void dbx_disconnect(struct dbx *x);

enum dbx_kind dbx_kind(const struct dbx *x);

/* dbx_sqlite is the SQLite handle of x, NULL on PostgreSQL. */
sqlite3 *dbx_sqlite(struct dbx *x);

/* dbx_prepare compiles sql for x. Returns 0, or -1 with err set and *out
 * NULL; what names the statement in the log. */
int dbx_prepare(struct dbx *x, const char *sql, const char *what,
	struct dbx_stmt **out, struct ferr *err);

/* Bindings are copied; i counts from 1. */
void dbx_bind_text(struct dbx_stmt *st, int i, const char *text);
void dbx_bind_int64(struct dbx_stmt *st, int i, int64_t v);
void dbx_bind_null(struct dbx_stmt *st, int i);
void dbx_bind_double(struct dbx_stmt *st, int i, double v);
/* SQLite: a zero-length BLOB (sorts after every text); PostgreSQL: NULL. */
void dbx_bind_empty_blob(struct dbx_stmt *st, int i);

/* dbx_step runs or advances st: DBX_ROW, DBX_DONE, or DBX_ERROR with err
 * set (503 busy_database on a lock wait, a serialization failure or a
 * deadlock; 503 database_unavailable on a lost connection; 409
 * conflict on a broken constraint, naming no field: callers that expect
 * one check dbx_unique_violation first; 500 otherwise). */
int dbx_step(struct dbx_stmt *st, struct ferr *err);

/* dbx_unique_violation is non-zero when the last failed step of x broke
 * a constraint (a unique key, a check, NOT NULL). */
int dbx_unique_violation(const struct dbx *x);

/* dbx_column_type's answers. */
enum dbx_type { DBX_NULL, DBX_INTEGER, DBX_FLOAT, DBX_TEXT, DBX_BLOB };

int dbx_column_count(struct dbx_stmt *st);
/* The type of the current row's value (SQLite) or of the column
 * (PostgreSQL: integer types, floating types and numeric, else text). */
enum dbx_type dbx_column_type(struct dbx_stmt *st, int col);
double dbx_column_double(struct dbx_stmt *st, int col);
int dbx_column_null(struct dbx_stmt *st, int col);
/* NULL for SQL NULL; valid until the next step, reset or finalize. */
const char *dbx_column_text(struct dbx_stmt *st, int col);
/* Bytes of the column's text (0 for NULL). */
size_t dbx_column_bytes(struct dbx_stmt *st, int col);
int64_t dbx_column_int64(struct dbx_stmt *st, int col);

/* dbx_reset makes st ready to run again with its bindings;
 * dbx_clear_bindings drops them (unbound parameters are NULL). */
void dbx_reset(struct dbx_stmt *st);
void dbx_clear_bindings(struct dbx_stmt *st);
void dbx_finalize(struct dbx_stmt *st);

/* dbx_changes is the row count of the last INSERT, UPDATE or DELETE run
 * on x. */
int64_t dbx_changes(struct dbx *x);

/* dbx_exec runs sql (no parameters, no rows wanted; several statements
 * allowed). Returns 0, or -1 with err set. */
int dbx_exec(struct dbx *x, const char *sql, const char *what,
	struct ferr *err);

/* dbx_begin opens a write transaction (SQLite: BEGIN IMMEDIATE;
 * PostgreSQL: BEGIN, READ COMMITTED), dbx_commit ends it (rolling back
 * when the commit fails), dbx_rollback drops it when one is open. */
int dbx_begin(struct dbx *x, struct ferr *err);
int dbx_commit(struct dbx *x, struct ferr *err);
void dbx_rollback(struct dbx *x);

/* dbx_begin_read opens a read transaction: SQLite BEGIN (deferred);
 * PostgreSQL one REPEATABLE READ READ ONLY snapshot, which a lost
 * connection ends with an error (never a quiet new connection). End it
 * with dbx_commit. */
int dbx_begin_read(struct dbx *x, struct ferr *err);

/* dbx_in_txn is non-zero while a transaction is open on x. */
int dbx_in_txn(struct dbx *x);

/*
 * dbx_pg_socket is the PostgreSQL connection's socket, to wait on for
 * notifications (LISTEN), or -1 (SQLite, or no connection);
 * dbx_pg_notified consumes input and returns how many notifications
 * arrived since the last call, or -1 when the connection is lost.
 */
int dbx_pg_socket(struct dbx *x);
int dbx_pg_notified(struct dbx *x);

#endif
