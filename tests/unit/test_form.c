/* test_form.c - unit tests for common/form.c: urlencoded decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "form.h"

#define PARSE(s, f, e) form_parse((s), strlen(s), (f), (e))

static void form_parse__pairs__keep_order(void **state)
{
	struct form f;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(PARSE("b=2&a=1&b=3", &f, &e), 0);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.pairs[0].name, "b");
	assert_string_equal(f.pairs[0].value, "2");
	assert_string_equal(f.pairs[1].name, "a");
	assert_string_equal(f.pairs[2].value, "3");
	form_release(&f);
	assert_int_equal(f.n, 0);
}

static void form_parse__plus_sign__decodes_to_space(void **state)
{
	struct form f;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(PARSE("name=New+persona&x=a%2Bb", &f, &e), 0);
	assert_string_equal(form_get(&f, "name"), "New persona");
	assert_string_equal(form_get(&f, "x"), "a+b");
	form_release(&f);
}

static void form_parse__percent_escapes__decode_utf8(void **state)
{
	struct form f;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(PARSE("rules%5B0%5D.pattern=caf%C3%a9", &f, &e), 0);
	assert_string_equal(f.pairs[0].name, "rules[0].pattern");
	assert_string_equal(f.pairs[0].value, "caf\xc3\xa9");
	form_release(&f);
}

static void form_parse__empty_pairs_and_missing_equals__are_handled(
	void **state)
{
	struct form f;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(PARSE("&&flag&x=&&", &f, &e), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.pairs[0].name, "flag");
	assert_string_equal(f.pairs[0].value, "");
	assert_string_equal(form_get(&f, "x"), "");
	form_release(&f);
	assert_int_equal(PARSE("", &f, &e), 0);
	assert_int_equal(f.n, 0);
	form_release(&f);
}

static void form_parse__length__bounds_the_input(void **state)
{
	struct form f;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(form_parse("a=1&b=2", 3, &f, &e), 0);
	assert_int_equal(f.n, 1);
	assert_null(form_get(&f, "b"));
	form_release(&f);
}

static void form_parse__malformed_escape__is_400(void **state)
{
	static const char *const bad[] = { "a=%", "a=%4", "a=%zz", "%g1=x",
		"a=%4&b=1", NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		struct form f;
		struct ferr e;

		ferr_init(&e);
		assert_int_equal(PARSE(bad[i], &f, &e), -1);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.code, "bad_request");
		assert_int_equal(f.n, 0);
		assert_null(f.pairs);
		ferr_release(&e);
	}
}

static void form_parse__nul_or_bad_utf8__is_400(void **state)
{
	struct form f;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(PARSE("a=x%00y", &f, &e), -1);
	assert_int_equal(e.status, 400);
	ferr_release(&e);
	assert_int_equal(PARSE("a=%C0%AF", &f, &e), -1);
	assert_int_equal(e.status, 400);
	ferr_release(&e);
	assert_int_equal(PARSE("a=%ED%A0%80", &f, &e), -1);
	ferr_release(&e);
}

static void form_parse__too_many_pairs__is_400(void **state)
{
	size_t n = 10001, i;
	char *s = malloc(n * 4 + 1), *p = s;
	struct form f;
	struct ferr e;

	for (i = 0; i < n; i++) {
		memcpy(p, "a=1&", 4);
		p += 4;
	}
	*p = '\0';
	ferr_init(&e);
	assert_int_equal(form_parse(s, n * 4, &f, &e), -1);
	assert_int_equal(e.status, 400);
	ferr_release(&e);
	assert_int_equal(form_parse(s, (n - 1) * 4, &f, &e), 0);
	assert_int_equal(f.n, 10000);
	form_release(&f);
	free(s);
}

static void form_get__repeated_name__gives_last_and_counts(void **state)
{
	struct form f;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(PARSE("isEnabled=false&isEnabled=on&r=1", &f, &e),
		0);
	assert_string_equal(form_get(&f, "isEnabled"), "on");
	assert_int_equal(form_count(&f, "isEnabled"), 2);
	assert_int_equal(form_count(&f, "none"), 0);
	assert_null(form_get(&f, "none"));
	form_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(form_parse__pairs__keep_order),
		cmocka_unit_test(form_parse__plus_sign__decodes_to_space),
		cmocka_unit_test(form_parse__percent_escapes__decode_utf8),
		cmocka_unit_test(
		form_parse__empty_pairs_and_missing_equals__are_handled),
		cmocka_unit_test(form_parse__length__bounds_the_input),
		cmocka_unit_test(form_parse__malformed_escape__is_400),
		cmocka_unit_test(form_parse__nul_or_bad_utf8__is_400),
		cmocka_unit_test(form_parse__too_many_pairs__is_400),
		cmocka_unit_test(
			form_get__repeated_name__gives_last_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
