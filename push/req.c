/* req.c - reading a subscription request: since, topics, token, origin. */
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

/* origin_hostport points past "scheme://" of origin, or NULL. */
static const char *origin_hostport(const char *origin)
{
	const char *p = strstr(origin, "://");

	return p != NULL ? p + 3 : NULL;
}

/* same_host compares two host[:port] strings without regard to case. */
static int same_host(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* name_len is the length of the host name in hostport, without a port. An
 * IPv6 literal keeps its brackets. */
static size_t name_len(const char *hp, size_t n)
{
	size_t i;

	if (n > 0 && hp[0] == '[') {
		for (i = 0; i < n; i++)
			if (hp[i] == ']')
				return i + 1;
		return n;
	}
	for (i = 0; i < n; i++)
		if (hp[i] == ':')
			return i;
	return n;
}

int req_origin_allowed(const char *origin, const char *host,
	const char *allow)
{
	const char *hp;
	size_t olen, hlen, i = 0, n;

	if (origin == NULL)
		return 1;
	if (allow != NULL && allow[0] != '\0') {
		n = strlen(allow);
		olen = strlen(origin);
		while (i <= n) {
			size_t b = i, e = i;

			while (e < n && allow[e] != ',')
				e++;
			i = e + 1;
			trim(allow, &b, &e);
			if (e - b == 1 && allow[b] == '*')
				return 1;
			if (e - b == olen &&
				strncasecmp(allow + b, origin, olen) == 0)
				return 1;
		}
		return 0;
	}
	hp = origin_hostport(origin);
	if (hp == NULL || host == NULL || host[0] == '\0')
		return 0;
	olen = strlen(hp);
	hlen = strlen(host);
	if (name_len(host, hlen) == hlen)
		return same_host(hp, name_len(hp, olen), host, hlen);
	return same_host(hp, olen, host, hlen);
}
