/* demo_data.c - the records of flowpush demo, as JSON text. */

#include <stddef.h>

#include "demo_data.h"

/* Each record as the API takes it, in the order they are made; "@key"
 * stands for the id of the earlier record with that key. The steps that
 * follow a campaign bring it to the state it shows. */
const struct demo_data_record demo_data_records[] = {
	/* Personas. */
	{ "dns1", "personas",
	  "{\"name\": \"Public resolvers\", \"personaType\": \"dns\", "
	  "\"description\": \"Cloudflare and Google, taken in turn.\", "
	  "\"isEnabled\": true, \"configDetails\": {\"resolvers\": "
	  "[\"1.1.1.1:53\", \"8.8.8.8:53\", \"1.0.0.1:53\"], "
	  "\"resolverStrategy\": \"round_robin\", \"queryTimeoutSeconds\": "
	  "5, \"maxDomainsPerRequest\": 100}}",
	  NULL },
	{ "dns2", "personas",
	  "{\"name\": \"Quad9 weighted\", \"personaType\": \"dns\", "
	  "\"description\": \"Mostly Quad9, some traffic to its "
	  "secondary.\", \"isEnabled\": true, \"configDetails\": "
	  "{\"resolvers\": [\"9.9.9.9\", \"149.112.112.112\"], "
	  "\"resolverStrategy\": \"weighted\", \"resolversWeighted\": "
	  "{\"9.9.9.9\": 70, \"149.112.112.112\": 30}, "
	  "\"concurrentQueriesPerDomain\": 2, \"rateLimitBurst\": 20}}",
	  NULL },
	{ "dns3", "personas",
	  "{\"name\": \"Slow and careful\", \"personaType\": \"dns\", "
	  "\"description\": \"Spaced queries for registrars that rate-limit "
	  "hard.\", \"isEnabled\": false, \"configDetails\": "
	  "{\"resolvers\": [\"208.67.222.222:53\"], \"queryDelayMinMs\": "
	  "200, \"queryDelayMaxMs\": 900, \"queryTimeoutSeconds\": 10, "
	  "\"rateLimitDps\": 2.5}}",
	  NULL },
	{ "http1", "personas",
	  "{\"name\": \"Chrome 120 on Windows\", \"personaType\": \"http\", "
	  "\"description\": \"A current desktop browser with its usual "
	  "header order.\", \"isEnabled\": true, \"configDetails\": "
	  "{\"userAgent\": \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
	  "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
	  "Safari/537.36\", \"headers\": {\"Accept-Language\": "
	  "\"en-US,en;q=0.9\", \"Accept\": "
	  "\"text/html,application/xhtml+xml\"}, \"headerOrder\": "
	  "[\"Host\", \"User-Agent\", \"Accept\"], \"tlsClientHello\": "
	  "{\"minVersion\": \"TLS12\", \"maxVersion\": \"TLS13\"}, "
	  "\"requestTimeoutSeconds\": 20, \"maxRedirects\": 5}}",
	  NULL },
	{ "http2", "personas",
	  "{\"name\": \"Firefox on Linux\", \"personaType\": \"http\", "
	  "\"description\": \"A plain desktop Firefox that keeps "
	  "cookies.\", \"isEnabled\": true, \"configDetails\": "
	  "{\"userAgent\": \"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) "
	  "Gecko/20100101 Firefox/121.0\", \"cookieHandling\": {\"mode\": "
	  "\"preserve\"}, \"fetchBodyForKeywords\": true}}",
	  NULL },
	{ "http3", "personas",
	  "{\"name\": \"Headless crawler\", \"personaType\": \"http\", "
	  "\"description\": \"Renders pages that need JavaScript before "
	  "matching.\", \"isEnabled\": true, \"configDetails\": "
	  "{\"userAgent\": \"Mozilla/5.0 (X11; Linux x86_64) "
	  "AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
	  "Safari/537.36\", \"useHeadless\": true, \"viewportWidth\": 1366, "
	  "\"viewportHeight\": 768, \"waitDelaySeconds\": 2, "
	  "\"fetchBodyForKeywords\": true}}",
	  NULL },
	/* Keyword sets with string and regex rules. */
	{ "ks1", "keyword-sets",
	  "{\"name\": \"Parked domain signals\", \"description\": \"Phrases "
	  "parking pages and registrars show.\", \"rules\": [{\"pattern\": "
	  "\"domain is for sale\", \"ruleType\": \"string\", "
	  "\"isCaseSensitive\": false, \"category\": \"parking\", "
	  "\"contextChars\": 40}, {\"pattern\": \"buy this domain\", "
	  "\"ruleType\": \"string\", \"isCaseSensitive\": false, "
	  "\"category\": \"parking\", \"contextChars\": 40}, {\"pattern\": "
	  "\"Sedo|Dan\\\\.com|Afternic\", \"ruleType\": \"regex\", "
	  "\"isCaseSensitive\": true, \"category\": \"marketplace\", "
	  "\"contextChars\": 20}]}",
	  NULL },
	{ "ks2", "keyword-sets",
	  "{\"name\": \"Online shop\", \"description\": \"Signs of a "
	  "working web shop.\", \"rules\": [{\"pattern\": \"(add to|view) "
	  "(cart|basket)\", \"ruleType\": \"regex\", \"isCaseSensitive\": "
	  "false, \"category\": \"commerce\", \"contextChars\": 60}, "
	  "{\"pattern\": \"checkout\", \"ruleType\": \"string\", "
	  "\"isCaseSensitive\": false, \"category\": \"commerce\", "
	  "\"contextChars\": 30}, {\"pattern\": \"[0-9]+[.,][0-9]{2} "
	  "?(EUR|USD|\\\\$|€)\", \"ruleType\": \"regex\", "
	  "\"isCaseSensitive\": false, \"category\": \"price\", "
	  "\"contextChars\": 20}]}",
	  NULL },
	{ "ks3", "keyword-sets",
	  "{\"name\": \"Contact details\", \"description\": \"E-mail "
	  "addresses and phone numbers.\", \"isEnabled\": true, \"rules\": "
	  "[{\"pattern\": "
	  "\"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\\\.[A-Za-z]{2,}\", "
	  "\"ruleType\": \"regex\", \"isCaseSensitive\": false, "
	  "\"category\": \"email\", \"contextChars\": 0}, {\"pattern\": "
	  "\"Impressum\", \"ruleType\": \"string\", \"isCaseSensitive\": "
	  "true, \"category\": \"legal\", \"contextChars\": 80}]}",
	  NULL },
	/* Proxies, with and without passwords (documentation addresses). */
	{ "px1", "proxies",
	  "{\"name\": \"Frankfurt datacenter\", \"address\": "
	  "\"192.0.2.10:3128\", \"protocol\": \"http\", \"countryCode\": "
	  "\"DE\", \"isEnabled\": true}",
	  NULL },
	{ "px2", "proxies",
	  "{\"name\": \"Amsterdam residential\", \"address\": "
	  "\"198.51.100.23:1080\", \"protocol\": \"socks5\", "
	  "\"countryCode\": \"NL\", \"isEnabled\": true, \"username\": "
	  "\"demo-user\", \"password\": \"demo-password-nl\"}",
	  NULL },
	{ "px3", "proxies",
	  "{\"name\": \"Virginia HTTPS\", \"address\": "
	  "\"203.0.113.5:8443\", \"protocol\": \"https\", \"countryCode\": "
	  "\"US\", \"isEnabled\": true, \"username\": \"research\", "
	  "\"password\": \"demo-password-us\"}",
	  NULL },
	{ "px4", "proxies",
	  "{\"name\": \"Tokyo backup\", \"address\": "
	  "\"[2001:db8::7]:8080\", \"protocol\": \"http\", \"countryCode\": "
	  "\"JP\", \"isEnabled\": false}",
	  NULL },
	/* Pools with weighted members. */
	{ "pool1", "proxy-pools",
	  "{\"name\": \"EU rotation\", \"description\": \"European exits, "
	  "the datacenter taking most of the load.\", \"poolStrategy\": "
	  "\"weighted\", \"members\": [{\"proxyId\": \"@px1\", \"weight\": "
	  "5, \"isActive\": true}, {\"proxyId\": \"@px2\", \"weight\": 2, "
	  "\"isActive\": true}, {\"proxyId\": \"@px3\", \"weight\": 1, "
	  "\"isActive\": true}], \"healthCheckIntervalSeconds\": 120}",
	  NULL },
	{ "pool2", "proxy-pools",
	  "{\"name\": \"Fallback\", \"description\": \"Used when the main "
	  "pool is unhealthy.\", \"poolStrategy\": \"round_robin\", "
	  "\"members\": [{\"proxyId\": \"@px3\", \"weight\": 1, "
	  "\"isActive\": true}, {\"proxyId\": \"@px4\", \"weight\": 1, "
	  "\"isActive\": true}]}",
	  NULL },
	/* Domain generation: pending, running with progress, completed. */
	{ "gen1", "campaigns",
	  "{\"name\": \"Brandable .com names\", \"description\": "
	  "\"Five-letter names with a shop suffix.\", \"campaignType\": "
	  "\"domain_generation\", \"totalItems\": 250000, "
	  "\"domainGenerationParams\": {\"patternType\": \"suffix\", "
	  "\"variableLength\": 5, \"characterSet\": "
	  "\"abcdefghijklmnopqrstuvwxyz\", \"constantString\": \"shop\", "
	  "\"tld\": \".com\", \"numDomainsToGenerate\": 250000}}",
	  NULL },
	{ "gen2", "campaigns",
	  "{\"name\": \"Short .io prefixes\", \"description\": \"Two "
	  "letters in front of 'labs'.\", \"campaignType\": "
	  "\"domain_generation\", \"totalItems\": 676, "
	  "\"domainGenerationParams\": {\"patternType\": \"prefix\", "
	  "\"variableLength\": 2, \"characterSet\": "
	  "\"abcdefghijklmnopqrstuvwxyz\", \"constantString\": \"labs\", "
	  "\"tld\": \".io\", \"numDomainsToGenerate\": 676}}",
	  "[\"start\", \"run\", {\"patch\": {\"processedItems\": 676, "
	  "\"successfulItems\": 676, \"failedItems\": 0}}]" },
	{ "gen3", "campaigns",
	  "{\"name\": \"Numbered .net sweep\", \"description\": \"Three "
	  "digits on both sides of 'cloud'.\", \"campaignType\": "
	  "\"domain_generation\", \"totalItems\": 1000, "
	  "\"domainGenerationParams\": {\"patternType\": \"both\", "
	  "\"variableLength\": 3, \"characterSet\": \"0123456789\", "
	  "\"constantString\": \"cloud\", \"tld\": \".net\", "
	  "\"numDomainsToGenerate\": 1000}}",
	  "[\"start\", \"run\", {\"patch\": {\"processedItems\": 413, "
	  "\"successfulItems\": 410, \"failedItems\": 3}}]" },
	/* DNS validation: queued and paused. */
	{ "dv1", "campaigns",
	  "{\"name\": \"Resolve .io names\", \"description\": \"Resolve the "
	  "generated names to find registered ones.\", \"campaignType\": "
	  "\"dns_validation\", \"totalItems\": 676, "
	  "\"dnsValidationParams\": {\"sourceCampaignId\": \"@gen2\", "
	  "\"personaIds\": [\"@dns1\", \"@dns2\"], \"batchSize\": 200, "
	  "\"retryAttempts\": 2}}",
	  "[\"start\", \"run\", {\"patch\": {\"processedItems\": 312, "
	  "\"successfulItems\": 300, \"failedItems\": 12}}, \"pause\"]" },
	{ "dv2", "campaigns",
	  "{\"name\": \"Resolve .net sweep\", \"description\": \"Resolve "
	  "the generated names to find registered ones.\", "
	  "\"campaignType\": \"dns_validation\", \"totalItems\": 413, "
	  "\"dnsValidationParams\": {\"sourceCampaignId\": \"@gen3\", "
	  "\"personaIds\": [\"@dns2\"], \"batchSize\": 200, "
	  "\"retryAttempts\": 2}}",
	  "[\"start\"]" },
	/* HTTP keyword validation: failed, cancelled, archived. */
	{ "hk1", "campaigns",
	  "{\"name\": \"Shops among .io names\", \"description\": \"Fetch "
	  "live domains and look for the keyword sets.\", \"campaignType\": "
	  "\"http_keyword_validation\", \"totalItems\": 288, "
	  "\"httpKeywordParams\": {\"sourceCampaignId\": \"@dv1\", "
	  "\"personaIds\": [\"@http1\", \"@http2\"], \"keywordSetIds\": "
	  "[\"@ks2\", \"@ks3\"], \"adHocKeywords\": [\"coming soon\", "
	  "\"under construction\"], \"batchSize\": 50, \"targetHttpPorts\": "
	  "[80, 443], \"proxyPoolId\": \"@pool1\"}}",
	  "[\"start\", \"run\", {\"patch\": {\"processedItems\": 131, "
	  "\"successfulItems\": 90, \"failedItems\": 41}}, {\"action\": "
	  "\"fail\", \"errorMessage\": \"Proxy pool EU rotation answered "
	  "407 for every request.\"}]" },
	{ "hk2", "campaigns",
	  "{\"name\": \"Parked .net domains\", \"description\": \"Fetch "
	  "live domains and look for the keyword sets.\", \"campaignType\": "
	  "\"http_keyword_validation\", \"totalItems\": 413, "
	  "\"httpKeywordParams\": {\"sourceCampaignId\": \"@dv2\", "
	  "\"personaIds\": [\"@http3\"], \"keywordSetIds\": [\"@ks1\"], "
	  "\"adHocKeywords\": [\"coming soon\", \"under construction\"], "
	  "\"batchSize\": 50, \"targetHttpPorts\": [80, 443], "
	  "\"proxyPoolId\": \"@pool2\"}}",
	  "[\"start\", \"cancel\"]" },
	/* 50 of 50 processed completes it on its own; archive it too. */
	{ "hk3", "campaigns",
	  "{\"name\": \"Contact pages, spring run\", \"description\": "
	  "\"Fetch live domains and look for the keyword sets.\", "
	  "\"campaignType\": \"http_keyword_validation\", \"totalItems\": "
	  "50, \"httpKeywordParams\": {\"sourceCampaignId\": \"@dv1\", "
	  "\"personaIds\": [\"@http2\"], \"keywordSetIds\": [\"@ks3\"], "
	  "\"adHocKeywords\": [\"coming soon\", \"under construction\"], "
	  "\"batchSize\": 50, \"targetHttpPorts\": [80, 443]}}",
	  "[\"start\", \"run\", {\"patch\": {\"processedItems\": 50, "
	  "\"successfulItems\": 48, \"failedItems\": 2}}, \"archive\"]" },
	{ NULL, NULL, NULL, NULL },
};
