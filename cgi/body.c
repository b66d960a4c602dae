/* body.c - decoding a request body: JSON or an HTML form, by its Content-Type. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"
#include "util.h"
#include "body.h"
#include "header.h"

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

/* json_fault says in our words what is wrong, never the library's text
 * (it quotes the body's bytes and names its own internals). */
static const char *json_fault(enum json_error_code code)
{
	switch (code) {
	case json_error_premature_end_of_input:
		return "it ends too early";
	case json_error_end_of_input_expected:
		return "more follows the JSON value";
	case json_error_duplicate_key:
		return "an object repeats a key";
	case json_error_numeric_overflow:
		return "a number is out of range";
	case json_error_invalid_utf8:
		return "a string is not valid UTF-8";
	case json_error_null_byte_in_key:
		return "a key holds a NUL byte";
	case json_error_out_of_memory:
	case json_error_stack_overflow:
		return "it is nested too deeply or too large";
	default:
		return "its syntax is wrong";
	}
}

static void decode_json(struct request *rq)
{
	json_error_t je;
	json_t *j;

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
		ferr_set(&rq->body_err, 400, "bad_json",
			"The body is not valid JSON (line %d, column %d): %s.",
			je.line, je.column, json_fault(json_error_code(&je)));
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
	bit = m[i] ? 0 : header_method_parse(up);
	if (!(bit & RM_WRITES)) {
		ferr_set(&rq->body_err, 400, "bad_form",
			"_method must be PUT, PATCH or DELETE.");
		return;
	}
	rq->method = bit;
}

void body_decode(struct request *rq)
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
	if (t && strcmp(t, REQUEST_FORM_TYPE) == 0 && charset_ok(rq->charset)) {
		decode_form(rq);
		return;
	}
	rq->body_kind = BODY_OTHER;
	ferr_set(&rq->body_err, 415, "unsupported_media_type",
		"Send the body as application/json (UTF-8) or "
		"application/x-www-form-urlencoded.");
}
