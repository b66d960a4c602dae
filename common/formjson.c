/* formjson.c - HTML form pairs to a JSON body shaped by the fields. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <math.h>

#include "resource.h"
#include "formjson.h"
#include "util.h"
#include "validate.h"

#define SEG_MAX 8

struct seg {
	char name[128];
	long index;   /* -1 when the segment has no [N] */
};

/* split_name parses "rules[0].pattern" into segments; -1 when malformed. */
static int split_name(const char *name, struct seg *segs, size_t *n)
{
	const char *p = name;

	*n = 0;
	while (*p) {
		struct seg *s;
		size_t len = strcspn(p, ".[");

		if (len == 0 || len >= sizeof(segs[0].name) || *n == SEG_MAX)
			return -1;
		s = &segs[(*n)++];
		memcpy(s->name, p, len);
		s->name[len] = '\0';
		s->index = -1;
		p += len;
		if (*p == '[') {
			char *end;
			long v;

			errno = 0;
			v = strtol(p + 1, &end, 10);
			if (end == p + 1 || *end != ']' || v < 0 || v > 9999 ||
			    errno)
				return -1;
			s->index = v;
			p = end + 1;
		}
		if (*p == '.')
			p++;
		else if (*p)
			return -1;
	}
	return *n ? 0 : -1;
}

/* convert turns one form value into JSON for field f; *skip is set when
 * the value means "leave the field out". NULL with err on a bad value. */
static json_t *convert(const struct field *f, const char *path,
	const char *value, int *skip, struct ferr *err)
{
	*skip = 0;
	if (value[0] == '\0' && f->type != FT_BOOL) {
		if (f->flags & FF_SECRET) {
			*skip = 1; /* an empty password box keeps the secret */
			return NULL;
		}
		if (f->flags & FF_NULLABLE)
			return json_null();
		if (f->type == FT_STRING)
			return json_string("");
		*skip = 1;
		return NULL;
	}
	switch (f->type) {
	case FT_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "on") ||
		    !strcmp(value, "1") || !strcmp(value, "yes"))
			return json_true();
		if (!strcmp(value, "false") || !strcmp(value, "off") ||
		    !strcmp(value, "0") || !strcmp(value, "no") || !*value)
			return json_false();
		ferr_field(err, path, "must be true or false");
		return NULL;
	case FT_INT: {
		long long v;

		if (util_parse_long(value, INT64_MIN, INT64_MAX, &v)) {
			ferr_field(err, path, "must be a whole number");
			return NULL;
		}
		return json_integer((json_int_t)v);
	}
	case FT_NUMBER: {
		char *end;
		double d;

		errno = 0;
		d = strtod(value, &end);
		/* strtod takes "nan" and "inf", which JSON cannot carry. */
		if (*end || errno || end == value || !isfinite(d)) {
			ferr_field(err, path, "must be a number");
			return NULL;
		}
		return json_real(d);
	}
	case FT_OBJECT:
	case FT_ARRAY:
	case FT_MAP:
		ferr_field(err, path, "needs sub-fields, not a value");
		return NULL;
	default:
		return json_string(value);
	}
}

/* compact drops the holes that sparse indexes left in arrays. */
static void compact(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			compact(item);
	} else if (json_is_array(v)) {
		for (i = json_array_size(v); i-- > 0;) {
			item = json_array_get(v, i);
			if (json_is_null(item))
				json_array_remove(v, i);
			else
				compact(item);
		}
	}
}

/* blank_item is true for a form row left empty: every required text or
 * id field of the item is missing or "". Such rows are the spare rows of
 * an editor, not records. */
static int blank_item(const struct field *fields, json_t *item)
{
	const struct field *f;
	int required = 0;

	for (f = fields; f->name; f++) {
		json_t *v;

		if (!(f->flags & FF_REQUIRED) ||
		    (f->type != FT_STRING && f->type != FT_UUID))
			continue;
		required = 1;
		v = json_object_get(item, f->name);
		if (json_is_string(v) && json_string_value(v)[0] != '\0')
			return 0;
	}
	return required;
}

