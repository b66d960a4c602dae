/* test_campaign.c - the campaign state machine, action by action. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "campaign.h"

static void expect_move(const char *from, const char *action, const char *to)
{
	int known;
	const char *got = campaign_transition(from, action, &known);

	assert_true(known);
	if (!to) {
		if (got)
			fail_msg("%s --%s--> %s should be refused", from,
				action, got);
		return;
	}
	if (!got)
		fail_msg("%s --%s--> should give %s", from, action, to);
	assert_string_equal(got, to);
}

static void campaign_transition__every_documented_move__is_allowed(void **s)
{
	expect_move("pending", "start", "queued");
	expect_move("failed", "start", "queued");
	expect_move("queued", "run", "running");
	expect_move("queued", "pause", "paused");
	expect_move("running", "pause", "paused");
	expect_move("paused", "resume", "queued");
	expect_move("pending", "cancel", "cancelled");
	expect_move("queued", "cancel", "cancelled");
	expect_move("running", "cancel", "cancelled");
	expect_move("paused", "cancel", "cancelled");
	expect_move("running", "complete", "completed");
	expect_move("running", "fail", "failed");
	expect_move("completed", "archive", "archived");
	expect_move("failed", "archive", "archived");
	expect_move("cancelled", "archive", "archived");
	(void)s;
}

static void campaign_transition__undocumented_moves__are_refused(void **s)
{
	expect_move("pending", "run", NULL);
	expect_move("pending", "pause", NULL);
	expect_move("running", "start", NULL);
	expect_move("completed", "cancel", NULL);
	expect_move("archived", "archive", NULL);
	expect_move("archived", "start", NULL);
	expect_move("paused", "complete", NULL);
	expect_move("queued", "fail", NULL);
	(void)s;
}

static void campaign_transition__unknown_action__is_unknown(void **s)
{
	int known = 1;

	assert_null(campaign_transition("pending", "explode", &known));
	assert_false(known);
	(void)s;
}

static void campaign_apply_action__fail__records_message(void **s)
{
	json_t *rec = json_pack("{ss}", "status", "running");
	json_t *body = json_pack("{ss}", "errorMessage", "resolver down");
	struct ferr err;

	ferr_init(&err);
	assert_int_equal(campaign_apply_action(rec, "fail", body,
		"2026-01-01T00:00:00.000Z", &err), 0);
	assert_string_equal(json_string_value(json_object_get(rec, "status")),
		"failed");
	assert_string_equal(json_string_value(json_object_get(rec,
		"errorMessage")), "resolver down");
	assert_true(json_is_string(json_object_get(rec, "completedAt")));
	json_decref(rec);
	json_decref(body);
	(void)s;
}

static void campaign_apply_action__forbidden__is_409_listing_allowed(void **s)
{
	json_t *rec = json_pack("{ss}", "status", "completed");
	struct ferr err;

	ferr_init(&err);
	assert_int_equal(campaign_apply_action(rec, "pause", NULL,
		"2026-01-01T00:00:00.000Z", &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "archive"));
	ferr_release(&err);
	json_decref(rec);
	(void)s;
}

static void campaign_apply_action__unknown_body_field__is_422(void **s)
{
	json_t *rec = json_pack("{ss}", "status", "running");
	json_t *typo = json_pack("{ss}", "errorMesage", "disk full");
	json_t *msg = json_pack("{ss}", "errorMessage", "disk full");
	struct ferr err;

	ferr_init(&err);
	assert_int_equal(campaign_apply_action(rec, "fail", typo,
		"2026-01-01T00:00:00.000Z", &err), -1);
	assert_int_equal(err.status, 422);
	assert_non_null(json_object_get(err.fields, "errorMesage"));
	ferr_release(&err);
	/* errorMessage belongs to fail only */
	assert_int_equal(campaign_apply_action(rec, "pause", msg,
		"2026-01-01T00:00:00.000Z", &err), -1);
	assert_int_equal(err.status, 422);
	assert_string_equal(json_string_value(json_object_get(rec, "status")),
		"running");
	ferr_release(&err);
	json_decref(msg);
	json_decref(typo);
	json_decref(rec);
	(void)s;
}

static void campaign_derive__percentage__rounds_down_to_tenths(void **s)
{
	json_t *rec = json_pack("{sssisi}", "status", "running", "totalItems",
		3, "processedItems", 1);

	campaign_derive(rec);
	assert_true(json_real_value(json_object_get(rec,
		"progressPercentage")) == 33.3);
	json_decref(rec);
	(void)s;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		campaign_transition__every_documented_move__is_allowed),
		cmocka_unit_test(
		campaign_transition__undocumented_moves__are_refused),
		cmocka_unit_test(
		campaign_transition__unknown_action__is_unknown),
		cmocka_unit_test(campaign_apply_action__fail__records_message),
		cmocka_unit_test(
		campaign_apply_action__forbidden__is_409_listing_allowed),
		cmocka_unit_test(
		campaign_apply_action__unknown_body_field__is_422),
		cmocka_unit_test(
		campaign_derive__percentage__rounds_down_to_tenths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
