/* ferr.c - error details carried out of every fallible call. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ferr.h"

void ferr_init(struct ferr *e)
{
	memset(e, 0, sizeof(*e));
}

void ferr_release(struct ferr *e)
{
	json_decref(e->fields);
	ferr_init(e);
}

static void ferr_set_code(struct ferr *e, int status, const char *code)
{
	size_t n = strlen(code);

	if (n >= sizeof(e->code))
		n = sizeof(e->code) - 1;
	memcpy(e->code, code, n);
	e->code[n] = '\0';
	e->status = status;
}

int ferr_set(struct ferr *e, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	/* The first error is the root cause; later ones are consequences. */
	if (e == NULL || e->status != 0)
		return -1;
	ferr_set_code(e, status, code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

int ferr_field(struct ferr *e, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *s;

	if (e == NULL)
		return -1;
	if (e->status == 0) {
		ferr_set_code(e, 422, "validation_failed");
		snprintf(e->message, sizeof(e->message),
			"Some fields are not valid.");
	}
	if (e->fields == NULL) {
		e->fields = json_object();
		if (e->fields == NULL)
			return -1;
	}
	if (json_object_get(e->fields, path) != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s = json_string(msg);
	/* A message that is not UTF-8 cannot be carried in JSON: keep the
	 * path with a neutral text rather than losing the field. */
	if (s == NULL)
		s = json_string("is not valid");
	json_object_set_new(e->fields, path, s);
	return -1;
}

int ferr_is_set(const struct ferr *e)
{
	return e != NULL && e->status != 0;
}

json_t *ferr_to_json(const struct ferr *e)
{
	json_t *inner, *root;
	int status = e->status;
	const char *code = e->code;
	const char *msg = e->message;
	json_t *m;

	/* An unset error still answers something a client can parse. */
	if (status == 0 || code[0] == '\0') {
		status = 500;
		code = "internal_error";
		msg = "Internal error.";
	}
	m = json_string(msg);
	if (m == NULL)
		m = json_string("An error occurred.");
	inner = json_pack("{s:i, s:s, s:o}", "status", status, "code", code,
		"message", m);
	if (inner == NULL)
		return NULL;
	if (e->fields != NULL && json_object_size(e->fields) > 0)
		json_object_set(inner, "fields", e->fields);
	root = json_pack("{s:o}", "error", inner);
	return root;
}

struct reason {
	int status;
	const char *phrase;
};

static const struct reason reasons[] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 204, "No Content" },
	{ 301, "Moved Permanently" },
	{ 302, "Found" },
	{ 303, "See Other" },
	{ 304, "Not Modified" },
	{ 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Content" },
	{ 428, "Precondition Required" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 507, "Insufficient Storage" },
	{ 0, NULL },
};

const char *ferr_reason_phrase(int status)
{
	size_t i;

	for (i = 0; reasons[i].phrase != NULL; i++)
		if (reasons[i].status == status)
			return reasons[i].phrase;
	if (status >= 500)
		return "Internal Server Error";
	if (status >= 400)
		return "Bad Request";
	return "OK";
}
