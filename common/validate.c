/* validate.c - checks a record against its field table, normalises it. */
#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "utf8.h"
#include "validate.h"
#include "util.h"

/* Path of the value being checked, for error messages. */
struct path {
	char buf[256];
	size_t len;
};

size_t validate_utf8_prefix(const char *s, size_t max)
{
	return utf8_cut(s, strnlen(s, max + 1), max);
}

static void path_push(struct path *p, const char *name, long index,
	size_t *saved)
{
	size_t room = sizeof(p->buf) - 1 - p->len, sep, k;
	int n;

	*saved = p->len;
	if (index >= 0) {
		/* Digits and brackets: any cut is still valid text. */
		n = snprintf(p->buf + p->len, room + 1, "[%ld]", index);
		if (n > 0)
			p->len += (size_t)n < room ? (size_t)n : room;
		return;
	}
	/* A long user-made key is cut short on a whole character, or the
	 * path could not name the field. */
	sep = p->len > 0 && room > 0;
	k = utf8_cut(name, strlen(name), room - sep);
	snprintf(p->buf + p->len, room + 1, "%s%.*s", sep ? "." : "", (int)k,
		name);
	p->len += sep + k;
}

static void path_pop(struct path *p, size_t saved)
{
	p->len = saved;
	p->buf[saved] = '\0';
}

struct vstate {
	const struct validate_ctx *ctx;
	struct ferr *err;
	struct path path;
	json_t *held;  /* "collection/id" of every reference old holds */
	int fatal;     /* a database error: stop */
};

/* held_key writes the key of a reference in vstate.held. */
static void held_key(const char *collection, const char *id, char *out,
	size_t size)
{
	snprintf(out, size, "%s/%s", collection, id);
}

size_t validate_utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int has_range(const struct field *f)
{
	return f->min != 0 || f->max != 0;
}

static json_t *default_value(const struct field *f)
{
	if (!f->def)
		return json_null();
	return json_loads(f->def, JSON_DECODE_ANY, NULL);
}

static void choices_text(const struct field *f, char *out, size_t size)
{
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; f->choices[i]; i++) {
		int n = snprintf(out + used, size - used, "%s%s",
			i ? ", " : "", f->choices[i]);

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm). */
static int time_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) :
		    (toupper((unsigned char)s[i]) != shape[i]))
			return 0;
	}
	s += i;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return 1;
	if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && s[3] == ':' &&
	    isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) &&
	    s[6] == '\0')
		return 1;
	return 0;
}

static json_t *check_object(struct vstate *vs, const struct field *fields,
	json_t *input, json_t *old);
static json_t *check_value(struct vstate *vs, const struct field *f,
	json_t *v);

/* report_wrong_type records that the value at the current path is not of
 * f's JSON type; returns NULL so a check can end with it. */
static json_t *report_wrong_type(struct vstate *vs, const struct field *f)
{
	static const char *const names[] = {
		[FT_STRING] = "a string", [FT_INT] = "an integer",
		[FT_NUMBER] = "a number", [FT_BOOL] = "true or false",
		[FT_ENUM] = "a string", [FT_OBJECT] = "an object",
		[FT_ARRAY] = "an array", [FT_MAP] = "an object",
		[FT_UUID] = "a string", [FT_TIME] = "a string",
	};
	/* Only a bad field table reaches here with a type outside names[];
	 * the bound keeps that from reading past the array. */
	size_t t = (size_t)f->type;

	ferr_field(vs->err, vs->path.buf, "must be %s",
		t < sizeof(names) / sizeof(names[0]) && names[t] ?
		names[t] : "a valid value");
	return NULL;
}

static json_t *check_string(struct vstate *vs, const struct field *f,
	json_t *v)
{
	const char *why;

	if (!json_is_string(v))
		return report_wrong_type(vs, f);
	if (has_range(f)) {
		size_t n = validate_utf8_length(json_string_value(v));

		if ((long long)n < f->min ||
		    (f->max > 0 && (long long)n > f->max)) {
			ferr_field(vs->err, vs->path.buf,
				"must be %lld-%lld characters", f->min, f->max);
			return NULL;
		}
	}
	if (f->check) {
		why = f->check(json_string_value(v));
		if (why) {
			ferr_field(vs->err, vs->path.buf, "%s", why);
			return NULL;
		}
	}
	return json_incref(v);
}

