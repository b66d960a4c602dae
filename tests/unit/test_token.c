/* test_token.c - unit tests for common/token.c: signing, verifying grants. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token.h"
#include "util.h"

#define SECRET "5f1d2c3b4a59687766554433221100ff" \
	"eeddccbbaa99887766554433221100aa"

static void token_verify__fresh_token__gives_claims(void **state)
{
	char *t = token_sign(SECRET, "personas,dashboard", "alice", 2000);
	struct token_claims c;
	struct ferr e;

	assert_non_null(t);
	ferr_init(&e);
	assert_int_equal(token_verify(SECRET, t, 1999, &c, &e), 0);
	assert_int_equal(c.expires, 2000);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.topics, "personas,dashboard");
	token_claims_release(&c);
	free(t);
}

static void token_verify__anonymous__has_null_user(void **state)
{
	char *t = token_sign(SECRET, "*", NULL, 2000);
	struct token_claims c;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(token_verify(SECRET, t, 10, &c, &e), 0);
	assert_null(c.user);
	assert_string_equal(c.topics, "*");
	token_claims_release(&c);
	free(t);
}

static void token_sign__layout__is_base64url_payload_dot_mac(void **state)
{
	char *t = token_sign(SECRET, "personas", "bob", 1234);
	char *dot = strchr(t, '.');
	unsigned char *payload;
	size_t n;

	assert_non_null(dot);
	*dot = '\0';
	assert_int_equal(util_base64url_decode(t, &payload, &n), 0);
	assert_string_equal((char *)payload, "1|1234|bob|personas");
	assert_int_equal(strlen(dot + 1), 43);
	free(payload);
	free(t);
}

static void token_sign__user_with_bar__is_refused(void **state)
{
	assert_null(token_sign(SECRET, "*", "a|b", 100));
}

static void token_verify__expired__is_401_token_expired(void **state)
{
	char *t = token_sign(SECRET, "*", NULL, 2000);
	struct token_claims c;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(token_verify(SECRET, t, 2000, &c, &e), -1);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.code, "token_expired");
	assert_null(c.topics);
	free(t);
}

static void token_verify__other_secret__is_bad_signature(void **state)
{
	char *t = token_sign(SECRET, "*", NULL, 2000);
	struct token_claims c;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(token_verify("another", t, 10, &c, &e), -1);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.code, "invalid_token");
	assert_non_null(strstr(e.message, "signature"));
	free(t);
}

static void token_verify__tampered_payload__is_refused(void **state)
{
	char *t = token_sign(SECRET, "personas", "bob", 2000);
	char *forged = token_sign("x", "*", "bob", 2000);
	size_t size = strlen(t) + strlen(forged) + 1;
	char *mix = malloc(size);
	struct token_claims c;
	struct ferr e;

	/* The forged payload with the genuine signature. */
	snprintf(mix, size, "%.*s%s", (int)(strchr(forged, '.') - forged),
		forged, strchr(t, '.'));
	ferr_init(&e);
	assert_int_equal(token_verify(SECRET, mix, 10, &c, &e), -1);
	assert_string_equal(e.code, "invalid_token");
	free(mix);
	free(forged);
	free(t);
}

static void token_verify__malformed__is_401(void **state)
{
	static const char *const bad[] = { "", "abc", "a.b.c", "!!.??",
		"MXwyfHx4.", NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		struct token_claims c;
		struct ferr e;

		ferr_init(&e);
		assert_int_equal(token_verify(SECRET, bad[i], 10, &c, &e),
			-1);
		assert_int_equal(e.status, 401);
		assert_string_equal(e.code, "invalid_token");
	}
}

static void token_verify__empty_secret__refuses_everything(void **state)
{
	char *t = token_sign("", "*", NULL, 2000);
	struct token_claims c;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(token_verify("", t, 10, &c, &e), -1);
	assert_int_equal(e.status, 401);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_verify__fresh_token__gives_claims),
		cmocka_unit_test(token_verify__anonymous__has_null_user),
		cmocka_unit_test(
			token_sign__layout__is_base64url_payload_dot_mac),
		cmocka_unit_test(token_sign__user_with_bar__is_refused),
		cmocka_unit_test(token_verify__expired__is_401_token_expired),
		cmocka_unit_test(
			token_verify__other_secret__is_bad_signature),
		cmocka_unit_test(token_verify__tampered_payload__is_refused),
		cmocka_unit_test(token_verify__malformed__is_401),
		cmocka_unit_test(
			token_verify__empty_secret__refuses_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
