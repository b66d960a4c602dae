/* scale.c - flowpush demo --scale: many generated records, in batches. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <string.h>

#include "scale.h"
#include "util.h"

#define SCALE_BATCH 2000
#define SCALE_RING 64             /* recent proxy ids, for pool members */

static const char *const words[] = { "harbor", "summit", "meadow", "cobalt",
	"falcon", "granite", "lantern", "marble", "nectar", "orchid", "pepper",
	"quartz", "raven", "saffron", "timber", "umber", "velvet", "willow",
	"yarrow", "zephyr", "amber", "birch", "cedar", "delta" };
#define NWORDS (sizeof(words) / sizeof(words[0]))
static const char *const countries[] = { "DE", "US", "NL", "JP", "FR", "GB",
	"SG", "BR", "CA", "SE" };
static const char *const protocols[] = { "http", "https", "socks4",
	"socks5" };
static const char *const strategies[] = { "round_robin", "random",
	"least_used", "weighted" };

/* What one load needs along the way. */
struct scale {
	struct store *st;
	struct store_write w;
	char tag[8];                  /* keeps names unique across loads */
	FILE *out;
	long long made;
	char ring[SCALE_RING][UTIL_UUID_LEN];
	int nring;
};

/* make_name writes a name that search and sort find interesting: two
 * words, the number, the load's tag. */
static void make_name(const struct scale *s, const char *kind, long long i,
	char *out, size_t size)
{
	snprintf(out, size, "%s %s %s %lld %s", kind,
		words[(size_t)i % NWORDS], words[(size_t)(i / NWORDS) % NWORDS],
		i, s->tag);
}

static json_t *keyword_set(const struct scale *s, long long i)
{
	char name[128];
	json_t *rules = json_array();
	int n = 1 + (int)(i % 5), k;

	make_name(s, "Keywords", i, name, sizeof(name));
	for (k = 0; k < n; k++)
		json_array_append_new(rules, json_pack("{s:s, s:s}", "pattern",
			words[(size_t)(i + k) % NWORDS], "ruleType", "string"));
	return json_pack("{s:s, s:s, s:b, s:o}", "name", name, "description",
		i % 3 ? "Pages that sell something." : "Parked and for-sale "
		"pages.", "isEnabled", i % 10 != 0, "rules", rules);
}

static json_t *persona(const struct scale *s, long long i)
{
	char name[128];

	make_name(s, "Persona", i, name, sizeof(name));
	if (i % 2)
		return json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name,
			"personaType", "http", "isEnabled", i % 7 != 0,
			"configDetails", "userAgent", "Mozilla/5.0 (X11; "
			"Linux x86_64) flowpush-scale");
	return json_pack("{s:s, s:s, s:b, s:{s:[s]}}", "name", name,
		"personaType", "dns", "isEnabled", i % 7 != 0, "configDetails",
		"resolvers", i % 4 ? "9.9.9.9:53" : "1.1.1.1:53");
}

static json_t *proxy(const struct scale *s, long long i)
{
	char name[128], address[128];

	make_name(s, "Proxy", i, name, sizeof(name));
	snprintf(address, sizeof(address), "p%lld-%s.example.net:%d", i,
		s->tag, 1024 + (int)(i % 60000));
	return json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", name,
		"address", address, "protocol", protocols[i % 4],
		"countryCode", countries[i % 10], "isEnabled", i % 9 != 0);
}

static json_t *pool(struct scale *s, long long i)
{
	char name[128];
	json_t *members = json_array();
	int k;

	make_name(s, "Pool", i, name, sizeof(name));
	for (k = 0; k < 3 && k < s->nring; k++)
		json_array_append_new(members, json_pack("{s:s, s:i}",
			"proxyId", s->ring[(size_t)(i + k) % (size_t)s->nring],
			"weight", 1 + k));
	return json_pack("{s:s, s:s, s:b, s:o}", "name", name,
		"poolStrategy", strategies[i % 4], "isEnabled", i % 6 != 0,
		"members", members);
}

static json_t *campaign(const struct scale *s, long long i)
{
	char name[128];

	make_name(s, "Campaign", i, name, sizeof(name));
	return json_pack("{s:s, s:s, s:I, s:{s:s, s:i, s:s, s:s}}", "name",
		name, "campaignType", "domain_generation", "totalItems",
		(json_int_t)(1000 + i % 9000), "domainGenerationParams",
		"patternType", "prefix", "variableLength", 3 + (int)(i % 5),
		"characterSet", "abcdefghijklmnopqrstuvwxyz", "tld", ".com");
}

