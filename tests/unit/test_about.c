/* test_about.c - unit tests for common/about.c: version, keys, manual. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "about.h"

#define ALL_READERS (CONFIG_API | CONFIG_PUSH | CONFIG_CLI)

/* keys_text gives about_keys' text for reader; the caller frees it. */
static char *keys_text(unsigned reader)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	about_keys(f, reader);
	fclose(f);
	return buf;
}

/* lists_key tells whether text has the line that starts key's entry. */
static int lists_key(const char *text, const char *key)
{
	char line[128];

	snprintf(line, sizeof(line), "\n  %s ", key);
	return strstr(text, line) != NULL;
}

static void about_keys__each_program__lists_only_the_keys_it_reads(
	void **state)
{
	static const unsigned readers[] = {
		CONFIG_API, CONFIG_PUSH, CONFIG_CLI,
	};
	size_t r, i;

	for (r = 0; r < 3; r++) {
		char *text = keys_text(readers[r]);

		for (i = 0; config_keys[i].name != NULL; i++)
			assert_int_equal(lists_key(text, config_keys[i].name),
				(config_keys[i].readers & readers[r]) != 0);
		free(text);
	}
}

static void about_keys__known_readers__match_the_code(void **state)
{
	char *api = keys_text(CONFIG_API), *push = keys_text(CONFIG_PUSH),
		*cli = keys_text(CONFIG_CLI);

	/* Read by the API and the store, which the daemon never opens. */
	assert_true(lists_key(api, "body_limit"));
	assert_true(lists_key(cli, "body_limit"));
	assert_false(lists_key(push, "body_limit"));
	/* The daemon's own. */
	assert_true(lists_key(push, "push_port"));
	assert_false(lists_key(api, "push_port"));
	assert_false(lists_key(cli, "push_port"));
	/* Every program opens the database. */
	assert_true(lists_key(api, "database"));
	assert_true(lists_key(push, "database"));
	assert_true(lists_key(cli, "database"));
	assert_non_null(strstr(push, "FLOWPUSH_PUSH_PORT"));
	free(api);
	free(push);
	free(cli);
}

static void config_keys__every_key__is_read_by_a_known_program(
	void **state)
{
	size_t i;

	for (i = 0; config_keys[i].name != NULL; i++) {
		assert_int_not_equal(config_keys[i].readers, 0);
		assert_int_equal(config_keys[i].readers & ~ALL_READERS, 0);
	}
}

static void about_conf_man__has_every_key_its_variable_and_readers(
	void **state)
{
	char *buf = NULL, entry[256], env[128];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(about_conf_man(f), 0);
	fclose(f);
	assert_non_null(strstr(buf, ".TH FLOWPUSH.CONF 5 "));
	assert_non_null(strstr(buf, PACKAGE_VERSION));
	for (i = 0; config_keys[i].name != NULL; i++) {
		snprintf(entry, sizeof(entry), ".TP\n.B %s\n",
			config_keys[i].name);
		assert_non_null(strstr(buf, entry));
		config_env_name(config_keys[i].name, env, sizeof(env));
		snprintf(entry, sizeof(entry), "Environment: \\fB%s\\fR.", env);
		assert_non_null(strstr(buf, entry));
	}
	assert_non_null(strstr(buf, "Read by \\fBflowpush.fcgi\\fR(8), "
		"\\fBflowpushd\\fR(8), \\fBflowpush\\fR(1).\n"));
	/* A text line that began with a dot would be taken for a request
	 * and lost: only the page's own requests may. */
	assert_null(strstr(buf, "\n. "));
	free(buf);
}

static void about_version__names_program_and_configure_version(
	void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	about_version(f, "flowpushd");
	fclose(f);
	assert_string_equal(buf, "flowpushd (flowpush) " PACKAGE_VERSION "\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		about_keys__each_program__lists_only_the_keys_it_reads),
		cmocka_unit_test(about_keys__known_readers__match_the_code),
		cmocka_unit_test(
		config_keys__every_key__is_read_by_a_known_program),
		cmocka_unit_test(
		about_conf_man__has_every_key_its_variable_and_readers),
		cmocka_unit_test(
		about_version__names_program_and_configure_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
