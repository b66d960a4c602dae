/* form.c - application/x-www-form-urlencoded and query-string decoding. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "form.h"
#include "utf8.h"

#define FORM_PAIRS_MAX 10000

/* decode turns s[0..n) into a new string, or NULL with err set. */
static char *decode(const char *s, size_t n, const char *what,
	struct ferr *err)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;
	int ok = 0;

	if (out == NULL) {
		ferr_set(err, 500, "out_of_memory", "Out of memory.");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n || util_hex_value(s[i + 1]) < 0 ||
			    util_hex_value(s[i + 2]) < 0) {
				ferr_set(err, 400, "bad_request",
					"A %s holds a malformed %% escape.",
					what);
				goto out;
			}
			out[o++] = (char)(util_hex_value(s[i + 1]) << 4 |
				util_hex_value(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (memchr(out, '\0', o) != NULL || !utf8_valid(out, o)) {
		ferr_set(err, 400, "bad_request",
			"A %s is not valid UTF-8 text.", what);
		goto out;
	}
	ok = 1;
out:
	if (!ok) {
		free(out);
		out = NULL;
	}
	return out;
}

void form_release(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->pairs[i].name);
		free(f->pairs[i].value);
	}
	free(f->pairs);
	f->pairs = NULL;
	f->n = 0;
}

int form_parse(const char *s, size_t len, struct form *out, struct ferr *err)
{
	size_t i = 0, cap = 0;
	int result = -1;

	out->n = 0;
	out->pairs = NULL;
	while (i < len) {
		const char *p = s + i, *amp, *eq;
		size_t n;
		struct form_pair pair = { NULL, NULL };

		amp = memchr(p, '&', len - i);
		n = amp != NULL ? (size_t)(amp - p) : len - i;
		i += n + 1;
		if (n == 0)
			continue;
		if (out->n == FORM_PAIRS_MAX) {
			ferr_set(err, 400, "bad_request",
				"The form has more than %d fields.",
				FORM_PAIRS_MAX);
			goto out;
		}
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct form_pair *np = realloc(out->pairs,
				ncap * sizeof(*np));

			if (np == NULL) {
				ferr_set(err, 500, "out_of_memory",
					"Out of memory.");
				goto out;
			}
			out->pairs = np;
			cap = ncap;
		}
		eq = memchr(p, '=', n);
		pair.name = decode(p, eq != NULL ? (size_t)(eq - p) : n,
			"field name", err);
		if (pair.name == NULL)
			goto out;
		pair.value = eq != NULL ? decode(eq + 1,
			n - (size_t)(eq - p) - 1, "field value", err) :
			strdup("");
		if (pair.value == NULL) {
			free(pair.name);
			ferr_set(err, 500, "out_of_memory", "Out of memory.");
			goto out;
		}
		out->pairs[out->n++] = pair;
	}
	result = 0;
out:
	if (result < 0)
		form_release(out);
	return result;
}

const char *form_get(const struct form *f, const char *name)
{
	size_t i = f->n;

	while (i-- > 0)
		if (strcmp(f->pairs[i].name, name) == 0)
			return f->pairs[i].value;
	return NULL;
}

size_t form_count(const struct form *f, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].name, name) == 0)
			n++;
	return n;
}
