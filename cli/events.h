/* events.h - the journal from the command line: flowpush tail and prune. */
#ifndef FP_EVENTS_H
#define FP_EVENTS_H

#include "cli.h"

/*
 * events_tail prints the journal's events after --since (default: every
 * event still kept) matching --topics, one JSON line each; with --follow
 * it goes on until SIGINT or SIGTERM. A reset is one line
 * {"action":"reset","seq":N}, after which it follows from N. Handler of
 * the command table: returns 0, or -1 with c->err set.
 */
int events_tail(struct cli *c, struct store *st);

/*
 * events_prune deletes the journal rows that are both older than
 * --keep-days (default 7) and not among the newest --keep-rows (default
 * push_ring_size from the config); 0 turns either limit off, both 0 is a
 * usage error. It prints {"deleted":N,"keepDays":D,"keepRows":R,
 * "firstSeq":F,"lastSeq":L} (F: the oldest seq kept, 0 when none).
 * Returns 0, or -1 with c->err set.
 */
int events_prune(struct cli *c, struct store *st);

#endif
