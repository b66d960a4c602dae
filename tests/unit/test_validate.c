/* test_validate.c - field rules of the resource table, checked without a database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "validate.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
