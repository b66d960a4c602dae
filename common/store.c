/* store.c - generic CRUD over the resource table, journaled writes. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "store.h"
#include "campaign.h"
#include "dashboard.h"
#include "db.h"
#include "journal.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#define SECRET_PREFIX "has"

int store_open(struct store *st, const struct config *cfg, struct ferr *err)
{
	memset(st, 0, sizeof(*st));
	st->cfg = cfg;
	st->db = db_open(cfg, DB_READWRITE, err);
	if (!st->db && err && err->status == 500) {
		/* db_open names the file, and has logged it: a client of the
		 * API must not learn where the server keeps its files. */
		snprintf(err->message, sizeof(err->message), "The database "
			"cannot be opened; the server log says why.");
	}
	return st->db ? 0 : -1;
}

void store_close(struct store *st)
{
	size_t i;

	for (i = 0; i < STORE_STMTS; i++) {
		sqlite3_finalize(st->stmts[i].stmt);
		free(st->stmts[i].sql);
	}
	memset(st->stmts, 0, sizeof(st->stmts));
	if (st->db)
		sqlite3_close_v2(st->db);
	st->db = NULL;
}

/* prepare hands out the kept statement for sql, or prepares one (and
 * keeps it while there is room). Give it back with done. */
static int prepare(struct store *st, const char *sql, sqlite3_stmt **stmt,
	struct ferr *err)
{
	struct store_stmt *free_slot = NULL;
	size_t i;
	int rc;

	for (i = 0; i < STORE_STMTS; i++) {
		struct store_stmt *k = &st->stmts[i];

		if (!k->sql) {
			if (!free_slot)
				free_slot = k;
		} else if (!k->busy && strcmp(k->sql, sql) == 0) {
			k->busy = 1;
			*stmt = k->stmt;
			return 0;
		}
	}
	rc = sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st->db, rc, "prepare", err);
	if (free_slot) {
		free_slot->sql = strdup(sql);
		if (free_slot->sql) {
			free_slot->stmt = *stmt;
			free_slot->busy = 1;
		}
	}
	return 0;
}

/* done gives a statement back: reset for its next use when kept,
 * finalized otherwise. NULL is fine. */
