/* test_ws.c - the WebSocket frame codec, one case per RFC 6455 rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "ws.h"

static const uint8_t MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* frame builds a masked client frame of payload p[0..n) in out, with the
 * given first byte (FIN, RSV, opcode). Returns its length. */
static size_t frame(uint8_t *out, uint8_t b0, const void *p, size_t n)
{
	const uint8_t *pay = p;
	size_t k = 0, i;

	out[k++] = b0;
	if (n < 126) {
		out[k++] = (uint8_t)(0x80 | n);
	} else if (n <= 0xffff) {
		out[k++] = 0x80 | 126;
		out[k++] = (uint8_t)(n >> 8);
		out[k++] = (uint8_t)n;
	} else {
		out[k++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			out[k++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	memcpy(out + k, MASK, 4);
	k += 4;
	for (i = 0; i < n; i++)
		out[k + i] = pay[i] ^ MASK[i & 3];
	return k + n;
}

/* run feeds buf to p and returns the first event that is not DATA (or
 * NONE when the input ran out); *data_len sums the DATA pieces. */
static struct ws_event run(struct ws_parser *p, uint8_t *buf, size_t len,
	size_t *data_len)
{
	struct ws_event ev;
	size_t off = 0;

	if (data_len != NULL)
		*data_len = 0;
	for (;;) {
		off += ws_parser_feed(p, buf + off, len - off, &ev);
		if (ev.type == WS_EV_DATA) {
			if (data_len != NULL)
				*data_len += ev.len;
			continue;
		}
		return ev;
	}
}

static struct ws_event run_one(uint8_t *buf, size_t len)
{
	struct ws_parser p;

	ws_parser_init(&p);
	return run(&p, buf, len, NULL);
}

static void expect_error(struct ws_event ev, uint16_t code)
{
	assert_int_equal(ev.type, WS_EV_ERROR);
	assert_int_equal(ev.code, code);
	assert_non_null(ev.reason);
}

static void ws_accept_key__rfc_sample__gives_rfc_answer(void **state)
{
	char out[WS_ACCEPT_LEN];

	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void ws_accept_key__key_not_16_bytes__is_refused(void **state)
{
	char out[WS_ACCEPT_LEN];

	assert_int_equal(ws_accept_key("c2hvcnQ=", out), -1);
	assert_int_equal(ws_accept_key("", out), -1);
	assert_int_equal(ws_accept_key(NULL, out), -1);
	assert_int_equal(ws_accept_key("!!!!!!!!!!!!!!!!!!!!!!==", out), -1);
}

static void ws_frame_header__short_length__uses_seven_bits(void **state)
{
	uint8_t h[WS_HEADER_MAX];

	assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 1, 125), 2);
	assert_int_equal(h[0], 0x81);
	assert_int_equal(h[1], 125);
}

static void ws_frame_header__medium_length__uses_sixteen_bits(void **state)
{
	uint8_t h[WS_HEADER_MAX];

	assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 1, 126), 4);
	assert_int_equal(h[1], 126);
	assert_int_equal(h[2], 0);
	assert_int_equal(h[3], 126);
	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 1, 65535), 4);
	assert_int_equal(h[2], 0xff);
	assert_int_equal(h[3], 0xff);
}

static void ws_frame_header__long_length__uses_sixty_four_bits(void **state)
{
	uint8_t h[WS_HEADER_MAX];

	assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 1, 65536), 10);
	assert_int_equal(h[1], 127);
	assert_memory_equal(h + 2, "\0\0\0\0\0\1\0\0", 8);
}

static void ws_frame_header__server_frame__is_never_masked(void **state)
{
	uint8_t h[WS_HEADER_MAX];

	ws_frame_header(h, WS_OP_PING, 1, 0);
	assert_int_equal(h[1] & 0x80, 0);
	assert_int_equal(h[0], 0x89);
}

static void ws_frame_header__not_final__clears_fin(void **state)
{
	uint8_t h[WS_HEADER_MAX];

	ws_frame_header(h, WS_OP_TEXT, 0, 3);
	assert_int_equal(h[0], 0x01);
}

static void ws_close_frame__code_and_reason__are_in_network_order(void **state)
{
	uint8_t f[WS_CLOSE_FRAME_MAX];
	size_t n = ws_close_frame(f, 1001, "bye");

	assert_int_equal(n, 2 + 2 + 3);
	assert_int_equal(f[0], 0x88);
	assert_int_equal(f[1], 5);
	assert_int_equal(f[2], 0x03);
	assert_int_equal(f[3], 0xe9);
	assert_memory_equal(f + 4, "bye", 3);
}

