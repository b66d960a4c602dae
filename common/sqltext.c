/* sqltext.c - SQL text built piece by piece in a fixed buffer, refusing to run cut. */
#include <stdarg.h>
#include <stdio.h>

#include "sqltext.h"

void sqltext_init(struct sqltext *s, char *buf, size_t size)
{
	s->buf = buf;
	s->size = size;
	s->n = 0;
	s->over = size == 0;
	if (size)
		buf[0] = '\0';
}

void sqltext_add(struct sqltext *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->n, s->size - s->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->size - s->n) {
		s->over = 1;
		s->buf[s->n] = '\0';
	} else {
		s->n += (size_t)n;
	}
}
