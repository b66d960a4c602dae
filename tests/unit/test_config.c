/* test_config.c - unit tests for common/config.c: files, environment. */
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

/* By path: the build folder holds autoconf's own config.h, which a plain
 * "config.h" would find first. */
#include "../../common/config.h"
#include "ferr.h"

static char tmpdir[256];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fp-test-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	unsetenv("FLOWPUSH_CONFIG");
	unsetenv("FLOWPUSH_THREADS");
	unsetenv("FLOWPUSH_DATABASE");
	unsetenv("FLOWPUSH_REQUIRE_USER");
	unsetenv("FLOWPUSH_ROLES");
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void config_load__no_file__gives_defaults(void **state)
{
	struct config c;
	struct ferr e;

	ferr_init(&e);
	assert_int_equal(config_load(&c, NULL, &e), 0);
	assert_null(c.path);
	assert_string_equal(c.database, "flowpush.db");
	assert_string_equal(c.doorbell, "");
	assert_string_equal(c.secret, "");
	assert_int_equal(c.token_ttl, 3600);
	assert_int_equal(c.body_limit, 1048576);
	assert_int_equal(c.require_user, 0);
	assert_int_equal(c.threads, 16);
	assert_int_equal(c.busy_timeout_ms, 5000);
	assert_int_equal(c.max_rules, 1000);
	assert_int_equal(c.changes_wait_max, 30);
	assert_string_equal(c.log_level, "info");
	assert_string_equal(c.log_file, "");
	assert_string_equal(c.push_listen, "127.0.0.1");
	assert_int_equal(c.push_port, 8081);
	assert_int_equal(c.push_heartbeat, 20);
	assert_int_equal(c.push_retry_ms, 3000);
	assert_int_equal(c.push_poll_ms, 500);
	assert_int_equal(c.push_ring_size, 4096);
	assert_int_equal(c.push_max_connections, 16384);
	assert_int_equal(c.push_outbound_cap, 1048576);
	assert_int_equal(c.push_dispatch_timeout_ms, 10000);
	assert_string_equal(c.push_origins, "");
	config_release(&c);
	ferr_release(&e);
}

static void config_load__file__sets_values_and_skips_comments(void **state)
{
	struct config c;
	struct ferr e;
	char path[512];

	snprintf(path, sizeof(path), "%s/a.conf", tmpdir);
	write_file(path, "# comment\n\n  threads = 8  \nrequire_user=yes\n"
		"secret = \" ab cd \"\npush_origins = \"\"\n"
		"log_level = debug\n");
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.threads, 8);
	assert_int_equal(c.require_user, 1);
	assert_string_equal(c.secret, " ab cd ");
	assert_string_equal(c.push_origins, "");
	assert_string_equal(c.log_level, "debug");
	config_release(&c);
	ferr_release(&e);
}

static void config_load__relative_paths__are_taken_from_file_folder(
	void **state)
{
	struct config c;
	struct ferr e;
	char path[512], want[600], *real;

	snprintf(path, sizeof(path), "%s/b.conf", tmpdir);
	write_file(path, "database = data/x.db\nlog_file = /var/log/fp.log\n"
		"doorbell = \n");
	real = realpath(tmpdir, NULL);
	snprintf(want, sizeof(want), "%s/data/x.db", real);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.database, want);
	assert_string_equal(c.log_file, "/var/log/fp.log");
	assert_string_equal(c.doorbell, "");
	config_release(&c);
	ferr_release(&e);
	free(real);
}

static void config_load__relative_unix_listen__is_taken_from_file_folder(
	void **state)
{
	struct config c;
	struct ferr e;
	char path[512], want[600], *real;

	snprintf(path, sizeof(path), "%s/u.conf", tmpdir);
	write_file(path, "push_listen = unix:run/push.sock\n");
	real = realpath(tmpdir, NULL);
	snprintf(want, sizeof(want), "unix:%s/run/push.sock", real);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.push_listen, want);
	config_release(&c);
	/* Absolute socket paths and addresses stay as they are. */
	write_file(path, "push_listen = unix:/run/fp/push.sock\n");
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.push_listen, "unix:/run/fp/push.sock");
	config_release(&c);
	write_file(path, "push_listen = ::1\n");
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.push_listen, "::1");
	config_release(&c);
	ferr_release(&e);
	free(real);
}

