/* redirect.c - the 303 answer to a form: its target, with any error in its query. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int param_is(const char *s, size_t n, const char *name)
{
	size_t k = strcspn(s, "=");

	if (k > n)
		k = n;
	return k == strlen(name) && strncmp(s, name, k) == 0;
}

char *redirect_error_target(const char *target, const char *code,
	const char *message)
{
	struct strbuf sb = {0};
	const char *q, *frag, *s, *e;
	size_t plen;

	frag = target + strcspn(target, "#");
	q = memchr(target, '?', (size_t)(frag - target));
	plen = q ? (size_t)(q - target) : (size_t)(frag - target);
	strbuf_add(&sb, target, plen);
	strbuf_adds(&sb, "?");
	for (s = q ? q + 1 : frag; s < frag; s = e + 1) {
		e = memchr(s, '&', (size_t)(frag - s));
		if (!e)
			e = frag;
		if (e > s && !param_is(s, (size_t)(e - s), "error") &&
			!param_is(s, (size_t)(e - s), "message")) {
			strbuf_add(&sb, s, (size_t)(e - s));
			strbuf_adds(&sb, "&");
		}
		if (e == frag)
			break;
	}
	strbuf_adds(&sb, "error=");
	add_encoded(&sb, code);
	strbuf_adds(&sb, "&message=");
	add_encoded(&sb, message);
	strbuf_adds(&sb, frag);
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
