/* dbtmp.h - a fixture for unit tests of the SQLite layer: a fresh folder, a database path in it, and a default config naming it. */
#ifndef FP_TEST_DBTMP_H
#define FP_TEST_DBTMP_H

#include <sqlite3.h>
#include "config.h"

struct dbtmp {
	char dir[64];
	char path[128];               /* DIR/t.db, not made yet */
	struct config cfg;            /* the defaults, database = path */
};

/* dbtmp_setup and dbtmp_teardown are cmocka setup/teardown functions:
 * *state becomes a struct dbtmp; teardown removes the folder. Logging goes
 * to /dev/null (database errors are logged by design). */
int dbtmp_setup(void **state);
int dbtmp_teardown(void **state);

/* dbtmp_int runs sql on db and returns the first column of its first row
 * (-1 when there is none); a statement that does not compile fails the
 * test. */
long long dbtmp_int(sqlite3 *db, const char *sql);

#endif
