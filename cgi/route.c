/* route.c - matching a request path against the route table. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <string.h>

#include "request.h"
#include "route.h"

static int pattern_match(const char *pat, char *const *seg, size_t nseg,
	route_check_cb check, struct route_match *m)
{
	const char *p = pat;
	size_t i = 0, len, kl;

	m->n = 0;
	while (*p) {
		len = strcspn(p, "/");
		if (i >= nseg)
			return 0;
		if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
			kl = len - 2;
			if (kl >= sizeof m->name[0] || m->n >= ROUTE_MAX_PARAMS)
				return 0;
			memcpy(m->name[m->n], p + 1, kl);
			m->name[m->n][kl] = '\0';
			if (!check || !check(m->name[m->n], seg[i]))
				return 0;
			m->value[m->n++] = seg[i];
		} else if (strlen(seg[i]) != len ||
			memcmp(seg[i], p, len) != 0) {
			return 0;
		}
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	return i == nseg;
}

int route_find(const struct route *table, size_t n, char *const *seg,
	size_t nseg, unsigned method, route_check_cb check,
	struct route_match *m)
{
	struct route_match tmp;
	unsigned allow = 0, ms;
	size_t k;

	memset(m, 0, sizeof *m);
	for (k = 0; k < n; k++) {
		memset(&tmp, 0, sizeof tmp);
		if (!pattern_match(table[k].pattern, seg, nseg, check, &tmp))
			continue;
		ms = table[k].methods;
		if (ms & RM_GET)
			ms |= RM_HEAD;
		allow |= ms;
		if (!m->route && (ms & method)) {
			*m = tmp;
			m->route = &table[k];
		}
	}
	m->allow = allow;
	return m->route ? 0 : -1;
}

const char *route_param(const struct route_match *m,
	const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->name[i], name) == 0)
			return m->value[i];
	return NULL;
}
