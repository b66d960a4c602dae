/* ws.c - RFC 6455 WebSocket framing: handshake key, server frames, streaming client-frame parser. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <string.h>
#include <nettle/sha1.h>
#include <nettle/base64.h>
#include "ws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum { ST_HEADER = 0, ST_PAYLOAD = 1 };

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN])
{
	struct base64_decode_ctx dctx;
	struct sha1_ctx sha;
	uint8_t raw[24];
	uint8_t digest[SHA1_DIGEST_SIZE];
	size_t klen, rawlen = sizeof(raw);

	if (key == NULL)
		return -1;
	klen = strlen(key);
	/* 16 bytes in base64 are always 24 characters ending in "==". */
	if (klen != 24 || key[22] != '=' || key[23] != '=')
		return -1;
	base64_decode_init(&dctx);
	if (!base64_decode_update(&dctx, &rawlen, raw, klen, key) ||
		!base64_decode_final(&dctx) || rawlen != 16)
		return -1;
	sha1_init(&sha);
	sha1_update(&sha, klen, (const uint8_t *)key);
	sha1_update(&sha, sizeof(WS_GUID) - 1, (const uint8_t *)WS_GUID);
	sha1_digest(&sha, sizeof(digest), digest);
	base64_encode_raw(out, sizeof(digest), digest);
	out[WS_ACCEPT_LEN - 1] = '\0';
	return 0;
}

