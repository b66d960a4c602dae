/* store.c - generic CRUD over the resource table: validated, journaled writes. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "store.h"
#include "campaign.h"
#include "dashboard.h"
#include "db.h"
#include "journal.h"
#include "schema.h"
#include "listq.h"
#include "log.h"
#include "pgschema.h"
#include "util.h"
#include "validate.h"

#define SECRET_PREFIX "has"

/* config_mtime_ns is the config file's modification time (0: none). */
static long long config_mtime_ns(const struct config *cfg)
{
	struct stat sb;

	if (cfg->path == NULL || stat(cfg->path, &sb) < 0)
		return 0;
	return (long long)sb.st_mtim.tv_sec * 1000000000LL +
		sb.st_mtim.tv_nsec;
}

/* keys_fresh reads the data keys again when the config file changed since
 * they were read: flowpush rekey writes new ones while the API runs, and
 * every process must seal with the new key and still open the old. */
static int keys_fresh(struct store *st, struct ferr *err)
{
	long long m = config_mtime_ns(st->cfg);
	struct config now;
	struct seal_key k[2];
	int rc;

	if (m == 0 || m == st->keys_mtime_ns)
		return 0;
	if (config_load(&now, st->cfg->path, err) < 0) {
		config_release(&now);
		return -1;
	}
	rc = seal_key_parse(now.data_key, &k[0], err) < 0 ||
		seal_key_parse(now.data_key_previous, &k[1], err) < 0;
	config_release(&now);
	if (rc)
		return -1;
	memcpy(st->keys, k, sizeof(k));
	st->keys_mtime_ns = m;
	return 0;
}

/* has_secrets is non-zero when res declares a secret field. */
static int has_secrets(const struct resource *res)
{
	const struct field *f;

	for (f = res->fields; f->name; f++)
		if (f->flags & FF_SECRET)
			return 1;
	return 0;
}

int store_open(struct store *st, const struct config *cfg, struct ferr *err)
{
	memset(st, 0, sizeof(*st));
	st->cfg = cfg;
	/* The keys below are cfg's, which may be older than the file (a
	 * long-lived process): the first secret read or written checks. */
	st->keys_mtime_ns = -1;
	if (seal_key_parse(cfg->data_key, &st->keys[0], err) < 0 ||
	    seal_key_parse(cfg->data_key_previous, &st->keys[1], err) < 0)
		return -1;
	if (config_database_is_pg(cfg->database)) {
		struct dbx *x = dbx_open(cfg, 0, err);

		if (x == NULL)
			return -1;
		/* The store keeps the connection in place: take it over. */
		st->x = *x;
		st->x.owned = 0;
		free(x);
		if (pgschema_records(&st->x, err) < 0) {
			store_close(st);
			return -1;
		}
		return 0;
	}
	st->db = schema_open(cfg, DB_READWRITE | DB_MAP, err);
	if (!st->db && err && err->status == 500) {
		/* db_open names the file, and has logged it: a client of the
		 * API must not learn where the server keeps its files. */
		snprintf(err->message, sizeof(err->message), "The database "
			"cannot be opened; the server log says why.");
	}
	if (st->db)
		dbx_init_sqlite(&st->x, st->db);
	return st->db ? 0 : -1;
}

void store_checkpoint_watch(struct store *st, struct checkpoint *c)
{
	/* PostgreSQL checkpoints by itself. */
	if (st->db)
		checkpoint_watch(c, st->db);
}

void store_close(struct store *st)
{
	size_t i;

	dbx_finalize(st->journal_stmt);
	st->journal_stmt = NULL;
	for (i = 0; i < STORE_STMTS; i++) {
		dbx_finalize(st->stmts[i].stmt);
		free(st->stmts[i].sql);
	}
	memset(st->stmts, 0, sizeof(st->stmts));
	if (st->db)
		sqlite3_close_v2(st->db);
	st->db = NULL;
	dbx_disconnect(&st->x);
}

/* store_prepare hands out the kept statement for sql, or prepares one (and
 * keeps it while there is room). Give it back with store_done. */
static int store_prepare(struct store *st, const char *sql,
	struct dbx_stmt **stmt, struct ferr *err)
{
	struct store_stmt *free_slot = NULL;
	size_t i;

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
	if (dbx_prepare(&st->x, sql, "prepare", stmt, err) < 0)
		return -1;
	if (free_slot) {
		free_slot->sql = strdup(sql);
		if (free_slot->sql) {
			free_slot->stmt = *stmt;
			free_slot->busy = 1;
		}
	}
	return 0;
}

