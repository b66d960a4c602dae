/* sse.c - Server-Sent Events formatting and Last-Event-ID parsing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <string.h>
#include "sse.h"

#define SSE_MAX_SEQ 9007199254740992LL /* 2^53: exact in JavaScript */

/* put appends s[0..n) at *pos when it fits, and always advances *pos. */
static void put(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	if (out != NULL && *pos + n <= cap)
		memcpy(out + *pos, s, n);
	*pos += n;
}

static void put_str(char *out, size_t cap, size_t *pos, const char *s)
{
	put(out, cap, pos, s, strlen(s));
}

/* put_num appends the decimal form of v (v >= 0). */
static void put_num(char *out, size_t cap, size_t *pos, int64_t v)
{
	char tmp[24];
	size_t n = sizeof(tmp);
	uint64_t u = (uint64_t)v;

	do {
		tmp[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	put(out, cap, pos, tmp + n, sizeof(tmp) - n);
}

static size_t format_event(char *out, size_t cap, const char *name,
	int64_t id, const char *data, size_t len)
{
	size_t pos = 0, start = 0, i;

	if (name != NULL) {
		put_str(out, cap, &pos, "event: ");
		put_str(out, cap, &pos, name);
		put_str(out, cap, &pos, "\n");
	}
	if (id >= 0) {
		put_str(out, cap, &pos, "id: ");
		put_num(out, cap, &pos, id);
		put_str(out, cap, &pos, "\n");
	}
	for (i = 0; i <= len; i++) {
		if (i < len && data[i] != '\n' && data[i] != '\r')
			continue;
		put_str(out, cap, &pos, "data: ");
		put(out, cap, &pos, data + start, i - start);
		put_str(out, cap, &pos, "\n");
		/* CRLF is one line break, not two. */
		if (i + 1 < len && data[i] == '\r' && data[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	put_str(out, cap, &pos, "\n");
	return pos;
}

size_t sse_format_event(char *out, size_t cap, const char *name, int64_t id,
	const char *data, size_t len)
{
	/* Measure first so that a short buffer is left untouched. */
	size_t need = format_event(NULL, 0, name, id, data, len);

	if (out != NULL && need <= cap)
		format_event(out, cap, name, id, data, len);
	return need;
}

static size_t format_retry(char *out, size_t cap, long ms)
{
	size_t pos = 0;

	put_str(out, cap, &pos, "retry: ");
	put_num(out, cap, &pos, ms < 0 ? 0 : ms);
	put_str(out, cap, &pos, "\n\n");
	return pos;
}

static size_t format_comment(char *out, size_t cap, const char *text)
{
	size_t pos = 0, i, n = strlen(text);

	put_str(out, cap, &pos, ": ");
	for (i = 0; i < n; i++) {
		char c = (text[i] == '\n' || text[i] == '\r') ? ' ' : text[i];

		put(out, cap, &pos, &c, 1);
	}
	put_str(out, cap, &pos, "\n\n");
	return pos;
}

size_t sse_format_retry(char *out, size_t cap, long ms)
{
	size_t need = format_retry(NULL, 0, ms);

	if (out != NULL && need <= cap)
		format_retry(out, cap, ms);
	return need;
}

size_t sse_format_comment(char *out, size_t cap, const char *text)
{
	size_t need = format_comment(NULL, 0, text);

	if (out != NULL && need <= cap)
		format_comment(out, cap, text);
	return need;
}

int sse_parse_last_event_id(const char *value, int64_t *seq)
{
	size_t b, e, i;
	int64_t v = 0;

	if (value == NULL)
		return -1;
	b = 0;
	e = strlen(value);
	while (b < e && (value[b] == ' ' || value[b] == '\t'))
		b++;
	while (e > b && (value[e - 1] == ' ' || value[e - 1] == '\t'))
		e--;
	if (e == b || e - b > 16)
		return -1;
	for (i = b; i < e; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		v = v * 10 + (value[i] - '0');
	}
	if (v > SSE_MAX_SEQ)
		return -1;
	*seq = v;
	return 0;
}
