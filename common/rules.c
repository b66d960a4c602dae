/* rules.c - the cross-field rules of personas, keyword sets and proxy pools. */
#include <stdio.h>
#include <string.h>
#include <regex.h>

#include "rules.h"
#include "store.h"
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

int validate_persona(struct store *st, const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	json_t *cfg = json_object_get(rec, "configDetails");
	const char *type = json_string_value(json_object_get(rec,
		"personaType"));
	int result = 0;

	(void)st;
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
				char path[300];

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

int validate_keyword_set(struct store *st, const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	json_t *rules = json_object_get(rec, "rules");
	json_t *rule, *other;
	size_t i, j;
	int result = 0;

	(void)res;
	(void)old;
	if ((long)json_array_size(rules) > st->cfg->max_rules)
		return ferr_field(err, "rules", "must have at most %ld rules",
			st->cfg->max_rules);
	json_array_foreach(rules, i, rule) {
		json_t *id = json_object_get(rule, "id");
		const char *type = json_string_value(json_object_get(rule,
			"ruleType"));
		char path[64];

		if (json_is_null(id) || !id) {
			char uuid[UTIL_UUID_LEN];

			if (util_uuid_new(uuid))
				return ferr_set(err, 500, "internal_error",
					"Could not make an id.");
			json_object_set_new(rule, "id", json_string(uuid));
		} else {
			for (j = 0; j < i; j++) {
				other = json_array_get(rules, j);
				if (json_equal(json_object_get(other, "id"),
				    id)) {
					snprintf(path, sizeof(path),
						"rules[%zu].id", i);
					ferr_field(err, path,
						"is used by rules[%zu] too", j);
					result = -1;
				}
			}
		}
		if (type && strcmp(type, "regex") == 0) {
			regex_t re;
			int flags = REG_EXTENDED | REG_NOSUB;
			int rc;

			if (!json_is_true(json_object_get(rule,
			    "isCaseSensitive")))
				flags |= REG_ICASE;
			rc = regcomp(&re, json_string_value(json_object_get(
				rule, "pattern")), flags);
			if (rc != 0) {
				char why[256];

				regerror(rc, &re, why, sizeof(why));
				snprintf(path, sizeof(path),
					"rules[%zu].pattern", i);
				ferr_field(err, path, "is not a valid regular "
					"expression (POSIX extended): %s", why);
				result = -1;
			} else {
				regfree(&re);
			}
		}
	}
	return result;
}

void derive_keyword_set(json_t *rec)
{
	json_object_set_new(rec, "ruleCount", json_integer((json_int_t)
		json_array_size(json_object_get(rec, "rules"))));
}

int validate_proxy_pool(struct store *st, const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	json_t *members = json_object_get(rec, "members");
	json_t *m;
	size_t i, j;
	int result = 0;

	(void)st;
	(void)res;
	(void)old;
	json_array_foreach(members, i, m) {
		for (j = 0; j < i; j++) {
			if (json_equal(json_object_get(m, "proxyId"),
			    json_object_get(json_array_get(members, j),
			    "proxyId"))) {
				char path[64];

				snprintf(path, sizeof(path),
					"members[%zu].proxyId", i);
				ferr_field(err, path, "is already a member "
					"(members[%zu])", j);
				result = -1;
				break;
			}
		}
	}
	return result;
}
