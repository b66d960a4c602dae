/* strbuf.c - a growing string whose out-of-memory failure sticks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* grow makes room for n more bytes and the NUL; 0 or -1 (failed set). */
static int grow(struct strbuf *sb, size_t n)
{
	size_t ncap;
	char *np;

	if (sb->failed)
		return -1;
	if (sb->len + n + 1 <= sb->cap)
		return 0;
	ncap = (sb->len + n + 1) * 2;
	np = realloc(sb->p, ncap);
	if (np == NULL) {
		sb->failed = 1;
		return -1;
	}
	sb->p = np;
	sb->cap = ncap;
	return 0;
}

void strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
	if (grow(sb, n))
		return;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = 1;
		return;
	}
	if (grow(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *strbuf_take(struct strbuf *sb)
{
	char *p;

	if (sb->failed) {
		strbuf_release(sb);
		return NULL;
	}
	p = sb->p != NULL ? sb->p : strdup("");
	memset(sb, 0, sizeof(*sb));
	return p;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->p);
	memset(sb, 0, sizeof(*sb));
}
