/* request.c - reading one HTTP request from the CGI environment into struct request. */
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
#include "header.h"

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

/* body_too_large sets the 413 every over-limit body gets. */
static int body_too_large(long limit, struct ferr *err)
{
	return ferr_set(err, 413, "body_too_large",
		"The request body is larger than %ld bytes.", limit);
}

/* body_fill reads up to want bytes into *buf (grown as they come, one
 * byte spare for the NUL), stopping early at the end of the input. */
static int body_fill(const struct request_io *io, size_t want, char **buf,
	size_t *len, struct ferr *err)
{
	size_t cap = 0, ncap;
	char *nb;
	long got;

	for (;;) {
		if (*len == cap) {
			ncap = cap < 16384 ? 16384 : cap * 2;
			if (ncap > want)
				ncap = want;
			nb = realloc(*buf, ncap + 1);
			if (!nb)
				return oom(err);
			*buf = nb;
			cap = ncap;
		}
		if (*len == want)
			return 0;
		got = io->read_cb(io->ctx, *buf + *len, cap - *len);
		if (got < 0)
			return ferr_set(err, 400, "bad_request",
				"The request body could not be read.");
		if (got == 0)
			return 0;
		*len += (size_t)got;
	}
}

/* body_check_end refuses a body that is not exactly Content-Length long:
 * shorter, or followed by more (over the limit: 413, else 400). */
static int body_check_end(const struct request_io *io, size_t want,
	size_t len, long limit, struct ferr *err)
{
	size_t extra = 0;
	char scratch[4096];
	long got;

	if (len < want)
		return ferr_set(err, 400, "bad_request",
			"The request body is shorter than its Content-Length.");
	while (want + extra <= (size_t)limit) {
		got = io->read_more_cb(io->ctx, scratch, sizeof scratch);
		if (got <= 0)
			break;
		extra += (size_t)got;
	}
	if (want + extra > (size_t)limit)
		return body_too_large(limit, err);
	if (extra > 0)
		return ferr_set(err, 400, "bad_request", "The request body is "
			"longer than its Content-Length.");
	return 0;
}

/* Reads the body: exactly Content-Length bytes, then checks that no more
 * follow (a lying length is refused rather than guessed around). */
static int body_read(struct request *rq, const struct request_io *io,
	long limit, struct ferr *err)
{
	size_t want, len = 0;
	char *buf = NULL;
	int result = -1;

	if (rq->content_length < 0 && !io->body_to_eof) {
		/* CGI gives no end of the body but its length: a typed body
		 * without one cannot be read, and silence would lose it. */
		if (rq->content_type)
			return ferr_set(err, 411, "length_required",
				"A request body needs a Content-Length.");
		return 0;
	}
	if (rq->content_length > limit)
		return body_too_large(limit, err);
	want = rq->content_length >= 0 ? (size_t)rq->content_length
		: (size_t)limit + 1;
	if (body_fill(io, want, &buf, &len, err) < 0)
		goto out;
	if (rq->content_length < 0) {
		if (len > (size_t)limit) {
			body_too_large(limit, err);
			goto out;
		}
	} else if (body_check_end(io, want, len, limit, err) < 0) {
		goto out;
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

/* read_method keeps REQUEST_METHOD, as given and as a method bit. */
static int read_method(struct request *rq, const struct request_io *io,
	struct ferr *err)
{
	const char *v = io->param_cb(io->ctx, "REQUEST_METHOD");

	if (!v || !*v)
		return ferr_set(err, 400, "bad_request",
			"The request has no method.");
	rq->method_name = strdup(v);
	if (!rq->method_name)
		return oom(err);
	rq->raw_method = rq->method = header_method_parse(v);
	return 0;
}

/* read_headers copies the headers of header_vars and notes HTTPS. */
static int read_headers(struct request *rq, const struct request_io *io,
	struct ferr *err)
{
	const char *v;
	size_t i;

	for (i = 0; i < sizeof header_vars / sizeof header_vars[0]; i++)
		if (copy_param(io, header_vars[i].var,
			(char **)((char *)rq + header_vars[i].off), err) < 0)
			return -1;
	v = io->param_cb(io->ctx, "HTTPS");
	if (v && (strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0))
		rq->https = 1;
	v = io->param_cb(io->ctx, "REQUEST_SCHEME");
	if (v && strcasecmp(v, "https") == 0)
		rq->https = 1;
	return 0;
}

/* read_content_type keeps the media type and charset; "" marks a type
 * that was given but is unusable. */
static int read_content_type(struct request *rq,
	const struct request_io *io, struct ferr *err)
{
	const char *v = io->param_cb(io->ctx, "CONTENT_TYPE");
	char type[128], charset[64];

	if (!v || !*v)
		return 0;
	if (header_content_type_parse(v, type, sizeof type, charset,
		sizeof charset) < 0) {
		type[0] = '\0';
		charset[0] = '\0';
	}
	rq->content_type = strdup(type);
	rq->charset = charset[0] ? strdup(charset) : NULL;
	if (!rq->content_type || (charset[0] && !rq->charset))
		return oom(err);
	return 0;
}

/* read_target parses the request target and its query. Routing reads
 * REQUEST_URI: servers disagree on how they split SCRIPT_NAME and
 * PATH_INFO, but the original target is the same everywhere. Only a
 * server that gives no REQUEST_URI at all gets the two joined. */
static int read_target(struct request *rq, const struct request_io *io,
	struct ferr *err)
{
	const char *v = io->param_cb(io->ctx, "REQUEST_URI"), *q, *pi;
	struct strbuf built = {0};
	int result = -1;

	if (!v || !*v) {
		v = io->param_cb(io->ctx, "SCRIPT_NAME");
		pi = io->param_cb(io->ctx, "PATH_INFO");
		strbuf_adds(&built, v ? v : "");
		strbuf_adds(&built, pi ? pi : "");
		v = built.p != NULL ? built.p : "";
		if (built.failed) {
			oom(err);
			goto out;
		}
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
	result = 0;
out:
	strbuf_release(&built);
	return result;
}

/* read_content_length keeps CONTENT_LENGTH (-1 when absent). */
static int read_content_length(struct request *rq,
	const struct request_io *io, struct ferr *err)
{
	const char *v = io->param_cb(io->ctx, "CONTENT_LENGTH");
	long long cl;

	if (!v || !*v)
		return 0;
	if (util_parse_long(v, 0, LLONG_MAX, &cl) < 0)
		return ferr_set(err, 400, "bad_request",
			"Content-Length is not a number.");
	rq->content_length = cl;
	return 0;
}

int request_read(struct request *rq, const struct request_io *io,
	long body_limit, struct ferr *err)
{
	if (read_method(rq, io, err) < 0 || read_headers(rq, io, err) < 0 ||
	    read_content_type(rq, io, err) < 0 ||
	    read_target(rq, io, err) < 0 ||
	    read_content_length(rq, io, err) < 0)
		return -1;
	if ((rq->raw_method & RM_WRITES) &&
	    body_read(rq, io, body_limit, err) < 0)
		return -1;
	return 0;
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
