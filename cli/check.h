/* check.h - flowpush check: is the installation sound and private? */
#ifndef FP_CHECK_H
#define FP_CHECK_H

#include "cli.h"

/*
 * check_run prints one "ok" or "FAIL" line per check: the config file's
 * mode, whether the database opens, SQLite's integrity check, the schema
 * version, and that neither the database nor its folder is
 * world-writable. Handler of the command table, run with the config
 * loaded: returns 0, or -1 with a 500 "check_failed" error when any
 * check failed.
 */
int check_run(struct cli *c, struct store *st);

#endif
