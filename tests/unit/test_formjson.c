/* test_formjson.c - HTML form pairs to JSON bodies, shaped by the resource table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resource.h"
#include "formjson.h"

/* convert decodes an urlencoded body for a collection and returns the
 * compact JSON text (caller frees), or NULL with *status set. */
static char *convert(const char *coll, const char *body, int *status)
{
	struct form f;
	struct ferr err;
	json_t *j;
	char *out = NULL;

	ferr_init(&err);
	assert_int_equal(form_parse(body, strlen(body), &f, &err), 0);
	j = formjson_decode(resource_find(coll), &f, &err);
	*status = err.status;
	if (j)
		out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	form_release(&f);
	ferr_release(&err);
	return out;
}

static void expect(const char *coll, const char *body, const char *want)
{
	int status;
	char *got = convert(coll, body, &status);

	if (!got)
		fail_msg("%s: status %d", body, status);
	assert_string_equal(got, want);
	free(got);
}

static void form_to_json__dotted_names__nest_objects(void **s)
{
	expect("personas", "name=a&personaType=dns&configDetails.resolvers="
		"1.1.1.1&configDetails.resolvers=8.8.8.8&configDetails."
		"queryTimeoutSeconds=7",
		"{\"configDetails\":{\"queryTimeoutSeconds\":7,\"resolvers\":"
		"[\"1.1.1.1\",\"8.8.8.8\"]},\"name\":\"a\",\"personaType\":"
		"\"dns\"}");
	(void)s;
}

static void form_to_json__checkbox_after_hidden_false__wins(void **s)
{
	expect("keyword-sets", "name=k&isEnabled=false&isEnabled=on",
		"{\"isEnabled\":true,\"name\":\"k\"}");
	expect("keyword-sets", "name=k&isEnabled=false",
		"{\"isEnabled\":false,\"name\":\"k\"}");
	(void)s;
}

static void form_to_json__indexed_items__build_object_arrays(void **s)
{
	expect("keyword-sets", "name=k&rules[1].pattern=b&rules[1].ruleType="
		"regex&rules[0].pattern=a&rules[0].ruleType=string",
		"{\"name\":\"k\",\"rules\":[{\"pattern\":\"a\",\"ruleType\":"
		"\"string\"},{\"pattern\":\"b\",\"ruleType\":\"regex\"}]}");
	(void)s;
}

static void form_to_json__empty_nullable__is_null(void **s)
{
	expect("keyword-sets", "name=k&description=",
		"{\"description\":null,\"name\":\"k\"}");
	(void)s;
}

static void form_to_json__underscore_fields__are_skipped(void **s)
{
	expect("keyword-sets", "_method=PUT&_redirect=%2F&name=k",
		"{\"name\":\"k\"}");
	(void)s;
}

static void form_to_json__empty_password__keeps_secret(void **s)
{
	expect("proxies", "name=p&password=", "{\"name\":\"p\"}");
	expect("proxies", "name=p&_clear=password",
		"{\"name\":\"p\",\"password\":null}");
	(void)s;
}

static void form_to_json__type_picks_variant_whatever_the_order(void **s)
{
	expect("personas", "configDetails.userAgent=UA&personaType=http",
		"{\"configDetails\":{\"userAgent\":\"UA\"},\"personaType\":"
		"\"http\"}");
	(void)s;
}

static void form_to_json__unknown_field__is_422(void **s)
{
	int status;

	assert_null(convert("keyword-sets", "name=k&nope=1", &status));
	assert_int_equal(status, 422);
	assert_null(convert("personas", "personaType=dns&configDetails."
		"queryTimeoutSeconds=abc", &status));
	assert_int_equal(status, 422);
	(void)s;
}

static void form_to_json__non_finite_number__is_422(void **s)
{
	static const char *const bad[] = { "nan", "inf", "-infinity",
		"1e999", NULL };
	char body[128];
	size_t i;
	int status;

	for (i = 0; bad[i]; i++) {
		snprintf(body, sizeof(body), "personaType=dns&configDetails."
			"rateLimitDps=%s", bad[i]);
		assert_null(convert("personas", body, &status));
		assert_int_equal(status, 422);
	}
	expect("personas", "personaType=dns&configDetails.rateLimitDps=2.5",
		"{\"configDetails\":{\"rateLimitDps\":2.5},"
		"\"personaType\":\"dns\"}");
	(void)s;
}

static void form_to_json__blank_rows_and_list_marker__give_lists(void **s)
{
	expect("keyword-sets", "name=k&rules=&rules[0].pattern=&"
		"rules[0].ruleType=string",
		"{\"name\":\"k\",\"rules\":[]}");
	expect("proxy-pools", "name=p&members=&members[0].proxyId=&"
		"members[0].weight=1", "{\"members\":[],\"name\":\"p\"}");
	expect("proxy-pools", "name=p&members=",
		"{\"members\":[],\"name\":\"p\"}");
	(void)s;
}

static void form_to_json__text_areas__give_lists_and_maps(void **s)
{
	expect("personas", "personaType=http&configDetails.headers=Accept%3A+"
		"text%2Fhtml%0D%0A%0D%0AX-Id%3A+7&configDetails.headerOrder="
		"Accept%0D%0A+X-Id+%0D%0A",
		"{\"configDetails\":{\"headerOrder\":[\"Accept\",\"X-Id\"],"
		"\"headers\":{\"Accept\":\"text/html\",\"X-Id\":\"7\"}},"
		"\"personaType\":\"http\"}");
	/* An emptied text area sends an empty list, a blank box nothing. */
	expect("personas", "personaType=dns&configDetails.resolvers=&"
		"configDetails.resolvers=1.1.1.1",
		"{\"configDetails\":{\"resolvers\":[\"1.1.1.1\"]},"
		"\"personaType\":\"dns\"}");
	expect("personas", "personaType=http&configDetails.headerOrder=",
		"{\"configDetails\":{\"headerOrder\":[]},"
		"\"personaType\":\"http\"}");
	(void)s;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(form_to_json__dotted_names__nest_objects),
		cmocka_unit_test(
		form_to_json__checkbox_after_hidden_false__wins),
		cmocka_unit_test(
		form_to_json__indexed_items__build_object_arrays),
		cmocka_unit_test(form_to_json__empty_nullable__is_null),
		cmocka_unit_test(form_to_json__underscore_fields__are_skipped),
		cmocka_unit_test(form_to_json__empty_password__keeps_secret),
		cmocka_unit_test(
		form_to_json__type_picks_variant_whatever_the_order),
		cmocka_unit_test(form_to_json__unknown_field__is_422),
		cmocka_unit_test(
		form_to_json__blank_rows_and_list_marker__give_lists),
		cmocka_unit_test(
		form_to_json__text_areas__give_lists_and_maps),
		cmocka_unit_test(form_to_json__non_finite_number__is_422),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
