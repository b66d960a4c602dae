/* metrics.h - the /push/metrics page: every module's counters as Prometheus text. */
#ifndef FP_METRICS_H
#define FP_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "conn.h"
#include "hub.h"
#include "tail.h"

/* Where the figures come from (all borrowed). */
struct metrics_src {
	const struct conn_set *set;
	const struct hub *hub;
	struct tail *tail;         /* asked for the journal's lag */
	uint64_t refused_limit;    /* 503 answers at the connection limit */
	int64_t started_ms;        /* mono ms the daemon started */
};

/* metrics_render writes the page for src. Returns a new string (free it)
 * with its length in *len, or NULL when out of memory. */
char *metrics_render(const struct metrics_src *src, size_t *len);

#endif
