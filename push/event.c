/* event.c - refcounted byte buffers and journal events encoded once. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "sse.h"
#include "ws.h"

struct pbuf *event_buf_new(const void *data, size_t len)
{
	struct pbuf *b = malloc(sizeof(*b) + len);

	if (b == NULL)
		return NULL;
	b->refs = 1;
	b->len = len;
	if (data != NULL)
		memcpy(b->data, data, len);
	else
		memset(b->data, 0, len);
	return b;
}

struct pbuf *event_buf_ref(struct pbuf *b)
{
	b->refs++;
	return b;
}

void event_buf_unref(struct pbuf *b)
{
	if (b != NULL && --b->refs == 0)
		free(b);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct pevent *event_new(int64_t seq, const char *topic, const char *id,
	const char *json, size_t len)
{
	struct pevent *ev = calloc(1, sizeof(*ev));
	uint8_t hdr[WS_HEADER_MAX];
	size_t hlen;

	if (ev == NULL)
		return NULL;
	ev->refs = 1;
	ev->seq = seq;
	ev->topic = strdup(topic != NULL ? topic : "");
	ev->id = dup_or_null(id);
	hlen = ws_frame_header(hdr, WS_OP_TEXT, 1, len);
	ev->ws = event_buf_new(NULL, hlen + len);
	if (ev->topic == NULL || (id != NULL && ev->id == NULL) ||
		ev->ws == NULL) {
		event_unref(ev);
		return NULL;
	}
	memcpy(ev->ws->data, hdr, hlen);
	memcpy(ev->ws->data + hlen, json, len);
	ev->json_off = hlen;
	ev->cost = sizeof(*ev) + strlen(ev->topic) + 1 +
		(id != NULL ? strlen(id) + 1 : 0) +
		2 * sizeof(struct pbuf) + ev->ws->len +
		sse_format_event(NULL, 0, NULL, seq, json, len);
	return ev;
}

struct pevent *event_ref(struct pevent *ev)
{
	ev->refs++;
	return ev;
}

void event_unref(struct pevent *ev)
{
	if (ev == NULL || --ev->refs > 0)
		return;
	free(ev->topic);
	free(ev->id);
	event_buf_unref(ev->ws);
	event_buf_unref(ev->sse);
	free(ev);
}

size_t event_cost(const struct pevent *ev)
{
	return ev->cost;
}

const char *event_json(const struct pevent *ev, size_t *len)
{
	*len = ev->ws->len - ev->json_off;
	return (const char *)ev->ws->data + ev->json_off;
}

struct pbuf *event_sse(struct pevent *ev)
{
	const char *json;
	size_t len, need;

	if (ev->sse != NULL)
		return ev->sse;
	json = event_json(ev, &len);
	need = sse_format_event(NULL, 0, NULL, ev->seq, json, len);
	ev->sse = event_buf_new(NULL, need);
	if (ev->sse == NULL)
		return NULL;
	sse_format_event((char *)ev->sse->data, need, NULL, ev->seq, json, len);
	return ev->sse;
}