/* after_create gives some records more history: campaigns move along
 * their states (a tenth running with progress, a tenth queued), proxies
 * get health. */
static int after_create(struct scale *s, const char *coll, json_t *rec,
	long long i, struct ferr *err)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *r = NULL, *patch = NULL;
	char now[UTIL_TS_LEN];

	if (strcmp(coll, "proxies") == 0) {
		snprintf(s->ring[s->nring < SCALE_RING ? s->nring++ :
			(int)(i % SCALE_RING)], UTIL_UUID_LEN, "%s", id);
		if (i % 3 == 0)
			return 0;
		util_ts_now(now);
		patch = json_pack("{s:b, s:I, s:s, s:s}", "isHealthy",
			i % 5 != 0, "latencyMs", (json_int_t)(20 + i % 900),
			"lastCheckedAt", now, "lastStatus",
			i % 5 ? "200 OK" : "connect timeout");
		r = store_patch(s->st, resource_find("proxies"), id, patch,
			&s->w, err);
		goto out;
	}
	if (strcmp(coll, "campaigns") != 0 || i % 10 >= 2)
		return 0;
	r = store_action(s->st, id, "start", NULL, &s->w, err);
	if (!r || i % 10 == 1)
		goto out;
	json_decref(r);
	r = store_action(s->st, id, "run", NULL, &s->w, err);
	if (!r)
		goto out;
	json_decref(r);
	patch = json_pack("{s:I, s:I}", "processedItems", (json_int_t)(i % 997),
		"successfulItems", (json_int_t)(i % 997));
	r = store_patch(s->st, resource_find("campaigns"), id, patch, &s->w,
		err);
out:
	json_decref(patch);
	if (!r)
		return -1;
	json_decref(r);
	return 0;
}

/* load_one makes n records of one collection in batched transactions. */
static int load_one(struct scale *s, const char *coll, long long n,
	struct ferr *err)
{
	const struct resource *res = resource_find(coll);
	int64_t t0 = util_mono_ms(), shown = t0;
	long long i;

	for (i = 0; i < n; i++) {
		json_t *body, *rec;

		if (i % SCALE_BATCH == 0 && store_batch_begin(s->st, res, err))
			return -1;
		if (strcmp(coll, "keyword-sets") == 0)
			body = keyword_set(s, i);
		else if (strcmp(coll, "personas") == 0)
			body = persona(s, i);
		else if (strcmp(coll, "proxies") == 0)
			body = proxy(s, i);
		else if (strcmp(coll, "proxy-pools") == 0)
			body = pool(s, i);
		else
			body = campaign(s, i);
		rec = body ? store_create(s->st, res, body, &s->w, err) : NULL;
		json_decref(body);
		if (!rec || after_create(s, coll, rec, i, err)) {
			json_decref(rec);
			store_batch_rollback(s->st);
			if (!ferr_is_set(err))
				ferr_set(err, 500, "internal_error",
					"Out of memory.");
			return -1;
		}
		json_decref(rec);
		s->made++;
		if ((i + 1) % SCALE_BATCH == 0 || i + 1 == n) {
			if (store_batch_commit(s->st, &s->w, err))
				return -1;
			if (s->out && (util_mono_ms() - shown >= 1000 ||
			    i + 1 == n)) {
				int64_t ms = util_mono_ms() - t0;

				shown = util_mono_ms();
				fprintf(s->out, "%-12s %lld of %lld (%.0f "
					"records/s)\n", coll, i + 1, n,
					ms > 0 ? (double)(i + 1) * 1000.0 /
					(double)ms : 0.0);
				fflush(s->out);
			}
		}
	}
	return 0;
}

long long scale_load(struct store *st, const char *actor, long long n,
	const char *only, FILE *out, struct ferr *err)
{
	static const char *const order[] = { "personas", "keyword-sets",
		"proxies", "proxy-pools", "campaigns", NULL };
	struct scale s;
	unsigned char r[2];
	size_t i;

	memset(&s, 0, sizeof(s));
	s.st = st;
	s.w.actor = actor;
	s.w.if_match = -1;
	s.out = out;
	if (util_random(r, sizeof(r)) < 0)
		return ferr_set(err, 500, "internal_error", "No random bytes.");
	snprintf(s.tag, sizeof(s.tag), "%02x%02x", r[0], r[1]);
	for (i = 0; order[i]; i++)
		if ((!only || strcmp(only, order[i]) == 0) &&
		    load_one(&s, order[i], n, err))
			return -1;
	if (store_refresh_stats(st, err))
		return -1;
	return s.made;
}
