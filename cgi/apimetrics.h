/* apimetrics.h - the API's request counters, shared by every process through one mapped file. */
#ifndef FP_APIMETRICS_H
#define FP_APIMETRICS_H

#include <stddef.h>
#include <stdint.h>
#include "ferr.h"

/*
 * flowpush.fcgi runs as one process with many threads (spawn-fcgi), as
 * many processes of one request each (mod_fcgid), or as one process per
 * request (CGI): no process sees all the requests. So the counters live
 * in one small file beside the database (<database>-metrics), mapped
 * shared by every process and added to with lock-free atomics; a scrape
 * of /api/metrics from any process reads the sum of all. The counts
 * survive restarts (Prometheus counters only ever grow); a file written
 * for another route table (after an upgrade) is cleared once.
 */

/* The latency buckets, ms (upper bounds; +Inf follows). */
#define APIMETRICS_BUCKETS 14
extern const unsigned apimetrics_le[APIMETRICS_BUCKETS];

struct apimetrics_file;

/* One process's view of the file. Zeroed: counting does nothing. */
struct apimetrics {
	struct apimetrics_file *file;
	size_t size;                  /* of the mapping */
	size_t nslots;                /* routes counted apart */
};

/* The labels of one slot: the route's pattern and method. */
struct apimetrics_label {
	const char *route;            /* "/api/{c}" */
	const char *method;           /* "GET" */
};

/*
 * apimetrics_open maps the file at path (made with mode 0660 when
 * missing) with nslots slots; tag names what the slots count (a hash of
 * the route table), so that a file whose slots meant other routes is
 * cleared instead of read under the wrong labels. The layout check and clearing happen under
 * an flock, so processes that start together agree. Returns 0, or -1
 * with err set and m zeroed (requests are then simply not counted).
 */
int apimetrics_open(struct apimetrics *m, const char *path, size_t nslots,
	uint64_t tag, struct ferr *err);

/* apimetrics_close unmaps the file; m is zeroed. */
void apimetrics_close(struct apimetrics *m);

/* apimetrics_count adds one request of slot, answered with status after
 * us microseconds. Safe from any thread of any process; no-op on a
 * zeroed m or a slot out of range. */
void apimetrics_count(struct apimetrics *m, size_t slot, int status,
	uint64_t us);

/*
 * apimetrics_render writes the counters in the Prometheus text format:
 * flowpush_api_requests_total{route,method,status},
 * flowpush_api_errors_total{route,method,class="client"|"server"} and the
 * histogram flowpush_api_request_ms{route,method}, for every slot that
 * has answered a request; labels has one entry a slot. Returns a new
 * string (the caller frees) with its length in *len, or NULL.
 */
char *apimetrics_render(const struct apimetrics *m,
	const struct apimetrics_label *labels, size_t *len);

#endif
