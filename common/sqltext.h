/* sqltext.h - SQL text built piece by piece in a fixed buffer, refusing to run cut. */
#ifndef FP_SQLTEXT_H
#define FP_SQLTEXT_H

#include <stddef.h>

/* The text goes into buf (borrowed, size bytes); over is set, and the text
 * left as it was, when a piece does not fit: the caller checks over before
 * running the statement. Names in it come from the resource table only;
 * values are bound with ?. */
struct sqltext {
	char *buf;
	size_t size, n;
	int over;
};

/* sqltext_init starts an empty text in buf. */
void sqltext_init(struct sqltext *s, char *buf, size_t size);

/* sqltext_add appends printf-formatted text (nothing once over is set). */
__attribute__((format(printf, 2, 3)))
void sqltext_add(struct sqltext *s, const char *fmt, ...);

#endif