static void ws_close_frame__long_reason__is_cut_at_a_character(void **state)
{
	uint8_t f[WS_CLOSE_FRAME_MAX];
	char reason[200];
	size_t n, i;

	/* 100 two-byte characters: 123 bytes would split the 62nd. */
	for (i = 0; i < 100; i++) {
		reason[2 * i] = (char)0xc3;
		reason[2 * i + 1] = (char)0xa9;
	}
	reason[200 - 1] = '\0';
	reason[198] = '\0';
	n = ws_close_frame(f, 1000, reason);
	assert_true(f[1] <= 125);
	assert_int_equal(n, 2 + f[1]);
	assert_int_equal((f[1] - 2) % 2, 0);
}

static void ws_close_frame__no_code__has_empty_body(void **state)
{
	uint8_t f[WS_CLOSE_FRAME_MAX];

	assert_int_equal(ws_close_frame(f, 0, "ignored"), 2);
	assert_int_equal(f[1], 0);
}

static void ws_parser__masked_text__is_unmasked_and_reported(void **state)
{
	uint8_t buf[64];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = frame(buf, 0x81, "Hello", 5), used;

	ws_parser_init(&p);
	used = ws_parser_feed(&p, buf, n, &ev);
	assert_int_equal(ev.type, WS_EV_DATA);
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.data, "Hello", 5);
	used += ws_parser_feed(&p, buf + used, n - used, &ev);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.opcode, WS_OP_TEXT);
	assert_int_equal(ev.message_len, 5);
	assert_int_equal(used, n);
}

static void ws_parser__one_byte_at_a_time__gives_same_message(void **state)
{
	uint8_t buf[64];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = frame(buf, 0x81, "Hello", 5), i, got = 0;
	int messages = 0;

	ws_parser_init(&p);
	for (i = 0; i < n; i++) {
		size_t used = ws_parser_feed(&p, buf + i, 1, &ev);

		assert_int_equal(used, 1);
		if (ev.type == WS_EV_DATA)
			got += ev.len;
		/* The frame ends when its last byte is seen; ask again. */
		ws_parser_feed(&p, buf + i + 1, 0, &ev);
		if (ev.type == WS_EV_MESSAGE)
			messages++;
	}
	assert_int_equal(got, 5);
	assert_int_equal(messages, 1);
}

static void ws_parser__unmasked_client_frame__is_rejected(void **state)
{
	uint8_t buf[] = { 0x81, 0x02, 'h', 'i' };

	expect_error(run_one(buf, sizeof(buf)), WS_CLOSE_PROTOCOL);
}

