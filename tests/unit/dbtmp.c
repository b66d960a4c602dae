/* dbtmp.c - a fixture for unit tests of the SQLite layer: a fresh folder, a database path in it, and a default config naming it. */
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

#include "dbtmp.h"
#include "ferr.h"
#include "log.h"

int dbtmp_setup(void **state)
{
	struct dbtmp *fx = calloc(1, sizeof(*fx));
	struct ferr e;

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fp-test-db-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/t.db", fx->dir);
	ferr_init(&e);
	unsetenv("FLOWPUSH_CONFIG");
	if (config_load(&fx->cfg, NULL, &e) < 0)
		return -1;
	free(fx->cfg.database);
	fx->cfg.database = strdup(fx->path);
	log_setup("unit", "error", "/dev/null");
	*state = fx;
	return 0;
}

int dbtmp_teardown(void **state)
{
	struct dbtmp *fx = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	config_release(&fx->cfg);
	free(fx);
	return system(cmd) == 0 ? 0 : -1;
}

long long dbtmp_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
		SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
