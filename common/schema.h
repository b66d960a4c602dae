/* schema.h - the database's tables, built from the resource table at each schema version. */
#ifndef FP_SCHEMA_H
#define FP_SCHEMA_H

#include <sqlite3.h>
#include "config.h"
#include "ferr.h"

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

#endif
