/* backup.h - flowpush backup: a consistent copy of the live database. */
#ifndef FP_CLI_BACKUP_H
#define FP_CLI_BACKUP_H

#include "cli.h"

/*
 * backup_run copies the database into the new file argv[0] with SQLite's
 * online backup API while the API and the daemon go on (store_backup):
 * --pages N per step (default 1024), progress on stderr about once a
 * second for a long copy, --force to replace an existing file. Prints
 * {"backup":FILE,"seq":S,"pages":P,"bytes":B}: the copy holds every
 * change up to seq S. Handler of the command table: 0, or -1 with c->err.
 */
int backup_run(struct cli *c, struct store *st);

#endif
