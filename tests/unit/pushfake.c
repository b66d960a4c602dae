/* pushfake.c - test doubles for the daemon's layers: a transport that counts calls and records bytes, and a journal database in a temporary folder. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "journal.h"
#include "schema.h"
#include "log.h"
#include "pushfake.h"

struct fake_counts fake_counts;

static struct fake_conn *fake_of(struct conn *c)
{
	return (struct fake_conn *)c;
}

static struct pbuf *event_buf(struct pevent *ev)
{
	/* The SSE form reads well in assertions: "id: N\ndata: ...". */
	return event_sse(ev);
}

static int reset(struct conn *c, int64_t seq)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "reset %lld\n", (long long)seq);
	struct pbuf *b = event_buf_new(text, (size_t)n);
	int rc;

	fake_of(c)->resets++;
	fake_of(c)->reset_seq = seq;
	conn_discard(c, 1);
	rc = conn_enqueue_force(c, b);
	event_buf_unref(b);
	return rc;
}

static void flush(struct conn *c)
{
	struct fake_conn *f = fake_of(c);

	f->flushes++;
	if (f->stalled)
		return;
	f->out_len += conn_take(c, f->out + f->out_len,
		sizeof(f->out) - 1 - f->out_len);
	f->out[f->out_len] = '\0';
}

/* end_now is what a transport does to a connection it closes at once. */
static void end_now(struct conn *c)
{
	c->state = CONN_DEAD;
	conn_unlink(c);
	conn_free_later(c);
}

static void drop(struct conn *c, uint16_t code, const char *reason)
{
	fake_of(c)->drops++;
	fake_of(c)->drop_code = code;
	end_now(c);
}

static void heartbeat(struct conn *c, int64_t now)
{
	fake_of(c)->heartbeats++;
}

static void expire(struct conn *c, int64_t now)
{
	fake_of(c)->expires++;
}

static void shut(struct conn *c)
{
	fake_of(c)->shutdowns++;
}

static void abandon(struct conn *c)
{
	fake_of(c)->abandons++;
	end_now(c);
}

static void fake_free(struct conn *c)
{
	fake_counts.frees++;
	conn_release(c);
	free(c);
}

static const struct conn_ops fake_ops = {
	.kind = CONN_SSE,
	.name = "fake",
	.event_buf = event_buf,
	.reset = reset,
	.flush = flush,
	.drop = drop,
	.heartbeat = heartbeat,
	.expire = expire,
	.shutdown = shut,
	.abandon = abandon,
	.free = fake_free,
};

struct fake_conn *fake_conn_new(struct conn_set *set)
{
	struct fake_conn *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	conn_init(&f->c, set, &fake_ops);
	return f;
}

const char *fake_out(struct fake_conn *f)
{
	f->out[f->out_len] = '\0';
	return f->out;
}

int fake_count(struct fake_conn *f, const char *needle)
{
	const char *p = fake_out(f);
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

int fake_db_setup(struct fake_db *fx, int create)
{
	struct ferr e;
	char path[128];

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fp-test-push-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", fx->dir);
	ferr_init(&e);
	unsetenv("FLOWPUSH_CONFIG");
	if (config_load(&fx->cfg, NULL, &e) < 0)
		return -1;
	free(fx->cfg.database);
	fx->cfg.database = strdup(path);
	free(fx->cfg.doorbell);
	fx->cfg.doorbell = NULL;
	log_setup("test_push", "error", "/dev/null");
	if (create)
		fake_db_create(fx);
	return 0;
}

void fake_db_create(struct fake_db *fx)
{
	struct ferr e;

	ferr_init(&e);
	fx->db = schema_open(&fx->cfg, DB_CREATE, &e);
	assert_non_null(fx->db);
	ferr_release(&e);
}

void fake_db_teardown(struct fake_db *fx)
{
	char cmd[256];

	sqlite3_close_v2(fx->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	config_release(&fx->cfg);
	assert_int_equal(system(cmd), 0);
}

int64_t fake_db_append(struct fake_db *fx, const char *topic, const char *id)
{
	struct ferr e;
	struct dbx x;
	int64_t seq = 0;
	json_t *data = json_pack("{s:s}", "name", "n");

	ferr_init(&e);
	dbx_init_sqlite(&x, fx->db);
	assert_int_equal(db_begin(fx->db, &e), 0);
	assert_int_equal(journal_append(&x, NULL, topic, "created", id,
		id ? 1 : -1, NULL, data, NULL, &seq, &e), 0);
	assert_int_equal(db_commit(fx->db, &e), 0);
	json_decref(data);
	return seq;
}

void fake_db_exec(struct fake_db *fx, const char *sql)
{
	assert_int_equal(sqlite3_exec(fx->db, sql, NULL, NULL, NULL),
		SQLITE_OK);
}