static json_t *check_int(struct vstate *vs, const struct field *f,
	json_t *v)
{
	if (!json_is_integer(v))
		return report_wrong_type(vs, f);
	if (has_range(f) && (json_integer_value(v) < f->min ||
	    json_integer_value(v) > f->max)) {
		ferr_field(vs->err, vs->path.buf,
			"must be an integer from %lld to %lld", f->min, f->max);
		return NULL;
	}
	return json_incref(v);
}

static json_t *check_number(struct vstate *vs, const struct field *f,
	json_t *v)
{
	if (!json_is_number(v))
		return report_wrong_type(vs, f);
	if (has_range(f) && (json_number_value(v) < (double)f->min ||
	    json_number_value(v) > (double)f->max)) {
		ferr_field(vs->err, vs->path.buf,
			"must be a number from %lld to %lld", f->min, f->max);
		return NULL;
	}
	return json_incref(v);
}

static json_t *check_enum(struct vstate *vs, const struct field *f,
	json_t *v)
{
	char msg[512];
	int i;

	if (json_is_string(v))
		for (i = 0; f->choices[i]; i++)
			if (strcmp(f->choices[i], json_string_value(v)) == 0)
				return json_incref(v);
	choices_text(f, msg, sizeof(msg));
	ferr_field(vs->err, vs->path.buf, "must be one of: %s", msg);
	return NULL;
}

/* reference_held is true when the stored record already holds the
 * reference id to a record of f's collection. */
static int reference_held(const struct vstate *vs, const struct field *f,
	const char *id)
{
	char key[128];

	if (!vs->held)
		return 0;
	held_key(f->ref, id, key, sizeof(key));
	return json_object_get(vs->held, key) != NULL;
}

static json_t *check_id(struct vstate *vs, const struct field *f, json_t *v)
{
	int rc;

	if (!json_is_string(v) || !util_is_uuid(json_string_value(v))) {
		ferr_field(vs->err, vs->path.buf,
			"must be an id (a lowercase UUID)");
		return NULL;
	}
	if (!f->ref || !vs->ctx || !vs->ctx->exists_cb)
		return json_incref(v);
	/* A reference the stored record already holds is kept even when its
	 * target was deleted since: otherwise every later write (a worker's
	 * progress report) would fail on it. */
	if (reference_held(vs, f, json_string_value(v)))
		return json_incref(v);
	rc = vs->ctx->exists_cb(vs->ctx->arg, f->ref, json_string_value(v),
		vs->err);
	if (rc < 0) {
		vs->fatal = 1;
		return NULL;
	}
	if (rc == 0) {
		ferr_field(vs->err, vs->path.buf,
			"does not name an existing record of %s", f->ref);
		return NULL;
	}
	return json_incref(v);
}

static json_t *check_time(struct vstate *vs, json_t *v)
{
	if (!json_is_string(v) || !time_ok(json_string_value(v))) {
		ferr_field(vs->err, vs->path.buf,
			"must be an RFC 3339 date-time such as "
			"2026-01-31T12:00:00.000Z");
		return NULL;
	}
	return json_incref(v);
}

/* check_item validates one item of a list or entry of a map, where null
 * is never a value. */
static json_t *check_item(struct vstate *vs, const struct field *f,
	json_t *item)
{
	if (json_is_null(item)) {
		ferr_field(vs->err, vs->path.buf, "must not be null");
		return NULL;
	}
	return check_value(vs, f, item);
}

/* check_item_count records an error when a list of n items is shorter
 * or longer than f allows; returns -1 then. */
static int check_item_count(struct vstate *vs, const struct field *f,
	size_t n)
{
	if ((long long)n >= f->min && (f->max <= 0 || (long long)n <= f->max))
		return 0;
	if (f->max > 0)
		ferr_field(vs->err, vs->path.buf,
			"must have %lld to %lld items", f->min, f->max);
	else
		ferr_field(vs->err, vs->path.buf,
			"must have at least %lld items", f->min);
	return -1;
}

