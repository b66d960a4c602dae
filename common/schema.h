/* schema.h - the database's tables, built from the resource table at each schema version. */
#ifndef FP_SCHEMA_H
#define FP_SCHEMA_H

#include <stdint.h>
#include <sqlite3.h>
#include "config.h"
#include "ferr.h"
#include "resource.h"

/* The version PRAGMA user_version holds once schema_migrate is done. */
#define SCHEMA_VERSION 3

/*
 * schema_open opens cfg->database (db_open with flags) and, unless
 * DB_READONLY, migrates it to SCHEMA_VERSION. Returns the handle (close
 * with sqlite3_close_v2) or NULL with err set, naming the file.
 */
sqlite3 *schema_open(const struct config *cfg, int flags, struct ferr *err);

/*
 * schema_migrate brings the schema to SCHEMA_VERSION in one transaction:
 * the journal, the record tables with their indexes, search tables,
 * counters and triggers. A file already current costs one read without
 * the write lock; a newer one is refused (500 schema_too_new).
 */
int schema_migrate(sqlite3 *db, struct ferr *err);

/*
 * schema_bulk_begin readies r for many creates inside the caller's open
 * transaction: a create no longer adds its search row one at a time (each
 * of those statements flushed the search index: a quarter of a bulk
 * load). *last_rk gets the newest row key before the batch.
 * schema_bulk_end, in the same transaction, adds the search rows of every
 * record past last_rk as it stands and puts the usual trigger back. Other
 * connections never see the difference: both run inside one transaction,
 * whose rollback undoes them. Both return 0 or -1 with err set.
 */
int schema_bulk_begin(sqlite3 *db, const struct resource *r,
	int64_t *last_rk, struct ferr *err);
int schema_bulk_end(sqlite3 *db, const struct resource *r, int64_t last_rk,
	struct ferr *err);

#endif
