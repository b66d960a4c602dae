/* failpage.h - the HTML page that tells a person why a form was not saved. */
#ifndef FP_FAILPAGE_H
#define FP_FAILPAGE_H

#include "ferr.h"

/*
 * failpage_render builds a small self-contained HTML page (UTF-8) titled
 * "Not saved" for a form that failed with err: err's message (a generic
 * sentence when err has no status), each entry of err->fields as
 * "<path>: <message>", that the browser's Back button returns to the form
 * with what was typed, and a link to back. page is the local path the form
 * came from (redirect_form_target): the console's stylesheet and home page
 * are linked from its folder, as the pages themselves link them. Every
 * text and attribute is HTML-escaped; nothing that was typed is shown
 * (back carries it only when the caller put it there). page and back are
 * borrowed. Returns a malloc'd string, or NULL when out of memory.
 */
char *failpage_render(const char *page, const char *back,
	const struct ferr *err);

#endif
