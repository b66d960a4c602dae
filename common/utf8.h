/* utf8.h - the UTF-8 rules: what is valid, whole or in pieces; where a cut may fall. */
#ifndef FP_UTF8_H
#define FP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* utf8_valid is non-zero when s[0..n) is well-formed UTF-8 (no overlongs,
 * no surrogates, nothing above U+10FFFF). NUL bytes are valid UTF-8 here;
 * callers that refuse them check separately. */
int utf8_valid(const char *s, size_t n);

/* Streaming validation for data that arrives in pieces (WebSocket
 * fragments). Start with utf8_stream_init, feed every piece, then
 * utf8_stream_done at the end of the message. */
struct utf8_stream {
	uint32_t need;   /* continuation bytes still expected */
	uint32_t cp;     /* code point so far */
	uint32_t min;    /* smallest code point allowed for this length */
};

void utf8_stream_init(struct utf8_stream *st);

/* utf8_stream_feed returns 0 while the data so far can still be valid,
 * -1 as soon as it cannot. */
int utf8_stream_feed(struct utf8_stream *st, const void *data, size_t n);

/* utf8_stream_done returns 0 when the message ended on a whole character,
 * -1 when it stopped in the middle of one. */
int utf8_stream_done(const struct utf8_stream *st);

/* utf8_cut gives the length of the longest prefix of s[0..n) that is at
 * most max bytes and does not end inside a character (s is valid UTF-8,
 * so a cut text stays valid). n may stop one byte past max: the byte at
 * max is all the rule reads beyond the prefix. */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif
