/* token.h - short-lived signed grants for the push daemon (HMAC-SHA256). */
#ifndef FP_TOKEN_H
#define FP_TOKEN_H

#include <stdint.h>
#include "ferr.h"

/*
 * A token is base64url(payload) "." base64url(HMAC-SHA256(key, payload))
 * where payload is "1|<expires unix seconds>|<user or empty>|<topics>".
 * The key is the config's secret (any string; hex from flowpush init).
 * Users may not contain '|'; topics never do.
 */
struct token_claims {
	int64_t expires;
	char *user;      /* NULL when anonymous; owned */
	char *topics;    /* canonical topic list string; owned */
};

/* token_sign returns a malloc'd token, or NULL when out of memory or the
 * user holds '|'. Caller frees. */
char *token_sign(const char *secret, const char *topics, const char *user,
	int64_t expires);

/*
 * token_verify checks the MAC (in constant time) and expiry against now
 * (unix seconds). Returns 0 and fills out (caller releases it), or -1 with
 * err set to 401 invalid_token ("malformed", "bad signature") or
 * 401 token_expired.
 */
int token_verify(const char *secret, const char *token, int64_t now,
	struct token_claims *out, struct ferr *err);

void token_claims_release(struct token_claims *c);

#endif
