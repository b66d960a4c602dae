/* origin.h - the one same-origin rule, applied by every program. */
#ifndef FP_ORIGIN_H
#define FP_ORIGIN_H

#include <stddef.h>

/*
 * origin_same is non-zero when origin[0..n), "scheme://host[:port]" as a
 * browser sends it, names the same origin as scheme ("http" or "https")
 * and host (a Host header value, host[:port]): scheme, host and port all
 * equal, without regard to case, a scheme's default port (80, 443) being
 * the same as none. An origin with a path, or an empty host, never is.
 */
int origin_same(const char *origin, size_t n, const char *scheme,
	const char *host);

/*
 * origin_allowed decides whether a page from origin may subscribe. No
 * Origin at all (not a browser) is allowed: tokens guard those. allow is
 * the configured list of origins, comma-separated, "*" for any; when it is
 * not empty it alone decides (exact match, without regard to case).
 * Otherwise the origin must be the same as scheme and host (origin_same).
 */
int origin_allowed(const char *origin, const char *scheme, const char *host,
	const char *allow);

/*
 * origin_list_has is non-zero when item is one of the comma-separated
 * entries of list (blanks around an entry ignored, case ignored). It
 * decides, for one, whether a peer address is a trusted proxy whose
 * forwarded headers may be believed.
 */
int origin_list_has(const char *list, const char *item);

#endif
