/* journal_race.c - many writers append to the journal on connections of their own while readers follow it: does any reader ever see seq N+1 before N? */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "config.h"
#include "db.h"
#include "dbx.h"
#include "journal.h"
#include "log.h"
#include "pgschema.h"
#include "schema.h"
#include "util.h"

/*
 * Usage: journal_race --database DB [--writers 8] [--appends 200]
 *        [--readers 2] [--hold-us 500] [--scheme journal|sequence]
 *        [--seconds 60] [--topic race]
 *
 * journal: every writer calls journal_append in BEGIN ... COMMIT and
 * holds its transaction open for up to --hold-us after the append, so
 * that, were numbers handed out in another order than commits, readers
 * would see it. sequence (PostgreSQL only): the same with a plain
 * bigserial table, the scheme the journal must not use; it shows that the
 * readers do catch a reordering.
 *
 * Readers poll "seq > last ORDER BY seq" and count a violation whenever
 * a row is not last + 1 (the journal's numbers have no gaps: a rolled-
 * back append gives its number back on both stores). At the end the rows
 * are checked: as many as appended, each writer's in its own order.
 * Prints one JSON line; exits 0, 3 when a reader saw a violation or the
 * rows are wrong, 1 on an error, 2 on bad usage.
 */

struct opts {
	const char *database;
	const char *topic;
	int writers, appends, readers, hold_us, seconds, sequence;
};

struct shared {
	const struct opts *o;
	struct config cfg;
	int64_t start;                /* the newest seq before the run */
	volatile int writers_left;
	pthread_mutex_t mu;
	long violations, reads, retries, errors;
	char first_violation[160];
};

struct worker {
	struct shared *sh;
	int n;
	pthread_t th;
};

static const char naive_table[] = "CREATE TABLE IF NOT EXISTS race_sequence ("
	"seq BIGSERIAL PRIMARY KEY, w INT NOT NULL, i INT NOT NULL)";

static int64_t now_ms(void)
{
	return util_mono_ms();
}

static void count(struct shared *sh, long *what, long n)
{
	pthread_mutex_lock(&sh->mu);
	*what += n;
	pthread_mutex_unlock(&sh->mu);
}

static struct dbx *connect_db(struct shared *sh)
{
	struct ferr e;
	struct dbx *x;

	ferr_init(&e);
	x = dbx_open(&sh->cfg, DB_READWRITE, &e);
	if (x == NULL)
		fprintf(stderr, "journal_race: cannot connect: %s\n",
			e.message);
	ferr_release(&e);
	return x;
}

/* append_one writes append i of writer w in a transaction of its own;
 * 0, 1 to retry (busy), -1 on an error. */
static int append_one(struct shared *sh, struct dbx *x,
	struct dbx_stmt **keep, int w, int i)
{
	struct ferr e;
	json_t *data = json_pack("{s:i, s:i}", "w", w, "i", i);
	char id[32];
	int rc = -1;

	ferr_init(&e);
	snprintf(id, sizeof(id), "writer-%d", w);
	if (dbx_begin(x, &e) < 0)
		goto out;
	if (sh->o->sequence) {
		if (*keep == NULL && dbx_prepare(x, "INSERT INTO race_sequence"
		    "(w, i) VALUES (CAST(?1 AS INT), CAST(?2 AS INT))",
		    "race insert", keep, &e) < 0)
			goto out;
		dbx_bind_int64(*keep, 1, w);
		dbx_bind_int64(*keep, 2, i);
		if (dbx_step(*keep, &e) != DBX_DONE) {
			dbx_reset(*keep);
			goto out;
		}
		dbx_reset(*keep);
	} else if (journal_append(x, keep, sh->o->topic, "created", id, i,
	    id, data, NULL, NULL, &e) < 0) {
		goto out;
	}
	if (sh->o->hold_us > 0)
		usleep((useconds_t)(rand() % sh->o->hold_us));
	if (dbx_commit(x, &e) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		dbx_rollback(x);
		if (e.status == 503) {
			rc = 1;
		} else {
			fprintf(stderr, "journal_race: writer %d: %s\n", w,
				e.message);
		}
	}
	ferr_release(&e);
	json_decref(data);
	return rc;
}