/* store_done gives a statement back: reset for its next use when kept,
 * finalized otherwise. NULL is fine. */
static void store_done(struct store *st, struct dbx_stmt *stmt)
{
	size_t i;

	if (!stmt)
		return;
	for (i = 0; i < STORE_STMTS; i++) {
		if (st->stmts[i].stmt == stmt) {
			dbx_reset(stmt);
			dbx_clear_bindings(stmt);
			st->stmts[i].busy = 0;
			return;
		}
	}
	dbx_finalize(stmt);
}

int store_read_begin(struct store *st, struct ferr *err)
{
	return dbx_begin_read(&st->x, err);
}

void store_read_end(struct store *st)
{
	struct ferr e;

	ferr_init(&e);
	dbx_commit(&st->x, &e);
	ferr_release(&e);
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

/* secret_flags gives an object naming the secrets stored holds (sealed
 * or not) with "" for each: enough for record_build's flags. */
static json_t *secret_flags(const struct resource *res, const char *stored)
{
	const struct field *f;
	json_t *s;

	if (stored == NULL)
		return NULL;
	s = json_object();
	for (f = res->fields; f->name; f++)
		if ((f->flags & FF_SECRET) && seal_has_field(stored, f->name))
			json_object_set_new(s, f->name, json_string(""));
	return s;
}

json_t *store_row_record(const struct resource *res, struct dbx_stmt *stmt,
	int first)
{
	const char *data = dbx_column_text(stmt, first + 4);
	json_t *d, *s, *rec;

	d = json_loads(data ? data : "{}", 0, NULL);
	if (!d)
		d = json_object();
	s = secret_flags(res, dbx_column_text(stmt, first + 5));
	rec = record_build(res, dbx_column_text(stmt, first),
		dbx_column_int64(stmt, first + 1),
		dbx_column_text(stmt, first + 2),
		dbx_column_text(stmt, first + 3), d, s);
	json_decref(s);
	return rec;
}

/* secret_aad names the row a sealed secret belongs to. */
static void secret_aad(const struct resource *res, const char *id,
	char *out, size_t size)
{
	snprintf(out, size, "%s/%s", res->table, id);
}

/* secret_open opens the stored secret of row id (NULL: none), with the
 * current or the previous data key. 0, or -1 with err. */
static int secret_open(struct store *st, const struct resource *res,
	const char *id, const char *stored, json_t **out, struct ferr *err)
{
	const struct seal_key *keys[] = { &st->keys[0], &st->keys[1] };
	char aad[128];

	*out = NULL;
	if (stored == NULL)
		return 0;
	secret_aad(res, id, aad, sizeof(aad));
	*out = seal_open(keys, 2, aad, stored, err);
	return *out ? 0 : -1;
}

/* store_load fetches one record; 404 when missing. */
static json_t *store_load(struct store *st, const struct resource *res,
	const char *id, json_t **secret, struct ferr *err)
{
	struct dbx_stmt *stmt = NULL;
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
	if (store_prepare(st, sql, &stmt, err))
		return NULL;
	dbx_bind_text(stmt, 1, id);
	rc = dbx_step(stmt, err);
	if (rc == DBX_ROW) {
		rec = store_row_record(res, stmt, 0);
		if (secret && secret_open(st, res, id,
		    dbx_column_text(stmt, 5), secret, err) < 0) {
			json_decref(rec);
			rec = NULL;
		}
	} else if (rc == DBX_DONE)
		ferr_set(err, 404, "not_found", "No such record in %s.",
			res->name);
	store_done(st, stmt);
	return rec;
}

json_t *store_get(struct store *st, const struct resource *res,
	const char *id, struct ferr *err)
{
	return store_load(st, res, id, NULL, err);
}

static int exists_cb(void *arg, const char *collection, const char *id,
	struct ferr *err)
{
	struct store *st = arg;
	const struct resource *res = resource_find(collection);
	struct dbx_stmt *stmt = NULL;
	char sql[128];
	int rc;

	if (!res)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE id = ?1",
		res->table);
	if (store_prepare(st, sql, &stmt, err))
		return -1;
	dbx_bind_text(stmt, 1, id);
	rc = dbx_step(stmt, err);
	store_done(st, stmt);
	if (rc == DBX_ROW)
		return 1;
	if (rc == DBX_DONE)
		return 0;
	return -1;
}

/* get_cb is the validation context's view of store_get. */
static json_t *get_cb(void *arg, const char *collection, const char *id,
	struct ferr *err)
{
	const struct resource *res = resource_find(collection);

