/* test_topic.c - unit tests for common/topic.c: parsing, matching, grants. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "topic.h"

#define ID1 "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ID2 "7c9e6679-7425-40de-944b-e07fc1f90ae7"

static void parse_ok(const char *s, struct topic_list *l)
{
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(topic_list_parse(s, l, &e), 0);
	assert_false(ferr_is_set(&e));
}

static void topic_list_parse__empty_or_null__means_all(void **state)
{
	struct topic_list l;

	parse_ok(NULL, &l);
	assert_true(l.all);
	topic_list_release(&l);
	parse_ok("", &l);
	assert_true(l.all);
	topic_list_release(&l);
}

static void topic_list_parse__collections_and_records__are_kept(void **state)
{
	struct topic_list l;

	parse_ok("personas,campaigns/" ID1 ",dashboard,personas", &l);
	assert_false(l.all);
	assert_int_equal(l.n, 3);
	topic_list_release(&l);
}

static void topic_list_parse__star__swallows_the_rest(void **state)
{
	struct topic_list l;
	char *s;

	parse_ok("personas,*", &l);
	assert_true(l.all);
	assert_int_equal(l.n, 0);
	s = topic_list_format(&l);
	assert_string_equal(s, "*");
	free(s);
	topic_list_release(&l);
}

static void topic_list_parse__unknown_topic__is_400_naming_it(void **state)
{
	static const char *const bad[] = { "people", "personas,,campaigns",
		"personas,", "campaigns/not-a-uuid",
		"campaigns/0F8FAD5B-D9CB-469F-A165-70867728950E",
		"nope/" ID1, "personas campaigns", "/" ID1, NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		struct topic_list l;
		struct ferr e;

		ferr_init(&e);
		assert_int_equal(topic_list_parse(bad[i], &l, &e), -1);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.code, "bad_topics");
		assert_int_equal(l.n, 0);
		ferr_release(&e);
	}
	{
		struct topic_list l;
		struct ferr e;

		ferr_init(&e);
		topic_list_parse("personas,people", &l, &e);
		assert_non_null(strstr(e.message, "people"));
		ferr_release(&e);
	}
}

static void topic_list_parse__more_than_64__is_400(void **state)
{
	char buf[65 * 10 + 1];
	size_t i, o = 0;
	struct topic_list l;
	struct ferr e;

	for (i = 0; i < 65; i++) {
		memcpy(buf + o, "personas,", 9);
		o += 9;
	}
	buf[o - 1] = '\0';
	ferr_init(&e);
	assert_int_equal(topic_list_parse(buf, &l, &e), -1);
	assert_int_equal(e.status, 400);
	ferr_release(&e);
}

static void topic_list_match__events__follow_the_list(void **state)
{
	struct topic_list l;

	parse_ok("personas,campaigns/" ID1, &l);
	assert_true(topic_list_match(&l, "personas", ID2));
	assert_true(topic_list_match(&l, "personas", NULL));
	assert_true(topic_list_match(&l, "campaigns", ID1));
	assert_false(topic_list_match(&l, "campaigns", ID2));
	assert_false(topic_list_match(&l, "campaigns", NULL));
	assert_false(topic_list_match(&l, "dashboard", NULL));
	assert_false(topic_list_match(&l, "proxies", ID1));
	topic_list_release(&l);
	parse_ok("*", &l);
	assert_true(topic_list_match(&l, "dashboard", NULL));
	topic_list_release(&l);
	parse_ok("dashboard", &l);
	assert_true(topic_list_match(&l, "dashboard", NULL));
	assert_false(topic_list_match(&l, "personas", ID1));
	topic_list_release(&l);
}

static void topic_list_covers__grants__bound_requests(void **state)
{
	struct topic_list all, g, r;

	parse_ok("*", &all);
	parse_ok("personas,campaigns/" ID1, &g);
	parse_ok("personas/" ID2 ",campaigns/" ID1, &r);
	assert_true(topic_list_covers(&all, &g));
	assert_true(topic_list_covers(&g, &r));
	assert_false(topic_list_covers(&g, &all));
	assert_false(topic_list_covers(&r, &g));
	topic_list_release(&r);
	parse_ok("campaigns", &r);
	assert_false(topic_list_covers(&g, &r));
	topic_list_release(&r);
	parse_ok("personas", &r);
	assert_true(topic_list_covers(&g, &r));
	topic_list_release(&r);
	topic_list_release(&g);
	topic_list_release(&all);
}

static void topic_list_format__is_canonical(void **state)
{
	struct topic_list a, b;
	char *sa, *sb;

	parse_ok("proxies,dashboard,personas,proxies", &a);
	parse_ok("personas,proxies,dashboard", &b);
	sa = topic_list_format(&a);
	sb = topic_list_format(&b);
	assert_string_equal(sa, "dashboard,personas,proxies");
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	topic_list_release(&a);
	topic_list_release(&b);
}

static void topic_grant_for__users_star_and_nobody(void **state)
{
	static const char grants[] = "alice: campaigns,personas ; "
		"bob: * ; *: dashboard";
	struct topic_list g;
	struct ferr e;
	char *f;

	(void)state;
	ferr_init(&e);
	assert_int_equal(topic_grant_for(grants, "alice", &g, &e), 1);
	f = topic_list_format(&g);
	assert_string_equal(f, "campaigns,personas");
	free(f);
	topic_list_release(&g);
	assert_int_equal(topic_grant_for(grants, "bob", &g, &e), 1);
	assert_true(g.all);
	topic_list_release(&g);
	/* Anyone not named, the anonymous included, gets "*"'s entry. */
	assert_int_equal(topic_grant_for(grants, "carol", &g, &e), 1);
	f = topic_list_format(&g);
	assert_string_equal(f, "dashboard");
	free(f);
	topic_list_release(&g);
	assert_int_equal(topic_grant_for(grants, NULL, &g, &e), 1);
	topic_list_release(&g);
	/* Without a "*" entry, those not named get nothing. */
	assert_int_equal(topic_grant_for("alice: *", "carol", &g, &e), 0);
	/* No grants: everyone, everything. */
	assert_int_equal(topic_grant_for("", NULL, &g, &e), 1);
	assert_true(g.all);
	topic_list_release(&g);
	assert_false(ferr_is_set(&e));
}

static void topic_grant_for__unreadable_grants__are_500(void **state)
{
	struct topic_list g;
	struct ferr e;

	(void)state;
	ferr_init(&e);
	assert_int_equal(topic_grant_for("alice campaigns", "alice", &g, &e),
		-1);
	assert_int_equal(e.status, 500);
	ferr_release(&e);
	assert_int_equal(topic_grant_for("alice: nonsense", "alice", &g, &e),
		-1);
	assert_int_equal(e.status, 500);
	assert_string_equal(e.code, "bad_config");
	ferr_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(topic_list_parse__empty_or_null__means_all),
		cmocka_unit_test(
		topic_list_parse__collections_and_records__are_kept),
		cmocka_unit_test(topic_list_parse__star__swallows_the_rest),
		cmocka_unit_test(
			topic_list_parse__unknown_topic__is_400_naming_it),
		cmocka_unit_test(topic_list_parse__more_than_64__is_400),
		cmocka_unit_test(topic_list_match__events__follow_the_list),
		cmocka_unit_test(topic_list_covers__grants__bound_requests),
		cmocka_unit_test(topic_list_format__is_canonical),
		cmocka_unit_test(topic_grant_for__users_star_and_nobody),
		cmocka_unit_test(
			topic_grant_for__unreadable_grants__are_500),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
