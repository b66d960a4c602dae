/* header.h - HTTP header values: methods, Content-Type, If-Match, ETags. */
#ifndef FP_HEADER_H
#define FP_HEADER_H

#include <stddef.h>

/* Methods as bits, so a route can allow several and 405 can list them. */
enum request_method {
	RM_GET = 1 << 0,
	RM_HEAD = 1 << 1,
	RM_POST = 1 << 2,
	RM_PUT = 1 << 3,
	RM_PATCH = 1 << 4,
	RM_DELETE = 1 << 5,
	RM_OPTIONS = 1 << 6,
};

/* The methods that change state: origin and user checks apply to them. */
#define RM_WRITES (RM_POST | RM_PUT | RM_PATCH | RM_DELETE)

/* header_method_parse maps "GET" etc. to its bit; 0 when unknown. */
unsigned header_method_parse(const char *name);

/* header_allow_format writes the methods of mask as an Allow value
 * ("GET, HEAD, POST") into buf. Returns buf. */
char *header_allow_format(unsigned mask, char *buf, size_t size);

/*
 * header_content_type_parse splits a Content-Type value into the media
 * type (lower case) and the charset parameter (lower case, unquoted; ""
 * when absent). Returns 0, or -1 when the value is malformed or does not
 * fit.
 */
int header_content_type_parse(const char *value, char *type,
	size_t type_size, char *charset, size_t charset_size);

/*
 * header_if_match_parse reads If-Match: NULL or "*" give -1 (no version
 * condition); "\"<n>\"" gives n. Returns 0, or -1 when malformed (weak
 * tags and lists of several cannot name one version: malformed).
 */
int header_if_match_parse(const char *value, long long *version);

/* header_etag_matches is non-zero when an If-None-Match value names
 * version: "*", or a comma-separated list of "\"<n>\"" with or without W/. */
int header_etag_matches(const char *value, long long version);

#endif
