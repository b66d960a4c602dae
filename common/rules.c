/* rules.c - the cross-field rules of personas, keyword sets and proxy pools. */
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>

#include "rules.h"
#include "config.h"
#include "validate.h"
#include "util.h"

static long long int_of(json_t *obj, const char *name)
{
	return (long long)json_integer_value(json_object_get(obj, name));
}

static int tls_rank(json_t *v)
{
	const char *s = json_string_value(v);

	return s ? s[4] - '0' : -1; /* "TLS12" -> 2 */
}

int rules_persona(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	json_t *cfg = json_object_get(rec, "configDetails");
	const char *type = json_string_value(json_object_get(rec,
		"personaType"));
	int result = 0;

	(void)ctx;
	(void)res;
	(void)old;
	if (!type || !json_is_object(cfg))
		return 0;
	if (strcmp(type, "dns") == 0) {
		json_t *weighted = json_object_get(cfg, "resolversWeighted");
		json_t *resolvers = json_object_get(cfg, "resolvers");
		const char *key;
		json_t *v, *r;
		size_t i;

		if (int_of(cfg, "queryDelayMinMs") >
		    int_of(cfg, "queryDelayMaxMs")) {
			ferr_field(err, "configDetails.queryDelayMinMs",
				"must not exceed queryDelayMaxMs");
			result = -1;
		}
		json_object_foreach(weighted, key, v) {
			int found = 0;

			json_array_foreach(resolvers, i, r)
				if (strcmp(json_string_value(r), key) == 0)
					found = 1;
			if (!found) {
				/* keys hold up to 255 characters, 4 bytes
				 * each */
				char path[64 + 4 * 255];

				snprintf(path, sizeof(path),
					"configDetails.resolversWeighted.%s",
					key);
				ferr_field(err, path, "is not one of the "
					"resolvers");
				result = -1;
			}
		}
	} else {
		json_t *tls = json_object_get(cfg, "tlsClientHello");
		json_t *lo = json_object_get(tls, "minVersion");
		json_t *hi = json_object_get(tls, "maxVersion");

		if (json_is_string(lo) && json_is_string(hi) &&
		    tls_rank(lo) > tls_rank(hi)) {
			ferr_field(err, "configDetails.tlsClientHello."
				"minVersion", "must not be above maxVersion");
			result = -1;
		}
	}
	return result;
}

/* ---- regex cost: a small reader of the POSIX ERE grammar ---- */

struct rx {
	const char *p;
};

static long rx_alt(struct rx *r);

static long rx_cap(long v)
{
	return v > RULES_REGEX_COST_MAX ? RULES_REGEX_COST_MAX + 1 : v;
}

/* rx_number reads digits (saturating); returns how many were read. */
static int rx_number(struct rx *r, long *v)
{
	int digits = 0;

	*v = 0;
	while (*r->p >= '0' && *r->p <= '9') {
		if (*v < 1000000)
			*v = *v * 10 + (*r->p - '0');
		r->p++;
		digits++;
	}
	return digits;
}

/* rx_bound reads "m}", "m,}", "m,n}" or ",n}" after a '{' and returns
 * how many copies of its operand it makes, or -1 (r unmoved) when the
 * text is not a bound. */
static long rx_bound(struct rx *r)
{
	struct rx t = *r;
	long m, n;
	int dm, dn;

	dm = rx_number(&t, &m);
	if (*t.p == '}') {
		if (!dm)
			return -1;
		r->p = t.p + 1;
		return m;
	}
	if (*t.p != ',')
		return -1;
	t.p++;
	dn = rx_number(&t, &n);
	if (*t.p != '}' || (!dm && !dn))
		return -1;
	r->p = t.p + 1;
	if (!dn)
		return m + 1;   /* m copies and a star */
	return n > m ? n : m;
}

static long rx_atom(struct rx *r)
{
	long cost;

	switch (*r->p) {
	case '(':
		r->p++;
		cost = 1 + rx_alt(r);
		if (*r->p == ')')
			r->p++;
		return rx_cap(cost);
	case '[':
		/* One set, whatever it holds: "[]a]", "[^]a]",
		 * "[[:alpha:]]". */
		r->p++;
		if (*r->p == '^')
			r->p++;
		if (*r->p == ']')
			r->p++;
		while (*r->p && *r->p != ']') {
			if (r->p[0] == '[' && (r->p[1] == ':' ||
			    r->p[1] == '.' || r->p[1] == '=')) {
				char end = r->p[1];

				r->p += 2;
				while (*r->p && !(r->p[0] == end &&
				    r->p[1] == ']'))
					r->p++;
				if (*r->p)
					r->p += 2;
				continue;
			}
			r->p++;
		}
		if (*r->p)
			r->p++;
		return 1;
	case '\\':
		r->p += r->p[1] ? 2 : 1;
		return 1;
	default:
		r->p++;
		return 1;
	}
}

static long rx_seq(struct rx *r)
{
	long total = 0;

	while (*r->p && *r->p != '|' && *r->p != ')') {
		long cost = rx_atom(r), n;

		for (;;) {
			if (*r->p == '*' || *r->p == '?') {
				r->p++;
				cost += 1;
			} else if (*r->p == '+') {
				r->p++;
				cost = cost * 2 + 1;
			} else if (*r->p == '{') {
				r->p++;
				n = rx_bound(r);
				if (n < 0) {
					r->p--;  /* a literal '{': next atom */
					break;
				}
				cost = cost * (n > 1 ? n : 1) + 1;
			} else {
				break;
			}
			cost = rx_cap(cost);
		}
		total = rx_cap(total + cost);
	}
	return total;
}

