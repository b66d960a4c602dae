/* strbuf.h - a growing string whose out-of-memory failure sticks. */
#ifndef FP_STRBUF_H
#define FP_STRBUF_H

#include <stddef.h>

/* Start with struct strbuf sb = {0}. After a failed allocation every
 * further add does nothing and failed stays set, so callers check once,
 * at the end (strbuf_take returns NULL). */
struct strbuf {
	char *p;                      /* NUL-terminated once anything is added */
	size_t len, cap;
	int failed;
};

/* strbuf_add appends s[0..n). */
void strbuf_add(struct strbuf *sb, const char *s, size_t n);

/* strbuf_adds appends the string s. */
void strbuf_adds(struct strbuf *sb, const char *s);

/* strbuf_addf appends printf-formatted text. */
__attribute__((format(printf, 2, 3)))
void strbuf_addf(struct strbuf *sb, const char *fmt, ...);

/* strbuf_take hands the string over (the caller frees it; "" when nothing
 * was added) and leaves sb empty; NULL when an add failed. */
char *strbuf_take(struct strbuf *sb);

/* strbuf_release frees the contents and leaves sb empty. */
void strbuf_release(struct strbuf *sb);

#endif
