/* test_util.c - unit tests for common/util.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void util_ts_format__epoch_ms__is_rfc3339_utc(void **state)
{
	char ts[UTIL_TS_LEN];

	util_ts_format(1795637400123LL, ts);
	assert_string_equal(ts, "2026-11-25T20:10:00.123Z");
	util_ts_format(0, ts);
	assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
}

static void util_ts_format__negative_ms__floors(void **state)
{
	char ts[UTIL_TS_LEN];

	util_ts_format(-1, ts);
	assert_string_equal(ts, "1969-12-31T23:59:59.999Z");
}

static void util_ts_now__is_24_characters(void **state)
{
	char ts[UTIL_TS_LEN];

	util_ts_now(ts);
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[23], 'Z');
}

static void util_mono_ms__never_goes_back(void **state)
{
	int64_t a = util_mono_ms(), b = util_mono_ms();

	assert_true(b >= a);
	assert_true(util_now_ms() > 1700000000000LL);
}

static void util_uuid_new__is_version_7_and_passes_check(void **state)
{
	char a[UTIL_UUID_LEN], b[UTIL_UUID_LEN];

	assert_int_equal(util_uuid_new(a), 0);
	assert_int_equal(util_uuid_new(b), 0);
	assert_true(util_is_uuid(a));
	assert_int_equal(a[14], '7');
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_string_not_equal(a, b);
}

static void util_uuid_new__many_in_one_millisecond__sort_as_made(void **state)
{
	char prev[UTIL_UUID_LEN], cur[UTIL_UUID_LEN];
	int i;

	(void)state;
	assert_int_equal(util_uuid_new(prev), 0);
	/* 10,000 ids take a few milliseconds: many share one. */
	for (i = 0; i < 10000; i++) {
		assert_int_equal(util_uuid_new(cur), 0);
		assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof(cur));
	}
}

static void util_is_uuid__bad_shapes__are_refused(void **state)
{
	assert_true(util_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
	assert_false(util_is_uuid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
	assert_false(util_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
	assert_false(util_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e0"));
	assert_false(util_is_uuid("0f8fad5bXd9cb-469f-a165-70867728950e"));
	assert_false(util_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950g"));
	assert_false(util_is_uuid(""));
	assert_false(util_is_uuid(NULL));
}

static void util_random__fills_buffer(void **state)
{
	unsigned char a[32], b[32];

	assert_int_equal(util_random(a, sizeof(a)), 0);
	assert_int_equal(util_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void util_base64url_encode__rfc4648_vectors__match(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
		"fooba", "foobar" };
	static const char *const want[] = { "", "Zg", "Zm8", "Zm9v",
		"Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	size_t i;

	for (i = 0; i < 7; i++) {
		char *s = util_base64url_encode(in[i], strlen(in[i]));

		assert_non_null(s);
		assert_string_equal(s, want[i]);
		free(s);
	}
}

static void util_base64url_encode__high_bytes__use_url_alphabet(void **state)
{
	unsigned char in[] = { 0xfb, 0xff, 0xbf };
	char *s = util_base64url_encode(in, sizeof(in));

	assert_string_equal(s, "-_-_");
	free(s);
}

static void util_base64url_decode__round_trip__gives_bytes_back(void **state)
{
	unsigned char in[256], *out;
	size_t i, n;
	char *s;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	for (i = 0; i <= sizeof(in); i += 7) {
		s = util_base64url_encode(in, i);
		assert_int_equal(util_base64url_decode(s, &out, &n), 0);
		assert_int_equal(n, i);
		assert_memory_equal(out, in, i);
		assert_int_equal(out[n], 0);
		free(out);
		free(s);
	}
}

static void util_base64url_decode__padding__is_tolerated(void **state)
{
	unsigned char *out;
	size_t n;

	assert_int_equal(util_base64url_decode("Zg==", &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'f');
	free(out);
}

static void util_base64url_decode__bad_input__is_refused(void **state)
{
	unsigned char *out;
	size_t n;

	assert_int_equal(util_base64url_decode("Zm9v+", &out, &n), -1);
	assert_null(out);
	assert_int_equal(util_base64url_decode("Z", &out, &n), -1);
	assert_int_equal(util_base64url_decode("Zm9v/A", &out, &n), -1);
	assert_int_equal(util_base64url_decode("Zh", &out, &n), -1);
	assert_int_equal(util_base64url_decode("Zg===", &out, &n), -1);
}

static void util_parse_long__strict__refuses_junk(void **state)
{
	long long v = 0;

	assert_int_equal(util_parse_long("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(util_parse_long("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(util_parse_long("", 0, 100, &v), -1);
	assert_int_equal(util_parse_long(" 1", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("1 ", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("+1", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("1x", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("-", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("0x10", 0, 100, &v), -1);
	assert_int_equal(util_parse_long(NULL, 0, 100, &v), -1);
}

static void util_parse_long__out_of_range__is_refused(void **state)
{
	long long v = 7;

	assert_int_equal(util_parse_long("101", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("-1", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("99999999999999999999", 0,
		LLONG_MAX, &v), -1);
	assert_int_equal(v, 7);
}

static void util_hex_encode__bytes__are_lowercase_pairs(void **state)
{
	unsigned char in[] = { 0x00, 0xab, 0x7f, 0xff };
	char out[9];

	util_hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "00ab7fff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(util_ts_format__epoch_ms__is_rfc3339_utc),
		cmocka_unit_test(util_ts_format__negative_ms__floors),
		cmocka_unit_test(util_ts_now__is_24_characters),
		cmocka_unit_test(util_mono_ms__never_goes_back),
		cmocka_unit_test(util_uuid_new__is_version_7_and_passes_check),
		cmocka_unit_test(
			util_uuid_new__many_in_one_millisecond__sort_as_made),
		cmocka_unit_test(util_is_uuid__bad_shapes__are_refused),
		cmocka_unit_test(util_random__fills_buffer),
		cmocka_unit_test(
			util_base64url_encode__rfc4648_vectors__match),
		cmocka_unit_test(
			util_base64url_encode__high_bytes__use_url_alphabet),
		cmocka_unit_test(
			util_base64url_decode__round_trip__gives_bytes_back),
		cmocka_unit_test(util_base64url_decode__padding__is_tolerated),
		cmocka_unit_test(util_base64url_decode__bad_input__is_refused),
		cmocka_unit_test(util_parse_long__strict__refuses_junk),
		cmocka_unit_test(util_parse_long__out_of_range__is_refused),
		cmocka_unit_test(util_hex_encode__bytes__are_lowercase_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
