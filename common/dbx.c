/* dbx.c - one statement interface over SQLite and PostgreSQL: prepare, bind, step, columns, transactions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "db.h"
#include "dbx.h"
#include "log.h"

/* A PostgreSQL statement keeps its SQL (with $n) and its text
 * parameters; it runs at its first step. */
/* PostgreSQL's type OIDs (server/catalog/pg_type.h): int8, int2, int4,
 * text, float4, float8, numeric. */
enum { OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25,
	OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

struct dbx_stmt {
	struct dbx *x;
	const char *what;
	sqlite3_stmt *st;             /* SQLite */
	char *sql;                    /* PostgreSQL */
	int nparams;
	char **params;
	unsigned *types;              /* per parameter: 0 (the server
					 infers it), or text for one the
					 statement does not use */
	PGresult *res;
	int ran;
	int row;
	int nrows;
	unsigned runs;                /* PostgreSQL: times it ran */
	PGresult *prep_fail;          /* PostgreSQL: a failed prepare's
					 answer, until the next */
	char name[24];                /* prepared on the server as this
					 ("" when not), in session */
	unsigned session;
};

/* pg_fail logs what failed on x and maps it to err; res may be NULL (a
 * connection fault). Returns -1. */
static int pg_fail(struct dbx *x, PGresult *res, const char *what,
	struct ferr *err)
{
	const char *state = res != NULL ?
		PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorMessage(res) : "";
	int lost = PQstatus(x->pg) != CONNECTION_OK;
	int was_set = ferr_is_set(err);

	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(x->pg);
	x->unique = state != NULL && strncmp(state, "23", 2) == 0;
	log_msg(x->unique ? LOG_DEBUG : LOG_ERROR, "%s: %s (postgresql %s)",
		what != NULL ? what : "postgresql", msg,
		state != NULL ? state : "-");
	if (x->unique)
		return ferr_set(err, 409, "conflict",
			"The write breaks a constraint of the database.");
	if (lost || (state != NULL && (strncmp(state, "08", 2) == 0 ||
	    strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
	    strcmp(state, "57P03") == 0))) {
		ferr_set(err, 503, "database_unavailable",
			"The database cannot be reached; try again shortly.");
		if (!was_set && err != NULL)
			err->retry_after = 2;
		return -1;
	}
	if (state != NULL && (strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)) {
		ferr_set(err, 503, "busy_database",
			"The database is busy; try again shortly.");
		if (!was_set && err != NULL)
			err->retry_after = 1;
		return -1;
	}
	if (state != NULL && strcmp(state, "53100") == 0)
		return ferr_set(err, 507, "storage_full", "The database's disk "
			"is full; nothing was written.");
	if (state != NULL && strcmp(state, "25006") == 0) {
		ferr_set(err, 503, "storage_readonly", "The database cannot be "
			"written now (read-only); try again later.");
		if (!was_set && err != NULL)
			err->retry_after = 30;
		return -1;
	}
	return ferr_set(err, 500, "internal_error", "Internal error.");
}

/* pg_session sets up a new server session: a write waits for the
 * journal's counter as long as SQLite's would for its lock, then answers
 * 503. A reconnect is a new session, so it runs again then. 0 or -1. */
static int pg_session(struct dbx *x, struct ferr *err)
{
	PGresult *res;
	char sql[64];

	snprintf(sql, sizeof(sql), "SET lock_timeout = %lld",
		x->lock_timeout_ms);
	res = PQexec(x->pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_fail(x, res, "lock_timeout", err);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* pg_ready reconnects a connection that was lost, once; 0 or -1. */
static int pg_ready(struct dbx *x, const char *what, struct ferr *err)
{
	if (PQstatus(x->pg) == CONNECTION_OK)
		return 0;
	if (x->no_reconnect)
		return pg_fail(x, NULL, what, err);
	PQreset(x->pg);
	/* The server forgot the statements prepared before. */
	x->session++;
	if (PQstatus(x->pg) == CONNECTION_OK) {
		log_msg(LOG_INFO, "%s: reconnected to the database", what);
		return pg_session(x, err);
	}
	return pg_fail(x, NULL, what, err);
}

/* The server's notices ("relation already exists, skipping") go to the
 * log at debug level, not to stderr. */
static void pg_notice(void *arg, const char *message)
{
	(void)arg;
	log_msg(LOG_DEBUG, "postgresql: %s", message);
}

/* pg_usable readies x for a statement: outside a transaction a lost
 * connection is taken up again; inside one the transaction went with
 * it, which the caller must learn (a COMMIT sent on a new connection
 * would "succeed" with nothing to commit). 0 or -1. */
static int pg_usable(struct dbx *x, const char *what, struct ferr *err)
{
	if (PQstatus(x->pg) == CONNECTION_OK)
		return 0;
	if (x->txn)
		return pg_fail(x, NULL, what, err);
	return pg_ready(x, what, err);
}

static struct dbx *pg_open(const struct config *cfg, struct ferr *err)
{
	struct dbx *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		return NULL;
	}
	x->kind = DBX_PG;
	x->owned = 1;
	{
		/* A server that stops answering (a cut link, no reset) must
		 * not hold a caller for the minutes TCP takes to give up:
		 * the daemon's event loop waits on these calls. The user's
		 * URI or conninfo (expanded last) overrides any of them. */
		static const char *const keys[] = { "connect_timeout",
			"keepalives_idle", "keepalives_interval",
			"keepalives_count", "tcp_user_timeout",
			"application_name", "dbname", NULL };
		const char *values[] = { "5", "10", "5", "2", "15000",
			"flowpush", cfg->database, NULL };

		x->pg = PQconnectdbParams(keys, values, 1);
	}
	if (x->pg == NULL || PQstatus(x->pg) != CONNECTION_OK) {
		/* libpq's message may quote the conninfo, password and all:
		 * it goes to the log only. */
		log_msg(LOG_ERROR, "cannot connect to the PostgreSQL database:"
			" %s", x->pg != NULL ? PQerrorMessage(x->pg) :
			"out of memory");
		ferr_set(err, 503, "database_unavailable", "The database "
			"server cannot be reached; try again shortly.");
		if (err != NULL)
			err->retry_after = 2;
		dbx_close(x);
		return NULL;
	}
	PQsetNoticeProcessor(x->pg, pg_notice, NULL);
	x->lock_timeout_ms = cfg->busy_timeout_ms;
	if (pg_session(x, err) < 0) {
		dbx_close(x);
		return NULL;
	}
	return x;
}

struct dbx *dbx_open(const struct config *cfg, int flags, struct ferr *err)
{
	struct dbx *x;
	sqlite3 *db;

	if (config_database_is_pg(cfg->database))
		return pg_open(cfg, err);
	db = db_open(cfg, flags, err);
	if (db == NULL)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		sqlite3_close_v2(db);
		ferr_set(err, 500, "internal_error", "Out of memory.");
		return NULL;
	}
	dbx_init_sqlite(x, db);
	x->owned = 1;
	return x;
}

void dbx_init_sqlite(struct dbx *x, sqlite3 *db)
{
	memset(x, 0, sizeof(*x));
	x->kind = DBX_SQLITE;
	x->db = db;
}

void dbx_close(struct dbx *x)
{
	if (x == NULL || !x->owned)
		return;
	if (x->pg != NULL)
		PQfinish(x->pg);
	sqlite3_close_v2(x->db);
	free(x);
}

void dbx_disconnect(struct dbx *x)
{
	if (x->pg != NULL)
		PQfinish(x->pg);
	x->pg = NULL;
}

enum dbx_kind dbx_kind(const struct dbx *x)
{
	return x->kind;
}

sqlite3 *dbx_sqlite(struct dbx *x)
{
	return x->kind == DBX_SQLITE ? x->db : NULL;
}

/* pg_sql rewrites SQLite's parameters (?N, ?) into $N outside quotes and
 * counts them. Returns a new string or NULL. */
static char *pg_sql(const char *sql, int *nparams, unsigned char *used,
	size_t nused)
{
	size_t n = strlen(sql);
	/* "?" becomes at most "$65535": six bytes for one. */
	char *out = malloc(n * 6 + 1), *o = out;
	const char *p = sql;
	char quote = 0;
	int next, max = 0;

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		if (quote) {
			if (*p == quote)
				quote = 0;
			*o++ = *p++;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			*o++ = *p++;
			continue;
		}
		if (*p != '?') {
			*o++ = *p++;
			continue;
		}
		p++;
		/* As SQLite numbers them: a bare ? is one more than the
		 * largest number so far. */
		if (isdigit((unsigned char)*p)) {
			int v = 0;

			while (isdigit((unsigned char)*p) && v <= 65535)
				v = v * 10 + (*p++ - '0');
			if (v < 1 || v > 65535) {
				free(out);
				return NULL;
			}
			next = v;
		} else if (max < 65535) {
			next = max + 1;
		} else {
			free(out);
			return NULL;
		}
		if (next > max)
			max = next;
		if (next > 0 && (size_t)next <= nused)
			used[next - 1] = 1;
		o += sprintf(o, "$%d", next);
	}
	*o = '\0';
	*nparams = max;
	return out;
}

