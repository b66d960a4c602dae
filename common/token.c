/* token.c - short-lived signed grants for the push daemon (HMAC-SHA256). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/memops.h>

#include "token.h"
#include "util.h"

static void token_mac(const char *secret, const void *payload, size_t n,
	uint8_t mac[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, n, payload);
	hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, mac);
}

char *token_sign(const char *secret, const char *topics, const char *user,
	int64_t expires)
{
	char *payload = NULL, *p64 = NULL, *m64 = NULL, *tok = NULL;
	uint8_t mac[SHA256_DIGEST_SIZE];
	int n;

	if (user == NULL)
		user = "";
	if (topics == NULL)
		topics = "*";
	if (strchr(user, '|') != NULL || strchr(topics, '|') != NULL)
		return NULL;
	n = asprintf(&payload, "1|%lld|%s|%s", (long long)expires, user,
		topics);
	if (n < 0) {
		payload = NULL;
		goto out;
	}
	token_mac(secret, payload, (size_t)n, mac);
	p64 = util_base64url_encode(payload, (size_t)n);
	m64 = util_base64url_encode(mac, sizeof(mac));
	if (p64 == NULL || m64 == NULL)
		goto out;
	if (asprintf(&tok, "%s.%s", p64, m64) < 0)
		tok = NULL;
out:
	free(m64);
	free(p64);
	free(payload);
	return tok;
}

void token_claims_release(struct token_claims *c)
{
	free(c->user);
	free(c->topics);
	memset(c, 0, sizeof(*c));
}

int token_verify(const char *secret, const char *token, int64_t now,
	struct token_claims *out, struct ferr *err)
{
	int result = -1;
	char *p64 = NULL;
	const char *dot;
	unsigned char *payload = NULL, *mac = NULL;
	size_t plen = 0, mlen = 0;
	uint8_t want[SHA256_DIGEST_SIZE];
	char *f1, *f2, *f3;
	long long expires;

	memset(out, 0, sizeof(*out));
	if (secret == NULL || secret[0] == '\0' || token == NULL) {
		ferr_set(err, 401, "invalid_token", "The token is malformed.");
		goto out;
	}
	dot = strchr(token, '.');
	if (dot == NULL || strchr(dot + 1, '.') != NULL) {
		ferr_set(err, 401, "invalid_token", "The token is malformed.");
		goto out;
	}
	p64 = strndup(token, (size_t)(dot - token));
	if (p64 == NULL || util_base64url_decode(p64, &payload, &plen) < 0 ||
	    util_base64url_decode(dot + 1, &mac, &mlen) < 0) {
		ferr_set(err, 401, "invalid_token", "The token is malformed.");
		goto out;
	}
	token_mac(secret, payload, plen, want);
	/* Constant time, so the MAC cannot be found byte by byte. */
	if (mlen != sizeof(want) || !memeql_sec(want, mac, sizeof(want))) {
		ferr_set(err, 401, "invalid_token",
			"The token has a bad signature.");
		goto out;
	}
	/* Signed by us, so the layout is ours; check it anyway. */
	if (strlen((char *)payload) != plen ||
	    strncmp((char *)payload, "1|", 2) != 0) {
		ferr_set(err, 401, "invalid_token", "The token is malformed.");
		goto out;
	}
	f1 = (char *)payload + 2;
	f2 = strchr(f1, '|');
	f3 = f2 != NULL ? strchr(f2 + 1, '|') : NULL;
	if (f3 == NULL || strchr(f3 + 1, '|') != NULL) {
		ferr_set(err, 401, "invalid_token", "The token is malformed.");
		goto out;
	}
	*f2 = '\0';
	*f3 = '\0';
	if (util_parse_long(f1, 0, INT64_MAX, &expires) < 0) {
		ferr_set(err, 401, "invalid_token", "The token is malformed.");
		goto out;
	}
	if (now >= expires) {
		ferr_set(err, 401, "token_expired", "The token has expired.");
		goto out;
	}
	out->expires = expires;
	if (f2[1] != '\0') {
		out->user = strdup(f2 + 1);
		if (out->user == NULL) {
			ferr_set(err, 500, "out_of_memory", "Out of memory.");
			goto out;
		}
	}
	out->topics = strdup(f3 + 1);
	if (out->topics == NULL) {
		ferr_set(err, 500, "out_of_memory", "Out of memory.");
		goto out;
	}
	result = 0;
out:
	if (result < 0)
		token_claims_release(out);
	free(mac);
	free(payload);
	free(p64);
	return result;
}