static void ws_parser__reserved_bits__are_rejected(void **state)
{
	uint8_t buf[32];
	size_t n = frame(buf, 0x81 | 0x40, "x", 1);

	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
	n = frame(buf, 0x81 | 0x10, "x", 1);
	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__unknown_data_opcode__is_rejected(void **state)
{
	uint8_t buf[32];
	size_t n = frame(buf, 0x83, "x", 1);

	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__unknown_control_opcode__is_rejected(void **state)
{
	uint8_t buf[32];
	size_t n = frame(buf, 0x8b, "", 0);

	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__control_payload_over_125__is_rejected(void **state)
{
	uint8_t buf[200], pay[126];
	size_t n;

	memset(pay, 'a', sizeof(pay));
	n = frame(buf, 0x89, pay, sizeof(pay));
	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__fragmented_control_frame__is_rejected(void **state)
{
	uint8_t buf[32];
	size_t n = frame(buf, 0x09, "x", 1);

	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__continuation_without_start__is_rejected(void **state)
{
	uint8_t buf[32];
	size_t n = frame(buf, 0x80, "x", 1);

	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__new_message_inside_fragments__is_rejected(void **state)
{
	uint8_t buf[64];
	size_t n = frame(buf, 0x01, "ab", 2);

	n += frame(buf + n, 0x81, "cd", 2);
	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__fragments__make_one_message(void **state)
{
	uint8_t buf[64];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = frame(buf, 0x01, "ab", 2), got;

	n += frame(buf + n, 0x00, "cd", 2);
	n += frame(buf + n, 0x80, "e", 1);
	ws_parser_init(&p);
	ev = run(&p, buf, n, &got);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.opcode, WS_OP_TEXT);
	assert_int_equal(ev.message_len, 5);
	assert_int_equal(got, 5);
}

static void ws_parser__ping_between_fragments__is_answered(void **state)
{
	uint8_t buf[64];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = frame(buf, 0x01, "ab", 2), off = 0;
	int pings = 0, messages = 0;

	n += frame(buf + n, 0x89, "pp", 2);
	n += frame(buf + n, 0x80, "cd", 2);
	ws_parser_init(&p);
	do {
		off += ws_parser_feed(&p, buf + off, n - off, &ev);
		if (ev.type == WS_EV_PING) {
			pings++;
			assert_int_equal(ev.len, 2);
			assert_memory_equal(ev.data, "pp", 2);
		}
		if (ev.type == WS_EV_MESSAGE) {
			messages++;
			assert_int_equal(ev.message_len, 4);
		}
		assert_int_not_equal(ev.type, WS_EV_ERROR);
	} while (ev.type != WS_EV_NONE);
	assert_int_equal(pings, 1);
	assert_int_equal(messages, 1);
}

static void ws_parser__pong__is_reported(void **state)
{
	uint8_t buf[32];
	struct ws_event ev;
	size_t n = frame(buf, 0x8a, "hb", 2);

	ev = run_one(buf, n);
	assert_int_equal(ev.type, WS_EV_PONG);
	assert_int_equal(ev.len, 2);
}

static void ws_parser__sixteen_bit_length__is_decoded(void **state)
{
	static uint8_t buf[1024];
	uint8_t pay[300];
	struct ws_parser p;
	struct ws_event ev;
	size_t n, got;

	memset(pay, 'z', sizeof(pay));
	n = frame(buf, 0x82, pay, sizeof(pay));
	ws_parser_init(&p);
	ev = run(&p, buf, n, &got);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.opcode, WS_OP_BINARY);
	assert_int_equal(got, 300);
}

static void ws_parser__sixty_four_bit_length__is_decoded(void **state)
{
	static uint8_t buf[WS_MAX_MESSAGE + 64];
	static uint8_t pay[WS_MAX_MESSAGE];
	struct ws_parser p;
	struct ws_event ev;
	size_t n, got;

	memset(pay, 'z', sizeof(pay));
	n = frame(buf, 0x81, pay, sizeof(pay));
	ws_parser_init(&p);
	ev = run(&p, buf, n, &got);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(got, WS_MAX_MESSAGE);
}

static void ws_parser__length_top_bit_set__is_rejected(void **state)
{
	uint8_t buf[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };

	expect_error(run_one(buf, sizeof(buf)), WS_CLOSE_PROTOCOL);
}

static void ws_parser__length_not_shortest__is_rejected(void **state)
{
	uint8_t b16[] = { 0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4 };
	uint8_t b64[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 1, 2, 3, 4 };

	expect_error(run_one(b16, sizeof(b16)), WS_CLOSE_PROTOCOL);
	expect_error(run_one(b64, sizeof(b64)), WS_CLOSE_PROTOCOL);
}

static void ws_parser__frame_over_64k__closes_1009(void **state)
{
	uint8_t buf[] = { 0x81, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01,
		1, 2, 3, 4 };

	expect_error(run_one(buf, sizeof(buf)), WS_CLOSE_TOO_BIG);
}

static void ws_parser__fragments_over_64k__close_1009(void **state)
{
	static uint8_t buf[2 * WS_MAX_MESSAGE];
	static uint8_t pay[WS_MAX_MESSAGE / 2 + 1];
	size_t n;

	memset(pay, 'a', sizeof(pay));
	n = frame(buf, 0x01, pay, sizeof(pay));
	n += frame(buf + n, 0x80, pay, sizeof(pay));
	expect_error(run_one(buf, n), WS_CLOSE_TOO_BIG);
}

static void ws_parser__invalid_utf8_text__closes_1007(void **state)
{
	uint8_t buf[32];
	size_t n = frame(buf, 0x81, "a\xff" "b", 3);

	expect_error(run_one(buf, n), WS_CLOSE_BAD_DATA);
}

static void ws_parser__utf8_split_across_fragments__is_valid(void **state)
{
	uint8_t buf[64];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = frame(buf, 0x01, "\xe2\x82", 2);

	n += frame(buf + n, 0x80, "\xac", 1);
	ws_parser_init(&p);
	ev = run(&p, buf, n, NULL);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.message_len, 3);
}

static void ws_parser__text_ending_mid_character__closes_1007(void **state)
{
	uint8_t buf[32];
	size_t n = frame(buf, 0x81, "\xe2\x82", 2);

	expect_error(run_one(buf, n), WS_CLOSE_BAD_DATA);
}

static void ws_parser__invalid_utf8_binary__is_accepted(void **state)
{
	uint8_t buf[32];
	struct ws_event ev;
	size_t n = frame(buf, 0x82, "\xff\xfe", 2);

	ev = run_one(buf, n);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.opcode, WS_OP_BINARY);
}

static void ws_parser__empty_text__is_a_message(void **state)
{
	uint8_t buf[16];
	struct ws_event ev;
	size_t n = frame(buf, 0x81, "", 0);

	ev = run_one(buf, n);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.message_len, 0);
}

static void ws_parser__close_with_code__is_reported(void **state)
{
	uint8_t buf[32];
	struct ws_event ev;
	size_t n = frame(buf, 0x88, "\x03\xe8ok", 4);

	ev = run_one(buf, n);
	assert_int_equal(ev.type, WS_EV_CLOSE);
	assert_int_equal(ev.code, 1000);
	assert_int_equal(ev.len, 2);
	assert_memory_equal(ev.data, "ok", 2);
}

static void ws_parser__close_without_body__reports_1005(void **state)
{
	uint8_t buf[16];
	struct ws_event ev;
	size_t n = frame(buf, 0x88, "", 0);

	ev = run_one(buf, n);
	assert_int_equal(ev.type, WS_EV_CLOSE);
	assert_int_equal(ev.code, WS_CLOSE_NO_STATUS);
}

static void ws_parser__close_with_one_byte__is_rejected(void **state)
{
	uint8_t buf[16];
	size_t n = frame(buf, 0x88, "\x03", 1);

	expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
}

static void ws_parser__close_with_reserved_code__is_rejected(void **state)
{
	static const unsigned bad[] = { 0, 999, 1004, 1005, 1006, 1015, 2999,
		5000 };
	uint8_t buf[16], body[2];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		body[0] = (uint8_t)(bad[i] >> 8);
		body[1] = (uint8_t)bad[i];
		n = frame(buf, 0x88, body, 2);
		expect_error(run_one(buf, n), WS_CLOSE_PROTOCOL);
	}
}

static void ws_parser__close_reason_bad_utf8__closes_1007(void **state)
{
	uint8_t buf[16];
	size_t n = frame(buf, 0x88, "\x03\xe8\xc0\xaf", 4);

	expect_error(run_one(buf, n), WS_CLOSE_BAD_DATA);
}

static void ws_parser__after_close__consumes_nothing(void **state)
{
	uint8_t buf[64];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = frame(buf, 0x88, "\x03\xe8", 2), first;

	first = n;
	n += frame(buf + n, 0x81, "late", 4);
	ws_parser_init(&p);
	assert_int_equal(ws_parser_feed(&p, buf, n, &ev), first);
	assert_int_equal(ev.type, WS_EV_CLOSE);
	assert_int_equal(ws_parser_feed(&p, buf + first, n - first, &ev), 0);
	assert_int_equal(ev.type, WS_EV_NONE);
}

static void ws_parser__control_payload_split__is_reassembled(void **state)
{
	uint8_t buf[32];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = frame(buf, 0x89, "abcdef", 6), used;

	ws_parser_init(&p);
	used = ws_parser_feed(&p, buf, n - 3, &ev);
	assert_int_equal(ev.type, WS_EV_NONE);
	assert_int_equal(used, n - 3);
	ws_parser_feed(&p, buf + used, 3, &ev);
	assert_int_equal(ev.type, WS_EV_PING);
	assert_memory_equal(ev.data, "abcdef", 6);
}

static void ws_close_code_valid__registered_codes__are_valid(void **state)
{
	assert_true(ws_close_code_valid(1000));
	assert_true(ws_close_code_valid(1003));
	assert_true(ws_close_code_valid(1007));
	assert_true(ws_close_code_valid(1014));
	assert_true(ws_close_code_valid(3000));
	assert_true(ws_close_code_valid(4999));
	assert_false(ws_close_code_valid(1006));
	assert_false(ws_close_code_valid(1016));
}

static void ws_rate__burst_then_rate__refuses_past_the_budget(void **state)
{
	struct ws_rate r;

	ws_rate_init(&r, 1000, 10);
	/* The burst is there at once. */
	assert_int_equal(ws_rate_take(&r, 1000, 10, 2, 10), 0);
	assert_int_equal(ws_rate_take(&r, 1000, 1, 2, 10), -1);
	/* Two frames a second: one more after 500 ms. */
	assert_int_equal(ws_rate_take(&r, 1499, 1, 2, 10), -1);
	assert_int_equal(ws_rate_take(&r, 1500, 1, 2, 10), 0);
	/* A long quiet time fills the bucket only to the burst. */
	assert_int_equal(ws_rate_take(&r, 1000000, 11, 2, 10), -1);
	assert_int_equal(ws_rate_take(&r, 1000000, 10, 2, 10), 0);
	/* A refusal spends nothing; an absurd count is refused. */
	assert_int_equal(ws_rate_take(&r, 1005000, UINT64_MAX, 2, 10), -1);
	assert_int_equal(ws_rate_take(&r, 1005000, 10, 2, 10), 0);
}

static void ws_parser__frames__counts_every_header(void **state)
{
	struct ws_parser p;
	struct ws_event ev;
	/* two masked empty pings and an empty masked continuation-less
	 * text frame */
	uint8_t in[] = { 0x89, 0x80, 1, 2, 3, 4, 0x89, 0x80, 1, 2, 3, 4,
		0x81, 0x80, 1, 2, 3, 4 };
	size_t off = 0;

	ws_parser_init(&p);
	while (off < sizeof(in)) {
		off += ws_parser_feed(&p, in + off, sizeof(in) - off, &ev);
		if (ev.type == WS_EV_NONE)
			break;
	}
	assert_int_equal(p.frames, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ws_rate__burst_then_rate__refuses_past_the_budget),
		cmocka_unit_test(ws_parser__frames__counts_every_header),
		cmocka_unit_test(ws_accept_key__rfc_sample__gives_rfc_answer),
		cmocka_unit_test(ws_accept_key__key_not_16_bytes__is_refused),
		cmocka_unit_test(ws_frame_header__short_length__uses_seven_bits),
		cmocka_unit_test(ws_frame_header__medium_length__uses_sixteen_bits),
		cmocka_unit_test(ws_frame_header__long_length__uses_sixty_four_bits),
		cmocka_unit_test(ws_frame_header__server_frame__is_never_masked),
		cmocka_unit_test(ws_frame_header__not_final__clears_fin),
		cmocka_unit_test(ws_close_frame__code_and_reason__are_in_network_order),
		cmocka_unit_test(ws_close_frame__long_reason__is_cut_at_a_character),
		cmocka_unit_test(ws_close_frame__no_code__has_empty_body),
		cmocka_unit_test(ws_parser__masked_text__is_unmasked_and_reported),
		cmocka_unit_test(ws_parser__one_byte_at_a_time__gives_same_message),
		cmocka_unit_test(ws_parser__unmasked_client_frame__is_rejected),
		cmocka_unit_test(ws_parser__reserved_bits__are_rejected),
		cmocka_unit_test(ws_parser__unknown_data_opcode__is_rejected),
		cmocka_unit_test(ws_parser__unknown_control_opcode__is_rejected),
		cmocka_unit_test(ws_parser__control_payload_over_125__is_rejected),
		cmocka_unit_test(ws_parser__fragmented_control_frame__is_rejected),
		cmocka_unit_test(ws_parser__continuation_without_start__is_rejected),
		cmocka_unit_test(ws_parser__new_message_inside_fragments__is_rejected),
		cmocka_unit_test(ws_parser__fragments__make_one_message),
		cmocka_unit_test(ws_parser__ping_between_fragments__is_answered),
		cmocka_unit_test(ws_parser__pong__is_reported),
		cmocka_unit_test(ws_parser__sixteen_bit_length__is_decoded),
		cmocka_unit_test(ws_parser__sixty_four_bit_length__is_decoded),
		cmocka_unit_test(ws_parser__length_top_bit_set__is_rejected),
		cmocka_unit_test(ws_parser__length_not_shortest__is_rejected),
		cmocka_unit_test(ws_parser__frame_over_64k__closes_1009),
		cmocka_unit_test(ws_parser__fragments_over_64k__close_1009),
		cmocka_unit_test(ws_parser__invalid_utf8_text__closes_1007),
		cmocka_unit_test(ws_parser__utf8_split_across_fragments__is_valid),
		cmocka_unit_test(ws_parser__text_ending_mid_character__closes_1007),
		cmocka_unit_test(ws_parser__invalid_utf8_binary__is_accepted),
		cmocka_unit_test(ws_parser__empty_text__is_a_message),
		cmocka_unit_test(ws_parser__close_with_code__is_reported),
		cmocka_unit_test(ws_parser__close_without_body__reports_1005),
		cmocka_unit_test(ws_parser__close_with_one_byte__is_rejected),
		cmocka_unit_test(ws_parser__close_with_reserved_code__is_rejected),
		cmocka_unit_test(ws_parser__close_reason_bad_utf8__closes_1007),
		cmocka_unit_test(ws_parser__after_close__consumes_nothing),
		cmocka_unit_test(ws_parser__control_payload_split__is_reassembled),
		cmocka_unit_test(ws_close_code_valid__registered_codes__are_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
