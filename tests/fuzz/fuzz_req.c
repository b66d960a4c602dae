/* fuzz_req.c - libFuzzer target: subscription request parsing (query values, Last-Event-ID, token, origin, headers). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "origin.h"
#include "req.h"
#include "sse.h"
#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* field returns a NUL-terminated copy of the next '\n'-separated field,
 * or NULL when the field is "-" (absent). */
static char *field(const uint8_t **p, const uint8_t *end, char **owned)
{
	const uint8_t *s = *p, *e = s;
	char *out;

	while (e < end && *e != '\n')
		e++;
	*p = e < end ? e + 1 : end;
	out = malloc((size_t)(e - s) + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	*owned = out;
	return strcmp(out, "-") == 0 ? NULL : out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *own[8] = { 0 };
	struct push_req_in in;
	struct push_req r;
	struct ferr err;
	char accept[WS_ACCEPT_LEN];
	const char *secret, *origin, *host, *allow;
	int64_t seq;
	int i;

	memset(&in, 0, sizeof(in));
	in.since = field(&p, end, &own[0]);
	in.last_event_id = field(&p, end, &own[1]);
	in.topics = field(&p, end, &own[2]);
	in.token = field(&p, end, &own[3]);
	secret = field(&p, end, &own[4]);
	origin = field(&p, end, &own[5]);
	host = field(&p, end, &own[6]);
	allow = field(&p, end, &own[7]);

	ferr_init(&err);
	if (req_parse(&r, &in, secret, 1700000000, &err) == 0) {
		if (r.has_since && r.since < 0)
			abort();
		req_release(&r);
	} else if (err.status < 400 || err.status > 403) {
		abort();
	}
	ferr_release(&err);
	origin_allowed(origin, "http", host, allow);
	if (origin != NULL)
		origin_same(origin, strlen(origin), "https", host);
	if (host != NULL) {
		req_header_has_token(host, "upgrade");
		if (ws_accept_key(host, accept) == 0 &&
			strlen(accept) != WS_ACCEPT_LEN - 1)
			abort();
	}
	if (in.since != NULL && sse_parse_last_event_id(in.since, &seq) == 0 &&
		seq < 0)
		abort();
	for (i = 0; i < 8; i++)
		free(own[i]);
	return 0;
}
