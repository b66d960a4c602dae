/* fuzz_ws.c - libFuzzer target: the WebSocket client-frame parser fed arbitrary bytes in arbitrary pieces. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_parser p;
	struct ws_event ev;
	uint8_t *buf;
	size_t off = 0, piece;
	uint64_t total = 0;

	if (size < 1)
		return 0;
	/* The first byte picks the piece size, so splits are explored too. */
	piece = (size_t)data[0] + 1;
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	size--;
	ws_parser_init(&p);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;
		size_t used = 0, k;

		do {
			k = ws_parser_feed(&p, buf + off + used, n - used, &ev);
			used += k;
			if (ev.type == WS_EV_DATA) {
				total += ev.len;
				if (ev.len > 0 && ev.data == NULL)
					abort();
			}
			if (ev.type == WS_EV_MESSAGE &&
				ev.message_len > WS_MAX_MESSAGE)
				abort();
			if ((ev.type == WS_EV_PING || ev.type == WS_EV_PONG) &&
				ev.len > WS_MAX_CONTROL)
				abort();
			if (ev.type == WS_EV_ERROR && ev.reason == NULL)
				abort();
			if (used > n)
				abort();
		} while (ev.type != WS_EV_NONE);
		/* A parser that stopped (close, error) takes nothing more. */
		if (used < n && !p.failed)
			abort();
		off += n;
	}
	free(buf);
	(void)total;
	return 0;
}
