/* request.c - one HTTP request, parsed up front into struct request. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"
#include "util.h"
#include "origin.h"
#include "strbuf.h"
#include "request.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

static const struct {
	const char *name;
	unsigned bit;
} method_names[] = {
	{"GET", RM_GET},
	{"HEAD", RM_HEAD},
	{"POST", RM_POST},
	{"PUT", RM_PUT},
	{"PATCH", RM_PATCH},
	{"DELETE", RM_DELETE},
	{"OPTIONS", RM_OPTIONS},
};

/* The request headers kept, declared once: CGI variable and where it goes.
 * An empty value counts as absent. */
static const struct {
	const char *var;
	size_t off;
} header_vars[] = {
	{"HTTP_IF_MATCH", offsetof(struct request, if_match)},
	{"HTTP_IF_NONE_MATCH", offsetof(struct request, if_none_match)},
	{"HTTP_ORIGIN", offsetof(struct request, origin)},
	{"HTTP_HOST", offsetof(struct request, host)},
	{"HTTP_SEC_FETCH_SITE", offsetof(struct request, sec_fetch_site)},
	{"HTTP_REFERER", offsetof(struct request, referer)},
	{"HTTP_ACCEPT", offsetof(struct request, accept)},
	{"REMOTE_USER", offsetof(struct request, remote_user)},
	{"SERVER_PORT", offsetof(struct request, server_port)},
};

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

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int oom(struct ferr *err)
{
	return ferr_set(err, 500, "internal_error", "Out of memory.");
}

/* Decodes one path segment; a NUL byte is refused because every later
 * consumer works with C strings. */
