/* demo.c - realistic demo data for flowpush demo, loaded through the store. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <string.h>

#include "demo.h"

/* What one load needs along the way. */
struct demo {
	struct store *st;
	struct store_write w;
	const char *suffix;
	FILE *out;
	int count;
	int port_shift;   /* keeps proxy addresses unique on a second load */
	json_t *keep;     /* records made so far, for their ids */
};

int demo_has_data(struct store *st, int *has, struct ferr *err)
{
	const struct resource *r;
	struct form q;
	struct form_pair one = { (char *)"limit", (char *)"1" };

	*has = 0;
	q.n = 1;
	q.pairs = &one;
	for (r = resources; r->name != NULL; r++) {
		json_t *page = store_list(st, r, &q, err);

		if (page == NULL)
			return -1;
		if (json_array_size(json_object_get(page, "items")) > 0)
			*has = 1;
		json_decref(page);
	}
	return 0;
}

/* make creates one record from body (stolen) and returns its id, borrowed
 * from the record kept in d->keep; NULL with err set on failure. */
static const char *make(struct demo *d, const char *coll, json_t *body,
	struct ferr *err)
{
	const struct resource *res = resource_find(coll);
	json_t *rec = NULL;
	const char *id = NULL;

	if (body == NULL) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		return NULL;
	}
	if (d->suffix != NULL && d->suffix[0] != '\0') {
		char name[300];

		snprintf(name, sizeof(name), "%s%s", json_string_value(
			json_object_get(body, "name")), d->suffix);
		json_object_set_new(body, "name", json_string(name));
	}
	rec = store_create(d->st, res, body, &d->w, err);
	if (rec == NULL)
		goto out;
	json_array_append_new(d->keep, rec);
	id = json_string_value(json_object_get(rec, "id"));
	d->count++;
	if (d->out != NULL)
		fprintf(d->out, "created %-12s %s  %s\n", coll, id,
			json_string_value(json_object_get(rec, "name")));
out:
	json_decref(body);
	return id;
}

/* act runs campaign actions in order, separated by spaces. */
static int act(struct demo *d, const char *id, const char *actions,
	const char *message, struct ferr *err)
{
	char buf[128], *p, *next;

	snprintf(buf, sizeof(buf), "%s", actions);
	for (p = buf; p != NULL && *p != '\0'; p = next) {
		json_t *body = NULL, *rec;

		next = strchr(p, ' ');
		if (next != NULL)
			*next++ = '\0';
		if (strcmp(p, "fail") == 0 && message != NULL)
			body = json_pack("{s:s}", "errorMessage", message);
		rec = store_action(d->st, id, p, body, &d->w, err);
		json_decref(body);
		if (rec == NULL)
			return -1;
		json_decref(rec);
	}
	return 0;
}

/* progress PATCHes a running campaign's counters. */
static int progress(struct demo *d, const char *id, long long ok,
	long long failed, struct ferr *err)
{
	json_t *patch = json_pack("{s:I, s:I, s:I}", "processedItems",
		(json_int_t)(ok + failed), "successfulItems", (json_int_t)ok,
		"failedItems", (json_int_t)failed);
	json_t *rec;

	if (patch == NULL)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	rec = store_patch(d->st, resource_find("campaigns"), id, patch, &d->w,
		err);
	json_decref(patch);
	if (rec == NULL)
		return -1;
	json_decref(rec);
	return 0;
}

static json_t *dns_persona(const char *name, const char *desc,
	json_t *config, int enabled)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", name,
		"personaType", "dns", "description", desc, "isEnabled",
		enabled, "configDetails", config);
}

static json_t *http_persona(const char *name, const char *desc,
	json_t *config)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", name,
		"personaType", "http", "description", desc, "isEnabled", 1,
		"configDetails", config);
}

static json_t *rule(const char *pattern, const char *type, int cs,
	const char *category, int context)
{
	return json_pack("{s:s, s:s, s:b, s:s, s:i}", "pattern", pattern,
		"ruleType", type, "isCaseSensitive", cs, "category", category,
		"contextChars", context);
}

