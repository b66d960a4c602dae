/* form.h - urlencoded form and query-string decoding into pairs. */
#ifndef FP_FORM_H
#define FP_FORM_H

#include <stddef.h>
#include "ferr.h"

struct form_pair {
	char *name;   /* decoded, NUL-terminated, valid UTF-8 */
	char *value;  /* decoded, NUL-terminated, valid UTF-8 */
};

struct form {
	size_t n;
	struct form_pair *pairs; /* in the order they appeared */
};

/*
 * form_parse decodes s[0..len) ('&'-separated name=value, '+' is a space,
 * %XX escapes; a pair without '=' has an empty value; empty pairs are
 * skipped) into out, which it initialises. Fails with 400 bad_request when
 * an escape is malformed, a decoded name or value holds a NUL byte or
 * invalid UTF-8, or there are more than 10,000 pairs. On failure out is
 * left empty. Caller releases out with form_release.
 */
int form_parse(const char *s, size_t len, struct form *out, struct ferr *err);

/* form_release frees the pairs; the struct may be reused. */
void form_release(struct form *f);

/* form_get returns the value of the last pair named name (borrowed, lives
 * as long as f), or NULL. */
const char *form_get(const struct form *f, const char *name);

/* form_count is how many pairs are named name. */
size_t form_count(const struct form *f, const char *name);

#endif
