/* test_ferr.c - unit tests for common/ferr.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ferr.h"

static void ferr_set__first_error__wins(void **state)
{
	struct ferr e;

	ferr_init(&e);
	assert_false(ferr_is_set(&e));
	assert_int_equal(ferr_set(&e, 404, "not_found", "No %s.", "thing"),
		-1);
	ferr_set(&e, 500, "internal_error", "later");
	assert_true(ferr_is_set(&e));
	assert_int_equal(e.status, 404);
	assert_string_equal(e.code, "not_found");
	assert_string_equal(e.message, "No thing.");
	ferr_release(&e);
	assert_false(ferr_is_set(&e));
}

static void ferr_field__sets_422_and_keeps_first_message(void **state)
{
	struct ferr e;
	json_t *j;
	const char *msg;

	ferr_init(&e);
	assert_int_equal(ferr_field(&e, "name", "must be 1-%d characters",
		255), -1);
	ferr_field(&e, "name", "second");
	ferr_field(&e, "rules[0].pattern", "is required");
	assert_int_equal(e.status, 422);
	assert_string_equal(e.code, "validation_failed");
	j = ferr_to_json(&e);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(j, "error"), "status")), 422);
	msg = json_string_value(json_object_get(json_object_get(
		json_object_get(j, "error"), "fields"), "name"));
	assert_string_equal(msg, "must be 1-255 characters");
	assert_non_null(json_object_get(json_object_get(json_object_get(j,
		"error"), "fields"), "rules[0].pattern"));
	json_decref(j);
	ferr_release(&e);
}

static void ferr_to_json__unset_error__renders_500(void **state)
{
	struct ferr e;
	json_t *j, *inner;

	ferr_init(&e);
	j = ferr_to_json(&e);
	inner = json_object_get(j, "error");
	assert_int_equal(json_integer_value(json_object_get(inner, "status")),
		500);
	assert_string_equal(json_string_value(json_object_get(inner, "code")),
		"internal_error");
	assert_null(json_object_get(inner, "fields"));
	json_decref(j);
}

static void ferr_reason_phrase__known_status__has_phrase(void **state)
{
	assert_string_equal(ferr_reason_phrase(404), "Not Found");
	assert_string_equal(ferr_reason_phrase(412), "Precondition Failed");
	assert_string_equal(ferr_reason_phrase(503), "Service Unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ferr_set__first_error__wins),
		cmocka_unit_test(
			ferr_field__sets_422_and_keeps_first_message),
		cmocka_unit_test(ferr_to_json__unset_error__renders_500),
		cmocka_unit_test(
			ferr_reason_phrase__known_status__has_phrase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
