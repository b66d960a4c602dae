/* utf8.c - the UTF-8 rules: what is valid, whole or in pieces; where a cut may fall. */
#include <string.h>

#include "utf8.h"

void utf8_stream_init(struct utf8_stream *st)
{
	memset(st, 0, sizeof(*st));
}

/*
 * range_ok tells whether a character whose leading bits are cp, with need
 * continuation bytes still to come, can still end up valid. Checking the
 * whole range of possible endings rejects an overlong form, a surrogate or
 * a value above U+10FFFF at the first byte that decides it, which the
 * WebSocket rules ask for (fail fast on invalid text).
 */
static int range_ok(uint32_t cp, uint32_t need, uint32_t min)
{
	uint32_t lo = cp << (6 * need);
	uint32_t hi = lo | ((1u << (6 * need)) - 1);

	if (hi < min || lo > 0x10FFFF)
		return 0;
	if (lo >= 0xD800 && hi <= 0xDFFF)
		return 0;
	return 1;
}

int utf8_stream_feed(struct utf8_stream *st, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned c = p[i];

		if (st->need == 0) {
			if (c < 0x80)
				continue;
			if (c >= 0xC2 && c <= 0xDF) {
				st->need = 1;
				st->cp = c & 0x1F;
				st->min = 0x80;
			} else if (c >= 0xE0 && c <= 0xEF) {
				st->need = 2;
				st->cp = c & 0x0F;
				st->min = 0x800;
			} else if (c >= 0xF0 && c <= 0xF4) {
				st->need = 3;
				st->cp = c & 0x07;
				st->min = 0x10000;
			} else {
				return -1;
			}
			if (!range_ok(st->cp, st->need, st->min))
				return -1;
			continue;
		}
		if ((c & 0xC0) != 0x80)
			return -1;
		st->cp = st->cp << 6 | (c & 0x3F);
		st->need--;
		if (!range_ok(st->cp, st->need, st->min))
			return -1;
	}
	return 0;
}

int utf8_stream_done(const struct utf8_stream *st)
{
	return st->need == 0 ? 0 : -1;
}

int utf8_valid(const char *s, size_t n)
{
	struct utf8_stream st;

	utf8_stream_init(&st);
	return utf8_stream_feed(&st, s, n) == 0 && utf8_stream_done(&st) == 0;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	/* Step back over continuation bytes to the start of a character. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}
