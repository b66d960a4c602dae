/* resource.c - the collections declared as data: fields, types, rules. */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <arpa/inet.h>

#include "resource.h"
#include "campaign.h"
#include "rules.h"

/* Shorthands that keep one field per line. */
#define END { .name = NULL }
#define S(n, fl, lo, hi, d) \
	{ .name = n, .type = FT_STRING, .flags = fl, .min = lo, .max = hi, \
	  .def = d }
#define I(n, fl, lo, hi, d) \
	{ .name = n, .type = FT_INT, .flags = fl, .min = lo, .max = hi, \
	  .def = d }
#define N(n, fl, lo, hi, d) \
	{ .name = n, .type = FT_NUMBER, .flags = fl, .min = lo, .max = hi, \
	  .def = d }
#define B(n, fl, d) { .name = n, .type = FT_BOOL, .flags = fl, .def = d }
#define E(n, fl, ch, d) \
	{ .name = n, .type = FT_ENUM, .flags = fl, .choices = ch, .def = d }
#define O(n, fl, sb) \
	{ .name = n, .type = FT_OBJECT, .flags = fl, .sub = sb, .def = "{}" }
#define A(n, fl, lo, hi, item) \
	{ .name = n, .type = FT_ARRAY, .flags = fl, .min = lo, .max = hi, \
	  .sub = item, .def = "[]" }
#define M(n, fl, hi, val) \
	{ .name = n, .type = FT_MAP, .flags = fl, .max = hi, .sub = val, \
	  .def = "{}" }
#define U(n, fl, rf) { .name = n, .type = FT_UUID, .flags = fl, .ref = rf }
#define T(n, fl) { .name = n, .type = FT_TIME, .flags = fl }

#define NAME_MAX_CHARS 255
#define DESC_MAX_CHARS 16384
#define RO FF_READONLY
#define NL FF_NULLABLE

/* ---- format checks ---- */

