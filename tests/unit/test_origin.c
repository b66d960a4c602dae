/* test_origin.c - unit tests for common/origin.c: the same-origin rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "origin.h"

#define SAME(o, scheme, host) origin_same((o), strlen(o), (scheme), (host))

static void origin_same__default_ports_and_case__are_the_same(void **state)
{
	(void)state;
	assert_true(SAME("http://a.example", "http", "a.example"));
	assert_true(SAME("HTTP://A.Example:80", "http", "a.example"));
	assert_true(SAME("https://a.example", "https", "a.example:443"));
	assert_true(SAME("http://127.0.0.1:8080", "http", "127.0.0.1:8080"));
	assert_true(SAME("http://[::1]:8080", "http", "[::1]:8080"));
	assert_true(SAME("http://[::1]", "http", "[::1]:80"));
}

static void origin_same__another_scheme_host_or_port__differs(void **state)
{
	(void)state;
	assert_false(SAME("http://evil.example", "http", "a.example"));
	assert_false(SAME("https://a.example", "http", "a.example"));
	assert_false(SAME("http://a.example", "https", "a.example"));
	assert_false(SAME("http://a.example:8080", "http", "a.example"));
	assert_false(SAME("http://a.example", "http", "a.example:8080"));
	assert_false(SAME("http://a.example:443", "https", "a.example"));
	assert_false(SAME("http://a.example.evil", "http", "a.example"));
	assert_false(SAME("null", "http", "a.example"));
	assert_false(SAME("http://a.example/", "http", "a.example"));
	assert_false(SAME("http://", "http", ""));
	assert_false(SAME("http://a.example", "http", NULL));
}

static void origin_allowed__no_origin__is_allowed(void **state)
{
	(void)state;
	assert_true(origin_allowed(NULL, "http", "a.example", NULL));
	assert_true(origin_allowed(NULL, "http", "a.example", "https://b"));
}

static void origin_allowed__without_a_list__is_strict_same_origin(
	void **state)
{
	(void)state;
	assert_true(origin_allowed("http://a.example:8080", "http",
		"a.example:8080", ""));
	/* The port and the scheme count, as in the API's own check. */
	assert_false(origin_allowed("http://a.example:9999", "http",
		"a.example", NULL));
	assert_false(origin_allowed("https://a.example", "http",
		"a.example", NULL));
	assert_false(origin_allowed("http://evil.example", "http",
		"a.example", NULL));
}

static void origin_allowed__a_list__alone_decides(void **state)
{
	static const char allow[] = " https://b.example , http://c.example:81";

	(void)state;
	assert_true(origin_allowed("https://b.example", "http", "a.example",
		allow));
	assert_true(origin_allowed("HTTP://C.example:81", "http", "a.example",
		allow));
	assert_false(origin_allowed("http://a.example", "http", "a.example",
		allow));
	assert_false(origin_allowed("https://b.example.evil", "http",
		"a.example", allow));
	assert_true(origin_allowed("http://any.example", "http", "a.example",
		"*"));
}

static void origin_list_has__matches_whole_entries_only(void **state)
{
	(void)state;
	assert_true(origin_list_has("127.0.0.1, ::1 ,unix", "::1"));
	assert_true(origin_list_has("127.0.0.1, ::1 ,unix", "unix"));
	assert_true(origin_list_has("127.0.0.1", "127.0.0.1"));
	assert_false(origin_list_has("127.0.0.1", "127.0.0.10"));
	assert_false(origin_list_has("127.0.0.10", "127.0.0.1"));
	assert_false(origin_list_has("", "unix"));
	assert_false(origin_list_has(NULL, "unix"));
	assert_false(origin_list_has(",,", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			origin_same__default_ports_and_case__are_the_same),
		cmocka_unit_test(
		origin_same__another_scheme_host_or_port__differs),
		cmocka_unit_test(origin_allowed__no_origin__is_allowed),
		cmocka_unit_test(
		origin_allowed__without_a_list__is_strict_same_origin),
		cmocka_unit_test(origin_allowed__a_list__alone_decides),
		cmocka_unit_test(
			origin_list_has__matches_whole_entries_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
