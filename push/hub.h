/* hub.h - subscribers: where each starts or resumes, fan-out of shared event buffers, catch-up reads, heartbeats; no transport known. */
#ifndef FP_HUB_H
#define FP_HUB_H

#include <stdint.h>
#include "conn.h"
#include "db.h"
#include "req.h"
#include "tail.h"

/* The histogram buckets of hub_stats.fanout_le, ms. */
#define HUB_FANOUT_BUCKETS 14
extern const unsigned hub_fanout_le[HUB_FANOUT_BUCKETS];

/* Counters for /push/metrics; monotonic. */
struct hub_stats {
	uint64_t deliveries;       /* events queued to a subscriber */
	uint64_t resumes;          /* subscriptions with a since */
	uint64_t resets;           /* reset messages sent */
	uint64_t db_catchup_reads; /* resume batches read from the database */
	uint64_t fell_behind;      /* live subscribers whose queue was full */
	/* Commit to the last socket write of a fan-out, ms: a histogram
	 * with the upper bounds HUB_FANOUT_LE (one more bucket: above). */
	uint64_t fanout_le[HUB_FANOUT_BUCKETS + 1];
	uint64_t fanout_count;
	uint64_t fanout_sum_ms;
};

struct hub {
	struct conn_set *set;      /* borrowed: the subscribers */
	struct tail *tail;         /* borrowed: the journal and its ring */
	const struct config *cfg;  /* borrowed */
	int catching_up;           /* a catch-up read stopped at its bound */
	int stopping;
	int64_t next_heartbeat_ms;
	int64_t next_sweep_ms;
	size_t fan_start;          /* where the last fan-out began */
	uint64_t fan_pass;         /* fan-outs so far */
	struct hub_stats stats;
};

/*
 * hub_init makes h the subscriber layer over set, reading backlogs from
 * tail, with the heartbeat and dispatch timeout of cfg. It takes set's
 * drained callback (refills as queues empty). All three are borrowed.
 */
void hub_init(struct hub *h, struct conn_set *set, struct tail *tail,
	const struct config *cfg);

/* hub_tail_sink fills sink with the callbacks tail reports to h
 * through. */
void hub_tail_sink(struct hub *h, struct tail_sink *sink);

/*
 * hub_subscribe makes c (of no list yet) a subscriber to what r asked
 * for, taking over r's topics (r needs no release afterwards), and
 * queues what it must get first: the backlog after r's since (from the
 * ring or the database), a reset when since is out of range, or nothing
 * when it starts from now.
 */
void hub_subscribe(struct hub *h, struct conn *c, struct push_req *r);

/* hub_publish queues ev on every live subscriber whose topics match,
 * beginning each event at another place in the list (see hub.c). */
void hub_publish(struct hub *h, struct pevent *ev);

/* hub_fanout_written times the turn's fan-out once its writes were handed
 * to the sockets (now_ms, wall clock): from the commit of the newest event
 * published to now, into the histogram. Nothing when no event was. */
void hub_fanout_written(struct hub *h, int64_t now_ms);

/* hub_journal_ready starts the subscribers that waited for the journal. */
void hub_journal_ready(struct hub *h);

/* hub_reset_all tells every subscriber to refetch: the journal they
 * followed is gone (a database recreated under the daemon). */
void hub_reset_all(struct hub *h);

/* hub_catch_up refills, once more each, the subscribers whose catch-up
 * stopped at the batch bound; nothing when h->catching_up is clear. */
void hub_catch_up(struct hub *h);

/* hub_tick sends heartbeats and drops stalled connections when due. */
void hub_tick(struct hub *h, int64_t now);

/* hub_shutdown ends every subscriber politely (WebSockets get 1001). */
void hub_shutdown(struct hub *h);

#endif