static int port_ok(const char *s)
{
	long v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 5)
		return 0;
	for (i = 0; s[i]; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* A DNS name or IPv4 address: letters, digits, '-', '.', 1-253 chars. */
static int hostname_ok(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static int ipv6_ok(const char *s, size_t n)
{
	char buf[64];
	struct in6_addr a;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* host[:port] or [v6][:port] or bare v6; port required when need_port. */
static const char *hostport_check(const char *s, int need_port)
{
	const char *colon;

	if (strchr(s, '@'))
		return "must not contain user:password@ (use username and "
		       "password)";
	if (strchr(s, '/') || strchr(s, ' '))
		return "must be host:port, without a scheme or path";
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || !ipv6_ok(s + 1, (size_t)(end - s - 1)))
			return "has an invalid IPv6 address";
		if (end[1] == '\0')
			return need_port ? "must end with :port" : NULL;
		if (end[1] != ':' || !port_ok(end + 2))
			return "must end with :port (1-65535)";
		return NULL;
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		if (need_port)
			return "must put an IPv6 address in brackets: "
			       "[v6]:port";
		return ipv6_ok(s, strlen(s)) ? NULL : "is not a valid address";
	}
	if (!colon)
		return need_port ? "must be host:port" :
			(hostname_ok(s, strlen(s)) ? NULL :
			"is not a valid host");
	if (!hostname_ok(s, (size_t)(colon - s)))
		return "has an invalid host";
	if (!port_ok(colon + 1))
		return "must end with :port (1-65535)";
	return NULL;
}

static const char *check_proxy_address(const char *s)
{
	return hostport_check(s, 1);
}

static const char *check_resolver(const char *s)
{
	return hostport_check(s, 0);
}

static const char *check_country(const char *s)
{
	/* ISO 3166-1 alpha-2, officially assigned codes. */
	static const char codes[] =
		"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE "
		"BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD "
		"CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
		"DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF "
		"GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU "
		"ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
		"KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
		"MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA "
		"NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
		"PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI "
		"SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK "
		"TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
		"VN VU WF WS YE YT ZA ZM ZW";
	size_t i;

	if (strlen(s) != 2 || !isupper((unsigned char)s[0]) ||
	    !isupper((unsigned char)s[1]))
		return "must be an ISO 3166-1 alpha-2 code in capitals, "
		       "such as DE";
	for (i = 0; i + 1 < sizeof(codes); i += 3)
		if (codes[i] == s[0] && codes[i + 1] == s[1])
			return NULL;
	return "is not an assigned ISO 3166-1 alpha-2 code";
}

static const char *check_tld(const char *s)
{
	const char *p = s[0] == '.' ? s + 1 : s;

	return hostname_ok(p, strlen(p)) ? NULL :
		"must be a domain suffix such as .com";
}

static const char *check_header_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`|~",
		    s[i]))
			return "must be an HTTP header name";
	return i ? NULL : "must not be empty";
}

static const char *check_no_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not contain control characters";
	return NULL;
}

/* ---- personas ---- */

static const char *const persona_types[] = { "dns", "http", NULL };
static const char *const resolver_strategies[] =
	{ "round_robin", "random", "weighted", "priority", NULL };
static const char *const cookie_modes[] =
	{ "preserve", "ignore", "custom", "none", "file", "session", NULL };
static const char *const tls_versions[] =
	{ "TLS10", "TLS11", "TLS12", "TLS13", NULL };

static const struct field resolver_item =
	{ .name = "", .type = FT_STRING, .min = 1, .max = 261,
	  .check = check_resolver };
static const struct field weight_value =
	{ .name = "", .type = FT_INT, .min = 0, .max = 1000000 };
static const struct field text_item =
	{ .name = "", .type = FT_STRING, .min = 1, .max = 255,
	  .check = check_no_ctl };
static const struct field header_value =
	{ .name = "", .type = FT_STRING, .min = 0, .max = 8192,
	  .check = check_no_ctl };
static const struct field header_item =
	{ .name = "", .type = FT_STRING, .min = 1, .max = 255,
	  .check = check_header_name };

static const struct field dns_config[] = {
	{ .name = "resolvers", .type = FT_ARRAY, .flags = FF_REQUIRED,
	  .min = 1, .max = 64, .sub = &resolver_item,
	  .help = "resolvers as host or host:port, at least one" },
	B("useSystemResolvers", 0, "false"),
	I("queryTimeoutSeconds", 0, 1, 60, "5"),
	I("maxDomainsPerRequest", 0, 1, 1000, "100"),
	E("resolverStrategy", 0, resolver_strategies, "\"round_robin\""),
	{ .name = "resolversWeighted", .type = FT_MAP, .max = 64,
	  .sub = &weight_value, .def = "{}", .check = check_resolver,
	  .help = "resolver -> weight, for the weighted strategy" },
	A("resolversPreferredOrder", 0, 0, 64, &resolver_item),
	I("concurrentQueriesPerDomain", 0, 1, 10, "1"),
	I("queryDelayMinMs", 0, 0, 5000, "0"),
	I("queryDelayMaxMs", 0, 0, 10000, "0"),
	I("maxConcurrentGoroutines", 0, 1, 1000, "10"),
	N("rateLimitDps", 0, 0, 1000000, "0"),
	I("rateLimitBurst", 0, 1, 1000000, "1"),
	END
};

static const struct field tls_hello[] = {
	E("minVersion", NL, tls_versions, "\"TLS12\""),
	E("maxVersion", NL, tls_versions, "\"TLS13\""),
	A("cipherSuites", 0, 0, 64, &text_item),
	A("curvePreferences", 0, 0, 16, &text_item),
	{ .name = "ja3", .type = FT_STRING, .flags = NL, .min = 0,
	  .max = 1024, .check = check_no_ctl },
	END
};

static const struct field http2_settings[] = {
	B("enabled", 0, "true"),
	END
};

static const struct field cookie_handling[] = {
	E("mode", 0, cookie_modes, "\"preserve\""),
	END
};

static const struct field http_config[] = {
	/* Both go into request headers: a line break would add headers. */
	{ .name = "userAgent", .type = FT_STRING, .flags = FF_REQUIRED,
	  .min = 1, .max = 1024, .check = check_no_ctl },
	{ .name = "headers", .type = FT_MAP, .max = 64, .sub = &header_value,
	  .def = "{}", .check = check_header_name,
	  .help = "header name -> value" },
	A("headerOrder", 0, 0, 64, &header_item),
	O("tlsClientHello", 0, tls_hello),
	O("http2Settings", 0, http2_settings),
	O("cookieHandling", 0, cookie_handling),
	B("allowInsecureTls", 0, "false"),
	I("requestTimeoutSeconds", 0, 1, 300, "30"),
	I("maxRedirects", 0, 0, 20, "5"),
	N("rateLimitDps", 0, 0, 1000000, "0"),
	I("rateLimitBurst", 0, 1, 1000000, "1"),
	B("useHeadless", 0, "false"),
	I("viewportWidth", 0, 320, 4096, "1920"),
	I("viewportHeight", 0, 240, 4096, "1080"),
	I("headlessTimeoutSeconds", 0, 1, 300, "30"),
	I("waitDelaySeconds", 0, 0, 60, "0"),
	B("fetchBodyForKeywords", 0, "false"),
	END
};

static const struct field persona_fields[] = {
	{ .name = "name", .type = FT_STRING,
	  .flags = FF_REQUIRED | FF_UNIQUE | FF_SEARCH | FF_SORT,
	  .min = 1, .max = NAME_MAX_CHARS,
	  .unique_with = "personaType", .check = check_no_ctl,
	  .help = "unique per personaType" },
	{ .name = "personaType", .type = FT_ENUM,
	  .flags = FF_REQUIRED | FF_IMMUTABLE | FF_FILTER | FF_DASH | FF_SORT,
	  .choices = persona_types },
	S("description", NL | FF_SEARCH, 0, DESC_MAX_CHARS, NULL),
	B("isEnabled", FF_FILTER | FF_DASH, "true"),
	/* Two declarations of one name: the one whose when_value matches
	 * personaType types the object. */
	{ .name = "configDetails", .type = FT_OBJECT, .flags = FF_REQUIRED,
	  .sub = dns_config, .when_field = "personaType", .when_value = "dns",
	  .help = "DNS settings when personaType is dns" },
	{ .name = "configDetails", .type = FT_OBJECT, .flags = FF_REQUIRED,
	  .sub = http_config, .when_field = "personaType",
	  .when_value = "http",
	  .help = "HTTP settings when personaType is http" },
	END
};

/* ---- keyword sets ---- */

static const char *const rule_types[] = { "string", "regex", NULL };

static const struct field rule_fields[] = {
	U("id", 0, NULL),
	S("pattern", FF_REQUIRED, 1, 1000, NULL),
	E("ruleType", FF_REQUIRED, rule_types, NULL),
	B("isCaseSensitive", 0, "false"),
	S("category", NL, 0, 255, NULL),
	I("contextChars", 0, 0, 10000, "0"),
	END
};

static const struct field rule_item =
	{ .name = "", .type = FT_OBJECT, .sub = rule_fields };

static const struct field keyword_set_fields[] = {
	{ .name = "name", .type = FT_STRING,
	  .flags = FF_REQUIRED | FF_UNIQUE | FF_SEARCH | FF_SORT,
	  .min = 1, .max = NAME_MAX_CHARS,
	  .check = check_no_ctl, .help = "unique" },
	S("description", NL | FF_SEARCH, 0, DESC_MAX_CHARS, NULL),
	B("isEnabled", FF_FILTER | FF_DASH, "true"),
	{ .name = "rules", .type = FT_ARRAY, .sub = &rule_item, .def = "[]",
	  .help = "rules; regex rules compile at save time (POSIX ERE, "
		  "repetition expanding to at most 2000 elements, all of a "
		  "set's together to 50000); at most max_rules (config, "
		  "default 1000)" },
	I("ruleCount", RO | FF_SORT, 0, 0, "0"),
	END
};

/* ---- proxies ---- */

static const char *const proxy_protocols[] =
	{ "http", "https", "socks4", "socks5", NULL };

static const struct field proxy_fields[] = {
	{ .name = "name", .type = FT_STRING,
	  .flags = FF_REQUIRED | FF_UNIQUE | FF_SEARCH | FF_SORT,
	  .min = 1, .max = NAME_MAX_CHARS,
	  .check = check_no_ctl, .help = "unique" },
	S("description", NL | FF_SEARCH, 0, DESC_MAX_CHARS, NULL),
	{ .name = "address", .type = FT_STRING,
	  .flags = FF_REQUIRED | FF_UNIQUE | FF_SEARCH, .min = 3, .max = 261,
	  .check = check_proxy_address,
	  .help = "host:port or [v6]:port, unique, no user:pass@" },
	E("protocol", FF_REQUIRED | FF_FILTER, proxy_protocols, NULL),
	S("username", NL, 0, 255, NULL),
	{ .name = "password", .type = FT_STRING, .flags = FF_SECRET | NL,
	  .min = 0, .max = 1024,
	  .help = "write-only; records show hasPassword; null clears" },
	{ .name = "countryCode", .type = FT_STRING, .flags = NL | FF_SORT,
	  .check = check_country, .help = "ISO 3166-1 alpha-2" },
	B("isEnabled", FF_FILTER | FF_DASH, "true"),
	{ .name = "isHealthy", .type = FT_BOOL,
	  .flags = FF_FILTER | NL | FF_KEEP | FF_DASH,
	  .help = "set by a health checker; null = not checked yet" },
	S("lastStatus", NL | FF_KEEP, 0, 1024, NULL),
	T("lastCheckedAt", NL | FF_KEEP),
	I("latencyMs", NL | FF_KEEP | FF_SORT, 0, 3600000, NULL),
	END
};

/* ---- proxy pools ---- */

static const char *const pool_strategies[] =
	{ "round_robin", "random", "least_used", "weighted", NULL };

static const struct field member_fields[] = {
	U("proxyId", FF_REQUIRED | FF_UNLINK, "proxies"),
	I("weight", 0, 1, 1000000, "1"),
	B("isActive", 0, "true"),
	END
};

static const struct field member_item =
	{ .name = "", .type = FT_OBJECT, .sub = member_fields };

static const struct field pool_fields[] = {
	{ .name = "name", .type = FT_STRING,
	  .flags = FF_REQUIRED | FF_UNIQUE | FF_SEARCH | FF_SORT,
	  .min = 1, .max = NAME_MAX_CHARS,
	  .check = check_no_ctl, .help = "unique" },
	S("description", NL | FF_SEARCH, 0, DESC_MAX_CHARS, NULL),
	E("poolStrategy", FF_FILTER, pool_strategies, "\"round_robin\""),
	B("isEnabled", FF_FILTER | FF_DASH, "true"),
	B("healthCheckEnabled", 0, "true"),
	I("healthCheckIntervalSeconds", 0, 10, 86400, "300"),
	I("healthCheckTimeoutSeconds", 0, 1, 300, "10"),
	I("maxFailures", 0, 1, 100, "3"),
	A("members", 0, 0, 10000, &member_item),
	END
};

/* ---- campaigns ---- */

static const char *const campaign_types[] = { "domain_generation",
	"dns_validation", "http_keyword_validation", NULL };
static const char *const pattern_types[] = { "prefix", "suffix", "both",
	NULL };

static const struct field id_item = { .name = "", .type = FT_UUID,
	.ref = "personas" };
static const struct field set_id_item = { .name = "", .type = FT_UUID,
	.ref = "keyword-sets" };
static const struct field port_item = { .name = "", .type = FT_INT,
	.min = 1, .max = 65535 };
static const struct field keyword_item = { .name = "", .type = FT_STRING,
	.min = 1, .max = 1000 };

static const struct field domain_params[] = {
	E("patternType", FF_REQUIRED, pattern_types, NULL),
	I("variableLength", FF_REQUIRED, 1, 63, NULL),
	S("characterSet", FF_REQUIRED, 1, 256, NULL),
	S("constantString", 0, 0, 63, "\"\""),
	{ .name = "tld", .type = FT_STRING, .flags = FF_REQUIRED, .min = 1,
	  .max = 63, .check = check_tld },
	I("numDomainsToGenerate", 0, 0, 1000000000LL, "0"),
	END
};

static const struct field dns_params[] = {
	U("sourceCampaignId", FF_REQUIRED, "campaigns"),
	A("personaIds", FF_REQUIRED, 1, 100, &id_item),
	I("batchSize", 0, 1, 100000, "100"),
	I("retryAttempts", 0, 0, 100, "1"),
	I("rotationIntervalSeconds", 0, 0, 86400, "0"),
	I("processingSpeedPerMinute", 0, 0, 1000000000LL, "0"),
	END
};

static const struct field http_params[] = {
	U("sourceCampaignId", FF_REQUIRED, "campaigns"),
	A("personaIds", FF_REQUIRED, 1, 100, &id_item),
	A("keywordSetIds", 0, 0, 100, &set_id_item),
	A("adHocKeywords", 0, 0, 1000, &keyword_item),
	U("proxyPoolId", NL, "proxy-pools"),
	I("batchSize", 0, 1, 100000, "100"),
	I("retryAttempts", 0, 0, 100, "1"),
	{ .name = "targetHttpPorts", .type = FT_ARRAY, .min = 1, .max = 64,
	  .sub = &port_item, .def = "[80,443]" },
	END
};

static const struct field campaign_fields[] = {
	{ .name = "name", .type = FT_STRING,
	  .flags = FF_REQUIRED | FF_SEARCH | FF_SORT, .min = 1,
	  .max = NAME_MAX_CHARS, .check = check_no_ctl,
	  .help = "need not be unique" },
	S("description", NL | FF_SEARCH, 0, DESC_MAX_CHARS, NULL),
	{ .name = "campaignType", .type = FT_ENUM,
	  .flags = FF_REQUIRED | FF_IMMUTABLE | FF_FILTER,
	  .choices = campaign_types },
	{ .name = "status", .type = FT_ENUM,
	  .flags = RO | FF_FILTER | FF_DASH | FF_SORT,
	  .choices = campaign_statuses, .def = "\"pending\"",
	  .help = "moved only by the action endpoints" },
	{ .name = "domainGenerationParams", .type = FT_OBJECT,
	  .flags = FF_ONLYWHEN | NL, .sub = domain_params,
	  .when_field = "campaignType", .when_value = "domain_generation" },
	{ .name = "dnsValidationParams", .type = FT_OBJECT,
	  .flags = FF_ONLYWHEN | NL, .sub = dns_params,
	  .when_field = "campaignType", .when_value = "dns_validation" },
	{ .name = "httpKeywordParams", .type = FT_OBJECT,
	  .flags = FF_ONLYWHEN | NL, .sub = http_params,
	  .when_field = "campaignType",
	  .when_value = "http_keyword_validation" },
	I("totalItems", FF_KEEP, 0, 1000000000000LL, "0"),
	I("processedItems", FF_PROGRESS | FF_KEEP, 0, 1000000000000LL, "0"),
	I("successfulItems", FF_PROGRESS | FF_KEEP, 0, 1000000000000LL, "0"),
	I("failedItems", FF_PROGRESS | FF_KEEP, 0, 1000000000000LL, "0"),
	N("progressPercentage", RO | FF_SORT, 0, 100, "0"),
	T("startedAt", RO | NL),
	T("completedAt", RO | NL),
	S("errorMessage", RO | NL, 0, 4096, NULL),
	END
};

const struct resource resources[] = {
	{ .name = "campaigns", .table = "campaigns", .title = "Campaigns",
	  .fields = campaign_fields, .validate = campaign_validate,
	  .derive = campaign_derive, .dashboard = 1 },
	{ .name = "personas", .table = "personas", .title = "Personas",
	  .fields = persona_fields, .validate = rules_persona,
	  .dashboard = 1 },
	{ .name = "keyword-sets", .table = "keyword_sets",
	  .title = "Keyword sets", .fields = keyword_set_fields,
	  .validate = rules_keyword_set, .derive = rules_derive_keyword_set,
	  .dashboard = 1 },
	{ .name = "proxies", .table = "proxies", .title = "Proxies",
	  .fields = proxy_fields, .validate = rules_proxy,
	  .dashboard = 1 },
	{ .name = "proxy-pools", .table = "proxy_pools",
	  .title = "Proxy pools", .fields = pool_fields,
	  .validate = rules_proxy_pool, .dashboard = 1 },
	{ .name = NULL }
};

const struct resource *resource_find(const char *name)
{
	const struct resource *r;

	if (!name)
		return NULL;
	for (r = resources; r->name; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

/* fields_name tells whether any of fields, or their items and members,
 * references the collection name. */
static int fields_name(const struct field *fields, const char *name)
{
	const struct field *f;

	for (f = fields; f != NULL && f->name != NULL; f++) {
		if (f->ref != NULL && strcmp(f->ref, name) == 0)
			return 1;
		if (f->sub == NULL)
			continue;
		/* An object's sub is its fields; an array's or a map's is
		 * the one field of every item. */
		if (f->type == FT_OBJECT ? fields_name(f->sub, name) :
		    (f->sub->ref != NULL && strcmp(f->sub->ref, name) == 0) ||
		    (f->sub->type == FT_OBJECT && fields_name(f->sub->sub,
		    name)))
			return 1;
	}
	return 0;
}

int resource_names_other(const struct resource *a,
	const struct resource *b)
{
	return a != b && fields_name(a->fields, b->name);
}