static void done(struct store *st, sqlite3_stmt *stmt)
{
	size_t i;

	if (!stmt)
		return;
	for (i = 0; i < STORE_STMTS; i++) {
		if (st->stmts[i].stmt == stmt) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			st->stmts[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(stmt);
}

int store_read_begin(struct store *st, struct ferr *err)
{
	int rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_fail(st->db, rc, "begin read", err);
	return 0;
}

void store_read_end(struct store *st)
{
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

/* secret_name writes "hasPassword" for the secret field "password". */
static void secret_name(const struct field *f, char *out, size_t size)
{
	snprintf(out, size, SECRET_PREFIX "%c%s",
		f->name[0] >= 'a' && f->name[0] <= 'z' ?
		f->name[0] - 'a' + 'A' : f->name[0], f->name + 1);
}

/* record_build joins the meta columns, the stored data and the secret
 * flags into the record as the API shows it. Steals data. */
static json_t *record_build(const struct resource *res, const char *id,
	long long version, const char *created, const char *updated,
	json_t *data, json_t *secret)
{
	json_t *rec = json_pack("{sssIssss}", "id", id, "version",
		(json_int_t)version, "createdAt", created, "updatedAt",
		updated);
	const struct field *f;

	json_object_update(rec, data);
	json_decref(data);
	for (f = res->fields; f->name; f++) {
		char name[64];

		if (!(f->flags & FF_SECRET))
			continue;
		secret_name(f, name, sizeof(name));
		json_object_set_new(rec, name, json_boolean(secret &&
			json_is_string(json_object_get(secret, f->name))));
	}
	return rec;
}

json_t *store_row_record(const struct resource *res, sqlite3_stmt *stmt,
	int first, json_t **secret_out)
{
	const char *data = (const char *)sqlite3_column_text(stmt, first + 4);
	const char *secret = (const char *)sqlite3_column_text(stmt,
		first + 5);
	json_t *d, *s = NULL, *rec;

	d = json_loads(data ? data : "{}", 0, NULL);
	if (!d)
		d = json_object();
	if (secret)
		s = json_loads(secret, 0, NULL);
	rec = record_build(res,
		(const char *)sqlite3_column_text(stmt, first),
		sqlite3_column_int64(stmt, first + 1),
		(const char *)sqlite3_column_text(stmt, first + 2),
		(const char *)sqlite3_column_text(stmt, first + 3), d, s);
	if (secret_out)
		*secret_out = s;
	else
		json_decref(s);
	return rec;
}

/* load fetches one record; 404 when missing. */
static json_t *load(struct store *st, const struct resource *res,
	const char *id, json_t **secret, struct ferr *err)
{
	sqlite3_stmt *stmt = NULL;
	char sql[256];
	json_t *rec = NULL;
	int rc;

	if (!util_is_uuid(id)) {
		ferr_set(err, 404, "not_found", "No such record in %s.",
			res->name);
		return NULL;
	}
	snprintf(sql, sizeof(sql), "SELECT id, version, created_at, "
		"updated_at, data, secret FROM %s WHERE id = ?1", res->table);
	if (prepare(st, sql, &stmt, err))
		return NULL;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		rec = store_row_record(res, stmt, 0, secret);
	else if (rc == SQLITE_DONE)
		ferr_set(err, 404, "not_found", "No such record in %s.",
			res->name);
	else
		db_fail(st->db, rc, "load", err);
	done(st, stmt);
	return rec;
}

json_t *store_get(struct store *st, const struct resource *res,
	const char *id, struct ferr *err)
{
	return load(st, res, id, NULL, err);
}

static int exists_cb(void *arg, const char *collection, const char *id,
	struct ferr *err)
{
	struct store *st = arg;
	const struct resource *res = resource_find(collection);
	sqlite3_stmt *stmt = NULL;
	char sql[128];
	int rc;

	if (!res)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE id = ?1",
		res->table);
	if (prepare(st, sql, &stmt, err))
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	done(st, stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(st->db, rc, "exists", err);
}

/* ---- writing ---- */

/* strip_meta removes the server-made fields a client may send back. */
static void strip_meta(const struct resource *res, json_t *input)
{
	static const char *const meta[] = { "id", "version", "createdAt",
		"updatedAt", NULL };
	const struct field *f;
	size_t i;

	for (i = 0; meta[i]; i++)
		json_object_del(input, meta[i]);
	for (f = res->fields; f->name; f++) {
		char name[64];

		if (!(f->flags & FF_SECRET))
			continue;
		secret_name(f, name, sizeof(name));
		json_object_del(input, name);
	}
}

/* secrets_apply updates the secret object from input: a string sets, null
 * clears, absence keeps. Returns the new secret object (new reference, or
 * NULL when no secret is left). */
static json_t *secrets_apply(const struct resource *res, json_t *input,
	json_t *old_secret)
{
	json_t *s = old_secret ? json_deep_copy(old_secret) : json_object();
	const struct field *f;

	for (f = res->fields; f->name; f++) {
		json_t *v;

		if (!(f->flags & FF_SECRET))
			continue;
		v = json_object_get(input, f->name);
		if (json_is_string(v))
			json_object_set(s, f->name, v);
		else if (v && json_is_null(v))
			json_object_del(s, f->name);
	}
	if (json_object_size(s) == 0) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* unique_check answers 409 when another record holds a unique value. */
static int unique_check(struct store *st, const struct resource *res,
	json_t *rec, const char *id, struct ferr *err)
{
	const struct field *f;

	for (f = res->fields; f->name; f++) {
		sqlite3_stmt *stmt = NULL;
		char sql[512];
		json_t *v;
		int rc;

		if (!(f->flags & FF_UNIQUE))
			continue;
		v = json_object_get(rec, f->name);
		if (!json_is_string(v))
			continue;
		if (f->unique_with)
			snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE "
				"json_extract(data, '$.%s') = ?1 AND "
				"json_extract(data, '$.%s') IS ?2 AND id != ?3",
				res->table, f->name, f->unique_with);
		else
			snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE "
				"json_extract(data, '$.%s') = ?1 AND id != ?3",
				res->table, f->name);
		if (prepare(st, sql, &stmt, err))
			return -1;
		sqlite3_bind_text(stmt, 1, json_string_value(v), -1,
			SQLITE_STATIC);
		if (f->unique_with)
			sqlite3_bind_text(stmt, 2, json_string_value(
				json_object_get(rec, f->unique_with)), -1,
				SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		done(st, stmt);
		if (rc == SQLITE_ROW) {
			ferr_set(err, 409, "conflict", "Another record of %s "
				"already has this %s.", res->name, f->name);
			if (f->unique_with)
				ferr_field(err, f->name, "is already used by "
					"another %s %s", json_string_value(
					json_object_get(rec, f->unique_with)),
					res->name);
			else
				ferr_field(err, f->name, "is already used");
			return -1;
		}
		if (rc != SQLITE_DONE)
			return db_fail(st->db, rc, "unique check", err);
	}
	return 0;
}

/* row_write inserts or updates the row of one record. */
static int row_write(struct store *st, const struct resource *res, int insert,
	const char *id, long long version, const char *created,
	const char *updated, json_t *data, json_t *secret, struct ferr *err)
{
	sqlite3_stmt *stmt = NULL;
	char sql[256];
	char *d = NULL, *s = NULL;
	int rc, result = -1;

	if (insert)
		snprintf(sql, sizeof(sql), "INSERT INTO %s (id, version, "
			"created_at, updated_at, data, secret) VALUES "
			"(?1, ?2, ?3, ?4, ?5, ?6)", res->table);
	else
		snprintf(sql, sizeof(sql), "UPDATE %s SET version = ?2, "
			"updated_at = ?4, data = ?5, secret = ?6 "
			"WHERE id = ?1", res->table);
	d = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (secret)
		s = json_dumps(secret, JSON_COMPACT);
	if (!d || (secret && !s)) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	if (prepare(st, sql, &stmt, err))
		goto out;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, version);
	if (insert)
		sqlite3_bind_text(stmt, 3, created, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, updated, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, d, -1, SQLITE_STATIC);
	if (s)
		sqlite3_bind_text(stmt, 6, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 6);
	rc = sqlite3_step(stmt);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		/* The unique indexes back up unique_check. */
		ferr_set(err, 409, "conflict", "The record clashes with "
			"another record of %s.", res->name);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st->db, rc, "write", err);
		goto out;
	}
	result = 0;
out:
	done(st, stmt);
	free(d);
	free(s);
	return result;
}

