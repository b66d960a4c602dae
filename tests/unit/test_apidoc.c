/* test_apidoc.c - docs/API.md must be what the resource table generates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apidoc.h"
#include "config.h"

static char *slurp(FILE *f, size_t *n)
{
	char *buf = NULL;
	size_t cap = 0, len = 0, got;

	do {
		cap += 65536;
		buf = realloc(buf, cap);
		assert_non_null(buf);
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (len == cap);
	*n = len;
	return buf;
}

static void apidoc__committed_file__matches_the_resource_table(void **s)
{
	char *gen_buf = NULL, *file_buf;
	size_t gen_len = 0, file_len;
	FILE *gen = open_memstream(&gen_buf, &gen_len);
	FILE *committed = fopen(SRCDIR "/docs/API.md", "r");

	assert_non_null(gen);
	apidoc_write(gen);
	fclose(gen);
	if (!committed)
		fail_msg("docs/API.md is missing: run `flowpush doc > "
			"docs/API.md`");
	file_buf = slurp(committed, &file_len);
	fclose(committed);
	if (file_len != gen_len || memcmp(file_buf, gen_buf, gen_len) != 0)
		fail_msg("docs/API.md is stale: run `flowpush doc > "
			"docs/API.md`");
	free(file_buf);
	free(gen_buf);
	(void)s;
}

static void apidoc__every_collection__has_a_section(void **s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *gen = open_memstream(&buf, &len);

	apidoc_write(gen);
	fclose(gen);
	assert_non_null(strstr(buf, "(`/api/personas`)"));
	assert_non_null(strstr(buf, "(`/api/proxy-pools`)"));
	assert_non_null(strstr(buf, "`configDetails.resolvers[]`"));
	free(buf);
	(void)s;
}

static void readme__configuration_table__lists_every_key(void **s)
{
	FILE *f = fopen(SRCDIR "/README.md", "r");
	const struct config_key *k;
	char *buf;
	size_t len;

	assert_non_null(f);
	buf = slurp(f, &len);
	fclose(f);
	buf = realloc(buf, len + 1);
	buf[len] = '\0';
	for (k = config_keys; k->name; k++) {
		char row[96];

		snprintf(row, sizeof(row), "| `%s` |", k->name);
		if (!strstr(buf, row))
			fail_msg("README.md's configuration table lacks %s",
				k->name);
	}
	free(buf);
	(void)s;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		apidoc__committed_file__matches_the_resource_table),
		cmocka_unit_test(apidoc__every_collection__has_a_section),
		cmocka_unit_test(
		readme__configuration_table__lists_every_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