/* check_array checks every item, so that one answer lists all the bad
 * ones; a database error stops it. */
static json_t *check_array(struct vstate *vs, const struct field *f,
	json_t *v)
{
	json_t *out, *item, *nv;
	size_t i, saved;
	int bad = 0;

	if (!json_is_array(v))
		return report_wrong_type(vs, f);
	if (check_item_count(vs, f, json_array_size(v)) < 0)
		return NULL;
	out = json_array();
	json_array_foreach(v, i, item) {
		path_push(&vs->path, NULL, (long)i, &saved);
		nv = check_item(vs, f->sub, item);
		path_pop(&vs->path, saved);
		if (!nv) {
			bad = 1;
			if (vs->fatal)
				break;
			continue;
		}
		json_array_append_new(out, nv);
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* check_map_key records an error when key cannot name an entry of the
 * map f; returns -1 then. */
static int check_map_key(struct vstate *vs, const struct field *f,
	const char *key)
{
	const char *why = f->check ? f->check(key) : NULL;

	if (key[0] == '\0' || validate_utf8_length(key) > 255) {
		ferr_field(vs->err, vs->path.buf,
			"keys must be 1-255 characters");
		return -1;
	}
	if (why) {
		ferr_field(vs->err, vs->path.buf, "key %s", why);
		return -1;
	}
	return 0;
}

/* check_map checks every entry, as check_array does its items. */
static json_t *check_map(struct vstate *vs, const struct field *f,
	json_t *v)
{
	json_t *out, *item, *nv;
	const char *key;
	size_t saved;
	int bad = 0;

	if (!json_is_object(v))
		return report_wrong_type(vs, f);
	if (f->max > 0 && (long long)json_object_size(v) > f->max) {
		ferr_field(vs->err, vs->path.buf,
			"must have at most %lld entries", f->max);
		return NULL;
	}
	out = json_object();
	json_object_foreach(v, key, item) {
		path_push(&vs->path, key, -1, &saved);
		nv = check_map_key(vs, f, key) < 0 ? NULL :
			check_item(vs, f->sub, item);
		path_pop(&vs->path, saved);
		if (!nv) {
			bad = 1;
			if (vs->fatal)
				break;
			continue;
		}
		json_object_set_new(out, key, nv);
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* check_value validates one present, non-null value; returns a new
 * normalised value or NULL (error recorded). */
static json_t *check_value(struct vstate *vs, const struct field *f,
	json_t *v)
{
	switch (f->type) {
	case FT_STRING:
		return check_string(vs, f, v);
	case FT_INT:
		return check_int(vs, f, v);
	case FT_NUMBER:
		return check_number(vs, f, v);
	case FT_BOOL:
		if (!json_is_boolean(v))
			return report_wrong_type(vs, f);
		return json_incref(v);
	case FT_ENUM:
		return check_enum(vs, f, v);
	case FT_UUID:
		return check_id(vs, f, v);
	case FT_TIME:
		return check_time(vs, v);
	case FT_OBJECT:
		if (!json_is_object(v))
			return report_wrong_type(vs, f);
		return check_object(vs, f->sub, v, NULL);
	case FT_ARRAY:
		return check_array(vs, f, v);
	case FT_MAP:
		return check_map(vs, f, v);
	}
	return report_wrong_type(vs, f);
}

/* when_holds is true when rec gives f's variant condition its value. */
static int when_holds(const struct field *f, json_t *rec)
{
	json_t *w = rec ? json_object_get(rec, f->when_field) : NULL;

	return json_is_string(w) &&
		strcmp(json_string_value(w), f->when_value) == 0;
}

/* A declaration applies when it has no variant condition (or is an
 * only-when field, which always applies) or its condition holds in rec. */
static int field_applies(const struct field *f, json_t *rec)
{
	if (!f->when_field || (f->flags & FF_ONLYWHEN))
		return 1;
	return when_holds(f, rec);
}

const struct field *validate_field_lookup(const struct field *fields,
	const char *name, json_t *rec)
{
	const struct field *f, *any = NULL;

	for (f = fields; f->name; f++) {
		if (strcmp(f->name, name) != 0)
			continue;
		if (field_applies(f, rec))
			return f;
		any = f;
	}
	/* A variant field whose condition is not met still names a known
	 * field; hand back one declaration so callers know it exists. */
	return any;
}

/* reject_unknown_fields records an error for every key of input that no
 * declaration names; returns -1 when there is one. */
static int reject_unknown_fields(struct vstate *vs,
	const struct field *fields, json_t *input)
{
	const char *key;
	json_t *v;
	size_t saved;
	int result = 0;

	json_object_foreach(input, key, v) {
		if (validate_field_lookup(fields, key, NULL))
			continue;
		path_push(&vs->path, key, -1, &saved);
		ferr_field(vs->err, vs->path.buf, "is not a known field");
		path_pop(&vs->path, saved);
		result = -1;
	}
	return result;
}

/* A secret is type-checked here but stored apart by the caller, so it
 * gives no value to the record. */
static int check_secret(struct vstate *vs, const struct field *f, json_t *v)
{
	json_t *t;
	int result;

	if (!v || json_is_null(v))
		return 0;
	t = check_value(vs, f, v);
	result = t ? 0 : -1;
	json_decref(t);
	return result;
}

/* An only-when field whose condition does not hold is stored as null,
 * and a value sent for it is an error. */
static int check_only_when_off(struct vstate *vs, const struct field *f,
	json_t *v, json_t **nv)
{
	*nv = json_null();
	if (!v || json_is_null(v))
		return 0;
	ferr_field(vs->err, vs->path.buf, "is only allowed when %s is %s",
		f->when_field, f->when_value);
	return -1;
}

/* value_when_missing gives a field the body leaves out its default; a
 * nested object is built from the defaults of its own fields. */
static json_t *value_when_missing(struct vstate *vs, const struct field *f)
{
	json_t *empty, *nv;

	if (f->flags & FF_REQUIRED) {
		ferr_field(vs->err, vs->path.buf, "is required");
		return NULL;
	}
	if (f->type != FT_OBJECT)
		return default_value(f);
	empty = json_object();
	nv = check_object(vs, f->sub, empty, NULL);
	json_decref(empty);
	return nv;
}

static json_t *value_when_null(struct vstate *vs, const struct field *f)
{
	if (f->flags & FF_NULLABLE)
		return json_null();
	ferr_field(vs->err, vs->path.buf, "%s",
		(f->flags & FF_REQUIRED) ? "is required" : "must not be null");
	return NULL;
}

/* check_field decides the value of field f from v (the body's value or
 * NULL), old (the stored record or NULL) and out (the fields decided so
 * far). *nv is set to a new value for the record, or NULL for none; the
 * result is 0, or -1 when an error was recorded. Both can come at once:
 * a value sent for an only-when field that is off is an error, but the
 * field is still null in the record. */
static int check_field(struct vstate *vs, const struct field *f, json_t *v,
	json_t *old, json_t *out, json_t **nv)
{
	json_t *ov = old ? json_object_get(old, f->name) : NULL;

	*nv = NULL;
	/* Restoring, a server-made value sent is checked and kept. */
	if ((f->flags & FF_READONLY) && !(v && vs->ctx &&
	    vs->ctx->restoring)) {
		*nv = ov ? json_incref(ov) : default_value(f);
		return 0;
	}
	if (f->flags & FF_SECRET)
		return check_secret(vs, f, v);
	if ((f->flags & FF_ONLYWHEN) && !when_holds(f, out))
		return check_only_when_off(vs, f, v, nv);
	if ((f->flags & FF_ONLYWHEN) && (!v || json_is_null(v))) {
		ferr_field(vs->err, vs->path.buf, "is required when %s is %s",
			f->when_field, f->when_value);
		return -1;
	}
	if (!v && ov && (f->flags & FF_KEEP)) {
		*nv = json_incref(ov);
		return 0;
	}
	if (!v)
		*nv = value_when_missing(vs, f);
	else if (json_is_null(v))
		*nv = value_when_null(vs, f);
	else
		*nv = check_value(vs, f, v);
	if (*nv && (f->flags & FF_IMMUTABLE) && ov && !json_equal(ov, *nv)) {
		ferr_field(vs->err, vs->path.buf,
			"cannot be changed after creation");
		json_decref(*nv);
		*nv = NULL;
	}
	return *nv ? 0 : -1;
}

/* check_object checks input against fields in their declared order, so
 * that a variant's condition is decided before the fields it shapes. */
static json_t *check_object(struct vstate *vs, const struct field *fields,
	json_t *input, json_t *old)
{
	json_t *out = json_object(), *v, *nv;
	const struct field *f;
	size_t saved;
	int bad = reject_unknown_fields(vs, fields, input) < 0;

	for (f = fields; f->name && !vs->fatal; f++) {
		if (!field_applies(f, out))
			continue;
		v = input ? json_object_get(input, f->name) : NULL;
		path_push(&vs->path, f->name, -1, &saved);
		if (check_field(vs, f, v, old, out, &nv) < 0)
			bad = 1;
		if (nv)
			json_object_set_new(out, f->name, nv);
		path_pop(&vs->path, saved);
	}
	if (bad || vs->fatal) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static void held_collect(const struct field *fields, json_t *obj,
	json_t *held);

/* held_collect_value adds the references in v, declared by f. */
static void held_collect_value(const struct field *f, json_t *v,
	json_t *held)
{
	const char *key;
	json_t *item;
	size_t i;
	char k[128];

	switch (f->type) {
	case FT_UUID:
		if (f->ref && json_is_string(v)) {
			held_key(f->ref, json_string_value(v), k, sizeof(k));
			json_object_set_new(held, k, json_true());
		}
		break;
	case FT_OBJECT:
		if (json_is_object(v))
			held_collect(f->sub, v, held);
		break;
	case FT_ARRAY:
		json_array_foreach(v, i, item)
			held_collect_value(f->sub, item, held);
		break;
	case FT_MAP:
		json_object_foreach(v, key, item)
			held_collect_value(f->sub, item, held);
		break;
	default:
		break;
	}
}

static void held_collect(const struct field *fields, json_t *obj,
	json_t *held)
{
	const struct field *f;

	for (f = fields; f->name; f++)
		if (field_applies(f, obj))
			held_collect_value(f, json_object_get(obj, f->name),
				held);
}

/* stamp_ok: a timestamp exactly as util_ts_format writes it, so that
 * restored records sort among the others by their text. */
static int stamp_ok(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && strlen(s) == UTIL_TS_LEN - 1 && time_ok(s) &&
		s[19] == '.' && s[UTIL_TS_LEN - 2] == 'Z';
}

int validate_meta(json_t *rec, struct ferr *err)
{
	static const char *const stamps[] = { "createdAt", "updatedAt" };
	json_t *id = json_object_get(rec, "id");
	json_t *version = json_object_get(rec, "version");
	int result = 0;
	size_t i;

	if (!json_is_object(rec))
		return ferr_set(err, 400, "bad_request",
			"A record must be a JSON object.");
	if (!json_is_string(id) || !util_is_uuid(json_string_value(id)))
		result = ferr_field(err, "id", "must be a lowercase UUID");
	if (!json_is_integer(version) || json_integer_value(version) < 1 ||
	    json_integer_value(version) > (1LL << 53))
		result = ferr_field(err, "version", "must be an integer from "
			"1");
	for (i = 0; i < 2; i++)
		if (!stamp_ok(json_object_get(rec, stamps[i])))
			result = ferr_field(err, stamps[i], "must be a time "
				"such as 2026-01-31T12:00:00.000Z");
	return result;
}

json_t *validate_record(const struct resource *res, json_t *input,
	json_t *old, const struct validate_ctx *ctx, struct ferr *err)
{
	struct vstate vs;
	json_t *out;

	memset(&vs, 0, sizeof(vs));
	vs.ctx = ctx;
	vs.err = err;
	if (!json_is_object(input)) {
		ferr_set(err, 400, "bad_request",
			"The body must be a JSON object.");
		return NULL;
	}
	if (old && ctx && ctx->exists_cb) {
		vs.held = json_object();
		if (!vs.held) {
			ferr_set(err, 500, "internal_error", "Out of memory.");
			return NULL;
		}
		held_collect(res->fields, old, vs.held);
	}
	out = check_object(&vs, res->fields, input, old);
	json_decref(vs.held);
	return out;
}
