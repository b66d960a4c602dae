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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		apidoc__committed_file__matches_the_resource_table),
		cmocka_unit_test(apidoc__every_collection__has_a_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
