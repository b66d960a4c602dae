/* req.c - reading a subscription request: since, topics, token. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "req.h"
#include "sse.h"
#include "token.h"

static int parse_since(const struct push_req_in *in, struct push_req *out,
	struct ferr *err)
{
	const char *v = in->last_event_id != NULL && in->last_event_id[0] ?
		in->last_event_id : in->since;

	out->has_since = 0;
	if (v == NULL)
		return 0;
	/* The same strict reading serves both: a seq is a plain decimal. */
	if (sse_parse_last_event_id(v, &out->since))
		return ferr_set(err, 400, "bad_since",
			"since must be a non-negative integer");
	out->has_since = 1;
	return 0;
}

int req_parse(struct push_req *out, const struct push_req_in *in,
	const char *secret, int64_t now, struct ferr *err)
{
	struct token_claims claims = { 0 };
	struct topic_list grant = { 0 };
	int have_claims = 0, have_grant = 0, result = -1;

	memset(out, 0, sizeof(*out));
	if (parse_since(in, out, err))
		goto out;
	if (secret == NULL || secret[0] == '\0') {
		if (topic_list_parse(in->topics, &out->topics, err))
			goto out;
		result = 0;
		goto out;
	}
	if (in->token == NULL || in->token[0] == '\0') {
		ferr_set(err, 401, "missing_token",
			"a token from /api/token is required");
		goto out;
	}
	if (token_verify(secret, in->token, now, &claims, err))
		goto out;
	have_claims = 1;
	if (topic_list_parse(claims.topics, &grant, err)) {
		/* A signed grant we cannot read is still a bad token. */
		ferr_release(err);
		ferr_init(err);
		ferr_set(err, 401, "invalid_token", "the token is malformed");
		goto out;
	}
	have_grant = 1;
	if (in->topics == NULL || in->topics[0] == '\0') {
		out->topics = grant;
		have_grant = 0;
		result = 0;
		goto out;
	}
	if (topic_list_parse(in->topics, &out->topics, err))
		goto out;
	if (!topic_list_covers(&grant, &out->topics)) {
		topic_list_release(&out->topics);
		ferr_set(err, 403, "forbidden_topics",
			"the token does not grant these topics");
		goto out;
	}
	result = 0;
out:
	if (have_grant)
		topic_list_release(&grant);
	if (have_claims)
		token_claims_release(&claims);
	return result;
}

void req_release(struct push_req *r)
{
	topic_list_release(&r->topics);
}

/* trim narrows [*b, *e) to its content without spaces or tabs. */
static void trim(const char *s, size_t *b, size_t *e)
{
	while (*b < *e && (s[*b] == ' ' || s[*b] == '\t'))
		(*b)++;
	while (*e > *b && (s[*e - 1] == ' ' || s[*e - 1] == '\t'))
		(*e)--;
}

int req_header_has_token(const char *value, const char *token)
{
	size_t tlen = strlen(token), i = 0, n;

	if (value == NULL)
		return 0;
	n = strlen(value);
	while (i <= n) {
		size_t b = i, e = i;

		while (e < n && value[e] != ',')
			e++;
		i = e + 1;
		trim(value, &b, &e);
		if (e - b == tlen && strncasecmp(value + b, token, tlen) == 0)
			return 1;
	}
	return 0;
}
