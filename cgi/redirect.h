/* redirect.h - the 303 answer to a form: its target, with any error in its query. */
#ifndef FP_REDIRECT_H
#define FP_REDIRECT_H

#include "request.h"

/* redirect_local_path is non-zero when s is a path on this site: starts
 * with one '/', not "//" or "/\\", printable ASCII without spaces. */
int redirect_local_path(const char *s);

/*
 * redirect_form_target picks where a form answer goes: the form's
 * _redirect when redirect_local_path accepts it, else the path of a
 * same-origin Referer, else "/". Returns a malloc'd string or NULL when
 * out of memory.
 */
char *redirect_form_target(const struct request *rq);

/*
 * redirect_error_target adds "error=<code>&message=<message>" (both
 * percent-encoded) to the query of target, replacing any error and
 * message already there and keeping a #fragment last. Returns a malloc'd
 * string or NULL when out of memory.
 */
char *redirect_error_target(const char *target, const char *code,
	const char *message);

/* redirect_wants_form_answer is non-zero when the request carried a form
 * and the client did not ask for JSON (Accept naming application/json
 * and not text/html): such requests are answered with 303. */
int redirect_wants_form_answer(const struct request *rq);

#endif
