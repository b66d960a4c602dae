/* schema.c - record tables and unique indexes from the resource table. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "resource.h"

/* exec runs one statement; the SQL is built from the resource table only,
 * never from input. */
static int exec(sqlite3 *db, const char *sql, struct ferr *err)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, "schema", err);
	return 0;
}

int schema_create(sqlite3 *db, struct ferr *err)
{
	const struct resource *r;
	const struct field *f;
	char sql[1024];

	for (r = resources; r->name; r++) {
		/* rk orders lists newest first and makes the cursor; the
		 * record itself is JSON so a new field needs no migration. */
		snprintf(sql, sizeof(sql),
			"CREATE TABLE IF NOT EXISTS %s ("
			"rk INTEGER PRIMARY KEY AUTOINCREMENT, "
			"id TEXT NOT NULL UNIQUE, "
			"version INTEGER NOT NULL, "
			"created_at TEXT NOT NULL, "
			"updated_at TEXT NOT NULL, "
			"data TEXT NOT NULL CHECK (json_valid(data)), "
			"secret TEXT)", r->table);
		if (exec(db, sql, err))
			return -1;
		for (f = r->fields; f->name; f++) {
			if (f->flags & FF_DASH) {
				/* The dashboard groups by these: an index lets
				 * it count without parsing every record. */
				snprintf(sql, sizeof(sql),
					"CREATE INDEX IF NOT EXISTS %s_%s_dash "
					"ON %s(json_extract(data, '$.%s'))",
					r->table, f->name, r->table, f->name);
				if (exec(db, sql, err))
					return -1;
			}
			if (!(f->flags & FF_UNIQUE))
				continue;
			if (f->unique_with)
				snprintf(sql, sizeof(sql),
					"CREATE UNIQUE INDEX IF NOT EXISTS "
					"%s_%s_unique ON %s("
					"json_extract(data, '$.%s'), "
					"json_extract(data, '$.%s'))",
					r->table, f->name, r->table,
					f->unique_with, f->name);
			else
				snprintf(sql, sizeof(sql),
					"CREATE UNIQUE INDEX IF NOT EXISTS "
					"%s_%s_unique ON %s("
					"json_extract(data, '$.%s'))",
					r->table, f->name, r->table, f->name);
			if (exec(db, sql, err))
				return -1;
		}
	}
	return 0;
}
