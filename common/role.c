/* role.c - who may do what: the roles config key, read by REMOTE_USER. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdlib.h>
#include <string.h>

#include "role.h"

/* Indexed by enum role. */
static const char *const role_names[] = {
	"none", "viewer", "operator", "admin",
};

#define NROLES (sizeof role_names / sizeof role_names[0])

/* A piece of the config value, not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

/* Called by walk for every user name of every entry: 0 goes on, 1 stops
 * the walk (found), -1 stops it with err set. */
typedef int (*name_cb)(void *ctx, struct span name, enum role r, int entry,
	struct ferr *err);

const char *role_name(enum role r)
{
	return (size_t)r < NROLES ? role_names[r] : role_names[ROLE_NONE];
}

static struct span trim(const char *p, size_t n)
{
	struct span s;

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	s.p = p;
	s.n = n;
	return s;
}

static int span_is(struct span s, const char *text)
{
	return strlen(text) == s.n && memcmp(s.p, text, s.n) == 0;
}

/* quotable: short printable ASCII, safe to put in a message as it is. */
static int quotable(struct span s)
{
	size_t i;

	if (s.n == 0 || s.n > 64)
		return 0;
	for (i = 0; i < s.n; i++)
		if (s.p[i] < 0x21 || s.p[i] > 0x7e)
			return 0;
	return 1;
}

static int parse_role(struct span s, enum role *out)
{
	size_t i;

	for (i = 0; i < NROLES; i++)
		if (span_is(s, role_names[i])) {
			*out = (enum role)i;
			return 0;
		}
	return -1;
}

/* walk_users gives cb each name of users, the part of entry number entry
 * before its ':', with the entry's role r. */
static int walk_users(struct span users, enum role r, int entry, name_cb cb,
	void *ctx, struct ferr *err)
{
	const char *p = users.p, *end = users.p + users.n;
	int rc;

	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		struct span name = trim(p, (size_t)(stop - p));

		if (name.n == 0)
			return ferr_set(err, 500, "bad_config", "roles: entry "
				"%d has an empty user name.", entry);
		rc = cb(ctx, name, r, entry, err);
		if (rc != 0)
			return rc;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* walk reads spec entry by entry and gives cb every name. Returns 0 when
 * all were read, 1 when cb stopped the walk, -1 with err set. */
static int walk(const char *spec, name_cb cb, void *ctx, struct ferr *err)
{
	const char *p = spec;
	size_t n;
	int entry = 0, seen = 0, rc;

	for (; *p != '\0'; p += n + (p[n] == ';')) {
		struct span e, rs;
		const char *colon;
		enum role r;

		n = strcspn(p, ";");
		entry++;
		e = trim(p, n);
		if (e.n == 0)
			continue;
		colon = memchr(e.p, ':', e.n);
		if (colon == NULL)
			return ferr_set(err, 500, "bad_config", "roles: entry "
				"%d is not \"USERS: ROLE\".", entry);
		rs = trim(colon + 1, (size_t)(e.p + e.n - colon - 1));
		if (parse_role(rs, &r) < 0) {
			if (quotable(rs))
				return ferr_set(err, 500, "bad_config", "roles: "
					"entry %d gives the unknown role '%.*s' "
					"(viewer, operator, admin or none).",
					entry, (int)rs.n, rs.p);
			return ferr_set(err, 500, "bad_config", "roles: entry "
				"%d does not end in a role (viewer, operator, "
				"admin or none).", entry);
		}
		rc = walk_users(trim(e.p, (size_t)(colon - e.p)), r, entry, cb,
			ctx, err);
		if (rc != 0)
			return rc;
		seen++;
	}
	if (seen == 0)
		return ferr_set(err, 500, "bad_config", "roles has no \"USERS: "
			"ROLE\" entry (leave it empty to turn roles off).");
	return 0;
}

/* The names read so far, to find one named twice. */
struct seen_names {
	struct span *items;
	size_t n, cap;
};

static int check_cb(void *ctx, struct span name, enum role r, int entry,
	struct ferr *err)
{
	struct seen_names *s = ctx;
	size_t i;

	(void)r;
	for (i = 0; i < s->n; i++) {
		if (s->items[i].n != name.n ||
		    memcmp(s->items[i].p, name.p, name.n) != 0)
			continue;
		if (quotable(name))
			return ferr_set(err, 500, "bad_config", "roles: entry "
				"%d names '%.*s' again.", entry, (int)name.n,
				name.p);
		return ferr_set(err, 500, "bad_config", "roles: entry %d "
			"names a user again.", entry);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct span *grown = realloc(s->items, cap * sizeof *grown);

		if (grown == NULL)
			return ferr_set(err, 500, "out_of_memory",
				"Out of memory.");
		s->items = grown;
		s->cap = cap;
	}
	s->items[s->n++] = name;
	return 0;
}

int role_check(const char *spec, struct ferr *err)
{
	struct seen_names s = { NULL, 0, 0 };
	int result;

	if (spec == NULL || *spec == '\0')
		return 0;
	result = walk(spec, check_cb, &s, err) < 0 ? -1 : 0;
	free(s.items);
	return result;
}

struct find {
	const char *user;     /* NULL: anonymous */
	enum role found;
	int named;            /* an entry names the user */
	enum role fallback;   /* the "*" entry's */
};

static int find_cb(void *ctx, struct span name, enum role r, int entry,
	struct ferr *err)
{
	struct find *f = ctx;

	(void)entry;
	(void)err;
	if (span_is(name, "*")) {
		f->fallback = r;
		return 0;
	}
	if (f->user != NULL && span_is(name, f->user)) {
		f->found = r;
		f->named = 1;
		return 1;
	}
	return 0;
}

int role_for(const char *spec, const char *user, enum role *out,
	struct ferr *err)
{
	struct find f = { user, ROLE_NONE, 0, ROLE_NONE };

	*out = ROLE_ADMIN;
	if (spec == NULL || *spec == '\0')
		return 0;
	*out = ROLE_NONE;
	if (walk(spec, find_cb, &f, err) < 0)
		return -1;
	*out = f.named ? f.found : f.fallback;
	return 0;
}
