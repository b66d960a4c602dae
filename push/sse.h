/* sse.h - Server-Sent Events formatting (WHATWG HTML 9.2) and Last-Event-ID parsing; no I/O. */
#ifndef FP_SSE_H
#define FP_SSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The sse_format_* functions follow snprintf's contract: they return the
 * number of bytes the whole text needs (no NUL is written or counted) and
 * write it to out only when it fits in cap; out may be NULL when cap is 0.
 */

/*
 * sse_format_event writes one event: "event: <name>\n" when name is not
 * NULL, "id: <id>\n" when id >= 0, then data[0..len) as "data:" lines
 * (a line break in data - CR, LF or CRLF - starts a new "data:" line, so
 * any text survives), then the blank line that dispatches it.
 */
size_t sse_format_event(char *out, size_t cap, const char *name, int64_t id,
	const char *data, size_t len);

/* sse_format_retry writes "retry: <ms>\n\n". */
size_t sse_format_retry(char *out, size_t cap, long ms);

/* sse_format_comment writes ": <text>\n\n" (line breaks in text become
 * spaces, so a comment never ends early). */
size_t sse_format_comment(char *out, size_t cap, const char *text);

/*
 * sse_parse_last_event_id reads a Last-Event-ID header value: a decimal
 * seq in [0, 2^53]. Surrounding spaces are tolerated. Returns 0 with *seq
 * set, or -1 when the value is not such a number.
 */
int sse_parse_last_event_id(const char *value, int64_t *seq);

#endif
