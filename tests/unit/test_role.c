/* test_role.c - unit tests for common/role.c: the roles key, by REMOTE_USER. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "role.h"

#define SPEC "alice: admin; bob, carol: operator; *: viewer"

static enum role role_of(const char *spec, const char *user)
{
	struct ferr e;
	enum role r = ROLE_NONE;

	ferr_init(&e);
	assert_int_equal(role_for(spec, user, &r, &e), 0);
	assert_false(ferr_is_set(&e));
	ferr_release(&e);
	return r;
}

/* bad gives the message role_check makes of spec, which must fail. */
static void assert_bad(const char *spec, const char *want)
{
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(role_check(spec, &e), -1);
	assert_int_equal(e.status, 500);
	assert_string_equal(e.code, "bad_config");
	if (strstr(e.message, want) == NULL)
		fail_msg("message '%s' lacks '%s'", e.message, want);
	assert_non_null(strstr(e.message, "roles"));
	ferr_release(&e);
}

static void role_for__empty_spec__makes_everyone_admin(void **state)
{
	(void)state;
	assert_int_equal(role_of("", "alice"), ROLE_ADMIN);
	assert_int_equal(role_of("", NULL), ROLE_ADMIN);
	assert_int_equal(role_of(NULL, NULL), ROLE_ADMIN);
}

static void role_for__named_users__get_their_entry(void **state)
{
	(void)state;
	assert_int_equal(role_of(SPEC, "alice"), ROLE_ADMIN);
	assert_int_equal(role_of(SPEC, "bob"), ROLE_OPERATOR);
	assert_int_equal(role_of(SPEC, "carol"), ROLE_OPERATOR);
}

static void role_for__others_and_the_anonymous__get_the_star_entry(void **s)
{
	(void)s;
	assert_int_equal(role_of(SPEC, "dave"), ROLE_VIEWER);
	assert_int_equal(role_of(SPEC, NULL), ROLE_VIEWER);
}

static void role_for__without_a_star__others_have_no_role(void **state)
{
	(void)state;
	assert_int_equal(role_of("alice: admin", "dave"), ROLE_NONE);
	assert_int_equal(role_of("alice: admin", NULL), ROLE_NONE);
	/* A prefix or another case is another user. */
	assert_int_equal(role_of("alice: admin", "alic"), ROLE_NONE);
	assert_int_equal(role_of("alice: admin", "Alice"), ROLE_NONE);
}

static void role_for__none__takes_a_user_out_of_the_star(void **state)
{
	(void)state;
	assert_int_equal(role_of("*: viewer; mallory: none", "mallory"),
		ROLE_NONE);
	assert_int_equal(role_of("*: viewer; mallory: none", "dave"),
		ROLE_VIEWER);
}

static void role_for__a_named_user__wins_over_a_star_before_it(void **s)
{
	(void)s;
	assert_int_equal(role_of("*: admin; bob: viewer", "bob"), ROLE_VIEWER);
}

static void role_check__spaces_and_a_trailing_semicolon__are_fine(void **s)
{
	struct ferr e;

	(void)s;
	ferr_init(&e);
	assert_int_equal(role_check("  a ,b :operator ;\tc:\tadmin ; ", &e), 0);
	assert_int_equal(role_check("", &e), 0);
	assert_int_equal(role_check(NULL, &e), 0);
	assert_false(ferr_is_set(&e));
	assert_int_equal(role_of(" a ,b :operator ;c:admin;", "b"),
		ROLE_OPERATOR);
}

static void role_check__an_entry_without_a_colon__is_named(void **state)
{
	(void)state;
	assert_bad("alice: admin; bob operator", "entry 2 is not");
}

static void role_check__an_unknown_role__is_named(void **state)
{
	(void)state;
	assert_bad("alice: boss", "unknown role 'boss'");
	assert_bad("alice: Admin", "unknown role 'Admin'");
	assert_bad("alice:", "entry 1 does not end in a role");
	assert_bad("alice: admin: viewer", "entry 1");
}

static void role_check__an_empty_user_name__is_refused(void **state)
{
	(void)state;
	assert_bad(": admin", "entry 1 has an empty user name");
	assert_bad("a, , b: admin", "entry 1 has an empty user name");
	assert_bad("x: viewer; a,: admin", "entry 2 has an empty user name");
}

static void role_check__a_user_named_twice__is_refused(void **state)
{
	(void)state;
	assert_bad("bob: admin; carol, bob: viewer", "entry 2 names 'bob'");
	assert_bad("*: admin; *: viewer", "entry 2 names '*'");
}

static void role_check__only_separators__is_refused(void **state)
{
	(void)state;
	assert_bad(" ; ;", "no \"USERS: ROLE\" entry");
}

static void role_for__a_bad_spec__fails_as_role_check(void **state)
{
	struct ferr e;
	enum role r = ROLE_ADMIN;

	(void)state;
	ferr_init(&e);
	assert_int_equal(role_for("alice admin", "bob", &r, &e), -1);
	assert_string_equal(e.code, "bad_config");
	assert_int_equal(r, ROLE_NONE);
	ferr_release(&e);
}

static void role_name__gives_each_roles_word(void **state)
{
	(void)state;
	assert_string_equal(role_name(ROLE_NONE), "none");
	assert_string_equal(role_name(ROLE_VIEWER), "viewer");
	assert_string_equal(role_name(ROLE_OPERATOR), "operator");
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
	assert_string_equal(role_name((enum role)42), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(role_for__empty_spec__makes_everyone_admin),
		cmocka_unit_test(role_for__named_users__get_their_entry),
		cmocka_unit_test(
		role_for__others_and_the_anonymous__get_the_star_entry),
		cmocka_unit_test(
		role_for__without_a_star__others_have_no_role),
		cmocka_unit_test(
		role_for__none__takes_a_user_out_of_the_star),
		cmocka_unit_test(
		role_for__a_named_user__wins_over_a_star_before_it),
		cmocka_unit_test(
		role_check__spaces_and_a_trailing_semicolon__are_fine),
		cmocka_unit_test(
		role_check__an_entry_without_a_colon__is_named),
		cmocka_unit_test(role_check__an_unknown_role__is_named),
		cmocka_unit_test(
		role_check__an_empty_user_name__is_refused),
		cmocka_unit_test(
		role_check__a_user_named_twice__is_refused),
		cmocka_unit_test(role_check__only_separators__is_refused),
		cmocka_unit_test(
		role_for__a_bad_spec__fails_as_role_check),
		cmocka_unit_test(role_name__gives_each_roles_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
