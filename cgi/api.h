/* api.h - the HTTP API: route table and handlers over the store. */
#ifndef FP_API_H
#define FP_API_H

#include <stdatomic.h>
#include "store.h"
#include "request.h"
#include "route.h"
#include "apimetrics.h"

/*
 * What one worker keeps between requests: the configuration (borrowed)
 * and its own store, opened on first use so a database that is briefly
 * busy at start-up does not take the worker down.
 */
struct api_env {
	const struct config *cfg;
	struct store store;
	int store_ready;
	const atomic_int *stop;       /* non-zero: the process is stopping;
					 long-polls answer at once */
	struct checkpoint *checkpoint; /* takes the store's WAL checkpoints,
					 or NULL */
	struct apimetrics *metrics;   /* counts every request, serves
					 /api/metrics; NULL: neither */
};

/* api_env_init prepares env; stop may be NULL (CGI: nothing stops us);
 * checkpoint, when not NULL, takes the WAL checkpoints of the store's
 * writes off the requests (FastCGI: one thread for all workers) and must
 * outlive env; so must metrics (api_metrics_open), when not NULL. */
void api_env_init(struct api_env *env, const struct config *cfg,
	const atomic_int *stop, struct checkpoint *checkpoint,
	struct apimetrics *metrics);

/*
 * api_metrics_open maps the request counters of cfg's database
 * (<database>-metrics, see cgi/apimetrics.h) with one slot a route of the
 * route table and one for requests that match none. With api_metrics off
 * it returns 0 and leaves m zeroed. Returns 0, or -1 with err set (m
 * zeroed: requests are then not counted).
 */
int api_metrics_open(struct apimetrics *m, const struct config *cfg,
	struct ferr *err);

/* api_env_release closes the store. */
void api_env_release(struct api_env *env);

/*
 * api_serve answers one request from io completely: reads and parses it,
 * routes it, runs the handler and writes the answer through io. Every
 * failure becomes a JSON error answer (or a 303 back to the page for an
 * HTML form); nothing read from io is kept after it returns.
 *
 * Form answers: a request whose body was a form (and that did not ask for
 * JSON in Accept) is answered with 303 See Other. On success the Location
 * is the form's _redirect (a path on this site), else the Referer's path
 * (same origin only), else "/". On failure it is the same target with
 * "error=<code>&message=<text>" added to its query (both percent-encoded,
 * replacing earlier ones), so the page can show what went wrong. The
 * JSON answer is the body of the 303 in both cases.
 */
void api_serve(struct api_env *env, const struct request_io *io);

#endif
