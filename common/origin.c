/* origin.c - the one same-origin rule, applied by every program. */
#include <string.h>
#include <strings.h>

#include "origin.h"

/* hostport_len is the length of hp[0..n) (host[:port]) without a port
 * that is the scheme's default one. An IPv6 literal keeps its brackets. */
static size_t hostport_len(const char *hp, size_t n, const char *scheme)
{
	const char *port = NULL, *end;
	size_t plen;

	if (n > 0 && hp[0] == '[') {
		end = memchr(hp, ']', n);
		if (end != NULL && (size_t)(end - hp) + 1 < n && end[1] == ':')
			port = end + 1;
	} else {
		port = memrchr(hp, ':', n);
	}
	if (port == NULL)
		return n;
	plen = n - (size_t)(port - hp);
	if ((strcmp(scheme, "http") == 0 && plen == 3 &&
		memcmp(port, ":80", 3) == 0) ||
		(strcmp(scheme, "https") == 0 && plen == 4 &&
		memcmp(port, ":443", 4) == 0))
		return (size_t)(port - hp);
	return n;
}

int origin_same(const char *origin, size_t n, const char *scheme,
	const char *host)
{
	size_t slen, a, b;
	const char *oh;

	if (origin == NULL || scheme == NULL || host == NULL || !*host)
		return 0;
	slen = strlen(scheme);
	if (n < slen + 3 || strncasecmp(origin, scheme, slen) != 0 ||
		memcmp(origin + slen, "://", 3) != 0)
		return 0;
	oh = origin + slen + 3;
	n -= slen + 3;
	if (memchr(oh, '/', n) != NULL)
		return 0;
	a = hostport_len(oh, n, scheme);
	b = hostport_len(host, strlen(host), scheme);
	return a == b && a > 0 && strncasecmp(oh, host, a) == 0;
}

int origin_list_has(const char *list, const char *item)
{
	size_t ilen, b, e;

	if (list == NULL || item == NULL)
		return 0;
	ilen = strlen(item);
	if (ilen == 0)
		return 0;
	while (*list) {
		e = strcspn(list, ",");
		b = 0;
		while (b < e && (list[b] == ' ' || list[b] == '\t'))
			b++;
		while (e > b && (list[e - 1] == ' ' || list[e - 1] == '\t'))
			e--;
		if (e - b == ilen && strncasecmp(list + b, item, ilen) == 0)
			return 1;
		list += strcspn(list, ",");
		if (*list == ',')
			list++;
	}
	return 0;
}

int origin_allowed(const char *origin, const char *scheme, const char *host,
	const char *allow)
{
	if (origin == NULL)
		return 1;
	if (allow != NULL && allow[0] != '\0')
		return origin_list_has(allow, "*") ||
			origin_list_has(allow, origin);
	return origin_same(origin, strlen(origin), scheme, host);
}