int dbx_prepare(struct dbx *x, const char *sql, const char *what,
	struct dbx_stmt **out, struct ferr *err)
{
	struct dbx_stmt *st;
	int rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	st->x = x;
	st->what = what;
	if (x->kind == DBX_SQLITE) {
		rc = sqlite3_prepare_v2(x->db, sql, -1, &st->st, NULL);
		if (rc != SQLITE_OK) {
			db_fail(x->db, rc, what, err);
			free(st);
			return -1;
		}
		*out = st;
		return 0;
	}
	{
		unsigned char used[256] = { 0 };

		st->sql = pg_sql(sql, &st->nparams, used, sizeof(used));
		if (st->sql == NULL || st->nparams > (int)sizeof(used) ||
		    (st->nparams > 0 && ((st->params = calloc(
		    (size_t)st->nparams, sizeof(char *))) == NULL ||
		    (st->types = calloc((size_t)st->nparams,
		    sizeof(unsigned))) == NULL))) {
			dbx_finalize(st);
			return ferr_set(err, 500, "internal_error",
				"Cannot prepare a statement.");
		}
		/* The server cannot tell the type of a parameter that no
		 * expression uses (an UPDATE that ignores the created time
		 * given to it, say): call it text. */
		for (int i = 0; i < st->nparams; i++)
			st->types[i] = used[i] ? 0 : OID_TEXT;
	}
	*out = st;
	return 0;
}

