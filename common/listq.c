/* listq.c - a list request parsed and checked: search, sort, filters, ids, keyset cursor. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "listq.h"
#include "util.h"
#include "validate.h"

#define CURSOR_VERSION 1

void listq_fold_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int listq_is_sortable(const struct resource *res, const char *name,
	const struct field **field)
{
	const struct field *f;

	*field = NULL;
	if (strcmp(name, "createdAt") == 0 || strcmp(name, "updatedAt") == 0)
		return 1;
	for (f = res->fields; f->name; f++) {
		if (strcmp(f->name, name) == 0 && (f->flags & FF_SORT)) {
			*field = f;
			return 1;
		}
	}
	return 0;
}

int listq_sort_at(const struct resource *res, size_t i,
	const struct field **field, const char **name)
{
	static const char *const metas[] = { "createdAt", "updatedAt" };
	const struct field *f;

	*field = NULL;
	if (i < 2) {
		*name = metas[i];
		return 1;
	}
	i -= 2;
	for (f = res->fields; f->name; f++) {
		if (!(f->flags & FF_SORT))
			continue;
		if (i-- == 0) {
			*field = f;
			*name = f->name;
			return 1;
		}
	}
	return 0;
}

/* On PostgreSQL a record's data is JSON text, and doc the same as jsonb
 * (a generated column: parsed once per write). Text sorts
 * byte-wise ("C") with A-Z folded, as SQLite's NOCASE does; a missing
 * value becomes the greatest key of its type, so that keyset positions
 * compare with plain operators and NULL still sorts last ascending. */
#define PG_FOLD "translate(%s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', " \
	"'abcdefghijklmnopqrstuvwxyz')"

void listq_text_expr(int pg, const char *name, char *out, size_t size)
{
	if (pg)
		snprintf(out, size, "(doc ->> '%s')", name);
	else
		snprintf(out, size, "json_extract(data, '$.%s')", name);
}

void listq_sort_expr(int pg, const struct field *f, const char *meta,
	char *out, size_t size)
{
	char v[128], folded[256];

	if (!f) {
		snprintf(out, size, "%s", strcmp(meta, "updatedAt") == 0 ?
			"updated_at" : "created_at");
		return;
	}
	if (!pg) {
		/* NOCASE folds ASCII only, like the search and the pages.
		 * The blob makes NULL the greatest key: last ascending,
		 * first descending. */
		snprintf(out, size, "ifnull(json_extract(data, '$.%s'), "
			"x'')%s", f->name, f->type == FT_STRING ||
			f->type == FT_ENUM ? " COLLATE NOCASE" : "");
		return;
	}
	listq_text_expr(1, f->name, v, sizeof(v));
	if (f->type == FT_INT)
		snprintf(out, size, "coalesce(%s::bigint, " LISTQ_PG_INT_MAX
			")", v);
	else if (f->type == FT_NUMBER)
		snprintf(out, size, "coalesce(%s::float8, " LISTQ_PG_REAL_MAX
			")", v);
	else if (f->type == FT_BOOL)
		snprintf(out, size, "coalesce(%s::boolean::int, 2)", v);
	else {
		snprintf(folded, sizeof(folded), PG_FOLD, v);
		snprintf(out, size, "(coalesce(%s, " LISTQ_PG_TEXT_MAX
			") COLLATE \"C\")", folded);
	}
}

void listq_filter_expr(int pg, const struct field *f, char *out,
	size_t size)
{
	listq_text_expr(pg, f->name, out, size);
}

void listq_like_pattern(const char *q, char *out, size_t size)
{
	size_t n = 0;

	if (size < 3) {
		if (size)
			out[0] = '\0';
		return;
	}
	out[n++] = '%';
	for (; *q && n + 4 < size; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			out[n++] = '\\';
		out[n++] = *q;
	}
	out[n++] = '%';
	out[n] = '\0';
}

/* fnv1a folds s into the running hash h. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= 0x1f;
	return h * 1099511628211ULL;
}

/* bind_hash names what a cursor belongs to: collection, sort, filters,
 * q and ids. The page size is left out, so it may change between pages. */