/* public_data is the record without meta fields or secret flags: what the
 * data column holds. New reference. */
static json_t *public_data(const struct resource *res, json_t *rec)
{
	json_t *d = json_deep_copy(rec);

	strip_meta(res, d);
	return d;
}

/* What a write does to the dashboard: nothing, certainly move it (a
 * record came or went, so a total changed), or perhaps (a counted field
 * changed: compare the figures before and after). */
enum dash_effect { DASH_NONE, DASH_ALWAYS, DASH_COMPARE };

/* A write in progress: one transaction and its effect on the dashboard. */
struct txn {
	struct store *st;
	enum dash_effect dash;
	json_t *dash_before;
	int open;
};

static int txn_begin(struct txn *t, struct store *st, struct ferr *err)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
	/* Inside a batch a write is part of the batch's transaction. A
	 * savepoint per write would let one refused record leave the others,
	 * but it makes the search index flush at every write (a third of a
	 * bulk load's time): a failed write fails the batch instead. */
	if (!st->batch && db_begin(st->db, err))
		return -1;
	t->open = 1;
	return 0;
}

/*
 * txn_dashboard is called before the row changes, with the stored record
 * (NULL on create) and the new one (NULL on delete). Most writes, such as
 * a worker's progress report, touch no counted field and cost the
 * dashboard nothing.
 */