size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], enum ws_opcode op, int fin,
	uint64_t len)
{
	size_t n;
	int i;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	n = 2;
	for (i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(len >> (8 * i));
	return n;
}

size_t ws_close_frame(uint8_t out[WS_CLOSE_FRAME_MAX], uint16_t code,
	const char *reason)
{
	size_t rlen = 0, n;

	if (code == 0)
		return ws_frame_header(out, WS_OP_CLOSE, 1, 0);
	if (reason != NULL)
		rlen = utf8_cut(reason, strlen(reason), WS_MAX_CONTROL - 2);
	n = ws_frame_header(out, WS_OP_CLOSE, 1, 2 + rlen);
	out[n++] = (uint8_t)(code >> 8);
	out[n++] = (uint8_t)code;
	memcpy(out + n, reason != NULL ? reason : "", rlen);
	return n + rlen;
}

int ws_close_code_valid(unsigned code)
{
	if (code >= 1000 && code <= 1003)
		return 1;
	if (code >= 1007 && code <= 1014)
		return 1;
	return code >= 3000 && code <= 4999;
}

void ws_parser_init(struct ws_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = ST_HEADER;
}

static size_t fail(struct ws_parser *p, struct ws_event *ev, uint16_t code,
	const char *reason, size_t used)
{
	p->failed = 1;
	ev->type = WS_EV_ERROR;
	ev->code = code;
	ev->reason = reason;
	return used;
}

static int is_control(unsigned op)
{
	return (op & 0x08) != 0;
}

static int opcode_known(unsigned op)
{
	return op == WS_OP_CONT || op == WS_OP_TEXT || op == WS_OP_BINARY ||
		op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

/* header_need tells how many header bytes this frame has, from its first
 * two bytes. */
static size_t header_need(const uint8_t *h)
{
	size_t need = 2;
	unsigned len7 = h[1] & 0x7f;

	if (len7 == 126)
		need += 2;
	else if (len7 == 127)
		need += 8;
	if (h[1] & 0x80)
		need += 4;
	return need;
}

/* check_start validates what the first two bytes say. Returns 0 or the
 * close code with *why set. */
static uint16_t check_start(const struct ws_parser *p, const char **why)
{
	unsigned op = p->hdr[0] & 0x0f;
	int fin = (p->hdr[0] & 0x80) != 0;
	unsigned len7 = p->hdr[1] & 0x7f;

	if (p->hdr[0] & 0x70) {
		*why = "reserved bits set";
		return WS_CLOSE_PROTOCOL;
	}
	if (!opcode_known(op)) {
		*why = "unknown opcode";
		return WS_CLOSE_PROTOCOL;
	}
	if (!(p->hdr[1] & 0x80)) {
		*why = "client frame not masked";
		return WS_CLOSE_PROTOCOL;
	}
	if (is_control(op)) {
		if (!fin) {
			*why = "fragmented control frame";
			return WS_CLOSE_PROTOCOL;
		}
		if (len7 > WS_MAX_CONTROL) {
			*why = "control frame too long";
			return WS_CLOSE_PROTOCOL;
		}
		return 0;
	}
	if (op == WS_OP_CONT && p->msg_opcode == 0) {
		*why = "continuation without a message";
		return WS_CLOSE_PROTOCOL;
	}
	if (op != WS_OP_CONT && p->msg_opcode != 0) {
		*why = "new message inside a fragmented one";
		return WS_CLOSE_PROTOCOL;
	}
	return 0;
}

/* header_finish decodes the length and mask of a complete header and
 * checks them. Returns 0 or the close code with *why set. */
static uint16_t header_finish(struct ws_parser *p, const char **why)
{
	unsigned len7 = p->hdr[1] & 0x7f;
	uint64_t len = len7;
	size_t k = 2;
	int i;

	if (len7 == 126) {
		len = ((uint64_t)p->hdr[2] << 8) | p->hdr[3];
		k = 4;
		if (len < 126) {
			*why = "length not in its shortest form";
			return WS_CLOSE_PROTOCOL;
		}
	} else if (len7 == 127) {
		len = 0;
		for (i = 0; i < 8; i++)
			len = (len << 8) | p->hdr[2 + i];
		k = 10;
		if (len >> 63) {
			*why = "length with the top bit set";
			return WS_CLOSE_PROTOCOL;
		}
		if (len <= 0xffff) {
			*why = "length not in its shortest form";
			return WS_CLOSE_PROTOCOL;
		}
	}
	memcpy(p->mask, p->hdr + k, 4);
	p->mask_off = 0;
	p->fin = (p->hdr[0] & 0x80) != 0;
	p->opcode = (enum ws_opcode)(p->hdr[0] & 0x0f);
	p->remaining = len;
	if (is_control(p->opcode)) {
		p->ctl_len = 0;
		return 0;
	}
	if (p->opcode != WS_OP_CONT) {
		p->msg_opcode = p->opcode;
		p->msg_len = 0;
		utf8_stream_init(&p->utf8);
	}
	if (len > WS_MAX_MESSAGE || p->msg_len + len > WS_MAX_MESSAGE) {
		*why = "message too big";
		return WS_CLOSE_TOO_BIG;
	}
	return 0;
}

/* frame_end reports what a finished frame means. Returns 1 when ev holds
 * an event, 0 when there is nothing to report. */
static int frame_end(struct ws_parser *p, struct ws_event *ev)
{
	unsigned code;

	p->state = ST_HEADER;
	p->hdr_len = 0;
	if (!is_control(p->opcode)) {
		if (!p->fin)
			return 0;
		if (p->msg_opcode == WS_OP_TEXT && utf8_stream_done(&p->utf8)) {
			p->failed = 1;
			ev->type = WS_EV_ERROR;
			ev->code = WS_CLOSE_BAD_DATA;
			ev->reason = "invalid UTF-8 in a text message";
			return 1;
		}
		ev->type = WS_EV_MESSAGE;
		ev->opcode = p->msg_opcode;
		ev->message_len = p->msg_len;
		p->msg_opcode = 0;
		p->msg_len = 0;
		return 1;
	}
	ev->data = p->ctl;
	ev->len = p->ctl_len;
	if (p->opcode == WS_OP_PING) {
		ev->type = WS_EV_PING;
		return 1;
	}
	if (p->opcode == WS_OP_PONG) {
		ev->type = WS_EV_PONG;
		return 1;
	}
	/* Close: an optional 2-byte code, then an optional UTF-8 reason. */
	p->failed = 1;
	if (p->ctl_len == 1) {
		ev->type = WS_EV_ERROR;
		ev->code = WS_CLOSE_PROTOCOL;
		ev->reason = "close frame with a 1-byte body";
		return 1;
	}
	if (p->ctl_len == 0) {
		ev->type = WS_EV_CLOSE;
		ev->code = WS_CLOSE_NO_STATUS;
		ev->len = 0;
		return 1;
	}
	code = ((unsigned)p->ctl[0] << 8) | p->ctl[1];
	if (!ws_close_code_valid(code)) {
		ev->type = WS_EV_ERROR;
		ev->code = WS_CLOSE_PROTOCOL;
		ev->reason = "invalid close code";
		return 1;
	}
	if (!utf8_valid((const char *)p->ctl + 2, p->ctl_len - 2)) {
		ev->type = WS_EV_ERROR;
		ev->code = WS_CLOSE_BAD_DATA;
		ev->reason = "invalid UTF-8 in a close reason";
		return 1;
	}
	ev->type = WS_EV_CLOSE;
	ev->code = (uint16_t)code;
	ev->data = p->ctl + 2;
	ev->len = p->ctl_len - 2;
	return 1;
}

size_t ws_parser_feed(struct ws_parser *p, uint8_t *data, size_t len,
	struct ws_event *ev)
{
	size_t used = 0, n, i;
	const char *why = NULL;
	uint16_t code;

	memset(ev, 0, sizeof(*ev));
	if (p->failed)
		return 0;
	for (;;) {
		if (p->state == ST_PAYLOAD && p->remaining == 0) {
			if (frame_end(p, ev))
				return used;
			continue;
		}
		if (used == len)
			return used;
		if (p->state == ST_HEADER) {
			p->hdr[p->hdr_len++] = data[used++];
			if (p->hdr_len == 2) {
				code = check_start(p, &why);
				if (code != 0)
					return fail(p, ev, code, why, used);
			}
			if (p->hdr_len < 2 || p->hdr_len < header_need(p->hdr))
				continue;
			code = header_finish(p, &why);
			if (code != 0)
				return fail(p, ev, code, why, used);
			p->state = ST_PAYLOAD;
			p->frames++;
			continue;
		}
		n = len - used;
		if (n > p->remaining)
			n = (size_t)p->remaining;
		for (i = 0; i < n; i++)
			data[used + i] ^= p->mask[(p->mask_off + i) & 3];
		p->mask_off = (unsigned)((p->mask_off + n) & 3);
		p->remaining -= n;
		if (is_control(p->opcode)) {
			memcpy(p->ctl + p->ctl_len, data + used, n);
			p->ctl_len += n;
			used += n;
			continue;
		}
		if (p->msg_opcode == WS_OP_TEXT &&
			utf8_stream_feed(&p->utf8, data + used, n))
			return fail(p, ev, WS_CLOSE_BAD_DATA,
				"invalid UTF-8 in a text message", used + n);
		p->msg_len += n;
		ev->type = WS_EV_DATA;
		ev->opcode = p->msg_opcode;
		ev->data = data + used;
		ev->len = n;
		return used + n;
	}
}

void ws_rate_init(struct ws_rate *r, int64_t now_ms, long burst)
{
	r->last_ms = now_ms;
	r->tokens = (int64_t)burst * 1000;
}

int ws_rate_take(struct ws_rate *r, int64_t now_ms, uint64_t n, long rate,
	long burst)
{
	int64_t cap = (int64_t)burst * 1000;

	if (now_ms > r->last_ms) {
		/* ms × frames per second = thousandths of a frame */
		int64_t add = (now_ms - r->last_ms) * rate;

		r->tokens = add >= cap - r->tokens ? cap : r->tokens + add;
		r->last_ms = now_ms;
	}
	if (n > (uint64_t)INT64_MAX / 1000 || (int64_t)n * 1000 > r->tokens)
		return -1;
	r->tokens -= (int64_t)n * 1000;
	return 0;
}
