/* req.h - reading a subscription request: since, topics, token; pure, no I/O. */
#ifndef FP_REQ_H
#define FP_REQ_H

#include <stdint.h>
#include "ferr.h"
#include "topic.h"

/* What a subscriber asked for, once checked. */
struct push_req {
	int has_since;             /* 0: start from now */
	int64_t since;
	struct topic_list topics;  /* what the connection will receive */
};

/* The raw values of one request; any may be NULL (absent). */
struct push_req_in {
	const char *since;          /* query since= */
	const char *last_event_id;  /* Last-Event-ID header (SSE) */
	const char *topics;         /* query topics= */
	const char *token;          /* query token= */
};

/*
 * req_parse checks a subscription. Last-Event-ID wins over since; either
 * must be a decimal seq (400 bad_since otherwise). When secret is not
 * empty a token is required and verified against now (401), and the topics
 * asked for must lie within the token's (403 forbidden_topics); no topics
 * asked for means the token's. Without a secret, no topics means all.
 * Returns 0 with out filled (release with req_release), or -1 with err set
 * (out needs no release then).
 */
int req_parse(struct push_req *out, const struct push_req_in *in,
	const char *secret, int64_t now, struct ferr *err);

/* req_release frees what req_parse put in r. */
void req_release(struct push_req *r);

/*
 * req_header_has_token is non-zero when the comma-separated header value
 * (e.g. Connection: keep-alive, Upgrade) holds token, compared without
 * regard to case and surrounding spaces.
 */
int req_header_has_token(const char *value, const char *token);

#endif