/* drop_blank_rows removes blank rows from the top-level lists of objects. */
static void drop_blank_rows(const struct resource *res, json_t *out)
{
	const struct field *f;
	size_t i;

	for (f = res->fields; f->name; f++) {
		json_t *list = json_object_get(out, f->name);

		if (f->type != FT_ARRAY || f->sub->type != FT_OBJECT ||
		    !json_is_array(list))
			continue;
		for (i = json_array_size(list); i-- > 0;)
			if (blank_item(f->sub->sub, json_array_get(list, i)))
				json_array_remove(list, i);
	}
}

/* place_lines adds each non-blank line of value to a list (one item per
 * line) or a map ("Name: value" per line) of field f. */
static int place_lines(const struct field *f, json_t *into, const char *name,
	const char *value, struct ferr *err)
{
	const char *p = value;

	while (*p) {
		size_t len = strcspn(p, "\r\n");
		char line[8200];
		char *s = line, *e, *colon;
		json_t *nv;
		int skip;

		if (len >= sizeof(line))
			return ferr_field(err, name, "has a line that is too "
				"long");
		memcpy(line, p, len);
		line[len] = '\0';
		p += len;
		p += strspn(p, "\r\n");
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*s == '\0')
			continue;
		colon = f->type == FT_MAP ? strchr(s, ':') : NULL;
		if (f->type == FT_MAP) {
			char *v;

			if (!colon || colon == s)
				return ferr_field(err, name, "takes one "
					"\"Name: value\" per line");
			v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			e = colon;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*e = '\0';
			nv = convert(f->sub, name, v, &skip, err);
			if (!nv && !skip)
				return -1;
			if (nv)
				json_object_set_new(into, s, nv);
			continue;
		}
		nv = convert(f->sub, name, s, &skip, err);
		if (!nv && !skip)
			return -1;
		if (nv)
			json_array_append_new(into, nv);
	}
	return 0;
}

/* place_in_object converts value for field f and sets it as key of obj;
 * -1 with err when the value is bad. */
static int place_in_object(json_t *obj, const char *key,
	const struct field *f, const char *name, const char *value,
	struct ferr *err)
{
	json_t *nv;
	int skip;

	nv = convert(f, name, value, &skip, err);
	if (!nv)
		return skip ? 0 : -1;
	json_object_set_new(obj, key, nv);
	return 0;
}

/* member_object returns the object under key in obj, made when missing
 * or of another type; borrowed from obj. */
static json_t *member_object(json_t *obj, const char *key)
{
	json_t *child = json_object_get(obj, key);

	if (!json_is_object(child)) {
		child = json_object();
		json_object_set_new(obj, key, child);
	}
	return child;
}

/* member_array is member_object for a list. */
static json_t *member_array(json_t *obj, const char *key)
{
	json_t *child = json_object_get(obj, key);

	if (!json_is_array(child)) {
		child = json_array();
		json_object_set_new(obj, key, child);
	}
	return child;
}

/* place_unindexed places a pair that names the list f without an index;
 * last is true when the name ends there. */
static int place_unindexed(const struct field *f, json_t *list, int last,
	const char *name, const char *value, struct ferr *err)
{
	/* The bare name with an empty value marks the list as sent, so a
	 * form whose rows were all removed sends an empty list, not
	 * nothing. */
	if (last && f->sub->type == FT_OBJECT &&
	    (value[0] == '\0' || !strcmp(value, "[]")))
		return 0;
	/* A repeated name: one item of a list of scalars per pair, or per
	 * line of a text area; blank lines and boxes add nothing. */
	if (!last || f->sub->type == FT_OBJECT)
		return ferr_field(err, name, "needs an index such as [0]");
	return place_lines(f, list, name, value, err);
}

/* place_in_list places a pair whose segment names the list f of *cur,
 * with index (or -1). Returns 0 when the pair is placed or adds nothing,
 * -1 with err, or 1 after moving *cur to the indexed item: an object the
 * next segment goes into. */
