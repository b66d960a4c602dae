/* test_utf8.c - unit tests for common/utf8.c: strict validation, streaming, cutting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

#define VALID(s) utf8_valid((s), sizeof(s) - 1)

static void utf8_valid__ascii_and_multibyte__are_accepted(void **state)
{
	assert_true(VALID(""));
	assert_true(VALID("hello"));
	assert_true(VALID("caf\xc3\xa9"));
	assert_true(VALID("\xe2\x82\xac"));
	assert_true(VALID("\xf0\x9f\x98\x80"));
	assert_true(VALID("\xf4\x8f\xbf\xbf"));
	assert_true(VALID("\xed\x9f\xbf"));
	assert_true(VALID("\xee\x80\x80"));
	assert_true(VALID("a\0b"));
}

static void utf8_valid__overlong_forms__are_refused(void **state)
{
	assert_false(VALID("\xc0\xaf"));
	assert_false(VALID("\xc1\xbf"));
	assert_false(VALID("\xe0\x80\xaf"));
	assert_false(VALID("\xe0\x9f\xbf"));
	assert_false(VALID("\xf0\x80\x80\xaf"));
	assert_false(VALID("\xf0\x8f\xbf\xbf"));
}

static void utf8_valid__surrogates__are_refused(void **state)
{
	assert_false(VALID("\xed\xa0\x80"));
	assert_false(VALID("\xed\xbf\xbf"));
	assert_false(VALID("\xed\xa0\xbd\xed\xb8\x80"));
}

static void utf8_valid__above_10ffff__is_refused(void **state)
{
	assert_false(VALID("\xf4\x90\x80\x80"));
	assert_false(VALID("\xf5\x80\x80\x80"));
	assert_false(VALID("\xff"));
	assert_false(VALID("\xfe"));
}

static void utf8_valid__broken_sequences__are_refused(void **state)
{
	assert_false(VALID("\x80"));
	assert_false(VALID("a\xbf"));
	assert_false(VALID("\xc3"));
	assert_false(VALID("\xe2\x82"));
	assert_false(VALID("\xe2\x28\xa1"));
	assert_false(VALID("\xf0\x9f\x98"));
}

static void utf8_stream_feed__split_character__is_accepted(void **state)
{
	static const char s[] = "\xf0\x9f\x98\x80 \xe2\x82\xac";
	size_t cut;

	for (cut = 0; cut <= sizeof(s) - 1; cut++) {
		struct utf8_stream st;

		utf8_stream_init(&st);
		assert_int_equal(utf8_stream_feed(&st, s, cut), 0);
		assert_int_equal(utf8_stream_feed(&st, s + cut,
			sizeof(s) - 1 - cut), 0);
		assert_int_equal(utf8_stream_done(&st), 0);
	}
}

static void utf8_stream_feed__one_byte_at_a_time__is_accepted(void **state)
{
	static const char s[] = "\xf0\x9f\x98\x80 \xe2\x82\xac";
	struct utf8_stream st;
	size_t k;

	utf8_stream_init(&st);
	for (k = 0; k < sizeof(s) - 1; k++)
		assert_int_equal(utf8_stream_feed(&st, s + k, 1), 0);
	assert_int_equal(utf8_stream_done(&st), 0);
}

static void utf8_stream_done__mid_character__fails(void **state)
{
	struct utf8_stream st;

	utf8_stream_init(&st);
	assert_int_equal(utf8_stream_feed(&st, "ab\xe2\x82", 4), 0);
	assert_int_equal(utf8_stream_done(&st), -1);
}

static void utf8_stream_feed__bad_second_byte__fails_at_once(void **state)
{
	struct utf8_stream st;

	/* Fail fast: the surrogate is decided by its second byte. */
	utf8_stream_init(&st);
	assert_int_equal(utf8_stream_feed(&st, "\xed", 1), 0);
	assert_int_equal(utf8_stream_feed(&st, "\xa0", 1), -1);
	utf8_stream_init(&st);
	assert_int_equal(utf8_stream_feed(&st, "\xf4", 1), 0);
	assert_int_equal(utf8_stream_feed(&st, "\x90", 1), -1);
	utf8_stream_init(&st);
	assert_int_equal(utf8_stream_feed(&st, "\xe0", 1), 0);
	assert_int_equal(utf8_stream_feed(&st, "\x80", 1), -1);
}

static void utf8_cut__never_splits_a_character(void **state)
{
	static const char euro[] = "ab\xe2\x82\xac";   /* 5 bytes */

	(void)state;
	assert_int_equal(utf8_cut(euro, 5, 10), 5);
	assert_int_equal(utf8_cut(euro, 5, 5), 5);
	assert_int_equal(utf8_cut(euro, 5, 4), 2);
	assert_int_equal(utf8_cut(euro, 5, 3), 2);
	assert_int_equal(utf8_cut(euro, 5, 2), 2);
	assert_int_equal(utf8_cut(euro, 5, 1), 1);
	assert_int_equal(utf8_cut("\xc3\xa9", 2, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			utf8_valid__ascii_and_multibyte__are_accepted),
		cmocka_unit_test(utf8_valid__overlong_forms__are_refused),
		cmocka_unit_test(utf8_valid__surrogates__are_refused),
		cmocka_unit_test(utf8_valid__above_10ffff__is_refused),
		cmocka_unit_test(utf8_valid__broken_sequences__are_refused),
		cmocka_unit_test(
			utf8_stream_feed__split_character__is_accepted),
		cmocka_unit_test(
		utf8_stream_feed__one_byte_at_a_time__is_accepted),
		cmocka_unit_test(utf8_stream_done__mid_character__fails),
		cmocka_unit_test(
			utf8_stream_feed__bad_second_byte__fails_at_once),
		cmocka_unit_test(utf8_cut__never_splits_a_character),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
