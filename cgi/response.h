/* response.h - one answer: status, headers, JSON, CGI-style output. */
#ifndef FP_RESPONSE_H
#define FP_RESPONSE_H

#include <stddef.h>
#include <jansson.h>
#include "ferr.h"

#define RESPONSE_MAX_HEADERS 12

struct response_header {
	char *name;
	char *value;
};

/*
 * Every answer is JSON (an HTML page only where response_html_take made
 * it one) with Cache-Control: no-store; response_render adds those,
 * Content-Length and the CGI "Status:" line itself.
 */
struct response {
	int status;                   /* 0 until set: renders as 500 */
	size_t nheaders;
	struct response_header headers[RESPONSE_MAX_HEADERS];
	char *body;                   /* owned; NULL = no body */
	size_t body_len;
	const char *content_type;     /* static; NULL = application/json */
	int head_only;                /* HEAD: headers, no body */
};

/* response_init empties r; response_release frees its contents. */
void response_init(struct response *r);
void response_release(struct response *r);

/* response_reset drops status, headers and body (head_only is kept), to
 * answer with an error after all. */
void response_reset(struct response *r);

/*
 * response_header adds one header. The value is refused (-1, nothing
 * added) when it holds control characters, so no input can split the
 * header block; also -1 when the table is full or out of memory.
 */
int response_header(struct response *r, const char *name, const char *fmt,
	...) __attribute__((format(printf, 3, 4)));

/* response_header_drop removes every header called name. */
void response_header_drop(struct response *r, const char *name);

/* response_json sets status and the body to doc (borrowed) in compact
 * form. Returns 0, or -1 when out of memory (status set to 500). */
int response_json(struct response *r, int status, const json_t *doc);

/* response_text sets status and the body to text (len bytes, stolen:
 * freed with r even on failure) of content_type (a static string). */
void response_text(struct response *r, int status, const char *content_type,
	char *text, size_t len);

/* response_html_take sets status and the body to html (taken: r frees
 * it), sent as "text/html; charset=utf-8". */
void response_html_take(struct response *r, int status, char *html);

/* response_etag adds ETag: "<version>" when rec has an integer version. */
void response_etag(struct response *r, const json_t *rec);

/*
 * response_error answers with e: its status (500 when unset), the JSON of
 * ferr_to_json and, for 503, Retry-After (e->retry_after, at least 1).
 * Earlier headers and body are dropped first.
 */
void response_error(struct response *r, const struct ferr *e);

/*
 * response_render writes "Status: <code> <reason>", the headers, the blank
 * line and the body through write_cb. Returns 0 or -1 when writing failed
 * (the client went away: nothing more to do).
 */
int response_render(const struct response *r,
	int (*write_cb)(void *ctx, const char *buf, size_t n), void *ctx);

#endif