static void *writer(void *arg)
{
	struct worker *wk = arg;
	struct shared *sh = wk->sh;
	struct dbx *x = connect_db(sh);
	struct dbx_stmt *keep = NULL;
	int64_t deadline = now_ms() + (int64_t)sh->o->seconds * 1000;

	if (x == NULL) {
		count(sh, &sh->errors, 1);
		goto out;
	}
	for (int i = 0; i < sh->o->appends && now_ms() < deadline; ) {
		int rc = append_one(sh, x, &keep, wk->n, i);

		if (rc < 0) {
			count(sh, &sh->errors, 1);
			break;
		}
		if (rc > 0) {
			count(sh, &sh->retries, 1);
			usleep(20000);
			continue;
		}
		i++;
	}
	dbx_finalize(keep);
	dbx_close(x);
out:
	pthread_mutex_lock(&sh->mu);
	sh->writers_left--;
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/* follow reads what came after *last; returns rows read or -1. */
static int follow(struct shared *sh, struct dbx_stmt *st, int64_t *last)
{
	struct ferr e;
	int rc, rows = 0;

	ferr_init(&e);
	dbx_bind_int64(st, 1, *last);
	while ((rc = dbx_step(st, &e)) == DBX_ROW) {
		int64_t seq = dbx_column_int64(st, 0);

		if (seq != *last + 1) {
			pthread_mutex_lock(&sh->mu);
			if (sh->violations++ == 0)
				snprintf(sh->first_violation,
					sizeof(sh->first_violation),
					"read seq %" PRId64 " after %" PRId64
					" (%" PRId64 " not visible yet)",
					seq, *last, *last + 1);
			pthread_mutex_unlock(&sh->mu);
		}
		*last = seq;
		rows++;
	}
	dbx_reset(st);
	if (rc == DBX_ERROR) {
		fprintf(stderr, "journal_race: reader: %s\n", e.message);
		rows = -1;
	}
	ferr_release(&e);
	return rows;
}

static void *reader(void *arg)
{
	struct worker *wk = arg;
	struct shared *sh = wk->sh;
	struct dbx *x = connect_db(sh);
	struct dbx_stmt *st = NULL;
	struct ferr e;
	int64_t last = sh->start;
	int64_t total = (int64_t)sh->o->writers * sh->o->appends;
	int64_t deadline = now_ms() + (int64_t)sh->o->seconds * 1000 + 5000;
	long reads = 0;

	ferr_init(&e);
	if (x == NULL || dbx_prepare(x, sh->o->sequence ?
	    "SELECT seq FROM race_sequence WHERE seq > ?1 ORDER BY seq"
	    " LIMIT 1000" : "SELECT seq FROM journal WHERE seq > ?1"
	    " ORDER BY seq LIMIT 1000", "race read", &st, &e) < 0) {
		count(sh, &sh->errors, 1);
		goto out;
	}
	while (now_ms() < deadline) {
		int left = sh->writers_left;
		int rows = follow(sh, st, &last);

		if (rows < 0) {
			count(sh, &sh->errors, 1);
			break;
		}
		reads++;
		if (left == 0 && rows == 0)
			break;
		if (last - sh->start >= total)
			break;
	}
out:
	count(sh, &sh->reads, reads);
	dbx_finalize(st);
	dbx_close(x);
	ferr_release(&e);
	return NULL;
}

/* check_rows verifies what the run left: every append there once, each
 * writer's in its order. Returns the rows found, or -1. */
static long check_rows(struct shared *sh, struct dbx *x, long *bad)
{
	struct ferr e;
	struct dbx_stmt *st = NULL;
	int *next = calloc((size_t)sh->o->writers, sizeof(int));
	long rows = -1;
	int rc;

	ferr_init(&e);
	*bad = 0;
	if (next == NULL || dbx_prepare(x, sh->o->sequence ?
	    "SELECT w, i FROM race_sequence WHERE seq > ?1 ORDER BY seq" :
	    "SELECT CAST(substr(id, 8) AS INTEGER), version FROM journal"
	    " WHERE seq > ?1 AND topic = ?2 ORDER BY seq",
	    "race check", &st, &e) < 0)
		goto out;
	dbx_bind_int64(st, 1, sh->start);
	if (!sh->o->sequence)
		dbx_bind_text(st, 2, sh->o->topic);
	rows = 0;
	while ((rc = dbx_step(st, &e)) == DBX_ROW) {
		int64_t w = dbx_column_int64(st, 0);
		int64_t i = dbx_column_int64(st, 1);

		if (w < 0 || w >= sh->o->writers || i != next[w]++)
			(*bad)++;
		rows++;
	}
	if (rc == DBX_ERROR)
		rows = -1;
out:
	if (rows < 0)
		fprintf(stderr, "journal_race: check: %s\n", e.message);
	dbx_finalize(st);
	ferr_release(&e);
	free(next);
	return rows;
}

static int setup_store(struct shared *sh, struct dbx *x)
{
	struct ferr e;
	int rc = 0;

	ferr_init(&e);
	if (dbx_kind(x) == DBX_PG) {
		if (pgschema_journal(x, &e) < 0 || (sh->o->sequence &&
		    dbx_exec(x, naive_table, "race table", &e) < 0))
			rc = -1;
	} else if (sh->o->sequence) {
		rc = ferr_set(&e, 400, "usage", "--scheme sequence needs "
			"PostgreSQL");
	}
	if (rc == 0 && (sh->o->sequence ? dbx_exec(x, "SELECT 1", "ping",
	    &e) : journal_last_seq(x, &sh->start, &e)) < 0)
		rc = -1;
	if (rc == 0 && sh->o->sequence) {
		struct dbx_stmt *st = NULL;

		if (dbx_prepare(x, "SELECT coalesce(max(seq), 0) FROM "
		    "race_sequence", "race start", &st, &e) < 0 ||
		    dbx_step(st, &e) != DBX_ROW)
			rc = -1;
		else
			sh->start = dbx_column_int64(st, 0);
		dbx_finalize(st);
	}
	if (rc < 0)
		fprintf(stderr, "journal_race: %s\n", e.message);
	ferr_release(&e);
	return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "database", required_argument, NULL, 'd' },
		{ "writers", required_argument, NULL, 'w' },
		{ "appends", required_argument, NULL, 'a' },
		{ "readers", required_argument, NULL, 'r' },
		{ "hold-us", required_argument, NULL, 'h' },
		{ "scheme", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "topic", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ NULL, "race", 8, 200, 2, 500, 60, 0 };
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd': o->database = optarg; break;
		case 'w': o->writers = atoi(optarg); break;
		case 'a': o->appends = atoi(optarg); break;
		case 'r': o->readers = atoi(optarg); break;
		case 'h': o->hold_us = atoi(optarg); break;
		case 't': o->seconds = atoi(optarg); break;
		case 'p': o->topic = optarg; break;
		case 's':
			if (strcmp(optarg, "sequence") == 0)
				o->sequence = 1;
			else if (strcmp(optarg, "journal") != 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (o->database == NULL || o->writers < 1 || o->writers > 64 ||
	    o->appends < 1 || o->readers < 1 || o->readers > 16 ||
	    o->hold_us < 0 || o->seconds < 1 || o->seconds > 600)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct shared sh;
	struct worker *wk;
	struct dbx *x;
	struct ferr e;
	long rows, bad;
	int64_t t0;
	double secs;
	int n = 0;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: journal_race --database DB [--writers N]"
			" [--appends N] [--readers N] [--hold-us US]"
			" [--scheme journal|sequence] [--seconds S]"
			" [--topic T]\n");
		return 2;
	}
	memset(&sh, 0, sizeof(sh));
	sh.o = &o;
	pthread_mutex_init(&sh.mu, NULL);
	ferr_init(&e);
	unsetenv("FLOWPUSH_CONFIG");
	log_setup("journal_race", "error", NULL);
	if (config_load(&sh.cfg, NULL, &e) < 0) {
		fprintf(stderr, "journal_race: %s\n", e.message);
		return 1;
	}
	free(sh.cfg.database);
	sh.cfg.database = strdup(o.database);
	if (config_database_is_pg(o.database)) {
		x = dbx_open(&sh.cfg, DB_READWRITE, &e);
	} else {
		sqlite3 *db = schema_open(&sh.cfg, DB_CREATE, &e);

		sqlite3_close_v2(db);
		x = db != NULL ? dbx_open(&sh.cfg, DB_READWRITE, &e) : NULL;
	}
	if (x == NULL || setup_store(&sh, x) < 0) {
		if (x == NULL)
			fprintf(stderr, "journal_race: %s\n", e.message);
		dbx_close(x);
		return 1;
	}
	wk = calloc((size_t)(o.writers + o.readers), sizeof(*wk));
	if (wk == NULL)
		return 1;
	srand((unsigned)time(NULL));
	sh.writers_left = o.writers;
	t0 = now_ms();
	for (int i = 0; i < o.writers + o.readers; i++) {
		wk[i].sh = &sh;
		wk[i].n = i < o.writers ? i : i - o.writers;
		if (pthread_create(&wk[i].th, NULL, i < o.writers ? writer :
		    reader, &wk[i]) != 0)
			break;
		n++;
	}
	for (int i = 0; i < n; i++)
		pthread_join(wk[i].th, NULL);
	secs = (double)(now_ms() - t0) / 1000.0;
	rows = check_rows(&sh, x, &bad);
	printf("{\"scheme\":\"%s\",\"store\":\"%s\",\"writers\":%d,"
		"\"appends\":%d,\"readers\":%d,\"rows\":%ld,\"rowsOutOfOrder\":%ld,"
		"\"violations\":%ld,\"reads\":%ld,\"retries\":%ld,\"errors\":%ld,"
		"\"seconds\":%.3f,\"appendsPerSecond\":%.0f,"
		"\"firstViolation\":\"%s\"}\n",
		o.sequence ? "sequence" : "journal",
		dbx_kind(x) == DBX_PG ? "postgresql" : "sqlite", o.writers,
		o.appends, o.readers, rows, bad, sh.violations, sh.reads,
		sh.retries, sh.errors, secs, secs > 0 ? (double)rows / secs : 0.0,
		sh.first_violation);
	dbx_close(x);
	config_release(&sh.cfg);
	free(wk);
	if (sh.errors > 0 || rows < 0)
		return 1;
	if (sh.violations > 0 || bad > 0 ||
	    rows != (long)o.writers * o.appends)
		return 3;
	return 0;
}