static int txn_dashboard(struct txn *t, const struct resource *res,
	json_t *old, json_t *rec, struct ferr *err)
{
	const struct field *f;

	if (!res->dashboard)
		return 0;
	if (!old || !rec) {
		t->dash = DASH_ALWAYS;
		return 0;
	}
	for (f = res->fields; f->name; f++) {
		json_t *a = json_object_get(old, f->name);
		json_t *b = json_object_get(rec, f->name);

		if (!(f->flags & FF_DASH) || a == b || (a && b &&
		    json_equal(a, b)))
			continue;
		/* The dashboard counts each value of an enum and the true
		 * values of a boolean: such a change surely moves a figure,
		 * and a boolean going from null to false moves none. */
		if (f->type == FT_ENUM) {
			t->dash = DASH_ALWAYS;
			return 0;
		}
		if (f->type == FT_BOOL) {
			if (json_is_true(a) != json_is_true(b)) {
				t->dash = DASH_ALWAYS;
				return 0;
			}
			continue;
		}
		t->dash_before = dashboard_compute(t->st->db, err);
		if (!t->dash_before)
			return -1;
		t->dash = DASH_COMPARE;
		return 0;
	}
	return 0;
}

/* txn_commit journals the dashboard when its figures moved, commits and
 * rings the doorbell. */
static int txn_commit(struct txn *t, const struct store_write *w,
	struct ferr *err)
{
	struct store *st = t->st;

	if (st->batch) {
		/* One dashboard row for the whole batch, at its commit. */
		if (t->dash != DASH_NONE)
			st->batch_dash = 1;
		t->open = 0;
		return 0;
	}
	if (t->dash != DASH_NONE) {
		json_t *after = dashboard_compute(st->db, err);

		if (!after)
			return -1;
		if ((t->dash == DASH_ALWAYS ||
		    !json_equal(after, t->dash_before)) &&
		    journal_append(st->db, "dashboard", "updated", NULL, -1,
		    w->actor, after, NULL, NULL, err)) {
			json_decref(after);
			return -1;
		}
		json_decref(after);
	}
	if (db_commit(st->db, err))
		return -1;
	t->open = 0;
	journal_doorbell(st->cfg->doorbell);
	return 0;
}

static void txn_end(struct txn *t)
{
	if (t->open && t->st->batch)
		t->st->batch_failed = 1;
	else if (t->open)
		db_rollback(t->st->db);
	json_decref(t->dash_before);
	t->dash_before = NULL;
	t->open = 0;
}

static int check_if_match(const struct resource *res, json_t *old,
	const struct store_write *w, struct ferr *err)
{
	long long v = (long long)json_integer_value(json_object_get(old,
		"version"));

	if (w->if_match >= 0 && w->if_match != v)
		return ferr_set(err, 412, "version_mismatch", "The record "
			"of %s was changed by someone else: it is at version "
			"%lld, not %lld.", res->name, v, w->if_match);
	return 0;
}

/* merge_patch applies an RFC 7396 merge patch to target in place. */
static void merge_patch(json_t *target, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v) {
		if (json_is_null(v)) {
			json_object_del(target, key);
		} else if (json_is_object(v)) {
			json_t *t = json_object_get(target, key);

			if (!json_is_object(t)) {
				t = json_object();
				json_object_set_new(target, key, t);
			}
			merge_patch(t, v);
		} else {
			json_object_set(target, key, v);
		}
	}
}

/*
 * change_prev is what an event tells of the record before the change: the
 * searchable and filter fields that the change replaced (all of them when
 * rec is NULL, a delete), so that a page showing a filtered or searched
 * window can tell whether a record outside it used to belong. New
 * reference; NULL on create.
 */
static json_t *change_prev(const struct resource *res, json_t *old,
	json_t *rec)
{
	const struct field *f;
	json_t *prev;

	if (!old)
		return NULL;
	prev = json_object();
	for (f = res->fields; f->name; f++) {
		json_t *a = json_object_get(old, f->name);
		json_t *b = rec ? json_object_get(rec, f->name) : NULL;

		if (!(f->flags & (FF_SEARCH | FF_FILTER)))
			continue;
		if (rec && (a == b || (a && b && json_equal(a, b)) ||
		    (!a && json_is_null(b)) || (!b && json_is_null(a))))
			continue;
		json_object_set(prev, f->name, a ? a : json_null());
	}
	return prev;
}

enum write_kind { WRITE_CREATE, WRITE_REPLACE, WRITE_PATCH };

