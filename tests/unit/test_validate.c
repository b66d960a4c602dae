/* test_validate.c - field rules of the resource table, checked without a database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"
#include "validate.h"
#include "resource.h"

/* check validates body as a record of coll; returns the error status (0
 * when valid) and, when path is given, asserts the error names it. */
static int check(const char *coll, const char *body, const char *path)
{
	json_t *in = json_loads(body, 0, NULL);
	struct ferr err;
	json_t *out;
	int status;

	assert_non_null(in);
	ferr_init(&err);
	out = validate_record(resource_find(coll), in, NULL, NULL, &err);
	status = out ? 0 : err.status;
	if (path && !json_object_get(err.fields, path))
		fail_msg("%s: expected an error at %s", body, path);
	json_decref(out);
	json_decref(in);
	ferr_release(&err);
	return status;
}

#define PROXY(addr) "{\"name\":\"p\",\"protocol\":\"http\",\"address\":" \
	"\"" addr "\"}"

static void validate__proxy_address__needs_host_and_port(void **s)
{
	assert_int_equal(check("proxies", PROXY("proxy.example:3128"), NULL),
		0);
	assert_int_equal(check("proxies", PROXY("[2001:db8::1]:1080"), NULL),
		0);
	assert_int_equal(check("proxies", PROXY("proxy.example"), "address"),
		422);
	assert_int_equal(check("proxies", PROXY("h:70000"), "address"), 422);
	assert_int_equal(check("proxies", PROXY("2001:db8::1:80"), "address"),
		422);
	assert_int_equal(check("proxies", PROXY("http://h:80"), "address"),
		422);
	(void)s;
}

static void validate__country_code__must_be_assigned(void **s)
{
	assert_int_equal(check("proxies", "{\"name\":\"p\",\"protocol\":"
		"\"http\",\"address\":\"h:1\",\"countryCode\":\"DE\"}", NULL), 0);
	assert_int_equal(check("proxies", "{\"name\":\"p\",\"protocol\":"
		"\"http\",\"address\":\"h:1\",\"countryCode\":\"XX\"}",
		"countryCode"), 422);
	assert_int_equal(check("proxies", "{\"name\":\"p\",\"protocol\":"
		"\"http\",\"address\":\"h:1\",\"countryCode\":\"de\"}",
		"countryCode"), 422);
	(void)s;
}