static int place_in_list(const struct field *f, json_t **cur, long index,
	int last, const char *name, const char *value, struct ferr *err)
{
	json_t *list = member_array(*cur, f->name), *item;
	int skip;

	if (index < 0)
		return place_unindexed(f, list, last, name, value, err);
	while ((long)json_array_size(list) <= index)
		json_array_append_new(list, json_null());
	if (f->sub->type != FT_OBJECT) {
		if (!last)
			return ferr_field(err, name, "is not an object");
		item = convert(f->sub, name, value, &skip, err);
		if (!item)
			return skip ? 0 : -1;
		json_array_set_new(list, (size_t)index, item);
		return 0;
	}
	if (last)
		return ferr_field(err, name, "needs sub-fields such as .name");
	item = json_array_get(list, (size_t)index);
	if (!json_is_object(item)) {
		item = json_object();
		json_array_set_new(list, (size_t)index, item);
	}
	*cur = item;
	return 1;
}

/* place puts one pair into out; -1 with err when it cannot. */
static int place(const struct resource *res, json_t *out, const char *name,
	const char *value, struct ferr *err)
{
	struct seg segs[SEG_MAX];
	const struct field *fields = res->fields, *f = NULL;
	json_t *cur = out, *child;
	size_t n, i;
	int rc;

	if (split_name(name, segs, &n))
		return ferr_field(err, name, "is not a valid field name");
	for (i = 0; i < n; i++) {
		int last = i + 1 == n;

		if (f && f->type == FT_MAP) {
			/* This segment is a key of the map: the leaf. */
			if (!last || segs[i].index >= 0)
				return ferr_field(err, name,
					"is not a valid field name");
			return place_in_object(cur, segs[i].name, f->sub, name,
				value, err);
		}
		f = validate_field_lookup(fields, segs[i].name, cur);
		if (!f)
			return ferr_field(err, name, "is not a known field");
		if (segs[i].index >= 0 && f->type != FT_ARRAY)
			return ferr_field(err, name, "is not a list");
		if (f->type == FT_ARRAY) {
			rc = place_in_list(f, &cur, segs[i].index, last, name,
				value, err);
			if (rc <= 0)
				return rc;
			fields = f->sub->sub;
			f = NULL;
			continue;
		}
		if (f->type == FT_MAP && last) {
			/* A text area of "Name: value" lines. */
			child = json_object();
			json_object_set_new(cur, f->name, child);
			return place_lines(f, child, name, value, err);
		}
		if (f->type == FT_OBJECT || f->type == FT_MAP) {
			if (last)
				return ferr_field(err, name,
					"needs sub-fields such as .name");
			cur = member_object(cur, f->name);
			if (f->type == FT_OBJECT) {
				fields = f->sub;
				f = NULL;
			}
			continue;
		}
		if (!last)
			return ferr_field(err, name, "is not an object");
		/* The last value wins: a checkbox follows its hidden false. */
		return place_in_object(cur, f->name, f, name, value, err);
	}
	return 0;
}

json_t *formjson_decode(const struct resource *res,
	const struct form *f, struct ferr *err)
{
	json_t *out = json_object();
	size_t i;
	int pass, bad = 0;

	for (i = 0; !res && i < f->n; i++)
		if (f->pairs[i].name[0] != '_')
			json_object_set_new(out, f->pairs[i].name,
				json_string(f->pairs[i].value));
	if (!res)
		return out;
	/* Plain names first, so a type field that picks the shape of a
	 * nested object is known before the nested pairs are placed. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < f->n; i++) {
			const char *name = f->pairs[i].name;
			int nested = strpbrk(name, ".[") != NULL;

			if (name[0] == '_') {
				if (pass == 0 && strcmp(name, "_clear") == 0) {
					const struct field *s =
						validate_field_lookup(
						res->fields, f->pairs[i].value,
						NULL);

					if (s && (s->flags & FF_SECRET))
						json_object_set_new(out,
							s->name, json_null());
				}
				continue;
			}
			if (nested != pass)
				continue;
			if (place(res, out, name, f->pairs[i].value, err))
				bad = 1;
		}
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	compact(out);
	drop_blank_rows(res, out);
	return out;
}