static json_t *write_record(struct store *st, const struct resource *res,
	const char *id_in, json_t *body, enum write_kind kind,
	const struct store_write *w, struct ferr *err)
{
	struct validate_ctx ctx = { exists_cb, st };
	struct txn t;
	json_t *old = NULL, *old_secret = NULL, *input = NULL, *rec = NULL;
	json_t *secret = NULL, *out = NULL, *prev = NULL;
	char id[UTIL_UUID_LEN];
	char now[UTIL_TS_LEN];
	long long version = 1;
	const char *created = now;

	if (!json_is_object(body)) {
		ferr_set(err, 400, "bad_request",
			"The body must be a JSON object.");
		return NULL;
	}
	util_ts_now(now);
	if (txn_begin(&t, st, err))
		goto out;

	if (kind == WRITE_CREATE) {
		if (util_uuid_new(id)) {
			ferr_set(err, 500, "internal_error",
				"Could not make an id.");
			goto out;
		}
		input = json_deep_copy(body);
	} else {
		snprintf(id, sizeof(id), "%s", id_in);
		old = load(st, res, id, &old_secret, err);
		if (!old || check_if_match(res, old, w, err))
			goto out;
		version = (long long)json_integer_value(json_object_get(old,
			"version")) + 1;
		created = json_string_value(json_object_get(old,
			"createdAt"));
		if (kind == WRITE_PATCH) {
			input = public_data(res, old);
			merge_patch(input, body);
		} else {
			input = json_deep_copy(body);
		}
	}
	strip_meta(res, input);
	secret = secrets_apply(res, body, old_secret);

	rec = validate_record(res, input, old, &ctx, err);
	if (!rec)
		goto out;
	if (res->validate && res->validate(st, res, rec, old, err))
		goto out;
	if (res->derive)
		res->derive(rec);
	if (unique_check(st, res, rec, id, err))
		goto out;
	if (txn_dashboard(&t, res, old, rec, err))
		goto out;
	if (row_write(st, res, kind == WRITE_CREATE, id, version, created,
	    now, rec, secret, err))
		goto out;
	out = record_build(res, id, version, created, now, json_incref(rec),
		secret);
	/* The journal carries the record as GET shows it: with the secret
	 * flags but never the secrets. */
	prev = change_prev(res, old, rec);
	if (journal_append(st->db, res->name, kind == WRITE_CREATE ?
	    "created" : "updated", id, version, w->actor, out, prev, NULL,
	    err))
		goto fail;
	if (txn_commit(&t, w, err))
		goto fail;
	goto out;
fail:
	json_decref(out);
	out = NULL;
out:
	txn_end(&t);
	json_decref(old);
	json_decref(old_secret);
	json_decref(input);
	json_decref(rec);
	json_decref(secret);
	json_decref(prev);
	return out;
}

json_t *store_create(struct store *st, const struct resource *res,
	json_t *body, const struct store_write *w, struct ferr *err)
{
	return write_record(st, res, NULL, body, WRITE_CREATE, w, err);
}

json_t *store_replace(struct store *st, const struct resource *res,
	const char *id, json_t *body, const struct store_write *w,
	struct ferr *err)
{
	return write_record(st, res, id, body, WRITE_REPLACE, w, err);
}

json_t *store_patch(struct store *st, const struct resource *res,
	const char *id, json_t *patch, const struct store_write *w,
	struct ferr *err)
{
	return write_record(st, res, id, patch, WRITE_PATCH, w, err);
}

/* update_stored rewrites an already-validated record (pool cleanup,
 * actions) with version + 1 and journals it; before is the stored record
 * (for the event's prev). Steals nothing. */