static void config_load__unknown_key__names_file_and_line(void **state)
{
	struct config c;
	struct ferr e;
	char path[512], want[600];

	snprintf(path, sizeof(path), "%s/c.conf", tmpdir);
	write_file(path, "threads = 2\n\nno_such_key = 1\n");
	snprintf(want, sizeof(want), "%s:3", path);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, want));
	assert_non_null(strstr(e.message, "no_such_key"));
	config_release(&c);
	ferr_release(&e);
}

static void config_load__out_of_range_value__is_refused(void **state)
{
	struct config c;
	struct ferr e;
	char path[512];

	snprintf(path, sizeof(path), "%s/d.conf", tmpdir);
	write_file(path, "push_port = 70000\n");
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, "push_port"));
	config_release(&c);
	ferr_release(&e);

	write_file(path, "threads = 4x\n");
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	config_release(&c);
	ferr_release(&e);

	write_file(path, "log_level = loud\n");
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, "log_level"));
	config_release(&c);
	ferr_release(&e);
}

static void config_load__bad_roles__names_file_line_key_and_entry(
	void **state)
{
	struct config c;
	struct ferr e;
	char path[512], want[600];

	snprintf(path, sizeof(path), "%s/r.conf", tmpdir);
	write_file(path, "threads = 2\nroles = alice: admin; bob viewer\n");
	snprintf(want, sizeof(want), "%s:2: roles: entry 2 is not", path);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_string_equal(e.code, "bad_config");
	if (strstr(e.message, want) == NULL)
		fail_msg("'%s' lacks '%s'", e.message, want);
	config_release(&c);
	ferr_release(&e);

	write_file(path, "roles = alice: admin; *: viewer\n");
	setenv("FLOWPUSH_ROLES", "alice: root", 1);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, "FLOWPUSH_ROLES: roles: entry 1 "
		"gives the unknown role 'root'"));
	config_release(&c);
	ferr_release(&e);
	unsetenv("FLOWPUSH_ROLES");

	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.roles, "alice: admin; *: viewer");
	config_release(&c);
	ferr_release(&e);
}

static void config_load__missing_file__fails(void **state)
{
	struct config c;
	struct ferr e;
	char path[512];

	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, path));
	config_release(&c);
	ferr_release(&e);
}

static void config_load__environment__overrides_file(void **state)
{
	struct config c;
	struct ferr e;
	char path[512];

	snprintf(path, sizeof(path), "%s/e.conf", tmpdir);
	write_file(path, "threads = 8\ndatabase = f.db\n");
	setenv("FLOWPUSH_THREADS", "24", 1);
	setenv("FLOWPUSH_DATABASE", "rel.db", 1);
	setenv("FLOWPUSH_REQUIRE_USER", "on", 1);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_int_equal(c.threads, 24);
	/* Environment paths are the caller's, relative to its folder. */
	assert_string_equal(c.database, "rel.db");
	assert_int_equal(c.require_user, 1);
	config_release(&c);
	ferr_release(&e);

	setenv("FLOWPUSH_THREADS", "0", 1);
	ferr_init(&e);
	assert_int_equal(config_load(&c, path, &e), -1);
	assert_non_null(strstr(e.message, "FLOWPUSH_THREADS"));
	config_release(&c);
	ferr_release(&e);
	unsetenv("FLOWPUSH_THREADS");
	unsetenv("FLOWPUSH_DATABASE");
	unsetenv("FLOWPUSH_REQUIRE_USER");
}