static json_t *proxy(const struct demo *d, const char *name,
	const char *host, int port, const char *protocol, const char *country,
	const char *user, const char *password, int enabled)
{
	char address[128];
	json_t *p;

	snprintf(address, sizeof(address), "%s:%d", host, port +
		d->port_shift);
	p = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", name, "address",
		address, "protocol", protocol, "countryCode", country,
		"isEnabled", enabled);

	if (p != NULL && user != NULL)
		json_object_set_new(p, "username", json_string(user));
	if (p != NULL && password != NULL)
		json_object_set_new(p, "password", json_string(password));
	return p;
}

static json_t *member(const char *proxy_id, int weight)
{
	return json_pack("{s:s, s:i, s:b}", "proxyId", proxy_id, "weight",
		weight, "isActive", 1);
}

static json_t *domain_campaign(const char *name, const char *desc,
	const char *pattern, int len, const char *chars,
	const char *constant, const char *tld, long long total)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:i, s:s, s:s, s:s,"
		" s:I}}", "name", name, "description", desc, "campaignType",
		"domain_generation", "totalItems", (json_int_t)total,
		"domainGenerationParams", "patternType", pattern,
		"variableLength", len, "characterSet", chars, "constantString",
		constant, "tld", tld, "numDomainsToGenerate",
		(json_int_t)total);
}

static json_t *dns_campaign(const char *name, const char *source,
	json_t *personas, long long total)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:o, s:i, s:i}}",
		"name", name, "description",
		"Resolve the generated names to find registered ones.",
		"campaignType", "dns_validation", "totalItems",
		(json_int_t)total, "dnsValidationParams", "sourceCampaignId",
		source, "personaIds", personas, "batchSize", 200,
		"retryAttempts", 2);
}

static json_t *http_campaign(const char *name, const char *source,
	json_t *personas, json_t *sets, const char *pool, long long total)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:o, s:o,"
		" s:[s, s], s:i, s:[i, i]}}", "name", name, "description",
		"Fetch live domains and look for the keyword sets.",
		"campaignType", "http_keyword_validation", "totalItems",
		(json_int_t)total, "httpKeywordParams", "sourceCampaignId",
		source, "personaIds", personas, "keywordSetIds", sets,
		"adHocKeywords", "coming soon", "under construction",
		"batchSize", 50, "targetHttpPorts", 80, 443);

	if (c != NULL && pool != NULL)
		json_object_set_new(json_object_get(c, "httpKeywordParams"),
			"proxyPoolId", json_string(pool));
	return c;
}