static void validate__name_length__counts_characters(void **s)
{
	char body[2048];
	char name[1024];
	size_t i;

	/* 255 two-byte characters are 510 bytes but a valid name. */
	for (i = 0; i < 255; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[510] = '\0';
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	assert_int_equal(check("keyword-sets", body, NULL), 0);
	assert_int_equal(check("keyword-sets", "{\"name\":\"\"}", "name"),
		422);
	(void)s;
}

static void validate__persona_config__is_typed_by_persona_type(void **s)
{
	assert_int_equal(check("personas", "{\"name\":\"a\",\"personaType\":"
		"\"http\",\"configDetails\":{\"resolvers\":[\"1.1.1.1\"]}}",
		"configDetails.resolvers"), 422);
	assert_int_equal(check("personas", "{\"name\":\"a\",\"personaType\":"
		"\"dns\",\"configDetails\":{\"resolvers\":[]}}",
		"configDetails.resolvers"), 422);
	assert_int_equal(check("personas", "{\"name\":\"a\",\"personaType\":"
		"\"dns\",\"configDetails\":{\"resolvers\":[\"1.1.1.1\"],"
		"\"queryTimeoutSeconds\":61}}",
		"configDetails.queryTimeoutSeconds"), 422);
	(void)s;
}

static void validate__campaign_params__only_the_matching_block(void **s)
{
	assert_int_equal(check("campaigns", "{\"name\":\"c\",\"campaignType\":"
		"\"domain_generation\"}", "domainGenerationParams"), 422);
	assert_int_equal(check("campaigns", "{\"name\":\"c\",\"campaignType\":"
		"\"domain_generation\",\"domainGenerationParams\":{"
		"\"patternType\":\"prefix\",\"variableLength\":2,"
		"\"characterSet\":\"ab\",\"tld\":\"com\"},"
		"\"dnsValidationParams\":{}}", "dnsValidationParams"), 422);
	(void)s;
}

static void validate__wrong_types__are_named(void **s)
{
	assert_int_equal(check("keyword-sets", "{\"name\":5}", "name"), 422);
	assert_int_equal(check("keyword-sets", "{\"name\":\"k\","
		"\"isEnabled\":\"yes\"}", "isEnabled"), 422);
	assert_int_equal(check("keyword-sets", "{\"name\":\"k\",\"rules\":"
		"[{\"pattern\":\"x\",\"ruleType\":\"glob\"}]}",
		"rules[0].ruleType"), 422);
	(void)s;
}

static void validate__read_only_fields__are_ignored(void **s)
{
	assert_int_equal(check("keyword-sets", "{\"name\":\"k\","
		"\"ruleCount\":99}", NULL), 0);
	assert_int_equal(check("campaigns", "{\"name\":\"c\",\"campaignType\":"
		"\"domain_generation\",\"status\":\"running\","
		"\"domainGenerationParams\":{\"patternType\":\"prefix\","
		"\"variableLength\":2,\"characterSet\":\"ab\",\"tld\":\"com\"}}",
		NULL), 0);
	(void)s;
}

static void validate__header_names__are_checked_as_map_keys(void **s)
{
	assert_int_equal(check("personas", "{\"name\":\"a\",\"personaType\":"
		"\"http\",\"configDetails\":{\"userAgent\":\"UA\","
		"\"headers\":{\"X-Ok\":\"1\"}}}", NULL), 0);
	assert_int_equal(check("personas", "{\"name\":\"a\",\"personaType\":"
		"\"http\",\"configDetails\":{\"userAgent\":\"UA\","
		"\"headers\":{\"X-A\\r\\nX-B\":\"1\"}}}",
		"configDetails.headers.X-A\r\nX-B"), 422);
	(void)s;
}

static void validate__user_agent_with_line_break__is_refused(void **s)
{
	assert_int_equal(check("personas", "{\"name\":\"a\",\"personaType\":"
		"\"http\",\"configDetails\":{\"userAgent\":\"UA\\r\\nX: 1\"}}",
		"configDetails.userAgent"), 422);
	(void)s;
}

static void validate__long_unknown_key__is_named_whole_characters(void **s)
{
	char body[2048];
	size_t i, n = 0;
	json_t *in;
	struct ferr err;
	const char *key;
	json_t *v;

	n += (size_t)snprintf(body, sizeof(body), "{\"name\":\"k\",\"");
	for (i = 0; i < 300; i++) {
		memcpy(body + n, "\xc3\xa9", 2);
		n += 2;
	}
	snprintf(body + n, sizeof(body) - n, "\":1}");
	in = json_loads(body, 0, NULL);
	assert_non_null(in);
	ferr_init(&err);
	assert_null(validate_record(resource_find("keyword-sets"), in, NULL,
		NULL, &err));
	assert_int_equal(err.status, 422);
	/* The path was cut, but on a character: the field is still named. */
	assert_int_equal(json_object_size(err.fields), 1);
	json_object_foreach(err.fields, key, v)
		assert_true(strlen(key) > 200 && strlen(key) % 2 == 0);
	ferr_release(&err);
	json_decref(in);
	(void)s;
}

static void validate_utf8_prefix__never_cuts_a_character(void **s)
{
	/* "a" then a two-byte and a four-byte character */
	static const char mix[] = "a\xc3\xa9\xf0\x9f\x9a\x80";

	assert_int_equal(validate_utf8_prefix("abc", 64), 3);
	assert_int_equal(validate_utf8_prefix("abcdef", 4), 4);
	assert_int_equal(validate_utf8_prefix(mix, 2), 1);
	assert_int_equal(validate_utf8_prefix(mix, 3), 3);
	assert_int_equal(validate_utf8_prefix(mix, 6), 3);
	assert_int_equal(validate_utf8_prefix(mix, 7), 7);
	(void)s;
}

static void rules_regex_cost__plain_patterns__are_cheap(void **s)
{
	assert_true(rules_regex_cost("buy now") <= 10);
	assert_true(rules_regex_cost("^(buy|sell)[[:space:]]+now{1,3}$") < 40);
	assert_true(rules_regex_cost("[]a]{1,1000}") <= RULES_REGEX_COST_MAX);
	assert_true(rules_regex_cost("x{1,1000}") <= RULES_REGEX_COST_MAX);
	(void)s;
}

static void rules_regex_cost__repetition_counts__multiply(void **s)
{
	assert_true(rules_regex_cost("(.{1,32767})") > RULES_REGEX_COST_MAX);
	assert_true(rules_regex_cost("x{1,2000}") > RULES_REGEX_COST_MAX);
	assert_true(rules_regex_cost("((a{1,100}){1,100}){1,100}") >
		RULES_REGEX_COST_MAX);
	assert_true(rules_regex_cost("(.{0,10}){0,1000}") >
		RULES_REGEX_COST_MAX);
	assert_true(rules_regex_cost("a{2000,}") > RULES_REGEX_COST_MAX);
	assert_true(rules_regex_cost("a{,2000}") > RULES_REGEX_COST_MAX);
	/* the cap holds however far the pattern goes */
	assert_int_equal(rules_regex_cost("(((x{30000}){30000}){30000})"),
		RULES_REGEX_COST_MAX + 1);
	(void)s;
}

static void rules_regex_cost__malformed_patterns__do_not_crash(void **s)
{
	static const char *const bad[] = { "(", ")", "[", "[[:", "a{",
		"a{1", "a{1,", "\\", "((((", "))))", "[^", "{}", "a{,}", NULL };
	size_t i;

	for (i = 0; bad[i]; i++)
		assert_true(rules_regex_cost(bad[i]) >= 0);
	(void)s;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(validate__proxy_address__needs_host_and_port),
		cmocka_unit_test(validate__country_code__must_be_assigned),
		cmocka_unit_test(validate__name_length__counts_characters),
		cmocka_unit_test(
		validate__persona_config__is_typed_by_persona_type),
		cmocka_unit_test(
		validate__campaign_params__only_the_matching_block),
		cmocka_unit_test(validate__wrong_types__are_named),
		cmocka_unit_test(validate__read_only_fields__are_ignored),
		cmocka_unit_test(
		validate__header_names__are_checked_as_map_keys),
		cmocka_unit_test(
		validate__user_agent_with_line_break__is_refused),
		cmocka_unit_test(
		validate__long_unknown_key__is_named_whole_characters),
		cmocka_unit_test(validate_utf8_prefix__never_cuts_a_character),
		cmocka_unit_test(rules_regex_cost__plain_patterns__are_cheap),
		cmocka_unit_test(rules_regex_cost__repetition_counts__multiply),
		cmocka_unit_test(
		rules_regex_cost__malformed_patterns__do_not_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