static void config_load__flowpush_config_env__names_the_file(void **state)
{
	struct config c;
	struct ferr e;
	char path[512];

	snprintf(path, sizeof(path), "%s/f.conf", tmpdir);
	write_file(path, "max_rules = 7\n");
	setenv("FLOWPUSH_CONFIG", path, 1);
	ferr_init(&e);
	assert_int_equal(config_load(&c, NULL, &e), 0);
	assert_int_equal(c.max_rules, 7);
	assert_string_equal(c.path, path);
	config_release(&c);
	ferr_release(&e);
	unsetenv("FLOWPUSH_CONFIG");
}

static void config_write__round_trip__gives_same_values_mode_0600(
	void **state)
{
	struct config c, d;
	struct ferr e;
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/w.conf", tmpdir);
	ferr_init(&e);
	assert_int_equal(config_load(&c, NULL, &e), 0);
	free(c.secret);
	c.secret = strdup("00ff");
	free(c.database);
	c.database = strdup("/srv/fp/flowpush.db");
	c.threads = 9;
	c.require_user = 1;
	assert_int_equal(config_write(&c, path, 0, &e), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(config_load(&d, path, &e), 0);
	assert_string_equal(d.secret, "00ff");
	assert_string_equal(d.database, "/srv/fp/flowpush.db");
	assert_string_equal(d.doorbell, "");
	assert_int_equal(d.threads, 9);
	assert_int_equal(d.require_user, 1);
	config_release(&d);
	config_release(&c);
	ferr_release(&e);
}

static void config_write__existing_file__needs_overwrite(void **state)
{
	struct config c, d;
	struct ferr e;
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/x.conf", tmpdir);
	write_file(path, "threads = 3\n");
	chmod(path, 0644);
	ferr_init(&e);
	assert_int_equal(config_load(&c, NULL, &e), 0);
	assert_int_equal(config_write(&c, path, 0, &e), -1);
	assert_int_equal(e.status, 409);
	ferr_release(&e);
	assert_int_equal(config_load(&d, path, &e), 0);
	assert_int_equal(d.threads, 3);
	config_release(&d);
	assert_int_equal(config_write(&c, path, 1, &e), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(config_load(&d, path, &e), 0);
	assert_int_equal(d.threads, 16);
	config_release(&d);
	config_release(&c);
	ferr_release(&e);
}

static void config_path_dir__as_written__is_text_before_last_slash(
	void **state)
{
	static const char *const cases[][2] = {
		{ "a/b/c.conf", "a/b" }, { "c.conf", "." },
		{ "/c.conf", "/" }, { "/etc/c.conf", "/etc" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = config_path_dir(cases[i][0], CONFIG_DIR_AS_WRITTEN);

		assert_string_equal(d, cases[i][1]);
		free(d);
	}
}

static void config_path_dir__real__resolves_or_fails(void **state)
{
	char *d = config_path_dir("/tmp/../tmp/x.conf", CONFIG_DIR_REAL);
	char *real = realpath("/tmp", NULL);

	assert_string_equal(d, real);
	free(d);
	free(real);
	assert_null(config_path_dir("/no/such/folder/x.conf",
		CONFIG_DIR_REAL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_load__no_file__gives_defaults),
		cmocka_unit_test(
			config_load__file__sets_values_and_skips_comments),
		cmocka_unit_test(
		config_load__relative_paths__are_taken_from_file_folder),
		cmocka_unit_test(
		config_load__relative_unix_listen__is_taken_from_file_folder),
		cmocka_unit_test(
			config_load__unknown_key__names_file_and_line),
		cmocka_unit_test(config_load__out_of_range_value__is_refused),
		cmocka_unit_test(
		config_load__bad_roles__names_file_line_key_and_entry),
		cmocka_unit_test(config_load__missing_file__fails),
		cmocka_unit_test(config_load__environment__overrides_file),
		cmocka_unit_test(
			config_load__flowpush_config_env__names_the_file),
		cmocka_unit_test(
			config_write__round_trip__gives_same_values_mode_0600),
		cmocka_unit_test(config_write__existing_file__needs_overwrite),
		cmocka_unit_test(
		config_path_dir__as_written__is_text_before_last_slash),
		cmocka_unit_test(config_path_dir__real__resolves_or_fails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
