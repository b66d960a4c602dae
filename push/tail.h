/* tail.h - following the journal: the doorbell socket, the data_version safety net, bounded batch reads. */
#ifndef FP_TAIL_H
#define FP_TAIL_H

#include "push.h"

/* tail_init binds the doorbell (when configured) and tries to open the
 * database; a missing database is retried later, not an error. Returns 0,
 * or -1 when the doorbell cannot be bound. */
int tail_init(struct push *px);

/* tail_release closes the database and the doorbell. */
void tail_release(struct push *px);

/* tail_poll reads the rows committed since the last read (a bounded
 * amount per call; tail.more says whether to call again soon) and
 * publishes them. */
void tail_poll(struct push *px);

/* tail_tick retries opening the database and runs the data_version
 * check when due. */
void tail_tick(struct push *px, int64_t now);

/* A catch-up row: its seq and the event, or NULL when it was skipped. */
typedef void (*tail_row_cb)(struct push *px, int64_t seq,
	struct pevent *ev, void *data);

/*
 * tail_read_range reads at most limit rows with after < seq <= upto from
 * the database, oldest first, calling cb for each (ev is borrowed).
 * Returns how many rows were read, or -1 when the database cannot be read
 * now.
 */
int tail_read_range(struct push *px, int64_t after, int64_t upto, int limit,
	tail_row_cb cb, void *data);

/* tail_first_seq gives the oldest seq kept in the database (0: none).
 * Returns 0 or -1. */
int tail_first_seq(struct push *px, int64_t *first);

/* tail_db_last gives the newest seq ever written. Returns 0 or -1. */
int tail_db_last(struct push *px, int64_t *last);

#endif