static void bind_hash(struct listq *lq)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	h = fnv1a(h, lq->res->name);
	h = fnv1a(h, lq->desc ? "-" : "+");
	h = fnv1a(h, lq->sort);
	for (i = 0; i < lq->nfilters; i++) {
		h = fnv1a(h, lq->filters[i].field->name);
		h = fnv1a(h, lq->filters[i].is_bool ?
			(lq->filters[i].boolean ? "true" : "false") :
			lq->filters[i].text);
	}
	h = fnv1a(h, lq->q_folded ? lq->q_folded : "");
	for (i = 0; i < lq->nids; i++)
		h = fnv1a(h, lq->ids[i]);
	snprintf(lq->binding, sizeof(lq->binding), "%016llx",
		(unsigned long long)h);
}

static int parse_sort(struct listq *lq, const char *value, struct ferr *err)
{
	const char *name = value;

	if (name[0] == '-' || name[0] == '+') {
		lq->desc = name[0] == '-';
		name++;
	} else {
		lq->desc = 0;
	}
	if (!listq_is_sortable(lq->res, name, &lq->sort_field))
		return ferr_set(err, 400, "bad_sort", "%s cannot be sorted "
			"by '%.*s'.", lq->res->name, VALIDATE_QUOTE(name));
	lq->sort = name;
	return 0;
}

static int parse_q(struct listq *lq, const char *value, struct ferr *err)
{
	const unsigned char *p;

	if (value[0] == '\0')
		return 0;     /* an empty search box searches nothing */
	for (p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return ferr_set(err, 400, "bad_query", "q must not "
				"contain control characters.");
	if (strlen(value) > LISTQ_Q_MAX)
		return ferr_set(err, 400, "bad_query", "q is at most %d "
			"bytes.", LISTQ_Q_MAX);
	if (validate_utf8_length(value) < LISTQ_Q_MIN)
		return ferr_set(err, 400, "bad_query", "q needs at least %d "
			"characters.", LISTQ_Q_MIN);
	lq->q = value;
	lq->q_folded = strdup(value);
	if (!lq->q_folded)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	listq_fold_ascii(lq->q_folded);
	return 0;
}

static int parse_ids(struct listq *lq, const char *value, struct ferr *err)
{
	const char *p = value;

	lq->ids = calloc(LISTQ_IDS_MAX, sizeof(*lq->ids));
	if (!lq->ids)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char id[UTIL_UUID_LEN];

		if (n == 0) {
			p = end ? end + 1 : p + n;
			continue;
		}
		if (lq->nids == LISTQ_IDS_MAX)
			return ferr_set(err, 400, "bad_query", "ids takes at "
				"most %d ids.", LISTQ_IDS_MAX);
		if (n >= sizeof(id))
			return ferr_set(err, 400, "bad_query", "ids takes "
				"record ids separated by commas.");
		memcpy(id, p, n);
		id[n] = '\0';
		if (!util_is_uuid(id))
			return ferr_set(err, 400, "bad_query", "ids takes "
				"record ids separated by commas.");
		lq->ids[lq->nids] = strdup(id);
		if (!lq->ids[lq->nids])
			return ferr_set(err, 500, "internal_error",
				"Out of memory.");
		lq->nids++;
		p = end ? end + 1 : p + n;
	}
	return 0;
}

static int parse_filter(struct listq *lq, const struct field *f,
	const char *value, struct ferr *err)
{
	struct listq_filter *lf;
	size_t i;

	for (i = 0; i < lq->nfilters; i++)
		if (lq->filters[i].field == f)
			return ferr_set(err, 400, "bad_filter", "Filter %s is "
				"given twice.", f->name);
	if (lq->nfilters == LISTQ_FILTERS_MAX)
		return ferr_set(err, 400, "bad_filter", "Too many filters.");
	lf = &lq->filters[lq->nfilters];
	memset(lf, 0, sizeof(*lf));
	lf->field = f;
	if (f->type == FT_BOOL) {
		lf->is_bool = 1;
		if (strcmp(value, "true") == 0)
			lf->boolean = 1;
		else if (strcmp(value, "false") != 0)
			return ferr_set(err, 400, "bad_filter", "Filter %s "
				"takes true or false.", f->name);
	} else if (f->type == FT_ENUM) {
		for (i = 0; f->choices[i]; i++)
			if (strcmp(f->choices[i], value) == 0)
				break;
		if (!f->choices[i])
			return ferr_set(err, 400, "bad_filter", "Filter %s "
				"takes one of its values; '%.*s' is not one.",
				f->name, VALIDATE_QUOTE(value));
		lf->text = value;
	} else {
		lf->text = value;
	}
	lq->nfilters++;
	return 0;
}