static int seg_decode(const char *s, size_t n, char **out, struct ferr *err)
{
	char *d = malloc(n + 1);
	size_t i, j = 0;
	int hi, lo;

	if (!d)
		return oom(err);
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		hi = i + 2 < n ? util_hex_value((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < n ? util_hex_value((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(d);
			return ferr_set(err, 400, "bad_request",
				"The request path holds a malformed escape.");
		}
		d[j++] = (char)(hi * 16 + lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

void request_init(struct request *rq)
{
	memset(rq, 0, sizeof *rq);
	rq->content_length = -1;
	rq->body_kind = BODY_NONE;
	ferr_init(&rq->body_err);
}

void request_release(struct request *rq)
{
	size_t i;

	free(rq->method_name);
	free(rq->path);
	free(rq->prefix);
	for (i = 0; i < rq->nseg; i++)
		free(rq->seg[i]);
	form_release(&rq->query);
	free(rq->content_type);
	free(rq->charset);
	for (i = 0; i < sizeof header_vars / sizeof header_vars[0]; i++)
		free(*(char **)((char *)rq + header_vars[i].off));
	free(rq->body);
	json_decref(rq->json);
	form_release(&rq->form);
	ferr_release(&rq->body_err);
	request_init(rq);
}

unsigned request_method_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof method_names / sizeof method_names[0];
		i++)
		if (strcmp(name, method_names[i].name) == 0)
			return method_names[i].bit;
	return 0;
}

char *request_allow_format(unsigned mask, char *buf, size_t size)
{
	size_t i, len = 0;
	const char *sep = "";

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof method_names / sizeof method_names[0]; i++) {
		size_t need;

		if (!(mask & method_names[i].bit))
			continue;
		need = strlen(sep) + strlen(method_names[i].name);
		if (len + need + 1 > size)
			break;
		memcpy(buf + len, sep, strlen(sep));
		len += strlen(sep);
		memcpy(buf + len, method_names[i].name,
			strlen(method_names[i].name));
		len += strlen(method_names[i].name);
		buf[len] = '\0';
		sep = ", ";
	}
	return buf;
}

int request_path_parse(struct request *rq, const char *target,
	struct ferr *err)
{
	const char *p = target, *s, *e, *stop;
	size_t len, prefix_len = 0;
	int in_api = 0;
	char *d = NULL;

	/* An absolute-form target ("http://host/path") is rare but legal. */
	if (strncasecmp(p, "http://", 7) == 0 ||
		strncasecmp(p, "https://", 8) == 0) {
		p = strstr(p, "://") + 3;
		p += strcspn(p, "/?#");
		if (*p != '/')
			p = "/";
	}
	if (*p != '/')
		return ferr_set(err, 400, "bad_request",
			"The request target must be a path.");
	len = strcspn(p, "?#");
	rq->path = dup_n(p, len);
	if (!rq->path)
		return oom(err);
	stop = p + len;
	/* One trailing slash is tolerated: "/api/campaigns/" */
	if (stop > p + 1 && stop[-1] == '/')
		stop--;
	s = p + 1;
	for (;;) {
		e = memchr(s, '/', (size_t)(stop - s));
		if (!e)
			e = stop;
		if (seg_decode(s, (size_t)(e - s), &d, err) < 0)
			return -1;
		if (!in_api && strcmp(d, "api") == 0) {
			in_api = 1;
			prefix_len = (size_t)(s - 1 - p);
		}
		if (in_api && rq->nseg < REQUEST_MAX_SEGS)
			rq->seg[rq->nseg++] = d;
		else {
			if (in_api)
				rq->too_deep = 1;
			free(d);
		}
		if (e == stop)
			break;
		s = e + 1;
	}
	rq->prefix = dup_n(p, prefix_len);
	if (!rq->prefix)
		return oom(err);
	return 0;
}

static int copy_param(const struct request_io *io, const char *name,
	char **out, struct ferr *err)
{
	const char *v = io->param_cb(io->ctx, name);

	*out = NULL;
	if (!v || !*v)
		return 0;
	*out = strdup(v);
	return *out ? 0 : oom(err);
}

/* Reads the body: exactly Content-Length bytes, then checks that no more
 * follow (a lying length is refused rather than guessed around). */
static int body_read(struct request *rq, const struct request_io *io,
	long limit, struct ferr *err)
{
	size_t want, len = 0, cap = 0, extra = 0, ncap;
	char *buf = NULL, *nb, scratch[4096];
	long got;
	int result = -1;

	if (rq->content_length < 0 && !io->body_to_eof) {
		/* CGI gives no end of the body but its length: a typed body
		 * without one cannot be read, and silence would lose it. */
		if (rq->content_type)
			return ferr_set(err, 411, "length_required",
				"A request body needs a Content-Length.");
		return 0;
	}
	if (rq->content_length > limit) {
		ferr_set(err, 413, "body_too_large",
			"The request body is larger than %ld bytes.", limit);
		goto out;
	}
	want = rq->content_length >= 0 ? (size_t)rq->content_length
		: (size_t)limit + 1;
	for (;;) {
		if (len == cap) {
			ncap = cap < 16384 ? 16384 : cap * 2;
			if (ncap > want)
				ncap = want;
			nb = realloc(buf, ncap + 1);
			if (!nb) {
				oom(err);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		if (len == want)
			break;
		got = io->read_cb(io->ctx, buf + len, cap - len);
		if (got < 0) {
			ferr_set(err, 400, "bad_request",
				"The request body could not be read.");
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (rq->content_length < 0) {
		if (len > (size_t)limit) {
			ferr_set(err, 413, "body_too_large",
				"The request body is larger than %ld bytes.",
				limit);
			goto out;
		}
	} else if (len < want) {
		ferr_set(err, 400, "bad_request",
			"The request body is shorter than its Content-Length.");
		goto out;
	} else {
		while (want + extra <= (size_t)limit) {
			got = io->read_more_cb(io->ctx, scratch,
				sizeof scratch);
			if (got <= 0)
				break;
			extra += (size_t)got;
		}
		if (want + extra > (size_t)limit) {
			ferr_set(err, 413, "body_too_large",
				"The request body is larger than %ld bytes.",
				limit);
			goto out;
		}
		if (extra > 0) {
			ferr_set(err, 400, "bad_request",
				"The request body is longer than its "
				"Content-Length.");
			goto out;
		}
	}
	buf[len] = '\0';
	rq->body = buf;
	rq->body_len = len;
	buf = NULL;
	result = 0;
out:
	free(buf);
	return result;
}

int request_read(struct request *rq, const struct request_io *io,
	long body_limit, struct ferr *err)
{
	const char *v, *q;
	char *built = NULL, type[128], charset[64];
	size_t i;
	long long cl;
	int result = -1;

	v = io->param_cb(io->ctx, "REQUEST_METHOD");
	if (!v || !*v) {
		ferr_set(err, 400, "bad_request", "The request has no method.");
		goto out;
	}
	rq->method_name = strdup(v);
	if (!rq->method_name) {
		oom(err);
		goto out;
	}
	rq->raw_method = rq->method = request_method_parse(v);

	for (i = 0; i < sizeof header_vars / sizeof header_vars[0]; i++)
		if (copy_param(io, header_vars[i].var,
			(char **)((char *)rq + header_vars[i].off), err) < 0)
			goto out;
	v = io->param_cb(io->ctx, "HTTPS");
	if (v && (strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0))
		rq->https = 1;
	v = io->param_cb(io->ctx, "REQUEST_SCHEME");
	if (v && strcasecmp(v, "https") == 0)
		rq->https = 1;

	v = io->param_cb(io->ctx, "CONTENT_TYPE");
	if (v && *v) {
		if (request_content_type_parse(v, type, sizeof type, charset,
			sizeof charset) < 0) {
			/* "" marks a type that was given but is unusable */
			type[0] = '\0';
			charset[0] = '\0';
		}
		rq->content_type = strdup(type);
		rq->charset = charset[0] ? strdup(charset) : NULL;
		if (!rq->content_type || (charset[0] && !rq->charset)) {
			oom(err);
			goto out;
		}
	}

	/* Routing reads REQUEST_URI: servers disagree on how they split
	 * SCRIPT_NAME and PATH_INFO, but the original target is the same
	 * everywhere. Only a server that gives no REQUEST_URI at all gets
	 * the two joined. */
	v = io->param_cb(io->ctx, "REQUEST_URI");
	if (!v || !*v) {
		const char *sn = io->param_cb(io->ctx, "SCRIPT_NAME");
		const char *pi;
		size_t snl;

		sn = sn ? sn : "";
		snl = strlen(sn);
		built = malloc(snl + 1);
		if (!built) {
			oom(err);
			goto out;
		}
		memcpy(built, sn, snl + 1);
		pi = io->param_cb(io->ctx, "PATH_INFO");
		if (pi && *pi) {
			char *nb = realloc(built, snl + strlen(pi) + 1);

			if (!nb) {
				oom(err);
				goto out;
			}
			built = nb;
			memcpy(built + snl, pi, strlen(pi) + 1);
		}
		v = built;
	}
	if (request_path_parse(rq, v, err) < 0)
		goto out;
	q = strchr(v, '?');
	if (q)
		q++;
	else
		q = io->param_cb(io->ctx, "QUERY_STRING");
	if (q && form_parse(q, strcspn(q, "#"), &rq->query, err) < 0)
		goto out;

	v = io->param_cb(io->ctx, "CONTENT_LENGTH");
	if (v && *v) {
		if (util_parse_long(v, 0, LLONG_MAX, &cl) < 0) {
			ferr_set(err, 400, "bad_request",
				"Content-Length is not a number.");
			goto out;
		}
		rq->content_length = cl;
	}
	if (rq->raw_method & RM_WRITES) {
		if (body_read(rq, io, body_limit, err) < 0)
			goto out;
		request_body_decode(rq);
	}
	result = 0;
out:
	free(built);
	return result;
}

static int is_json_type(const char *t)
{
	size_t n = strlen(t);

	return strcmp(t, "application/json") == 0 ||
		(strncmp(t, "application/", 12) == 0 && n > 17 &&
		strcmp(t + n - 5, "+json") == 0);
}

static int charset_ok(const char *cs)
{
	return !cs || strcmp(cs, "utf-8") == 0 || strcmp(cs, "utf8") == 0;
}

/* Library messages may quote bytes of the body; only printable ASCII is
 * passed on so the error can always be rendered. */
static void ascii_copy(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static void decode_json(struct request *rq)
{
	json_error_t je;
	json_t *j;
	char text[JSON_ERROR_TEXT_LENGTH];

	if (memchr(rq->body, '\0', rq->body_len)) {
		ferr_set(&rq->body_err, 400, "bad_json",
			"The body holds a NUL byte.");
		return;
	}
	if (!utf8_valid(rq->body, rq->body_len)) {
		ferr_set(&rq->body_err, 400, "bad_json",
			"The body is not valid UTF-8.");
		return;
	}
	/* Without JSON_ALLOW_NUL jansson refuses "\u0000" in strings;
	 * duplicate keys are refused because which one wins is a guess. */
	j = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j && json_error_code(&je) == json_error_null_character) {
		ferr_set(&rq->body_err, 400, "bad_json",
			"The body holds a \\u0000 escape (line %d).",
			je.line);
		return;
	}
	if (!j) {
		ascii_copy(text, sizeof text, je.text);
		ferr_set(&rq->body_err, 400, "bad_json",
			"The body is not valid JSON (line %d, column %d): %s.",
			je.line, je.column, text);
		return;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		ferr_set(&rq->body_err, 400, "bad_json",
			"The body must be a JSON object.");
		return;
	}
	rq->json = j;
	rq->body_kind = BODY_JSON;
}

static void decode_form(struct request *rq)
{
	struct ferr fe;
	const char *m;
	char up[8];
	size_t i;
	unsigned bit;

	ferr_init(&fe);
	if (form_parse(rq->body, rq->body_len, &rq->form, &fe) < 0) {
		ferr_set(&rq->body_err, fe.status ? fe.status : 400,
			"bad_form", "%s", fe.message);
		ferr_release(&fe);
		return;
	}
	ferr_release(&fe);
	rq->body_kind = BODY_FORM;
	if (rq->raw_method != RM_POST)
		return;
	/* HTML forms can only GET or POST: _method says what was meant. */
	m = form_get(&rq->form, "_method");
	if (!m || !*m)
		return;
	for (i = 0; m[i] && i + 1 < sizeof up; i++)
		up[i] = (char)toupper((unsigned char)m[i]);
	up[i] = '\0';
	bit = m[i] ? 0 : request_method_parse(up);
	if (!(bit & RM_WRITES)) {
		ferr_set(&rq->body_err, 400, "bad_form",
			"_method must be PUT, PATCH or DELETE.");
		return;
	}
	rq->method = bit;
}

void request_body_decode(struct request *rq)
{
	const char *t = rq->content_type;

	if (!rq->body || rq->body_len == 0) {
		rq->body_kind = BODY_NONE;
		return;
	}
	if (t && is_json_type(t) && charset_ok(rq->charset)) {
		decode_json(rq);
		return;
	}
	if (t && strcmp(t, FORM_TYPE) == 0 && charset_ok(rq->charset)) {
		decode_form(rq);
		return;
	}
	rq->body_kind = BODY_OTHER;
	ferr_set(&rq->body_err, 415, "unsupported_media_type",
		"Send the body as application/json (UTF-8) or "
		"application/x-www-form-urlencoded.");
}

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Copies a token in lower case; returns its length or -1 if it is empty
 * or does not fit. */
static int token_lower(const char **sp, char *out, size_t size)
{
	const char *s = *sp;
	size_t n = 0;

	while (is_tchar((unsigned char)*s)) {
		if (n + 1 >= size)
			return -1;
		out[n++] = (char)tolower((unsigned char)*s++);
	}
	out[n] = '\0';
	*sp = s;
	return n ? (int)n : -1;
}

int request_content_type_parse(const char *value, char *type,
	size_t type_size, char *charset, size_t charset_size)
{
	const char *s = skip_ows(value);
	char name[32], val[64];
	size_t n;

	if (!type_size || !charset_size)
		return -1;
	charset[0] = '\0';
	if (token_lower(&s, type, type_size) < 0)
		return -1;
	n = strlen(type);
	if (*s != '/' || n + 1 >= type_size)
		return -1;
	type[n++] = '/';
	s++;
	if (token_lower(&s, type + n, type_size - n) < 0)
		return -1;
	for (;;) {
		s = skip_ows(s);
		if (!*s)
			return 0;
		if (*s++ != ';')
			return -1;
		s = skip_ows(s);
		if (!*s)
			return 0;
		if (token_lower(&s, name, sizeof name) < 0 || *s++ != '=')
			return -1;
		n = 0;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (n + 1 >= sizeof val)
					return -1;
				val[n++] = (char)tolower((unsigned char)*s);
			}
			if (*s++ != '"')
				return -1;
			val[n] = '\0';
		} else if (token_lower(&s, val, sizeof val) < 0) {
			return -1;
		}
		if (strcmp(name, "charset") == 0) {
			if (strlen(val) + 1 > charset_size)
				return -1;
			memcpy(charset, val, strlen(val) + 1);
		}
	}
}

/* Parses "\"<digits>\"" at *sp; returns 0 and the number, or -1. */
static int etag_parse(const char **sp, long long *n)
{
	const char *s = *sp;
	long long v = 0;
	int digits = 0;

	if (*s++ != '"')
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (!digits || *s++ != '"')
		return -1;
	*n = v;
	*sp = s;
	return 0;
}

int request_if_match_parse(const char *value, long long *version)
{
	const char *s;
	long long n;

	*version = -1;
	if (!value)
		return 0;
	s = skip_ows(value);
	if (*s == '*')
		return *skip_ows(s + 1) ? -1 : 0;
	if (etag_parse(&s, &n) < 0 || *skip_ows(s))
		return -1;
	*version = n;
	return 0;
}

int request_etag_matches(const char *value, long long version)
{
	const char *s = value;
	long long n;

	if (!s)
		return 0;
	for (;;) {
		s = skip_ows(s);
		if (*s == '*')
			return 1;
		if (strncmp(s, "W/", 2) == 0)
			s += 2;
		if (etag_parse(&s, &n) == 0 && n == version)
			return 1;
		s = strchr(s, ',');
		if (!s)
			return 0;
		s++;
	}
}

const char *request_scheme(const struct request *rq)
{
	return rq->https ? "https" : "http";
}

int request_own_origin(const struct request *rq, const char *origin,
	size_t n)
{
	const char *scheme = request_scheme(rq), *h = rq->host;
	char host[300];
	int len;

	if (origin_same(origin, n, scheme, h))
		return 1;
	/* Only the port may come from elsewhere, and only our own. */
	if (!h || !rq->server_port)
		return 0;
	if (h[0] == '[' ? strstr(h, "]:") != NULL : strchr(h, ':') != NULL)
		return 0;
	len = snprintf(host, sizeof host, "%s:%s", h, rq->server_port);
	if (len < 0 || (size_t)len >= sizeof host)
		return 0;
	return origin_same(origin, n, scheme, host);
}

int request_cross_origin(const struct request *rq)
{
	if (rq->sec_fetch_site &&
		strcasecmp(rq->sec_fetch_site, "cross-site") == 0)
		return 1;
	if (!rq->origin)
		return 0;
	return !request_own_origin(rq, rq->origin, strlen(rq->origin));
}

int request_local_path(const char *s)
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

char *request_form_target(const struct request *rq)
{
	const char *r = NULL, *ref = rq->referer, *p;
	char *path;

	if (rq->body_kind == BODY_FORM)
		r = form_get(&rq->form, "_redirect");
	if (r && request_local_path(r))
		return strdup(r);
	p = ref ? strstr(ref, "://") : NULL;
	if (p) {
		p += 3;
		p += strcspn(p, "/?#");
		if (request_own_origin(rq, ref, (size_t)(p - ref))) {
			if (*p != '/')
				return strdup("/");
			path = dup_n(p, strcspn(p, "#"));
			if (!path || request_local_path(path))
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

char *request_error_target(const char *target, const char *code,
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

int request_wants_form_answer(const struct request *rq)
{
	if (rq->raw_method != RM_POST || !rq->content_type ||
		strcmp(rq->content_type, FORM_TYPE) != 0)
		return 0;
	/* A script posting form data may ask for JSON back. */
	if (rq->accept && strcasestr(rq->accept, "application/json") &&
		!strcasestr(rq->accept, "text/html"))
		return 0;
	return 1;
}

static int pattern_match(const char *pat, char *const *seg, size_t nseg,
	route_check_cb check, struct route_match *m)
{
	const char *p = pat;
	size_t i = 0, len, kl;

	m->n = 0;
	while (*p) {
		len = strcspn(p, "/");
		if (i >= nseg)
			return 0;
		if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
			kl = len - 2;
			if (kl >= sizeof m->name[0] || m->n >= ROUTE_MAX_PARAMS)
				return 0;
			memcpy(m->name[m->n], p + 1, kl);
			m->name[m->n][kl] = '\0';
			if (!check || !check(m->name[m->n], seg[i]))
				return 0;
			m->value[m->n++] = seg[i];
		} else if (strlen(seg[i]) != len ||
			memcmp(seg[i], p, len) != 0) {
			return 0;
		}
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	return i == nseg;
}

int request_route(const struct route *table, size_t n, char *const *seg,
	size_t nseg, unsigned method, route_check_cb check,
	struct route_match *m)
{
	struct route_match tmp;
	unsigned allow = 0, ms;
	size_t k;

	memset(m, 0, sizeof *m);
	for (k = 0; k < n; k++) {
		memset(&tmp, 0, sizeof tmp);
		if (!pattern_match(table[k].pattern, seg, nseg, check, &tmp))
			continue;
		ms = table[k].methods;
		if (ms & RM_GET)
			ms |= RM_HEAD;
		allow |= ms;
		if (!m->route && (ms & method)) {
			*m = tmp;
			m->route = &table[k];
		}
	}
	m->allow = allow;
	return m->route ? 0 : -1;
}

const char *request_route_param(const struct route_match *m,
	const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->name[i], name) == 0)
			return m->value[i];
	return NULL;
}