	if (!res) {
		ferr_set(err, 404, "not_found", "No such collection.");
		return NULL;
	}
	return store_get(arg, res, id, err);
}

/* ---- writing ---- */

/* The server-made fields every record has; a client may send them back. */
static const char *const meta_fields[] = { "id", "version", "createdAt",
	"updatedAt", NULL };

/* strip_meta removes the server-made fields a client may send back. */
static void strip_meta(const struct resource *res, json_t *input)
{
	const struct field *f;
	size_t i;

	for (i = 0; meta_fields[i]; i++)
		json_object_del(input, meta_fields[i]);
	for (f = res->fields; f->name; f++) {
		char name[64];

		if (!(f->flags & FF_SECRET))
			continue;
		secret_name(f, name, sizeof(name));
		json_object_del(input, name);
	}
}

int store_field_ignored(const struct resource *res, const char *name)
{
	const struct field *f;
	char has[64];
	size_t i;

	for (i = 0; meta_fields[i]; i++)
		if (strcmp(meta_fields[i], name) == 0)
			return 1;
	for (f = res->fields; f->name; f++) {
		if ((f->flags & FF_READONLY) && strcmp(f->name, name) == 0)
			return 1;
		if (!(f->flags & FF_SECRET))
			continue;
		secret_name(f, has, sizeof(has));
		if (strcmp(has, name) == 0)
			return 1;
	}
	return 0;
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
	int pg = dbx_kind(&st->x) == DBX_PG;

	for (f = res->fields; f->name; f++) {
		struct dbx_stmt *stmt = NULL;
		char sql[512], a[128], b[128];
		json_t *v;
		int rc;

		if (!(f->flags & FF_UNIQUE))
			continue;
		v = json_object_get(rec, f->name);
		if (!json_is_string(v))
			continue;
		listq_text_expr(pg, f->name, a, sizeof(a));
		if (f->unique_with) {
			listq_text_expr(pg, f->unique_with, b, sizeof(b));
			snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE "
				"%s = ?1 AND %s %s ?2 AND id != ?3",
				res->table, a, b, pg ?
				"IS NOT DISTINCT FROM" : "IS");
		} else {
			snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE "
				"%s = ?1 AND id != ?3", res->table, a);
		}
		if (store_prepare(st, sql, &stmt, err))
			return -1;
		dbx_bind_text(stmt, 1, json_string_value(v));
		if (f->unique_with)
			dbx_bind_text(stmt, 2, json_string_value(
				json_object_get(rec, f->unique_with)));
		dbx_bind_text(stmt, 3, id);
		rc = dbx_step(stmt, err);
		store_done(st, stmt);
		if (rc == DBX_ROW) {
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
		if (rc != DBX_DONE)
			return -1;
	}
	return 0;
}

