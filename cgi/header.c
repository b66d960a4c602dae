/* header.c - HTTP header values: methods, Content-Type, If-Match, ETags. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "header.h"

static const struct {
	const char *name;
	unsigned bit;
} method_names[] = {
	{"GET", RM_GET},
	{"HEAD", RM_HEAD},
	{"POST", RM_POST},
	{"PUT", RM_PUT},
	{"PATCH", RM_PATCH},
	{"DELETE", RM_DELETE},
	{"OPTIONS", RM_OPTIONS},
};

unsigned header_method_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof method_names / sizeof method_names[0];
		i++)
		if (strcmp(name, method_names[i].name) == 0)
			return method_names[i].bit;
	return 0;
}

char *header_allow_format(unsigned mask, char *buf, size_t size)
{
	size_t i, len = 0;
	const char *sep = "";

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof method_names / sizeof method_names[0]; i++) {
		size_t need;

		if (!(mask & method_names[i].bit))
			continue;
		need = strlen(sep) + strlen(method_names[i].name);
		if (len + need + 1 > size)
			break;
		memcpy(buf + len, sep, strlen(sep));
		len += strlen(sep);
		memcpy(buf + len, method_names[i].name,
			strlen(method_names[i].name));
		len += strlen(method_names[i].name);
		buf[len] = '\0';
		sep = ", ";
	}
	return buf;
}

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Copies a token in lower case; returns its length or -1 if it is empty
 * or does not fit. */
static int token_lower(const char **sp, char *out, size_t size)
{
	const char *s = *sp;
	size_t n = 0;

	while (is_tchar((unsigned char)*s)) {
		if (n + 1 >= size)
			return -1;
		out[n++] = (char)tolower((unsigned char)*s++);
	}
	out[n] = '\0';
	*sp = s;
	return n ? (int)n : -1;
}

int header_content_type_parse(const char *value, char *type,
	size_t type_size, char *charset, size_t charset_size)
{
	const char *s = skip_ows(value);
	char name[32], val[64];
	size_t n;

	if (!type_size || !charset_size)
		return -1;
	charset[0] = '\0';
	if (token_lower(&s, type, type_size) < 0)
		return -1;
	n = strlen(type);
	if (*s != '/' || n + 1 >= type_size)
		return -1;
	type[n++] = '/';
	s++;
	if (token_lower(&s, type + n, type_size - n) < 0)
		return -1;
	for (;;) {
		s = skip_ows(s);
		if (!*s)
			return 0;
		if (*s++ != ';')
			return -1;
		s = skip_ows(s);
		if (!*s)
			return 0;
		if (token_lower(&s, name, sizeof name) < 0 || *s++ != '=')
			return -1;
		n = 0;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (n + 1 >= sizeof val)
					return -1;
				val[n++] = (char)tolower((unsigned char)*s);
			}
			if (*s++ != '"')
				return -1;
			val[n] = '\0';
		} else if (token_lower(&s, val, sizeof val) < 0) {
			return -1;
		}
		if (strcmp(name, "charset") == 0) {
			if (strlen(val) + 1 > charset_size)
				return -1;
			memcpy(charset, val, strlen(val) + 1);
		}
	}
}

/* Parses "\"<digits>\"" at *sp; returns 0 and the number, or -1. */
static int etag_parse(const char **sp, long long *n)
{
	const char *s = *sp;
	long long v = 0;
	int digits = 0;

	if (*s++ != '"')
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (!digits || *s++ != '"')
		return -1;
	*n = v;
	*sp = s;
	return 0;
}

int header_if_match_parse(const char *value, long long *version)
{
	const char *s;
	long long n;

	*version = -1;
	if (!value)
		return 0;
	s = skip_ows(value);
	if (*s == '*')
		return *skip_ows(s + 1) ? -1 : 0;
	if (etag_parse(&s, &n) < 0 || *skip_ows(s))
		return -1;
	*version = n;
	return 0;
}

int header_etag_matches(const char *value, long long version)
{
	const char *s = value;
	long long n;

	if (!s)
		return 0;
	for (;;) {
		s = skip_ows(s);
		if (*s == '*')
			return 1;
		if (strncmp(s, "W/", 2) == 0)
			s += 2;
		if (etag_parse(&s, &n) == 0 && n == version)
			return 1;
		s = strchr(s, ',');
		if (!s)
			return 0;
		s++;
	}
}
