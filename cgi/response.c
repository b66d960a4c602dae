/* response.c - one answer: status, headers, JSON, CGI-style output. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "response.h"

/* What is sent when even the error cannot be built. */
static const char fallback_body[] =
	"{\"error\":{\"status\":500,\"code\":\"internal_error\","
	"\"message\":\"Out of memory.\"}}";

void response_init(struct response *r)
{
	memset(r, 0, sizeof *r);
}

void response_reset(struct response *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->content_type = NULL;
	r->status = 0;
}

void response_release(struct response *r)
{
	response_reset(r);
	response_init(r);
}

int response_header(struct response *r, const char *name, const char *fmt,
	...)
{
	va_list ap;
	char *value = NULL, *n = NULL;
	size_t i;
	int len, result = -1;

	if (r->nheaders == RESPONSE_MAX_HEADERS)
		goto out;
	va_start(ap, fmt);
	len = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (len < 0) {
		value = NULL;
		goto out;
	}
	for (i = 0; value[i]; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			goto out;
	n = strdup(name);
	if (!n)
		goto out;
	r->headers[r->nheaders].name = n;
	r->headers[r->nheaders].value = value;
	r->nheaders++;
	n = NULL;
	value = NULL;
	result = 0;
out:
	free(n);
	free(value);
	return result;
}

void response_header_drop(struct response *r, const char *name)
{
	size_t i = 0;

	while (i < r->nheaders) {
		if (strcasecmp(r->headers[i].name, name) != 0) {
			i++;
			continue;
		}
		free(r->headers[i].name);
		free(r->headers[i].value);
		memmove(&r->headers[i], &r->headers[i + 1],
			(r->nheaders - i - 1) * sizeof r->headers[0]);
		r->nheaders--;
	}
}

int response_json(struct response *r, int status, const json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);

	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->content_type = NULL;
	if (!s) {
		r->status = 500;
		return -1;
	}
	r->status = status;
	r->body = s;
	r->body_len = strlen(s);
	return 0;
}

void response_html_take(struct response *r, int status, char *html)
{
	free(r->body);
	r->status = status;
	r->body = html;
	r->body_len = html ? strlen(html) : 0;
	r->content_type = html ? "text/html; charset=utf-8" : NULL;
}

void response_etag(struct response *r, const json_t *rec)
{
	json_t *v = json_object_get(rec, "version");

	if (json_is_integer(v))
		response_header(r, "ETag", "\"%lld\"",
			(long long)json_integer_value(v));
}

void response_error(struct response *r, const struct ferr *e)
{
	json_t *doc = ferr_to_json(e);
	int status = e->status ? e->status : 500;

	response_reset(r);
	r->status = status;
	if (!doc || response_json(r, status, doc) < 0)
		r->status = 500;
	json_decref(doc);
	if (r->status == 503)
		response_header(r, "Retry-After", "%d",
			e->retry_after > 0 ? e->retry_after : 1);
}

void response_text(struct response *r, int status, const char *content_type,
	char *text, size_t len)
{
	free(r->body);
	r->body = text;
	r->body_len = len;
	r->status = status;
	r->content_type = content_type;
}

int response_render(const struct response *r,
	int (*write_cb)(void *ctx, const char *buf, size_t n), void *ctx)
{
	char *head = NULL;
	size_t len = 0, i;
	FILE *f;
	int status = r->status ? r->status : 500;
	const char *body = r->body;
	size_t body_len = r->body_len;
	const char *type = r->content_type ? r->content_type :
		"application/json";
	int result = -1;

	if (status >= 400 && !body) {
		type = "application/json";
		body = fallback_body;
		body_len = sizeof fallback_body - 1;
	}
	if (status == 204 || status == 304) {
		body = NULL;
		body_len = 0;
	}
	f = open_memstream(&head, &len);
	if (!f)
		goto out;
	fprintf(f, "Status: %d %s\r\n", status, ferr_reason_phrase(status));
	if (body)
		fprintf(f, "Content-Type: %s\r\n"
			"Content-Length: %zu\r\n", type, body_len);
	fprintf(f, "Cache-Control: no-store\r\n"
		"X-Content-Type-Options: nosniff\r\n");
	for (i = 0; i < r->nheaders; i++)
		fprintf(f, "%s: %s\r\n", r->headers[i].name,
			r->headers[i].value);
	fprintf(f, "\r\n");
	if (fclose(f) != 0)
		goto out;
	if (write_cb(ctx, head, len) < 0)
		goto out;
	if (body && !r->head_only && write_cb(ctx, body, body_len) < 0)
		goto out;
	result = 0;
out:
	free(head);
	return result;
}