/* row_write inserts or updates the row of one record. */
static int row_write(struct store *st, const struct resource *res, int insert,
	const char *id, long long version, const char *created,
	const char *updated, json_t *data, json_t *secret, struct ferr *err)
{
	struct dbx_stmt *stmt = NULL;
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
	if (secret && st->keys[0].set) {
		char aad[128];

		secret_aad(res, id, aad, sizeof(aad));
		s = seal_close(&st->keys[0], aad, secret);
	} else if (secret) {
		s = json_dumps(secret, JSON_COMPACT);
	}
	if (!d || (secret && !s)) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	/* A body is bounded by body_limit, but patches could grow a record
	 * past it; every event and answer relies on this bound. */
	if (strlen(d) > (size_t)st->cfg->body_limit) {
		ferr_set(err, 413, "record_too_large", "The record would be "
			"%zu bytes; the largest is %ld (body_limit).",
			strlen(d), st->cfg->body_limit);
		goto out;
	}
	if (store_prepare(st, sql, &stmt, err))
		goto out;
	dbx_bind_text(stmt, 1, id);
	dbx_bind_int64(stmt, 2, version);
	if (insert)
		dbx_bind_text(stmt, 3, created);
	dbx_bind_text(stmt, 4, updated);
	dbx_bind_text(stmt, 5, d);
	dbx_bind_text(stmt, 6, s);
	rc = dbx_step(stmt, err);
	if (rc == DBX_ERROR && dbx_unique_violation(&st->x)) {
		/* The unique indexes back up unique_check. */
		ferr_release(err);
		ferr_set(err, 409, "conflict", "The record clashes with "
			"another record of %s.", res->name);
		goto out;
	}
	if (rc != DBX_DONE)
		goto out;
	result = 0;
out:
	store_done(st, stmt);
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

/* write_begin starts one write of st (part of its batch, if one is open). */
static int write_begin(struct txn *t, struct store *st, struct ferr *err)
{
	return txn_begin(t, &st->x, &st->batch, st->cfg->doorbell, err);
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

/* WRITE_IMPORT is a create that keeps the record's id, version, times
 * and server-made fields (an exported record coming back). */
enum write_kind { WRITE_CREATE, WRITE_REPLACE, WRITE_PATCH, WRITE_IMPORT };

/* What a write starts from: its id, the stored record and secrets (none
 * on create), the input to validate, the version and its times. */
struct draft {
	char id[UTIL_UUID_LEN];
	json_t *old, *old_secret, *input;
	long long version;
	const char *created;          /* borrowed from old, or NULL: now */
	const char *updated;          /* borrowed from the body on import,
					 else NULL: now */
};

/* draft_import fills d from an exported record: its meta fields checked
 * (422), its id not taken yet (409). */
static int draft_import(struct store *st, const struct resource *res,
	json_t *body, struct draft *d, struct ferr *err)
{
	int rc;

	if (validate_meta(body, err) < 0)
		return -1;
	snprintf(d->id, sizeof(d->id), "%s", json_string_value(
		json_object_get(body, "id")));
	rc = exists_cb(st, res->name, d->id, err);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		ferr_set(err, 409, "conflict", "A record of %s with this id "
			"exists already.", res->name);
		return ferr_field(err, "id", "is already used by a record of "
			"%s", res->name);
	}
	d->version = (long long)json_integer_value(json_object_get(body,
		"version"));
	d->created = json_string_value(json_object_get(body, "createdAt"));
	d->updated = json_string_value(json_object_get(body, "updatedAt"));
	d->input = json_deep_copy(body);
	return 0;
}

/* draft_start fills d for a write of kind on res: a new id, or the stored
 * record (checked against If-Match) with body merged in for a PATCH. */
static int draft_start(struct store *st, const struct resource *res,
	const char *id_in, json_t *body, enum write_kind kind,
	const struct store_write *w, struct draft *d, struct ferr *err)
{
	d->version = 1;
	if (kind == WRITE_IMPORT)
		return draft_import(st, res, body, d, err);
	if (kind == WRITE_CREATE) {
		if (util_uuid_new(d->id))
			return ferr_set(err, 500, "internal_error",
				"Could not make an id.");
		d->input = json_deep_copy(body);
		return 0;
	}
	snprintf(d->id, sizeof(d->id), "%s", id_in);
	d->old = store_load(st, res, d->id, &d->old_secret, err);
	if (!d->old || check_if_match(res, d->old, w, err))
		return -1;
	d->version = (long long)json_integer_value(json_object_get(d->old,
		"version")) + 1;
	d->created = json_string_value(json_object_get(d->old, "createdAt"));
	if (kind == WRITE_PATCH) {
		d->input = public_data(res, d->old);
		merge_patch(d->input, body);
	} else {
		d->input = json_deep_copy(body);
	}
	return 0;
}

/* validated checks input as a whole record of res (fields, then the
 * collection's own rules) and derives its computed fields; a new
 * reference or NULL with err. costly_checked: the costly checks passed
 * already (precheck). */
static json_t *validated(struct store *st, const struct resource *res,
	json_t *input, json_t *old, int costly_checked, enum write_kind kind,
	struct ferr *err)
{
	struct validate_ctx ctx = { exists_cb, get_cb, st, st->cfg,
		costly_checked, kind == WRITE_IMPORT };
	json_t *rec = validate_record(res, input, old, &ctx, err);

	if (rec && res->validate && res->validate(&ctx, res, rec, old, err)) {
		json_decref(rec);
		return NULL;
	}
	if (rec && res->derive)
		res->derive(rec);
	return rec;
}

static void draft_release(struct draft *d)
{
	json_decref(d->old);
	json_decref(d->old_secret);
	json_decref(d->input);
	memset(d, 0, sizeof(*d));
}

/*
 * precheck validates the write in a read transaction, before the write
 * lock: the costly checks (compiling a keyword set's regular expressions
 * can take a good part of a second) and every refusal then cost the other
 * writers nothing. Under the lock the write is validated again against
 * what is stored then, without the costly part. Inside a batch the
 * batch's transaction holds the lock already: nothing to gain.
 */
static int precheck(struct store *st, const struct resource *res,
	const char *id_in, json_t *body, enum write_kind kind,
	const struct store_write *w, struct ferr *err)
{
	struct draft d = { .old = NULL };
	json_t *rec = NULL;
	int result = -1;

	if (st->batch.open)
		return 0;
	if (store_read_begin(st, err))
		return -1;
	if (draft_start(st, res, id_in, body, kind, w, &d, err) == 0) {
		strip_meta(res, d.input);
		rec = validated(st, res, d.input, d.old, 0, kind, err);
		result = rec ? 0 : -1;
	}
	store_read_end(st);
	json_decref(rec);
	draft_release(&d);
	return result;
}

static json_t *write_record(struct store *st, const struct resource *res,
	const char *id_in, json_t *body, enum write_kind kind,
	const struct store_write *w, struct ferr *err)
{
	struct draft d = { .old = NULL };
	struct txn t;
	json_t *rec = NULL, *secret = NULL, *out = NULL, *prev = NULL;
	char now[UTIL_TS_LEN];
	const char *created, *updated;

	if (!json_is_object(body)) {
		ferr_set(err, 400, "bad_request",
			"The body must be a JSON object.");
		return NULL;
	}
	util_ts_now(now);
	if ((has_secrets(res) && keys_fresh(st, err) < 0) ||
	    precheck(st, res, id_in, body, kind, w, err))
		return NULL;
	if (write_begin(&t, st, err) ||
	    draft_start(st, res, id_in, body, kind, w, &d, err))
		goto out;
	created = d.created ? d.created : now;
	updated = d.updated ? d.updated : now;
	strip_meta(res, d.input);
	secret = secrets_apply(res, body, d.old_secret);
	rec = validated(st, res, d.input, d.old, !st->batch.open, kind, err);
	if (!rec || unique_check(st, res, rec, d.id, err) ||
	    txn_dashboard(&t, res, d.old, rec, err) ||
	    row_write(st, res, kind == WRITE_CREATE || kind == WRITE_IMPORT,
	    d.id, d.version, created, updated, rec, secret, err))
		goto out;
	out = record_build(res, d.id, d.version, created, updated,
		json_incref(rec), secret);
	/* The journal carries the record as GET shows it: with the secret
	 * flags but never the secrets. */
	prev = change_prev(res, d.old, rec);
	if (journal_append(&st->x, &st->journal_stmt, res->name,
	    kind == WRITE_CREATE || kind == WRITE_IMPORT ? "created" :
	    "updated", d.id, d.version, w->actor, out, prev, NULL,
	    err) || txn_commit(&t, w->actor, err)) {
		json_decref(out);
		out = NULL;
	}
out:
	txn_end(&t);
	draft_release(&d);
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

json_t *store_import(struct store *st, const struct resource *res,
	json_t *rec, const struct store_write *w, struct ferr *err)
{
	return write_record(st, res, NULL, rec, WRITE_IMPORT, w, err);
}

/* export_secrets adds the opened secrets of the row (column 5 of stmt)
 * to rec. 0, or -1 with err (a secret that no key opens). */
static int export_secrets(struct store *st, const struct resource *res,
	struct dbx_stmt *stmt, json_t *rec, struct ferr *err)
{
	json_t *secret = NULL;
	int rc = secret_open(st, res, dbx_column_text(stmt, 0),
		dbx_column_text(stmt, 5), &secret, err);

	if (rc == 0 && secret != NULL)
		json_object_update(rec, secret);
	json_decref(secret);
	return rc;
}

int store_export(struct store *st, const struct resource *res,
	int with_secrets, store_record_cb cb, void *arg, struct ferr *err)
{
	struct dbx_stmt *stmt = NULL;
	char sql[256];
	int rc, result = -1;

	if (with_secrets && has_secrets(res) && keys_fresh(st, err) < 0)
		return -1;
	/* Creation order: a record comes after those it was made to name. */
	snprintf(sql, sizeof(sql), "SELECT id, version, created_at, "
		"updated_at, data, secret FROM %s ORDER BY created_at, id",
		res->table);
	if (dbx_prepare(&st->x, sql, "export", &stmt, err) < 0)
		return -1;
	while ((rc = dbx_step(stmt, err)) == DBX_ROW) {
		json_t *rec = store_row_record(res, stmt, 0);

		if (rec == NULL || (with_secrets && export_secrets(st, res,
		    stmt, rec, err) < 0) || cb(arg, res, rec, err) < 0) {
			if (rec == NULL)
				ferr_set(err, 500, "internal_error",
					"Out of memory.");
			json_decref(rec);
			goto out;
		}
		json_decref(rec);
	}
	if (rc != DBX_DONE)
		goto out;
	result = 0;
out:
	dbx_finalize(stmt);
	return result;
}

/* store_update_stored rewrites an already-validated record (pool cleanup,
 * actions) with version + 1 and journals it; before is the stored record
 * (for the event's prev). Steals nothing. */
static json_t *store_update_stored(struct store *st,
	const struct resource *res,
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
	rc = journal_append(&st->x, &st->journal_stmt, res->name, "updated", id, version,
		w->actor, out, prev, NULL, err);
	json_decref(prev);
	if (rc) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* drop_items removes from rec's array field arr every item whose field
 * key names id. */
static void drop_items(json_t *rec, const char *arr, const char *key,
	const char *id)
{
	json_t *items = json_object_get(rec, arr), *kept = json_array(), *m;
	size_t j;

	json_array_foreach(items, j, m) {
		const char *v = json_string_value(json_object_get(m, key));

		if (v == NULL || strcmp(v, id) != 0)
			json_array_append(kept, m);
	}
	json_object_set_new(rec, arr, kept);
}

/* unlink_in removes the items of r's array field arr whose key (a
 * FF_UNLINK reference) names the deleted id, rewriting and journaling
 * each record that held one. */
static int unlink_in(struct store *st, const struct resource *r,
	const char *arr, const char *key, const char *id,
	const struct store_write *w, struct ferr *err)
{
	struct dbx_stmt *stmt = NULL;
	json_t *ids = json_array(), *rid;
	char sql[256];
	size_t i;
	int rc, result = -1;

	if (dbx_kind(&st->x) == DBX_PG)
		snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE EXISTS "
			"(SELECT 1 FROM jsonb_array_elements(CASE WHEN "
			"jsonb_typeof(doc -> '%s') = 'array' THEN "
			"doc -> '%s' END) AS e WHERE e ->> '%s' = ?1)",
			r->table, arr, arr, key);
	else
		snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE EXISTS "
			"(SELECT 1 FROM json_each(data, '$.%s') WHERE "
			"json_extract(value, '$.%s') = ?1)", r->table, arr,
			key);
	if (store_prepare(st, sql, &stmt, err))
		goto out;
	dbx_bind_text(stmt, 1, id);
	while ((rc = dbx_step(stmt, err)) == DBX_ROW)
		json_array_append_new(ids, json_string(
			dbx_column_text(stmt, 0)));
	if (rc != DBX_DONE)
		goto out;
	json_array_foreach(ids, i, rid) {
		json_t *secret = NULL, *rec, *done;

		rec = store_load(st, r, json_string_value(rid), &secret, err);
		if (!rec)
			goto out;
		drop_items(rec, arr, key, id);
		/* Such arrays are neither searched nor filtered: no prev. */
		done = store_update_stored(st, r, rec, rec, secret, w,
			err);
		json_decref(rec);
		json_decref(secret);
		if (!done)
			goto out;
		json_decref(done);
	}
	result = 0;
out:
	store_done(st, stmt);
	json_decref(ids);
	return result;
}

/* unlink_refs applies every FF_UNLINK reference to the collection res in
 * the resource table to the record id being deleted. */
static int unlink_refs(struct store *st, const struct resource *res,
	const char *id, const struct store_write *w, struct ferr *err)
{
	const struct resource *r;
	const struct field *a, *u;

	for (r = resources; r->name; r++)
		for (a = r->fields; a->name; a++) {
			if (a->type != FT_ARRAY || a->sub == NULL ||
			    a->sub->type != FT_OBJECT || a->sub->sub == NULL)
				continue;
			for (u = a->sub->sub; u->name; u++)
				if ((u->flags & FF_UNLINK) && u->ref &&
				    strcmp(u->ref, res->name) == 0 &&
				    unlink_in(st, r, a->name, u->name, id, w,
				    err))
					return -1;
		}
	return 0;
}

int store_delete(struct store *st, const struct resource *res,
	const char *id, const struct store_write *w, struct ferr *err)
{
	struct dbx_stmt *stmt = NULL;
	struct txn t;
	json_t *old = NULL, *prev = NULL;
	char sql[128];
	int rc, result = -1;

	if (write_begin(&t, st, err))
		goto out;
	old = store_load(st, res, id, NULL, err);
	if (!old || check_if_match(res, old, w, err))
		goto out;
	if (unlink_refs(st, res, id, w, err))
		goto out;
	if (txn_dashboard(&t, res, old, NULL, err))
		goto out;
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", res->table);
	if (store_prepare(st, sql, &stmt, err))
		goto out;
	dbx_bind_text(stmt, 1, id);
	rc = dbx_step(stmt, err);
	if (rc != DBX_DONE)
		goto out;
	prev = change_prev(res, old, NULL);
	if (journal_append(&st->x, &st->journal_stmt, res->name, "deleted", id,
	    (long long)json_integer_value(json_object_get(old, "version")),
	    w->actor, NULL, prev, NULL, err))
		goto out;
	if (txn_commit(&t, w->actor, err))
		goto out;
	result = 0;
out:
	store_done(st, stmt);
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
	if (write_begin(&t, st, err))
		goto out;
	rec = store_load(st, res, id, NULL, err);
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
	out = store_update_stored(st, res, rec, before, NULL, w, err);
	if (!out)
		goto out;
	if (txn_commit(&t, w->actor, err)) {
		json_decref(out);
		out = NULL;
	}
out:
	txn_end(&t);
	json_decref(before);
	json_decref(rec);
	return out;
}

int store_batch_begin(struct store *st, const struct resource *bulk,
	struct ferr *err)
{
	if (txn_batch_begin(&st->x, &st->batch, err))
		return -1;
	/* The bulk load's trigger swap is SQLite's: PostgreSQL keeps its
	 * search column itself. */
	st->bulk = st->db ? bulk : NULL;
	if (st->bulk && schema_bulk_begin(st->db, bulk, &st->bulk_rk, err)) {
		store_batch_rollback(st);
		return -1;
	}
	return 0;
}

int store_batch_commit(struct store *st, const struct store_write *w,
	struct ferr *err)
{
	const struct resource *bulk = st->bulk;

	st->bulk = NULL;
	if (bulk && !st->batch.failed &&
	    schema_bulk_end(st->db, bulk, st->bulk_rk, err)) {
		store_batch_rollback(st);
		return -1;
	}
	return txn_batch_commit(&st->x, &st->batch, st->cfg->doorbell,
		w->actor, err);
}

int store_refresh_stats(struct store *st, struct ferr *err)
{
	if (dbx_kind(&st->x) != DBX_PG)
		return 0;
	return dbx_exec(&st->x, "ANALYZE", "analyze", err) < 0 ? -1 : 0;
}

void store_batch_rollback(struct store *st)
{
	st->bulk = NULL;
	txn_batch_rollback(&st->x, &st->batch);
}

json_t *store_dashboard(struct store *st, struct ferr *err)
{
	json_t *out = NULL, *activity = NULL;
	int64_t seq = 0;

	if (store_read_begin(st, err))
		return NULL;
	if (journal_last_seq(&st->x, &seq, err))
		goto out;
	out = dashboard_compute(&st->x, err);
	if (!out)
		goto out;
	activity = dashboard_activity(&st->x, 20, err);
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
	if (journal_last_seq(&st->x, &last, err) ||
	    journal_first_seq(&st->x, &first, err))
		goto out;
	/* A client that must refetch is told so once. */
	if (journal_reset_due(since, first, last)) {
		out = json_pack("{sbsI}", "reset", 1, "seq", (json_int_t)last);
		goto out;
	}
	events = journal_read(&st->x, since, topics, limit,
		(size_t)st->cfg->changes_max_bytes, &next, err);
	if (!events)
		goto out;
	out = json_pack("{sosI}", "events", events, "seq", (json_int_t)next);
out:
	store_read_end(st);
	return out;
}

int store_last_seq(struct store *st, int64_t *seq, struct ferr *err)
{
	return journal_last_seq(&st->x, seq, err);
}

int store_first_seq(struct store *st, int64_t *seq, struct ferr *err)
{
	return journal_first_seq(&st->x, seq, err);
}

int store_backup(struct store *st, const char *path,
	const struct backup_opts *opts, struct backup_result *res,
	struct ferr *err)
{
	if (st->db == NULL)
		return ferr_set(err, 501, "database_unsupported", "flowpush "
			"backup copies an SQLite store; back up a PostgreSQL "
			"store with pg_dump (docs/OPERATIONS.md), or take its "
			"records with flowpush export.");
	return backup_copy(st->db, path, opts, res, err);
}

int store_journal_prune(struct store *st, long keep_days, long keep_rows,
	long batch, long *deleted, struct ferr *err)
{
	return journal_prune(&st->x, keep_days, keep_rows, batch, deleted,
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
	if (config_database_is_pg(cfg->database)) {
		/* PostgreSQL checks its pages itself: the version only. */
		struct store st;
		struct dbx_stmt *v = NULL;

		if (store_open(&st, cfg, err) < 0)
			return -1;
		if (dbx_prepare(&st.x, "SELECT version FROM flowpush_schema",
		    "schema version", &v, err) == 0 &&
		    dbx_step(v, err) == DBX_ROW)
			h->version = (int)dbx_column_int64(v, 0);
		dbx_finalize(v);
		store_close(&st);
		return 0;
	}
	db = schema_open(cfg, DB_READWRITE, err);
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
	if (db_user_version(db, &h->version, NULL) < 0)
		h->version = -1;
	sqlite3_close_v2(db);
	return 0;
}

int store_reload_keys(struct store *st, struct ferr *err)
{
	st->keys_mtime_ns = -1;
	return keys_fresh(st, err);
}

/* unsealed_where is the condition of the rows whose secret is not sealed
 * with the current key. */
static void unsealed_where(const struct store *st, char *out, size_t size)
{
	snprintf(out, size, "secret IS NOT NULL AND substr(secret, 1, 13) "
		"<> 'fp1:%s:'", st->keys[0].set ? st->keys[0].id : "");
}

int store_unsealed(struct store *st, long *count, struct ferr *err)
{
	const struct resource *r;
	struct dbx_stmt *stmt = NULL;
	char sql[256], where[128];
	int rc;

	*count = 0;
	unsealed_where(st, where, sizeof(where));
	for (r = resources; r->name; r++) {
		if (!has_secrets(r))
			continue;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s",
			r->table, where);
		if (store_prepare(st, sql, &stmt, err))
			return -1;
		rc = dbx_step(stmt, err);
		if (rc == DBX_ROW)
			*count += (long)dbx_column_int64(stmt, 0);
		store_done(st, stmt);
		if (rc != DBX_ROW)
			return rc == DBX_DONE ? ferr_set(err, 500,
				"internal_error", "Internal error.") : -1;
	}
	return 0;
}

/* rekey_batch seals again up to batch secrets of r in one transaction;
 * *n gets how many. */
static int rekey_batch(struct store *st, const struct resource *r,
	long batch, long *n, struct ferr *err)
{
	struct dbx_stmt *sel = NULL, *upd = NULL;
	char sql[256], where[128];
	json_t *secret = NULL;
	char *sealed = NULL;
	int rc, result = -1;

	*n = 0;
	unsealed_where(st, where, sizeof(where));
	/* A writer's turn, as every write takes: a secret saved meanwhile
	 * must not be sealed over with the one read here. */
	if (dbx_begin(&st->x, err))
		return -1;
	if (journal_write_lock(&st->x, err)) {
		dbx_rollback(&st->x);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT id, secret FROM %s WHERE %s "
		"LIMIT %ld", r->table, where, batch);
	if (store_prepare(st, sql, &sel, err))
		goto out;
	snprintf(sql, sizeof(sql), "UPDATE %s SET secret = ?2 WHERE id = ?1",
		r->table);
	if (store_prepare(st, sql, &upd, err))
		goto out;
	while ((rc = dbx_step(sel, err)) == DBX_ROW) {
		const char *id = dbx_column_text(sel, 0);
		char aad[128];

		if (secret_open(st, r, id, dbx_column_text(sel, 1), &secret,
		    err) < 0)
			goto out;
		secret_aad(r, id, aad, sizeof(aad));
		sealed = seal_close(&st->keys[0], aad, secret);
		if (sealed == NULL) {
			ferr_set(err, 500, "internal_error", "Cannot seal.");
			goto out;
		}
		dbx_bind_text(upd, 1, id);
		dbx_bind_text(upd, 2, sealed);
		if (dbx_step(upd, err) != DBX_DONE)
			goto out;
		dbx_reset(upd);
		json_decref(secret);
		secret = NULL;
		free(sealed);
		sealed = NULL;
		(*n)++;
	}
	if (rc != DBX_DONE)
		goto out;
	store_done(st, sel);
	store_done(st, upd);
	sel = upd = NULL;
	result = dbx_commit(&st->x, err);
out:
	store_done(st, sel);
	store_done(st, upd);
	json_decref(secret);
	free(sealed);
	if (result < 0)
		dbx_rollback(&st->x);
	return result;
}

int store_rekey(struct store *st, long batch,
	void (*progress_cb)(long done, void *arg), void *arg, long *done,
	struct ferr *err)
{
	const struct resource *r;
	long n;

	*done = 0;
	if (!st->keys[0].set)
		return ferr_set(err, 400, "no_data_key", "There is no "
			"data_key to seal with.");
	for (r = resources; r->name; r++) {
		if (!has_secrets(r))
			continue;
		do {
			if (rekey_batch(st, r, batch, &n, err) < 0)
				return -1;
			*done += n;
			if (progress_cb != NULL && n > 0)
				progress_cb(*done, arg);
		} while (n == batch);
	}
	return 0;
}
