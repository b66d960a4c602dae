/* redirect.h - the 303 answer to a form: its target, with any error in its query. */
#ifndef FP_REDIRECT_H
#define FP_REDIRECT_H

#include "ferr.h"
#include "form.h"
#include "request.h"
#include "resource.h"

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

/* The longest Location a failed form gets (bytes), so that the answer's
 * headers fit nginx's default FastCGI header buffer (4 KiB). */
#define REDIRECT_MAX 3000

/*
 * redirect_error_target builds where a failed form goes back to: target
 * with, added to its query (all percent-encoded),
 *   error=<code>&message=<message>  always (from err; 500 when unset);
 *   form=<id>                       the form's _form field, when it is
 *                                   1-64 letters, digits, '-' or '_';
 *   field.<path>=<message>          one per entry of err->fields;
 *   value.<name>=<value>            one per pair of form, in order, except
 *                                   names starting with '_' and fields
 *                                   that res declares secret (all values
 *                                   when res is NULL);
 *   partial=1                       when a field or value was left out to
 *                                   keep the whole within REDIRECT_MAX.
 * Such parameters of an earlier failure already in target's query are
 * replaced. The fragment becomes #<id>-failed when the form named itself,
 * else target's fragment is kept. form and res may be NULL. Returns a
 * malloc'd string or NULL when out of memory.
 */
char *redirect_error_target(const char *target, const struct ferr *err,
	const struct form *form, const struct resource *res);

/* redirect_wants_form_answer is non-zero when the request carried a form
 * and the client did not ask for JSON (Accept naming application/json
 * and not text/html): such requests are answered for a browser, with 303
 * on success (and a failure as redirect_script_takes_failure says). */
int redirect_wants_form_answer(const struct request *rq);

/*
 * redirect_script_takes_failure is non-zero when the form carries
 * _script=1, which the console's script adds to every form of a page it
 * runs in: that script reads a failure from the page's address, so a
 * failure is answered 303 to redirect_error_target. Without it (no
 * JavaScript, or a post before the script ran) a failure is answered with
 * a page of its own (failpage.c), which a static page could not show.
 */
int redirect_script_takes_failure(const struct request *rq);

#endif