/* order_filters puts the filters in declaration order: the counter keys
 * and the cursor binding must not depend on the order of the query. */
static void order_filters(struct listq *lq)
{
	struct listq_filter sorted[LISTQ_FILTERS_MAX];
	const struct field *f;
	size_t n = 0, i;

	for (f = lq->res->fields; f->name; f++)
		for (i = 0; i < lq->nfilters; i++)
			if (lq->filters[i].field == f)
				sorted[n++] = lq->filters[i];
	memcpy(lq->filters, sorted, n * sizeof(sorted[0]));
}

/* key_fits tells whether a key of type k can come from sort field f
 * (NULL: createdAt, updatedAt): a made-up cursor whose key the database
 * could not compare with the sort's must be a 400, not a database error. */
static int key_fits(const struct field *f, enum listq_key_type k)
{
	if (k == LK_NULL)
		return 1;
	if (!f)
		return k == LK_TEXT;
	switch (f->type) {
	case FT_INT:
	case FT_BOOL:
		return k == LK_INT;
	case FT_NUMBER:
		return k == LK_INT || k == LK_REAL;
	default:
		return k == LK_TEXT;
	}
}

/* cursor_decode checks a cursor against the request and takes its key. */
static int cursor_decode(struct listq *lq, const char *s, struct ferr *err)
{
	unsigned char *raw = NULL;
	size_t n = 0;
	json_t *a = NULL, *v;
	const char *type, *binding, *id;
	int result = -1;

	if (util_base64url_decode(s, &raw, &n) < 0)
		goto bad;
	a = json_loadb((const char *)raw, n, 0, NULL);
	if (!json_is_array(a) || json_array_size(a) != 5 ||
	    json_integer_value(json_array_get(a, 0)) != CURSOR_VERSION)
		goto bad;
	binding = json_string_value(json_array_get(a, 1));
	type = json_string_value(json_array_get(a, 2));
	v = json_array_get(a, 3);
	id = json_string_value(json_array_get(a, 4));
	if (!binding || !type || !id || !util_is_uuid(id))
		goto bad;
	if (strcmp(binding, lq->binding) != 0) {
		ferr_set(err, 400, "bad_cursor", "This cursor belongs to "
			"another list (another collection, sort, filter or "
			"search): start from the first page.");
		goto out;
	}
	if (strcmp(type, "n") == 0 && json_is_null(v)) {
		lq->cursor_key.type = LK_NULL;
	} else if (strcmp(type, "i") == 0 && json_is_integer(v)) {
		lq->cursor_key.type = LK_INT;
		lq->cursor_key.i = (long long)json_integer_value(v);
	} else if (strcmp(type, "r") == 0 && json_is_number(v)) {
		lq->cursor_key.type = LK_REAL;
		lq->cursor_key.r = json_number_value(v);
	} else if (strcmp(type, "t") == 0 && json_is_string(v)) {
		lq->cursor_key.type = LK_TEXT;
		lq->cursor_key.text = strdup(json_string_value(v));
		if (!lq->cursor_key.text) {
			ferr_set(err, 500, "internal_error", "Out of memory.");
			goto out;
		}
	} else {
		goto bad;
	}
	if (!key_fits(lq->sort_field, lq->cursor_key.type))
		goto bad;
	snprintf(lq->cursor_id, sizeof(lq->cursor_id), "%s", id);
	lq->has_cursor = 1;
	result = 0;
	goto out;
bad:
	ferr_set(err, 400, "bad_cursor", "The cursor is not one this server "
		"made: pass the next or prev value of a previous answer.");
out:
	json_decref(a);
	free(raw);
	return result;
}