static void pg_bind(struct dbx_stmt *st, int i, char *v)
{
	if (i < 1 || i > st->nparams) {
		free(v);
		return;
	}
	free(st->params[i - 1]);
	st->params[i - 1] = v;
}

void dbx_bind_text(struct dbx_stmt *st, int i, const char *text)
{
	if (st->st != NULL) {
		sqlite3_bind_text(st->st, i, text, -1, SQLITE_TRANSIENT);
		return;
	}
	pg_bind(st, i, text != NULL ? strdup(text) : NULL);
}

void dbx_bind_int64(struct dbx_stmt *st, int i, int64_t v)
{
	char buf[24];

	if (st->st != NULL) {
		sqlite3_bind_int64(st->st, i, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	pg_bind(st, i, strdup(buf));
}

void dbx_bind_null(struct dbx_stmt *st, int i)
{
	if (st->st != NULL) {
		sqlite3_bind_null(st->st, i);
		return;
	}
	pg_bind(st, i, NULL);
}

void dbx_bind_double(struct dbx_stmt *st, int i, double v)
{
	char buf[32];

	if (st->st != NULL) {
		sqlite3_bind_double(st->st, i, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%.17g", v);
	pg_bind(st, i, strdup(buf));
}

void dbx_bind_empty_blob(struct dbx_stmt *st, int i)
{
	if (st->st != NULL) {
		sqlite3_bind_zeroblob(st->st, i, 0);
		return;
	}
	pg_bind(st, i, NULL);
}

/* pg_prepared prepares st on the server unless it is already, in this
 * session; 0, or -1 when it cannot be (st then runs unprepared). */
static int pg_prepared(struct dbx_stmt *st)
{
	struct dbx *x = st->x;
	PGresult *res;
	char name[sizeof(st->name)];

	if (st->name[0] != '\0' && st->session == x->session)
		return 0;
	snprintf(name, sizeof(name), "fp%u", ++x->prepared);
	res = PQprepare(x->pg, name, st->sql, st->nparams,
		(const Oid *)st->types);
	PQclear(st->prep_fail);
	st->prep_fail = NULL;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		/* Kept for pg_run to report; it runs unprepared when it
		 * still can (outside a transaction). */
		st->prep_fail = res;
		st->name[0] = '\0';
		return -1;
	}
	PQclear(res);
	memcpy(st->name, name, sizeof(name));
	st->session = x->session;
	return 0;
}

static int pg_run(struct dbx_stmt *st, struct ferr *err)
{
	struct dbx *x = st->x;
	ExecStatusType s;
	int prepared;

	if (pg_usable(x, st->what, err) < 0)
		return DBX_ERROR;
	prepared = st->runs++ > 0 && pg_prepared(st) == 0;
	if (!prepared && st->prep_fail != NULL &&
	    PQtransactionStatus(x->pg) == PQTRANS_INERROR) {
		/* The failed prepare took the transaction with it: say why
		 * (a lock timeout is a 503, say) rather than run it. */
		pg_fail(x, st->prep_fail, st->what, err);
		return DBX_ERROR;
	}
	if (prepared)
		st->res = PQexecPrepared(x->pg, st->name, st->nparams,
			(const char *const *)st->params, NULL, NULL, 0);
	else
		st->res = PQexecParams(x->pg, st->sql, st->nparams,
			st->types, (const char *const *)st->params, NULL,
			NULL, 0);
	s = PQresultStatus(st->res);
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(st->res,
			PG_DIAG_SQLSTATE);

		/* Gone from the server (a pooler's other session): prepare
		 * it again next time. */
		if (prepared && state != NULL && strcmp(state, "26000") == 0)
			st->name[0] = '\0';
		pg_fail(x, st->res, st->what, err);
		PQclear(st->res);
		st->res = NULL;
		return DBX_ERROR;
	}
	x->unique = 0;
	st->ran = 1;
	st->row = -1;
	st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
	{
		const char *tag = PQcmdStatus(st->res);

		if (strncmp(tag, "INSERT", 6) == 0 ||
		    strncmp(tag, "UPDATE", 6) == 0 ||
		    strncmp(tag, "DELETE", 6) == 0)
			x->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
	}
	return DBX_DONE;
}

int dbx_step(struct dbx_stmt *st, struct ferr *err)
{
	int rc;

	if (st->st != NULL) {
		rc = sqlite3_step(st->st);
		if (rc == SQLITE_ROW)
			return DBX_ROW;
		if (rc == SQLITE_DONE) {
			st->x->unique = 0;
			return DBX_DONE;
		}
		st->x->unique = (rc & 0xff) == SQLITE_CONSTRAINT;
		if (st->x->unique) {
			log_msg(LOG_DEBUG, "%s: %s", st->what,
				sqlite3_errmsg(st->x->db));
			return ferr_set(err, 409, "conflict", "The write "
				"breaks a constraint of the database.");
		}
		db_fail(st->x->db, rc, st->what, err);
		return DBX_ERROR;
	}
	if (!st->ran && pg_run(st, err) == DBX_ERROR)
		return DBX_ERROR;
	if (++st->row < st->nrows)
		return DBX_ROW;
	st->row = st->nrows;
	return DBX_DONE;
}

int dbx_unique_violation(const struct dbx *x)
{
	return x->unique;
}

int dbx_column_count(struct dbx_stmt *st)
{
	if (st->st != NULL)
		return sqlite3_column_count(st->st);
	return st->res != NULL ? PQnfields(st->res) : 0;
}

/* PostgreSQL's type OIDs (server/catalog/pg_type.h): int8, int2, int4,
 * float4, float8, numeric. */

enum dbx_type dbx_column_type(struct dbx_stmt *st, int col)
{
	if (st->st != NULL) {
		switch (sqlite3_column_type(st->st, col)) {
		case SQLITE_INTEGER: return DBX_INTEGER;
		case SQLITE_FLOAT: return DBX_FLOAT;
		case SQLITE_TEXT: return DBX_TEXT;
		case SQLITE_BLOB: return DBX_BLOB;
		default: return DBX_NULL;
		}
	}
	if (dbx_column_null(st, col))
		return DBX_NULL;
	switch (PQftype(st->res, col)) {
	case OID_INT8: case OID_INT2: case OID_INT4:
		return DBX_INTEGER;
	case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC:
		return DBX_FLOAT;
	default:
		return DBX_TEXT;
	}
}

double dbx_column_double(struct dbx_stmt *st, int col)
{
	const char *t;

	if (st->st != NULL)
		return sqlite3_column_double(st->st, col);
	t = dbx_column_text(st, col);
	return t != NULL ? strtod(t, NULL) : 0.0;
}

/* pg_cell is non-zero when col of the current row can be read. */
static int pg_cell(struct dbx_stmt *st, int col)
{
	return st->res != NULL && st->row >= 0 && st->row < st->nrows &&
		col >= 0 && col < PQnfields(st->res);
}

int dbx_column_null(struct dbx_stmt *st, int col)
{
	if (st->st != NULL)
		return sqlite3_column_type(st->st, col) == SQLITE_NULL;
	return !pg_cell(st, col) || PQgetisnull(st->res, st->row, col);
}

const char *dbx_column_text(struct dbx_stmt *st, int col)
{
	if (st->st != NULL)
		return (const char *)sqlite3_column_text(st->st, col);
	if (dbx_column_null(st, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

size_t dbx_column_bytes(struct dbx_stmt *st, int col)
{
	if (st->st != NULL)
		return (size_t)sqlite3_column_bytes(st->st, col);
	if (dbx_column_null(st, col))
		return 0;
	return (size_t)PQgetlength(st->res, st->row, col);
}

int64_t dbx_column_int64(struct dbx_stmt *st, int col)
{
	const char *t;

	if (st->st != NULL)
		return sqlite3_column_int64(st->st, col);
	t = dbx_column_text(st, col);
	/* PostgreSQL answers booleans as t/f. */
	if (t != NULL && (t[0] == 't' || t[0] == 'f') && t[1] == '\0')
		return t[0] == 't';
	return t != NULL ? strtoll(t, NULL, 10) : 0;
}

void dbx_reset(struct dbx_stmt *st)
{
	if (st->st != NULL) {
		sqlite3_reset(st->st);
		return;
	}
	PQclear(st->res);
	st->res = NULL;
	st->ran = 0;
	st->row = -1;
	st->nrows = 0;
}

void dbx_clear_bindings(struct dbx_stmt *st)
{
	if (st->st != NULL) {
		sqlite3_clear_bindings(st->st);
		return;
	}
	for (int i = 0; st->params != NULL && i < st->nparams; i++) {
		free(st->params[i]);
		st->params[i] = NULL;
	}
}

void dbx_finalize(struct dbx_stmt *st)
{
	if (st == NULL)
		return;
	if (st->st != NULL) {
		sqlite3_finalize(st->st);
	} else {
		dbx_reset(st);
		dbx_clear_bindings(st);
		/* A prepared statement lives as long as the session: give it
		 * back when no transaction is open (a failing DEALLOCATE must
		 * not end a caller's transaction; the session otherwise keeps
		 * it, unused, until it ends). */
		if (st->name[0] != '\0' && st->session == st->x->session &&
		    PQstatus(st->x->pg) == CONNECTION_OK &&
		    PQtransactionStatus(st->x->pg) == PQTRANS_IDLE) {
			char sql[40];

			snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
			PQclear(PQexec(st->x->pg, sql));
		}
		PQclear(st->prep_fail);
		free(st->params);
		free(st->types);
		free(st->sql);
	}
	free(st);
}

int64_t dbx_changes(struct dbx *x)
{
	if (x->kind == DBX_SQLITE)
		return sqlite3_changes(x->db);
	return x->changes;
}

int dbx_exec(struct dbx *x, const char *sql, const char *what,
	struct ferr *err)
{
	PGresult *res;
	ExecStatusType s;

	if (x->kind == DBX_SQLITE)
		return db_exec(x->db, sql, what, err);
	if (pg_usable(x, what, err) < 0)
		return -1;
	res = PQexec(x->pg, sql);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		pg_fail(x, res, what, err);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

int dbx_begin(struct dbx *x, struct ferr *err)
{
	if (x->kind == DBX_SQLITE)
		return db_begin(x->db, err);
	x->txn = 0;
	if (dbx_exec(x, "BEGIN", "begin", err) < 0)
		return -1;
	x->txn = 1;
	return 0;
}

int dbx_begin_read(struct dbx *x, struct ferr *err)
{
	if (x->kind == DBX_SQLITE)
		return db_exec(x->db, "BEGIN", "begin read", err);
	x->txn = 0;
	if (dbx_exec(x, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    "begin read", err) < 0)
		return -1;
	x->txn = 1;
	return 0;
}

int dbx_commit(struct dbx *x, struct ferr *err)
{
	int rc;

	if (x->kind == DBX_SQLITE)
		return db_commit(x->db, err);
	/* PostgreSQL answers COMMIT of a failed transaction with a
	 * ROLLBACK, not an error: that must not pass for a commit. */
	if (PQtransactionStatus(x->pg) == PQTRANS_INERROR) {
		dbx_rollback(x);
		return ferr_set(err, 500, "internal_error", "Internal error.");
	}
	rc = dbx_exec(x, "COMMIT", "commit", err);
	if (rc < 0)
		dbx_rollback(x);
	x->txn = 0;
	return rc;
}

void dbx_rollback(struct dbx *x)
{
	PGresult *res;

	if (x->kind == DBX_SQLITE) {
		db_rollback(x->db);
		return;
	}
	x->txn = 0;
	if (PQstatus(x->pg) != CONNECTION_OK ||
	    PQtransactionStatus(x->pg) == PQTRANS_IDLE)
		return;
	res = PQexec(x->pg, "ROLLBACK");
	PQclear(res);
}

int dbx_in_txn(struct dbx *x)
{
	PGTransactionStatusType s;

	if (x->kind == DBX_SQLITE)
		return !sqlite3_get_autocommit(x->db);
	s = PQtransactionStatus(x->pg);
	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR ||
		s == PQTRANS_ACTIVE;
}

int dbx_pg_socket(struct dbx *x)
{
	if (x->kind != DBX_PG || PQstatus(x->pg) != CONNECTION_OK)
		return -1;
	return PQsocket(x->pg);
}

int dbx_pg_notified(struct dbx *x)
{
	PGnotify *n;
	int count = 0;

	if (x->kind != DBX_PG)
		return 0;
	if (!PQconsumeInput(x->pg) || PQstatus(x->pg) != CONNECTION_OK)
		return -1;
	while ((n = PQnotifies(x->pg)) != NULL) {
		count++;
		PQfreemem(n);
	}
	return count;
}
