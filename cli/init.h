/* init.h - flowpush init: a config with a fresh secret, and its database. */
#ifndef FP_INIT_H
#define FP_INIT_H

#include "cli.h"

/*
 * init_run writes the config at --config ($FLOWPUSH_CONFIG, else
 * ./flowpush.conf) with a fresh secret and mode 0600, unless it exists
 * and --force is not given (then it is kept), and creates or migrates the
 * database it names (--database, else flowpush.db beside it). Handler of
 * the command table, run without a config: returns 0, or -1 with c->err
 * set.
 */
int init_run(struct cli *c, struct store *st);

#endif
