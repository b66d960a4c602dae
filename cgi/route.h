/* route.h - matching a request path against the route table. */
#ifndef FP_ROUTE_H
#define FP_ROUTE_H

#include <stddef.h>

struct api;

/* A route: which methods, which path, who serves it, what it needs. The
 * pattern is '/'-separated segments, each a literal or "{name}". role and
 * progress_role are values of enum role (common/role.h). */
struct route {
	unsigned methods;
	const char *pattern;
	int (*handler)(struct api *a);
	unsigned flags;
	int role;             /* the least role that may use it */
	int progress_role;    /* a lesser role that suffices when the body
				 changes only progress counters; 0: none */
};

/* Says whether a path segment may stand for the pattern's {kind}. */
typedef int (*route_check_cb)(const char *kind, const char *seg);

#define ROUTE_MAX_PARAMS 4

struct route_match {
	const struct route *route;      /* NULL when none */
	size_t n;
	char name[ROUTE_MAX_PARAMS][16];
	const char *value[ROUTE_MAX_PARAMS]; /* borrowed from the segments */
	unsigned allow;                 /* methods of every matching path */
};

/*
 * route_find finds the first route whose pattern matches the segments
 * and whose methods include method (HEAD is served by GET routes).
 * Returns 0 with m->route set, or -1: m->allow is 0 when no pattern
 * matched (404), else the methods the path does take (405).
 */
int route_find(const struct route *table, size_t n, char *const *seg,
	size_t nseg, unsigned method, route_check_cb check,
	struct route_match *m);

/* route_param gives the segment captured as {name}, or NULL. */
const char *route_param(const struct route_match *m,
	const char *name);

#endif