int listq_parse(struct listq *lq, const struct resource *res,
	const struct form *query, struct ferr *err)
{
	const char *after = NULL, *before = NULL;
	size_t i;

	memset(lq, 0, sizeof(*lq));
	lq->res = res;
	lq->sort = "createdAt";
	lq->desc = 1;
	lq->limit = LISTQ_LIMIT_DEFAULT;
	for (i = 0; query && i < query->n; i++) {
		const char *name = query->pairs[i].name;
		const char *value = query->pairs[i].value;
		const struct field *f;

		if (name[0] == '_')
			continue;
		if (strcmp(name, "limit") == 0) {
			if (util_parse_long(value, 1, LLONG_MAX, &lq->limit))
				return ferr_set(err, 400, "bad_query", "limit "
					"must be a positive integer.");
			if (lq->limit > LISTQ_LIMIT_MAX)
				lq->limit = LISTQ_LIMIT_MAX;
		} else if (strcmp(name, "after") == 0) {
			after = value;
		} else if (strcmp(name, "before") == 0) {
			before = value;
		} else if (strcmp(name, "sort") == 0) {
			if (parse_sort(lq, value, err))
				return -1;
		} else if (strcmp(name, "q") == 0) {
			if (lq->q_folded)
				return ferr_set(err, 400, "bad_query", "q is "
					"given twice.");
			if (parse_q(lq, value, err))
				return -1;
		} else if (strcmp(name, "ids") == 0) {
			if (lq->ids)
				return ferr_set(err, 400, "bad_query", "ids is "
					"given twice.");
			if (parse_ids(lq, value, err))
				return -1;
		} else {
			f = validate_field_lookup(res->fields, name, NULL);
			if (!f || !(f->flags & FF_FILTER))
				return ferr_set(err, 400, "bad_filter", "%s "
					"cannot be filtered by '%.*s'.",
					res->name, VALIDATE_QUOTE(name));
			if (parse_filter(lq, f, value, err))
				return -1;
		}
	}
	if (after && before)
		return ferr_set(err, 400, "bad_cursor", "Give after or before, "
			"not both.");
	order_filters(lq);
	bind_hash(lq);
	if (after || before) {
		lq->before = before != NULL;
		if (cursor_decode(lq, after ? after : before, err))
			return -1;
	}
	return 0;
}

void listq_release(struct listq *lq)
{
	size_t i;

	free(lq->q_folded);
	for (i = 0; i < lq->nids; i++)
		free(lq->ids[i]);
	free(lq->ids);
	free(lq->cursor_key.text);
	memset(lq, 0, sizeof(*lq));
}

int listq_cursor(const struct listq *lq, const struct listq_key *k,
	const char *id, char *out, size_t size)
{
	json_t *a, *v;
	char *text = NULL, *enc = NULL;
	const char *type;
	int result = -1;

	switch (k->type) {
	case LK_INT:
		type = "i";
		v = json_integer(k->i);
		break;
	case LK_REAL:
		type = "r";
		v = json_real(k->r);
		break;
	case LK_TEXT:
		type = "t";
		v = json_string(k->text);
		break;
	default:
		type = "n";
		v = json_null();
		break;
	}
	a = json_pack("[issos]", CURSOR_VERSION, lq->binding, type, v, id);
	if (!a)
		return -1;
	text = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text)
		enc = util_base64url_encode(text, strlen(text));
	if (enc && strlen(enc) < size) {
		memcpy(out, enc, strlen(enc) + 1);
		result = 0;
	}
	free(enc);
	free(text);
	json_decref(a);
	return result;
}

int listq_count_key(const struct listq *lq, char *out, size_t size)
{
	size_t i, used = 0;

	if (lq->q_folded || lq->ids || lq->nfilters > 2)
		return -1;
	out[0] = '\0';
	for (i = 0; i < lq->nfilters; i++) {
		const struct listq_filter *lf = &lq->filters[i];
		int n;

		/* The key as the schema's triggers write it: name=JSON. */
		if (!lf->is_bool && lf->field->type != FT_ENUM)
			return -1;    /* free text would need JSON escaping */
		if (lf->is_bool)
			n = snprintf(out + used, size - used, "%s%s=%s",
				i ? "&" : "", lf->field->name,
				lf->boolean ? "true" : "false");
		else
			n = snprintf(out + used, size - used, "%s%s=\"%s\"",
				i ? "&" : "", lf->field->name, lf->text);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	return 0;
}