static int load_all(struct demo *d, struct ferr *err)
{
	const char *dns1, *dns2, *dns3, *http1, *http2, *http3;
	const char *ks1, *ks2, *ks3, *px1, *px2, *px3, *px4, *pool1, *pool2;
	const char *gen1, *gen2, *gen3, *dv1, *dv2, *hk1, *hk2, *hk3;

	/* Personas. */
	dns1 = make(d, "personas", dns_persona("Public resolvers",
		"Cloudflare and Google, taken in turn.",
		json_pack("{s:[s, s, s], s:s, s:i, s:i}", "resolvers",
		"1.1.1.1:53", "8.8.8.8:53", "1.0.0.1:53", "resolverStrategy",
		"round_robin", "queryTimeoutSeconds", 5,
		"maxDomainsPerRequest", 100), 1), err);
	if (dns1 == NULL)
		return -1;
	dns2 = make(d, "personas", dns_persona("Quad9 weighted",
		"Mostly Quad9, some traffic to its secondary.",
		json_pack("{s:[s, s], s:s, s:{s:i, s:i}, s:i, s:i}",
		"resolvers", "9.9.9.9", "149.112.112.112", "resolverStrategy",
		"weighted", "resolversWeighted", "9.9.9.9", 70,
		"149.112.112.112", 30, "concurrentQueriesPerDomain", 2,
		"rateLimitBurst", 20), 1), err);
	if (dns2 == NULL)
		return -1;
	dns3 = make(d, "personas", dns_persona("Slow and careful",
		"Spaced queries for registrars that rate-limit hard.",
		json_pack("{s:[s], s:i, s:i, s:i, s:f}", "resolvers",
		"208.67.222.222:53", "queryDelayMinMs", 200, "queryDelayMaxMs",
		900, "queryTimeoutSeconds", 10, "rateLimitDps", 2.5), 0), err);
	if (dns3 == NULL)
		return -1;
	http1 = make(d, "personas", http_persona("Chrome 120 on Windows",
		"A current desktop browser with its usual header order.",
		json_pack("{s:s, s:{s:s, s:s}, s:[s, s, s], s:{s:s, s:s},"
		" s:i, s:i}", "userAgent", "Mozilla/5.0 (Windows NT 10.0; "
		"Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
		"Chrome/120.0.0.0 Safari/537.36", "headers", "Accept-Language",
		"en-US,en;q=0.9", "Accept", "text/html,application/xhtml+xml",
		"headerOrder", "Host", "User-Agent", "Accept",
		"tlsClientHello", "minVersion", "TLS12", "maxVersion", "TLS13",
		"requestTimeoutSeconds", 20, "maxRedirects", 5)), err);
	if (http1 == NULL)
		return -1;
	http2 = make(d, "personas", http_persona("Firefox on Linux",
		"A plain desktop Firefox that keeps cookies.",
		json_pack("{s:s, s:{s:s}, s:b}", "userAgent",
		"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 "
		"Firefox/121.0", "cookieHandling", "mode", "preserve",
		"fetchBodyForKeywords", 1)), err);
	if (http2 == NULL)
		return -1;
	http3 = make(d, "personas", http_persona("Headless crawler",
		"Renders pages that need JavaScript before matching.",
		json_pack("{s:s, s:b, s:i, s:i, s:i, s:b}", "userAgent",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, "
		"like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
		"useHeadless", 1, "viewportWidth", 1366, "viewportHeight", 768,
		"waitDelaySeconds", 2, "fetchBodyForKeywords", 1)), err);
	if (http3 == NULL)
		return -1;

	/* Keyword sets with string and regex rules. */
	ks1 = make(d, "keyword-sets", json_pack("{s:s, s:s, s:[o, o, o]}",
		"name", "Parked domain signals", "description",
		"Phrases parking pages and registrars show.", "rules",
		rule("domain is for sale", "string", 0, "parking", 40),
		rule("buy this domain", "string", 0, "parking", 40),
		rule("Sedo|Dan\\.com|Afternic", "regex", 1, "marketplace",
		20)), err);
	if (ks1 == NULL)
		return -1;
	ks2 = make(d, "keyword-sets", json_pack("{s:s, s:s, s:[o, o, o]}",
		"name", "Online shop", "description",
		"Signs of a working web shop.", "rules",
		rule("(add to|view) (cart|basket)", "regex", 0, "commerce", 60),
		rule("checkout", "string", 0, "commerce", 30),
		rule("[0-9]+[.,][0-9]{2} ?(EUR|USD|\\$|€)", "regex", 0,
		"price", 20)), err);
	if (ks2 == NULL)
		return -1;
	ks3 = make(d, "keyword-sets", json_pack("{s:s, s:s, s:b,"
		" s:[o, o]}", "name", "Contact details", "description",
		"E-mail addresses and phone numbers.", "isEnabled", 1, "rules",
		rule("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", "regex",
		0, "email", 0),
		rule("Impressum", "string", 1, "legal", 80)), err);
	if (ks3 == NULL)
		return -1;

	/* Proxies, with and without passwords (documentation addresses). */
	px1 = make(d, "proxies", proxy(d, "Frankfurt datacenter",
		"192.0.2.10", 3128, "http", "DE", NULL, NULL, 1), err);
	if (px1 == NULL)
		return -1;
	px2 = make(d, "proxies", proxy(d, "Amsterdam residential",
		"198.51.100.23", 1080, "socks5", "NL", "demo-user",
		"demo-password-nl", 1), err);
	if (px2 == NULL)
		return -1;
	px3 = make(d, "proxies", proxy(d, "Virginia HTTPS", "203.0.113.5",
		8443, "https", "US", "research", "demo-password-us", 1), err);
	if (px3 == NULL)
		return -1;
	px4 = make(d, "proxies", proxy(d, "Tokyo backup", "[2001:db8::7]",
		8080, "http", "JP", NULL, NULL, 0), err);
	if (px4 == NULL)
		return -1;

	/* Pools with weighted members. */
	pool1 = make(d, "proxy-pools", json_pack("{s:s, s:s, s:s,"
		" s:[o, o, o], s:i}", "name", "EU rotation", "description",
		"European exits, the datacenter taking most of the load.",
		"poolStrategy", "weighted", "members", member(px1, 5),
		member(px2, 2), member(px3, 1), "healthCheckIntervalSeconds",
		120), err);
	if (pool1 == NULL)
		return -1;
	pool2 = make(d, "proxy-pools", json_pack("{s:s, s:s, s:s,"
		" s:[o, o]}", "name", "Fallback", "description",
		"Used when the main pool is unhealthy.", "poolStrategy",
		"round_robin", "members", member(px3, 1), member(px4, 1)), err);
	if (pool2 == NULL)
		return -1;

	/* Domain generation: pending, running with progress, completed. */
	gen1 = make(d, "campaigns", domain_campaign("Brandable .com names",
		"Five-letter names with a shop suffix.", "suffix", 5,
		"abcdefghijklmnopqrstuvwxyz", "shop", ".com", 250000), err);
	if (gen1 == NULL)
		return -1;
	gen2 = make(d, "campaigns", domain_campaign("Short .io prefixes",
		"Two letters in front of 'labs'.", "prefix", 2,
		"abcdefghijklmnopqrstuvwxyz", "labs", ".io", 676), err);
	if (gen2 == NULL || act(d, gen2, "start run", NULL, err) < 0 ||
	    progress(d, gen2, 676, 0, err) < 0)
		return -1;
	gen3 = make(d, "campaigns", domain_campaign("Numbered .net sweep",
		"Three digits on both sides of 'cloud'.", "both", 3,
		"0123456789", "cloud", ".net", 1000), err);
	if (gen3 == NULL || act(d, gen3, "start run", NULL, err) < 0 ||
	    progress(d, gen3, 410, 3, err) < 0)
		return -1;

	/* DNS validation: queued and paused. */
	dv1 = make(d, "campaigns", dns_campaign("Resolve .io names", gen2,
		json_pack("[s, s]", dns1, dns2), 676), err);
	if (dv1 == NULL || act(d, dv1, "start run", NULL, err) < 0 ||
	    progress(d, dv1, 300, 12, err) < 0 ||
	    act(d, dv1, "pause", NULL, err) < 0)
		return -1;
	dv2 = make(d, "campaigns", dns_campaign("Resolve .net sweep", gen3,
		json_pack("[s]", dns2), 413), err);
	if (dv2 == NULL || act(d, dv2, "start", NULL, err) < 0)
		return -1;

	/* HTTP keyword validation: failed, cancelled, archived. */
	hk1 = make(d, "campaigns", http_campaign("Shops among .io names", dv1,
		json_pack("[s, s]", http1, http2), json_pack("[s, s]", ks2,
		ks3), pool1, 288), err);
	if (hk1 == NULL || act(d, hk1, "start run", NULL, err) < 0 ||
	    progress(d, hk1, 90, 41, err) < 0 ||
	    act(d, hk1, "fail", "Proxy pool EU rotation answered 407 for "
		"every request.", err) < 0)
		return -1;
	hk2 = make(d, "campaigns", http_campaign("Parked .net domains", dv2,
		json_pack("[s]", http3), json_pack("[s]", ks1), pool2, 413),
		err);
	if (hk2 == NULL || act(d, hk2, "start cancel", NULL, err) < 0)
		return -1;
	hk3 = make(d, "campaigns", http_campaign("Contact pages, spring run",
		dv1, json_pack("[s]", http2), json_pack("[s]", ks3), NULL, 50),
		err);
	if (hk3 == NULL || act(d, hk3, "start run", NULL, err) < 0 ||
	    progress(d, hk3, 48, 2, err) < 0)
		return -1;
	/* 50 of 50 processed completes it on its own; archive it too. */
	if (act(d, hk3, "archive", NULL, err) < 0)
		return -1;
	return 0;
}

int demo_load(struct store *st, const char *actor, const char *suffix,
	FILE *out, struct ferr *err)
{
	struct demo d;
	int result;

	memset(&d, 0, sizeof(d));
	d.st = st;
	d.w.actor = actor;
	d.w.if_match = -1;
	d.suffix = suffix;
	d.out = out;
	if (suffix != NULL) {
		const char *p;

		/* Addresses are unique too: move the ports by an amount
		 * drawn from the suffix, which is random. */
		for (p = suffix; *p != '\0'; p++)
			d.port_shift = (d.port_shift * 31 +
				(unsigned char)*p) % 20000;
		if (suffix[0] != '\0')
			d.port_shift++;
	}
	d.keep = json_array();
	if (d.keep == NULL)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	result = load_all(&d, err);
	json_decref(d.keep);
	return result < 0 ? -1 : d.count;
}
