/* request.h - one HTTP request, read from the CGI environment into struct request. */
#ifndef FP_REQUEST_H
#define FP_REQUEST_H

#include <stddef.h>
#include <jansson.h>
#include "ferr.h"
#include "form.h"
#include "header.h"

/* The media type of an HTML form post. */
#define REQUEST_FORM_TYPE "application/x-www-form-urlencoded"

enum request_body {
	BODY_NONE,   /* no bytes */
	BODY_JSON,   /* json holds the object */
	BODY_FORM,   /* form holds the pairs */
	BODY_OTHER,  /* bytes of a type we do not take; body_err says 415 */
};

/*
 * Where a request comes from and its answer goes: the CGI environment and
 * stdin/stdout, or one FastCGI request. Strings returned by param_cb are
 * borrowed only until the next call; request_read copies what it keeps.
 */
struct request_io {
	void *ctx;
	/* the CGI variable name, or NULL when it is not set */
	const char *(*param_cb)(void *ctx, const char *name);
	/* reads up to n bytes, fewer only at the end of the body; -1 error */
	long (*read_cb)(void *ctx, char *buf, size_t n);
	/* after the declared length: returns bytes that are there anyway (at
	 * most n, without waiting for more to arrive), 0 when none; -1 error */
	long (*read_more_cb)(void *ctx, char *buf, size_t n);
	/* writes all n bytes of the answer; 0 or -1 */
	int (*write_cb)(void *ctx, const char *buf, size_t n);
	/* without CONTENT_LENGTH, the body runs to the end of the stream
	 * (FastCGI); otherwise there is no body (CGI) */
	int body_to_eof;
};

#define REQUEST_MAX_SEGS 16

struct request {
	unsigned method;         /* effective: a form's _method applied */
	unsigned raw_method;     /* as sent; 0 when not one we know */
	char *method_name;       /* as sent */
	char *path;              /* raw path of REQUEST_URI, no query */
	char *prefix;            /* raw path before the "/api" segment */
	char *seg[REQUEST_MAX_SEGS]; /* decoded segments from "api" on */
	size_t nseg;
	int too_deep;            /* more segments than we keep: no route */
	struct form query;
	char *content_type;      /* media type in lower case, or NULL */
	char *charset;           /* its charset parameter, or NULL */
	long long content_length; /* -1 when not given */
	char *if_match;
	char *if_none_match;
	char *origin;
	char *host;
	char *sec_fetch_site;
	char *referer;
	char *accept;
	char *remote_user;       /* NULL when empty */
	char *server_port;       /* SERVER_PORT */
	int https;
	char *body;              /* NUL-terminated copy of the bytes */
	size_t body_len;
	enum request_body body_kind;
	json_t *json;            /* BODY_JSON: the object; owned */
	struct form form;        /* BODY_FORM: the pairs */
	struct ferr body_err;    /* why the body cannot be used: reported only
				    by routes that take one */
};

/* request_init empties rq; request_release frees everything in it. */
void request_init(struct request *rq);
void request_release(struct request *rq);

/*
 * request_read fills rq from io: method, REQUEST_URI (path segments from
 * the "api" segment on, and the query), the headers the API uses, and the
 * body when the method may carry one (read fully, at most body_limit
 * bytes; body_decode in body.h decodes it). Every string is copied.
 * Returns 0,
 * or -1 with err set: 400 for a malformed URI, query or Content-Length, or
 * a body shorter or longer than Content-Length; 413 for a body over the
 * limit. rq keeps what was parsed before the failure (so a form can still
 * be answered with a redirect).
 */
int request_read(struct request *rq, const struct request_io *io,
	long body_limit, struct ferr *err);

/*
 * request_path_parse splits a raw request target ("/x/api/c/id?q") into
 * rq->path, rq->prefix ("/x") and the decoded segments from the first
 * "api" segment on (none when there is no such segment); one trailing
 * slash is dropped. Returns 0, or -1 with 400 for a malformed escape or
 * a NUL byte.
 */
int request_path_parse(struct request *rq, const char *target,
	struct ferr *err);

/*
 * request_own_origin is non-zero when origin[0..n) is the request's own:
 * scheme://Host, or scheme://Host:SERVER_PORT when Host carries no port
 * (Debian's nginx passes $host, which drops the port).
 */
int request_own_origin(const struct request *rq, const char *origin,
	size_t n);

/*
 * request_cross_origin is non-zero when a state-changing request must be
 * refused: Sec-Fetch-Site is cross-site, or an Origin is given that is not
 * the request's own (request_own_origin). No Origin at all is not
 * cross-origin: scripts and old browsers send none.
 */
int request_cross_origin(const struct request *rq);

/* request_scheme is "https" or "http". */
const char *request_scheme(const struct request *rq);

#endif
