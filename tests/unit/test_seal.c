/* test_seal.c - unit tests for common/seal.c: secrets sealed at rest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "seal.h"

#define HEX_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEX_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static void seal__closed_secret__opens_with_its_key_only(void **state)
{
	struct seal_key a, b;
	const struct seal_key *both[] = { &b, &a }, *only_b[] = { &b };
	json_t *secret = json_pack("{s:s}", "password", "hunter2");
	json_t *back;
	struct ferr e;
	char *sealed;

	(void)state;
	ferr_init(&e);
	assert_int_equal(seal_key_parse(HEX_A, &a, &e), 0);
	assert_int_equal(seal_key_parse(HEX_B, &b, &e), 0);
	assert_string_not_equal(a.id, b.id);
	sealed = seal_close(&a, "proxies/1", secret);
	assert_non_null(sealed);
	assert_null(strstr(sealed, "hunter2"));
	assert_true(seal_has_field(sealed, "password"));
	assert_false(seal_has_field(sealed, "pass"));
	back = seal_open(both, 2, "proxies/1", sealed, &e);
	assert_non_null(back);
	assert_true(json_equal(back, secret));
	json_decref(back);
	/* Another key, another row, one altered character: unreadable. */
	assert_null(seal_open(only_b, 1, "proxies/1", sealed, &e));
	assert_string_equal(e.code, "secret_unreadable");
	ferr_release(&e);
	assert_null(seal_open(both, 2, "proxies/2", sealed, &e));
	ferr_release(&e);
	sealed[strlen(sealed) - 3] ^= 1;
	assert_null(seal_open(both, 2, "proxies/1", sealed, &e));
	ferr_release(&e);
	free(sealed);
	json_decref(secret);
}

static void seal__same_secret_twice__seals_differently(void **state)
{
	struct seal_key a;
	json_t *secret = json_pack("{s:s}", "password", "x");
	struct ferr e;
	char *s1, *s2;

	(void)state;
	ferr_init(&e);
	assert_int_equal(seal_key_parse(HEX_A, &a, &e), 0);
	s1 = seal_close(&a, "t/1", secret);
	s2 = seal_close(&a, "t/1", secret);
	assert_string_not_equal(s1, s2);
	free(s1);
	free(s2);
	json_decref(secret);
}

static void seal__plain_json__from_before_sealing__still_opens(void **state)
{
	const struct seal_key *none[] = { NULL };
	struct ferr e;
	json_t *back;
	char kid[SEAL_ID_LEN];

	(void)state;
	ferr_init(&e);
	back = seal_open(none, 1, "t/1", "{\"password\":\"p\"}", &e);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(back,
		"password")), "p");
	json_decref(back);
	assert_true(seal_has_field("{\"password\":\"p\"}", "password"));
	seal_key_of("{\"password\":\"p\"}", kid);
	assert_string_equal(kid, "");
}

static void seal_key_parse__not_64_hex_digits__is_bad_config(void **s)
{
	struct seal_key k;
	struct ferr e;

	(void)s;
	ferr_init(&e);
	assert_int_equal(seal_key_parse("abc", &k, &e), -1);
	assert_string_equal(e.code, "bad_config");
	ferr_release(&e);
	assert_int_equal(seal_key_parse("", &k, &e), 0);
	assert_false(k.set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			seal__closed_secret__opens_with_its_key_only),
		cmocka_unit_test(seal__same_secret_twice__seals_differently),
		cmocka_unit_test(
		seal__plain_json__from_before_sealing__still_opens),
		cmocka_unit_test(
			seal_key_parse__not_64_hex_digits__is_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
