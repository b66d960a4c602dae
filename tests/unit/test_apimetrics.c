/* test_apimetrics.c - unit tests for cgi/apimetrics.c: the shared request counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "apimetrics.h"

static const struct apimetrics_label labels[2] = {
	{ "/api/{c}", "GET" }, { "unmatched", "*" },
};

/* open_temp maps a new counters file; path gets its name. */
static void open_temp(struct apimetrics *m, char *path, uint64_t tag)
{
	struct ferr err;

	ferr_init(&err);
	assert_int_equal(apimetrics_open(m, path, 2, tag, &err), 0);
	ferr_release(&err);
}

static char *render(struct apimetrics *m)
{
	size_t len = 0;
	char *text = apimetrics_render(m, labels, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void apimetrics_count__two_mappings__add_to_the_same_counts(
	void **state)
{
	char path[] = "/tmp/fp-apimetrics-XXXXXX";
	struct apimetrics a, b;
	char *text;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	open_temp(&a, path, 7);
	open_temp(&b, path, 7);
	apimetrics_count(&a, 0, 200, 1500);
	apimetrics_count(&b, 0, 200, 40000000);
	apimetrics_count(&b, 0, 503, 10);
	apimetrics_count(&a, 5, 200, 10);      /* no such slot: ignored */
	text = render(&a);
	assert_non_null(strstr(text, "flowpush_api_requests_total{route="
		"\"/api/{c}\",method=\"GET\",status=\"200\"} 2\n"));
	assert_non_null(strstr(text, "status=\"503\"} 1\n"));
	assert_non_null(strstr(text, "class=\"server\"} 1\n"));
	assert_non_null(strstr(text, "class=\"client\"} 0\n"));
	/* 1.5 ms is over the 1 ms bucket, in the 2 ms one; 40 s only in
	 * +Inf. */
	assert_non_null(strstr(text, "le=\"1\"} 1\n"));
	assert_non_null(strstr(text, "le=\"2\"} 2\n"));
	assert_non_null(strstr(text, "le=\"30000\"} 2\n"));
	assert_non_null(strstr(text, "le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "flowpush_api_request_ms_sum{route="
		"\"/api/{c}\",method=\"GET\"} 40001.510\n"));
	/* A slot that answered nothing shows no series. */
	assert_null(strstr(text, "unmatched"));
	free(text);
	apimetrics_close(&a);
	apimetrics_close(&b);
	unlink(path);
}

static void apimetrics_open__another_route_table__starts_from_zero(
	void **state)
{
	char path[] = "/tmp/fp-apimetrics-XXXXXX";
	struct apimetrics m;
	char *text;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	open_temp(&m, path, 1);
	apimetrics_count(&m, 1, 404, 10);
	apimetrics_close(&m);
	open_temp(&m, path, 1);
	text = render(&m);
	assert_non_null(strstr(text, "route=\"unmatched\",method=\"*\","
		"status=\"404\"} 1\n"));
	free(text);
	apimetrics_close(&m);
	open_temp(&m, path, 2);
	text = render(&m);
	assert_null(strstr(text, "unmatched"));
	free(text);
	apimetrics_close(&m);
	unlink(path);
}

static void apimetrics_count__unopened__does_nothing(void **state)
{
	struct apimetrics m = { NULL, 0, 0 };
	size_t len;

	(void)state;
	apimetrics_count(&m, 0, 200, 10);
	assert_null(apimetrics_render(&m, labels, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			apimetrics_count__two_mappings__add_to_the_same_counts),
		cmocka_unit_test(
			apimetrics_open__another_route_table__starts_from_zero),
		cmocka_unit_test(apimetrics_count__unopened__does_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