static long rx_alt(struct rx *r)
{
	long total = rx_seq(r);

	while (*r->p == '|') {
		r->p++;
		total = rx_cap(total + 1 + rx_seq(r));
	}
	return total;
}

long rules_regex_cost(const char *pattern)
{
	struct rx r = { pattern };
	long total = 0;

	for (;;) {
		total = rx_cap(total + rx_alt(&r));
		if (!*r.p)
			break;
		r.p++;  /* an unmatched ')' */
	}
	return total;
}

/* ---- keyword sets ---- */

/* check_regex bounds the cost of rule i's pattern, alone and added to
 * *spent (what the set's earlier patterns cost), then compiles it unless
 * compile is 0 (it compiled before the write lock was taken). */
static int check_regex(json_t *rule, size_t i, long *spent, int compile,
	struct ferr *err)
{
	const char *pattern = json_string_value(json_object_get(rule,
		"pattern"));
	int flags = REG_EXTENDED | REG_NOSUB;
	char path[64], why[256];
	long cost = rules_regex_cost(pattern);
	regex_t re;
	int rc;

	snprintf(path, sizeof(path), "rules[%zu].pattern", i);
	if (cost > RULES_REGEX_COST_MAX)
		return ferr_field(err, path, "is too complex: its repetition "
			"counts expand it past %d elements",
			RULES_REGEX_COST_MAX);
	*spent += cost;
	if (*spent > RULES_REGEX_BUDGET)
		return ferr_field(err, path, "takes the set's regular "
			"expressions past their budget of %d elements; "
			"simplify or split the set", RULES_REGEX_BUDGET);
	if (!compile)
		return 0;
	if (!json_is_true(json_object_get(rule, "isCaseSensitive")))
		flags |= REG_ICASE;
	rc = regcomp(&re, pattern, flags);
	if (rc != 0) {
		regerror(rc, &re, why, sizeof(why));
		return ferr_field(err, path, "is not a valid regular "
			"expression (POSIX extended): %s", why);
	}
	regfree(&re);
	return 0;
}

int rules_keyword_set(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	json_t *rules = json_object_get(rec, "rules");
	json_t *seen = NULL, *rule;
	long spent = 0;
	size_t i;
	int result = -1, bad = 0;

	(void)res;
	(void)old;
	if ((long)json_array_size(rules) > ctx->cfg->max_rules)
		return ferr_field(err, "rules", "must have at most %ld rules",
			ctx->cfg->max_rules);
	/* Rule ids seen so far -> their index: one pass, not one per pair. */
	seen = json_object();
	if (!seen) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	json_array_foreach(rules, i, rule) {
		json_t *id = json_object_get(rule, "id");
		const char *type = json_string_value(json_object_get(rule,
			"ruleType"));
		json_t *first;

		if (json_is_null(id) || !id) {
			char uuid[UTIL_UUID_LEN];

			if (util_uuid_new(uuid)) {
				ferr_set(err, 500, "internal_error",
					"Could not make an id.");
				goto out;
			}
			json_object_set_new(rule, "id", json_string(uuid));
		} else {
			first = json_object_get(seen, json_string_value(id));
			if (first) {
				char path[64];

				snprintf(path, sizeof(path), "rules[%zu].id",
					i);
				ferr_field(err, path, "is used by rules[%lld] "
					"too", (long long)json_integer_value(
					first));
				bad = 1;
			} else {
				json_object_set_new(seen, json_string_value(id),
					json_integer((json_int_t)i));
			}
		}
		if (type && strcmp(type, "regex") == 0 &&
		    check_regex(rule, i, &spent, !ctx->costly_checked, err))
			bad = 1;
	}
	result = bad ? -1 : 0;
out:
	json_decref(seen);
	return result;
}

void rules_derive_keyword_set(json_t *rec)
{
	json_object_set_new(rec, "ruleCount", json_integer((json_int_t)
		json_array_size(json_object_get(rec, "rules"))));
}

int rules_proxy_pool(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	json_t *members = json_object_get(rec, "members");
	json_t *seen, *m, *first;
	size_t i;
	int result = 0;

	(void)ctx;
	(void)res;
	(void)old;
	/* proxyId -> index of its first member: one pass over 10,000. */
	seen = json_object();
	if (!seen)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	json_array_foreach(members, i, m) {
		const char *id = json_string_value(json_object_get(m,
			"proxyId"));

		if (!id)
			continue;
		first = json_object_get(seen, id);
		if (first) {
			char path[64];

			snprintf(path, sizeof(path), "members[%zu].proxyId", i);
			ferr_field(err, path, "is already a member "
				"(members[%lld])",
				(long long)json_integer_value(first));
			result = -1;
			continue;
		}
		json_object_set_new(seen, id, json_integer((json_int_t)i));
	}
	json_decref(seen);
	return result;
}

int rules_proxy(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	const char *addr = json_string_value(json_object_get(rec, "address"));
	char *low;
	size_t i;

	(void)ctx;
	(void)res;
	(void)old;
	if (!addr)
		return 0;
	low = strdup(addr);
	if (!low)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	for (i = 0; low[i]; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	json_object_set_new(rec, "address", json_string(low));
	free(low);
	return 0;
}