static json_t *update_stored(struct store *st, const struct resource *res,
	json_t *rec, json_t *before, json_t *secret,
	const struct store_write *w, struct ferr *err)
{
	char now[UTIL_TS_LEN];
	const char *id = json_string_value(json_object_get(rec, "id"));
	long long version = (long long)json_integer_value(json_object_get(rec,
		"version")) + 1;
	json_t *data, *out, *prev;
	int rc;

	util_ts_now(now);
	data = public_data(res, rec);
	if (res->derive)
		res->derive(data);
	if (row_write(st, res, 0, id, version, NULL, now, data, secret,
	    err)) {
		json_decref(data);
		return NULL;
	}
	out = record_build(res, id, version, json_string_value(
		json_object_get(rec, "createdAt")), now, data, secret);
	prev = change_prev(res, before, out);
	rc = journal_append(st->db, res->name, "updated", id, version,
		w->actor, out, prev, NULL, err);
	json_decref(prev);
	if (rc) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* unlink_proxy removes a deleted proxy from every pool that lists it. */
static int unlink_proxy(struct store *st, const char *proxy_id,
	const struct store_write *w, struct ferr *err)
{
	const struct resource *pools = resource_find("proxy-pools");
	sqlite3_stmt *stmt = NULL;
	json_t *ids = json_array(), *pid;
	size_t i;
	int rc, result = -1;

	if (prepare(st, "SELECT id FROM proxy_pools WHERE EXISTS (SELECT 1 "
	    "FROM json_each(data, '$.members') WHERE json_extract(value, "
	    "'$.proxyId') = ?1)", &stmt, err))
		goto out;
	sqlite3_bind_text(stmt, 1, proxy_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_array_append_new(ids, json_string((const char *)
			sqlite3_column_text(stmt, 0)));
	if (rc != SQLITE_DONE) {
		db_fail(st->db, rc, "pool scan", err);
		goto out;
	}
	json_array_foreach(ids, i, pid) {
		json_t *secret = NULL, *pool, *members, *kept, *m, *done;
		size_t j;

		pool = load(st, pools, json_string_value(pid), &secret, err);
		if (!pool)
			goto out;
		members = json_object_get(pool, "members");
		kept = json_array();
		json_array_foreach(members, j, m)
			if (strcmp(json_string_value(json_object_get(m,
			    "proxyId")), proxy_id) != 0)
				json_array_append(kept, m);
		json_object_set_new(pool, "members", kept);
		/* Members are neither searched nor filtered: no prev. */
		done = update_stored(st, pools, pool, pool, secret, w, err);
		json_decref(pool);
		json_decref(secret);
		if (!done)
			goto out;
		json_decref(done);
	}
	result = 0;
out:
	done(st, stmt);
	json_decref(ids);
	return result;
}

int store_delete(struct store *st, const struct resource *res,
	const char *id, const struct store_write *w, struct ferr *err)
{
	sqlite3_stmt *stmt = NULL;
	struct txn t;
	json_t *old = NULL, *prev = NULL;
	char sql[128];
	int rc, result = -1;

	if (txn_begin(&t, st, err))
		goto out;
	old = load(st, res, id, NULL, err);
	if (!old || check_if_match(res, old, w, err))
		goto out;
	if (strcmp(res->name, "proxies") == 0 && unlink_proxy(st, id, w, err))
		goto out;
	if (txn_dashboard(&t, res, old, NULL, err))
		goto out;
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", res->table);
	if (prepare(st, sql, &stmt, err))
		goto out;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		db_fail(st->db, rc, "delete", err);
		goto out;
	}
	prev = change_prev(res, old, NULL);
	if (journal_append(st->db, res->name, "deleted", id,
	    (long long)json_integer_value(json_object_get(old, "version")),
	    w->actor, NULL, prev, NULL, err))
		goto out;
	if (txn_commit(&t, w, err))
		goto out;
	result = 0;
out:
	done(st, stmt);
	txn_end(&t);
	json_decref(old);
	json_decref(prev);
	return result;
}

json_t *store_action(struct store *st, const char *id, const char *action,
	json_t *body, const struct store_write *w, struct ferr *err)
{
	const struct resource *res = resource_find("campaigns");
	char now[UTIL_TS_LEN];
	struct txn t;
	json_t *rec = NULL, *before = NULL, *out = NULL;
	int known;

	campaign_transition("pending", action, &known);
	if (!known) {
		ferr_set(err, 404, "unknown_action", "There is no campaign "
			"action '%.*s'.", VALIDATE_QUOTE(action));
		return NULL;
	}
	util_ts_now(now);
	if (txn_begin(&t, st, err))
		goto out;
	rec = load(st, res, id, NULL, err);
	if (!rec || check_if_match(res, rec, w, err))
		goto out;
	before = json_copy(rec);
	if (!before) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	if (campaign_apply_action(rec, action, body, now, err))
		goto out;
	if (txn_dashboard(&t, res, before, rec, err))
		goto out;
	out = update_stored(st, res, rec, before, NULL, w, err);
	if (!out)
		goto out;
	if (txn_commit(&t, w, err)) {
		json_decref(out);
		out = NULL;
	}
out:
	txn_end(&t);
	json_decref(before);
	json_decref(rec);
	return out;
}

int store_batch_begin(struct store *st, struct ferr *err)
{
	/* A batch dirties many index pages: keep them in memory until the
	 * commit rather than spill them to the WAL one by one, and keep each
	 * write's savepoint journal in memory too. */
	if (sqlite3_exec(st->db, "PRAGMA cache_size = -131072; "
	    "PRAGMA temp_store = MEMORY", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st->db, sqlite3_errcode(st->db), "batch", err);
	if (db_begin(st->db, err))
		return -1;
	st->batch = 1;
	st->batch_dash = 0;
	st->batch_failed = 0;
	return 0;
}

int store_batch_commit(struct store *st, const struct store_write *w,
	struct ferr *err)
{
	json_t *after;

	st->batch = 0;
	if (st->batch_failed) {
		db_rollback(st->db);
		return ferr_set(err, 500, "internal_error", "A write of the "
			"batch failed; the batch was rolled back.");
	}
	if (st->batch_dash) {
		after = dashboard_compute(st->db, err);
		if (!after || journal_append(st->db, "dashboard", "updated",
		    NULL, -1, w->actor, after, NULL, NULL, err)) {
			json_decref(after);
			db_rollback(st->db);
			return -1;
		}
		json_decref(after);
	}
	if (db_commit(st->db, err))
		return -1;
	journal_doorbell(st->cfg->doorbell);
	return 0;
}

void store_batch_rollback(struct store *st)
{
	st->batch = 0;
	db_rollback(st->db);
}

json_t *store_dashboard(struct store *st, struct ferr *err)
{
	json_t *out = NULL, *activity = NULL;
	int64_t seq = 0;

	if (store_read_begin(st, err))
		return NULL;
	if (journal_last_seq(st->db, &seq, err))
		goto out;
	out = dashboard_compute(st->db, err);
	if (!out)
		goto out;
	activity = dashboard_activity(st->db, 20, err);
	if (!activity) {
		json_decref(out);
		out = NULL;
		goto out;
	}
	json_object_set_new(out, "activity", activity);
	json_object_set_new(out, "seq", json_integer(seq));
out:
	store_read_end(st);
	return out;
}

json_t *store_changes(struct store *st, int64_t since,
	const struct topic_list *topics, int limit, struct ferr *err)
{
	int64_t last = 0, first = 0, next = since;
	json_t *events, *out = NULL;

	if (store_read_begin(st, err))
		return NULL;
	if (journal_last_seq(st->db, &last, err) ||
	    journal_first_seq(st->db, &first, err))
		goto out;
	/* A client that must refetch is told so once. */
	if (journal_reset_due(since, first, last)) {
		out = json_pack("{sbsI}", "reset", 1, "seq", (json_int_t)last);
		goto out;
	}
	events = journal_read(st->db, since, topics, limit, &next, err);
	if (!events)
		goto out;
	out = json_pack("{sosI}", "events", events, "seq", (json_int_t)next);
out:
	store_read_end(st);
	return out;
}

int store_last_seq(struct store *st, int64_t *seq, struct ferr *err)
{
	return journal_last_seq(st->db, seq, err);
}

int store_first_seq(struct store *st, int64_t *seq, struct ferr *err)
{
	return journal_first_seq(st->db, seq, err);
}

int store_journal_prune(struct store *st, long keep_days, long keep_rows,
	long batch, long *deleted, struct ferr *err)
{
	return journal_prune(st->db, keep_days, keep_rows, batch, deleted,
		err);
}

int store_inspect(const struct config *cfg, struct store_health *h,
	struct ferr *err)
{
	sqlite3 *db;
	sqlite3_stmt *stmt = NULL;
	const unsigned char *t;

	h->integrity[0] = '\0';
	h->version = -1;
	db = db_open(cfg, DB_READWRITE, err);
	if (db == NULL)
		return -1;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt,
		NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
		t = sqlite3_column_text(stmt, 0);
		if (t != NULL)
			snprintf(h->integrity, sizeof(h->integrity), "%s",
				(const char *)t);
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt,
		NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		h->version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close_v2(db);
	return 0;
}
