/* event.h - refcounted byte buffers and journal events encoded once for every subscriber; no I/O. */
#ifndef FP_EVENT_H
#define FP_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* A pbuf is an immutable byte string shared by reference: one encoded
 * event is queued on every connection that wants it without a copy. */
struct pbuf {
	unsigned refs;
	size_t len;
	uint8_t data[];
};

/* event_buf_new copies data[0..len) (data may be NULL: zero-filled) into a new
 * buffer holding one reference. NULL when out of memory. */
struct pbuf *event_buf_new(const void *data, size_t len);

/* event_buf_ref adds a reference and returns b; event_buf_unref drops one
 * and frees the buffer with the last (NULL is ignored). */
struct pbuf *event_buf_ref(struct pbuf *b);
void event_buf_unref(struct pbuf *b);

/*
 * One journal event as sent: its seq, what it is about (for topic
 * matching) and its bytes. The WebSocket frame is made at once (its
 * payload is the event JSON); the SSE form is made the first time an SSE
 * subscriber wants it.
 */
struct pevent {
	unsigned refs;
	int64_t seq;
	char *topic;         /* owned */
	char *id;            /* owned; NULL for dashboard */
	struct pbuf *ws;     /* text frame: header + JSON */
	size_t json_off;     /* where the JSON starts in ws->data */
	struct pbuf *sse;    /* "id: N\ndata: JSON\n\n", NULL until needed */
	size_t cost;         /* bytes it holds once both forms exist */
};

/*
 * event_new makes an event from its JSON text (json[0..len), copied),
 * topic and id (copied; id may be NULL). Returns it with one reference,
 * or NULL when out of memory.
 */
struct pevent *event_new(int64_t seq, const char *topic, const char *id,
	const char *json, size_t len);

struct pevent *event_ref(struct pevent *ev);
void event_unref(struct pevent *ev);

/* event_sse returns the SSE form (borrowed; take a reference to keep it),
 * making it on first use. NULL when out of memory. */
struct pbuf *event_sse(struct pevent *ev);

/* event_cost gives the bytes ev holds in memory once both of its forms
 * are made: what a byte budget (the ring's) counts. */
size_t event_cost(const struct pevent *ev);

/* event_json gives the JSON text (borrowed) and its length. */
const char *event_json(const struct pevent *ev, size_t *len);

#endif
