/* test_strbuf.c - unit tests for common/strbuf.c: the growing string. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"

static void strbuf_take__nothing_added__is_an_empty_string(void **state)
{
	struct strbuf sb = {0};
	char *s;

	(void)state;
	s = strbuf_take(&sb);
	assert_string_equal(s, "");
	free(s);
}

static void strbuf_add__pieces__join_in_order_past_any_size(void **state)
{
	struct strbuf sb = {0};
	char *s;
	int i;

	(void)state;
	strbuf_adds(&sb, "a");
	strbuf_add(&sb, "bcXX", 2);
	strbuf_addf(&sb, "-%d-%s", 42, "z");
	for (i = 0; i < 1000; i++)
		strbuf_adds(&sb, "0123456789");
	assert_int_equal(sb.len, 8 + 10000);
	s = strbuf_take(&sb);
	assert_memory_equal(s, "abc-42-z0123", 12);
	assert_int_equal(strlen(s), 8 + 10000);
	assert_null(sb.p);
	free(s);
}

static void strbuf_take__after_a_failure__is_null(void **state)
{
	struct strbuf sb = {0};

	(void)state;
	strbuf_adds(&sb, "kept until the end");
	sb.failed = 1;
	strbuf_adds(&sb, "more");
	assert_null(strbuf_take(&sb));
	assert_null(sb.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			strbuf_take__nothing_added__is_an_empty_string),
		cmocka_unit_test(
		strbuf_add__pieces__join_in_order_past_any_size),
		cmocka_unit_test(strbuf_take__after_a_failure__is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
