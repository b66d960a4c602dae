/* demo.h - flowpush demo: the demo records, or a scale load, via the store. */
#ifndef FP_DEMO_H
#define FP_DEMO_H

#include "cli.h"

/*
 * demo_run loads the demo records of cli/demo_data.c: personas, keyword
 * sets, proxies, proxy pools and campaigns of every type in several
 * states, each through store_create, store_patch and store_action so that
 * validation, the journal and the doorbell apply as for any client. On a
 * database that holds records it refuses (409) unless --force, which
 * appends a random suffix to every name and moves every proxy port so
 * that nothing clashes. With --scale N it runs scale_load instead. One
 * line per record goes to stdout. Handler of the command table: returns
 * 0, or -1 with c->err set (records made before a failure stay).
 */
int demo_run(struct cli *c, struct store *st);

#endif
