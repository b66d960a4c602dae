/* ws.h - RFC 6455 WebSocket framing: the handshake key, server frames, a streaming client-frame parser; no I/O. */
#ifndef FP_WS_H
#define FP_WS_H

#include <stddef.h>
#include <stdint.h>
#include "utf8.h"

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005,   /* never sent: "the peer gave no code" */
	WS_CLOSE_BAD_DATA = 1007,
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
	WS_CLOSE_TRY_LATER = 1013,
};

#define WS_MAX_MESSAGE (64 * 1024) /* largest client message we accept */
#define WS_MAX_CONTROL 125         /* RFC 6455 5.5 */
#define WS_HEADER_MAX 10           /* server frame header: no mask */
#define WS_CLOSE_FRAME_MAX (2 + 2 + 123)
#define WS_ACCEPT_LEN 29           /* base64 of 20 bytes + NUL */

/*
 * ws_accept_key computes Sec-WebSocket-Accept for the client's
 * Sec-WebSocket-Key: base64(SHA-1(key + GUID)). Returns 0, or -1 when key
 * is not the base64 form of exactly 16 bytes (RFC 6455 4.2.1 item 5).
 */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN]);

/*
 * ws_frame_header writes the header of an unmasked server frame (FIN set
 * unless fin is 0) carrying len payload bytes, using the shortest length
 * form. Returns the header length (2, 4 or 10).
 */
size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], enum ws_opcode op, int fin,
	uint64_t len);

/*
 * ws_close_frame writes a whole close frame with code and reason (borrowed,
 * may be NULL); the reason is cut to 123 bytes at a character boundary.
 * code 0 writes a close frame without a body. Returns the frame length.
 */
size_t ws_close_frame(uint8_t out[WS_CLOSE_FRAME_MAX], uint16_t code,
	const char *reason);

/* ws_close_code_valid is non-zero when a peer may send code in a close
 * frame (RFC 6455 7.4): 1000-1003, 1007-1014, 3000-4999. */
int ws_close_code_valid(unsigned code);

enum ws_event_type {
	WS_EV_NONE = 0,  /* all input consumed, nothing to report */
	WS_EV_DATA,      /* a piece of a text/binary message, unmasked */
	WS_EV_MESSAGE,   /* a whole text/binary message ended (validated) */
	WS_EV_PING,      /* payload to echo in a pong */
	WS_EV_PONG,
	WS_EV_CLOSE,     /* the peer's close: code (1005 if none), reason */
	WS_EV_ERROR,     /* protocol violation: close with code, reason */
};

struct ws_event {
	enum ws_event_type type;
	enum ws_opcode opcode;      /* WS_EV_DATA/MESSAGE: text or binary */
	const uint8_t *data;        /* DATA, PING, PONG: payload;
	                               CLOSE: reason */
	size_t len;
	uint64_t message_len;       /* MESSAGE: total length */
	uint16_t code;              /* CLOSE, ERROR */
	const char *reason;         /* ERROR: static text */
};

/*
 * The parser is fed the bytes read from a client as they come, in pieces
 * of any size. It holds no more than one header and one control payload,
 * so a connection needs no buffer for data messages: their payload is
 * unmasked in place and reported as WS_EV_DATA pieces.
 */
struct ws_parser {
	int state;                  /* header or payload */
	uint8_t hdr[14];
	size_t hdr_len;
	int fin;
	enum ws_opcode opcode;
	uint64_t remaining;         /* payload bytes of this frame still due */
	uint8_t mask[4];
	unsigned mask_off;
	enum ws_opcode msg_opcode;  /* 0 when no data message is open */
	uint64_t msg_len;
	struct utf8_stream utf8;
	uint8_t ctl[WS_MAX_CONTROL];
	size_t ctl_len;
	int failed;                 /* an error or close was reported */
	uint64_t frames;            /* frame headers read so far */
};

/* ws_parser_init prepares a parser for a new connection. */
void ws_parser_init(struct ws_parser *p);

/*
 * ws_parser_feed consumes bytes from data[0..len) until it has one event to
 * report or the input is used up, and returns the number of bytes used.
 * data is modified (payload unmasked in place); ev->data points into data
 * or into the parser, valid until the next call. After WS_EV_CLOSE or
 * WS_EV_ERROR the parser consumes nothing more (returns 0, WS_EV_NONE).
 * Call again with the rest while ev->type is not WS_EV_NONE.
 */
size_t ws_parser_feed(struct ws_parser *p, uint8_t *data, size_t len,
	struct ws_event *ev);

/*
 * A budget of client frames: a token bucket of burst frames refilled at
 * rate frames per second, counted in thousandths of a frame.
 */
struct ws_rate {
	int64_t last_ms;
	int64_t tokens;
};

/* ws_rate_init fills the bucket (burst frames) at now_ms. */
void ws_rate_init(struct ws_rate *r, int64_t now_ms, long burst);

/* ws_rate_take spends n frames at now_ms. Returns 0, or -1 when the
 * bucket does not hold them (nothing is spent then). */
int ws_rate_take(struct ws_rate *r, int64_t now_ms, uint64_t n, long rate,
	long burst);

#endif
