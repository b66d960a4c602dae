/* redirect.c - the 303 answer to a form: its target, with any error in its query. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "field.h"
#include "strbuf.h"
#include "redirect.h"

/* Percent-encodes all but the unreserved characters of RFC 3986. */
static void add_encoded(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	char esc[3];

	for (; *u; u++) {
		if (isalnum(*u) || *u == '-' || *u == '.' || *u == '_' ||
			*u == '~') {
			strbuf_add(sb, (const char *)u, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*u >> 4];
		esc[2] = hex[*u & 15];
		strbuf_add(sb, esc, 3);
	}
}

int redirect_local_path(const char *s)
{
	size_t i;

	if (!s || s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return 0;
	/* Browsers read '\' as '/', so "/\evil" would leave the site;
	 * control characters would split the Location header. */
	for (i = 0; s[i]; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '\\' || i > 2048)
			return 0;
	return 1;
}

char *redirect_form_target(const struct request *rq)
{
	const char *r = NULL, *ref = rq->referer, *p;
	char *path;

	if (rq->body_kind == BODY_FORM)
		r = form_get(&rq->form, "_redirect");
	if (r && redirect_local_path(r))
		return strdup(r);
	p = ref ? strstr(ref, "://") : NULL;
	if (p) {
		p += 3;
		p += strcspn(p, "/?#");
		if (request_own_origin(rq, ref, (size_t)(p - ref))) {
			if (*p != '/')
				return strdup("/");
			path = strndup(p, strcspn(p, "#"));
			if (!path || redirect_local_path(path))
				return path;
			free(path);
		}
	}
	return strdup("/");
}

/* is_failure_param is non-zero for s[0..n) ("name=value" or "name"),
 * a parameter that an earlier failed form put into the page's query. */
static int is_failure_param(const char *s, size_t n)
{
	static const char *const names[] = { "error", "message", "form",
		"partial", NULL };
	size_t k = strcspn(s, "=");
	size_t i;

	if (k > n)
		k = n;
	for (i = 0; names[i]; i++)
		if (k == strlen(names[i]) && strncmp(s, names[i], k) == 0)
			return 1;
	return (k > 6 && strncmp(s, "field.", 6) == 0) ||
		(k > 6 && strncmp(s, "value.", 6) == 0) ||
		/* The same names percent-encoded by another client. */
		(k > 8 && (strncmp(s, "field%2E", 8) == 0 ||
		strncmp(s, "value%2E", 8) == 0));
}

/* form_id_ok accepts a _form value that can name an element of the page:
 * 1-64 letters, digits, '-' or '_'. */
static int form_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= 64 || !(isalnum((unsigned char)s[i]) || s[i] == '-' ||
			s[i] == '_'))
			return 0;
	return i > 0;
}

/* pair_is_secret is non-zero when the field a form name starts with
 * ("password" of "password", "a" of "a.b[0]") is write-only, or when
 * there is no resource to tell. */
static int pair_is_secret(const struct resource *res, const char *name)
{
	const struct field *f;
	size_t k = strcspn(name, ".[");

	if (!res)
		return 1;
	for (f = res->fields; f->name; f++)
		if (strlen(f->name) == k && strncmp(f->name, name, k) == 0 &&
			(f->flags & FF_SECRET))
			return 1;
	return 0;
}

/* add_param appends "&<prefix><name>=<value>" when the whole stays within
 * REDIRECT_MAX; returns 0, or -1 (nothing added) when it would not. */
static int add_param(struct strbuf *sb, const char *prefix, const char *name,
	const char *value)
{
	struct strbuf one = {0};
	int result = -1;

	strbuf_adds(&one, "&");
	strbuf_adds(&one, prefix);
	add_encoded(&one, name);
	strbuf_adds(&one, "=");
	add_encoded(&one, value);
	if (!one.failed && sb->len + one.len <= REDIRECT_MAX) {
		strbuf_add(sb, one.p, one.len);
		result = 0;
	}
	strbuf_release(&one);
	return result;
}

char *redirect_error_target(const char *target, const struct ferr *err,
	const struct form *form, const struct resource *res)
{
	struct strbuf sb = {0};
	const char *q, *frag, *s, *e, *id = NULL, *key;
	json_t *msg;
	size_t plen, i;
	int partial = 0;

	frag = target + strcspn(target, "#");
	q = memchr(target, '?', (size_t)(frag - target));
	plen = q ? (size_t)(q - target) : (size_t)(frag - target);
	strbuf_add(&sb, target, plen);
	strbuf_adds(&sb, "?");
	for (s = q ? q + 1 : frag; s < frag; s = e + 1) {
		e = memchr(s, '&', (size_t)(frag - s));
		if (!e)
			e = frag;
		if (e > s && !is_failure_param(s, (size_t)(e - s))) {
			strbuf_add(&sb, s, (size_t)(e - s));
			strbuf_adds(&sb, "&");
		}
		if (e == frag)
			break;
	}
	strbuf_adds(&sb, "error=");
	add_encoded(&sb, err->status ? err->code : "internal_error");
	strbuf_adds(&sb, "&message=");
	add_encoded(&sb, err->status ? err->message :
		"Something went wrong.");
	if (form) {
		id = form_get(form, "_form");
		if (id && !form_id_ok(id))
			id = NULL;
	}
	if (id && add_param(&sb, "", "form", id) < 0)
		id = NULL;
	json_object_foreach(err->fields, key, msg) {
		const char *text = json_string_value(msg);

		if (add_param(&sb, "field.", key, text ? text : "") < 0)
			partial = 1;
	}
	for (i = 0; form && i < form->n; i++) {
		const struct form_pair *p = &form->pairs[i];

		if (p->name[0] == '_' || pair_is_secret(res, p->name))
			continue;
		if (add_param(&sb, "value.", p->name, p->value) < 0)
			partial = 1;
	}
	if (partial)
		strbuf_adds(&sb, "&partial=1");
	/* Without JavaScript (the failure page's link followed) the page
	 * can show only that this form failed: the fragment points at that
	 * form's notice. */
	if (id) {
		strbuf_adds(&sb, "#");
		strbuf_adds(&sb, id);
		strbuf_adds(&sb, "-failed");
	} else {
		strbuf_adds(&sb, frag);
	}
	return strbuf_take(&sb);
}

int redirect_wants_form_answer(const struct request *rq)
{
	if (rq->raw_method != RM_POST || !rq->content_type ||
		strcmp(rq->content_type, REQUEST_FORM_TYPE) != 0)
		return 0;
	/* A script posting form data may ask for JSON back. */
	if (rq->accept && strcasestr(rq->accept, "application/json") &&
		!strcasestr(rq->accept, "text/html"))
		return 0;
	return 1;
}

int redirect_script_takes_failure(const struct request *rq)
{
	const char *v = rq->body_kind == BODY_FORM ?
		form_get(&rq->form, "_script") : NULL;

	return v && strcmp(v, "1") == 0;
}
