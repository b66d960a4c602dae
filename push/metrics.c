/* metrics.c - the /push/metrics page: every module's counters as Prometheus text. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "metrics.h"
#include "strbuf.h"
#include "util.h"

static void metric(struct strbuf *b, const char *name, const char *type,
	const char *help, uint64_t v)
{
	strbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help,
		name, type, name, v);
}

/* counters writes what the modules counted since the start. */
static void counters(struct strbuf *b, const struct metrics_src *src)
{
	const struct hub_stats *h = &src->hub->stats;
	const struct tail_stats *t = &src->tail->stats;

	metric(b, "flowpush_events_in_total", "counter",
		"Journal rows read and published.", t->events_in);
	metric(b, "flowpush_events_out_total", "counter",
		"Events queued to subscribers.", h->deliveries);
	metric(b, "flowpush_bytes_out_total", "counter",
		"Bytes handed to subscriber sockets.", src->set->bytes_out);
	metric(b, "flowpush_resumes_total", "counter",
		"Subscriptions that resumed from a seq.", h->resumes);
	metric(b, "flowpush_resets_total", "counter",
		"Reset messages sent.", h->resets);
	metric(b, "flowpush_fell_behind_total", "counter",
		"Live subscribers whose full queue made them read the backlog.",
		h->fell_behind);
	metric(b, "flowpush_slow_consumer_drops_total", "counter",
		"Connections closed as slow consumers.", src->set->slow_drops);
	metric(b, "flowpush_refused_total", "counter",
		"Subscriptions refused at the connection limit.",
		src->refused_limit);
	metric(b, "flowpush_skipped_rows_total", "counter",
		"Journal rows skipped because they could not be parsed.",
		t->skipped_rows);
	metric(b, "flowpush_catchup_reads_total", "counter",
		"Resume batches read from the database.", h->db_catchup_reads);
}

/* fanout writes the commit-to-written histogram. */
static void fanout(struct strbuf *b, const struct hub_stats *h)
{
	uint64_t n = 0;
	size_t i;

	strbuf_addf(b, "# HELP flowpush_fanout_ms From an event's commit to "
		"its last subscriber write handed to the kernel, ms.\n"
		"# TYPE flowpush_fanout_ms histogram\n");
	for (i = 0; i < HUB_FANOUT_BUCKETS; i++) {
		n += h->fanout_le[i];
		strbuf_addf(b, "flowpush_fanout_ms_bucket{le=\"%u\"} %" PRIu64
			"\n", hub_fanout_le[i], n);
	}
	strbuf_addf(b, "flowpush_fanout_ms_bucket{le=\"+Inf\"} %" PRIu64 "\n"
		"flowpush_fanout_ms_sum %" PRIu64 "\nflowpush_fanout_ms_count %"
		PRIu64 "\n", h->fanout_count, h->fanout_sum_ms, h->fanout_count);
}

/* queued_bytes sums every connection's unsent bytes (a scrape is
 * rare: no running total is kept). Shared buffers count once per queue. */
static uint64_t queued_bytes(const struct conn_set *set)
{
	const struct conn *c;
	uint64_t n = 0;

	for (c = set->all; c != NULL; c = c->next)
		n += c->qbytes;
	return n;
}

/* gauges writes how things stand now. */
static void gauges(struct strbuf *b, const struct metrics_src *src)
{
	const struct ring *r = &src->tail->ring;
	int64_t lag_ms = src->tail->stats.lag_ms;

	metric(b, "flowpush_last_seq", "gauge",
		"Newest journal seq read.", (uint64_t)r->last);
	metric(b, "flowpush_journal_lag_seq", "gauge",
		"Journal rows written but not yet read.",
		(uint64_t)tail_lag_seq(src->tail));
	metric(b, "flowpush_journal_lag_ms", "gauge",
		"Commit to read delay of the newest event, ms.",
		(uint64_t)(lag_ms > 0 ? lag_ms : 0));
	metric(b, "flowpush_ring_events", "gauge",
		"Events kept in memory for resumes.", (uint64_t)r->n);
	metric(b, "flowpush_ring_bytes", "gauge",
		"Bytes of the events kept in memory (push_ring_bytes).",
		(uint64_t)r->bytes);
	metric(b, "flowpush_queued_bytes", "gauge",
		"Bytes queued for subscribers, not yet written.",
		queued_bytes(src->set));
	metric(b, "flowpush_uptime_seconds", "gauge",
		"Seconds since the daemon started.",
		(uint64_t)((util_mono_ms() - src->started_ms) / 1000));
}

char *metrics_render(const struct metrics_src *src, size_t *len)
{
	struct strbuf b = { NULL, 0, 0, 0 };
	char *text;

	strbuf_addf(&b, "# HELP flowpush_connections Open subscriber "
		"connections.\n# TYPE flowpush_connections gauge\n"
		"flowpush_connections{transport=\"websocket\"} %zu\n"
		"flowpush_connections{transport=\"sse\"} %zu\n",
		src->set->n[CONN_WS], src->set->n[CONN_SSE]);
	counters(&b, src);
	gauges(&b, src);
	fanout(&b, &src->hub->stats);
	*len = b.len;
	text = strbuf_take(&b);
	return text;
}
