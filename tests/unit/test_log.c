/* test_log.c - unit tests for common/log.c: levels, line format, files. */
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
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static char path[256];

static int setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/fp-test-log-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	log_setup(NULL, NULL, NULL);
	unlink(path);
	return 0;
}

static char *slurp(void)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void log_level_parse__names__map_to_levels(void **state)
{
	assert_int_equal(log_level_parse("error"), LOG_ERROR);
	assert_int_equal(log_level_parse("warn"), LOG_WARN);
	assert_int_equal(log_level_parse("info"), LOG_INFO);
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("DEBUG"), -1);
	assert_int_equal(log_level_parse(""), -1);
	assert_int_equal(log_level_parse(NULL), -1);
}

static void log_msg__below_threshold__writes_nothing(void **state)
{
	char *text;

	assert_int_equal(log_setup("/usr/bin/prog", "warn", path), 0);
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_WARN));
	log_msg(LOG_INFO, "hidden %d", 1);
	log_msg(LOG_WARN, "shown %d", 2);
	text = slurp();
	assert_null(strstr(text, "hidden"));
	assert_non_null(strstr(text, "shown 2"));
	free(text);
}

static void log_msg__line__has_time_program_pid_and_level(void **state)
{
	char *text, want[64];

	assert_int_equal(log_setup("/usr/bin/prog", "debug", path), 0);
	log_msg(LOG_DEBUG, "two\nlines");
	text = slurp();
	snprintf(want, sizeof(want), "Z prog[%ld] DEBUG two lines\n",
		(long)getpid());
	assert_non_null(strstr(text, want));
	/* "2026-11-25T20:10:00.123Z" starts every line. */
	assert_int_equal(text[4], '-');
	assert_int_equal(text[10], 'T');
	free(text);
}

static void log_setup__unopenable_file__fails_and_keeps_destination(
	void **state)
{
	char *text;

	assert_int_equal(log_setup("prog", "info", path), 0);
	assert_int_equal(log_setup("prog", "info", "/nonexistent/dir/x.log"),
		-1);
	log_msg(LOG_ERROR, "still here");
	text = slurp();
	assert_non_null(strstr(text, "still here"));
	free(text);
}

static void log_setup__unknown_level__fails(void **state)
{
	assert_int_equal(log_setup("prog", "loud", NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_level_parse__names__map_to_levels),
		cmocka_unit_test(log_msg__below_threshold__writes_nothing),
		cmocka_unit_test(
			log_msg__line__has_time_program_pid_and_level),
		cmocka_unit_test(
		log_setup__unopenable_file__fails_and_keeps_destination),
		cmocka_unit_test(log_setup__unknown_level__fails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
