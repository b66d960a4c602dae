#!/usr/bin/python3
"""test_rules.py - the data-model rules of every collection, checked through flowpush.fcgi run as plain CGI.

One test states one rule of the data model (personas, keyword sets,
proxies, proxy pools, campaigns and their state machine, the dashboard,
bad input and the write path); its name says the rule. The binary comes
from $FLOWPUSH_FCGI (default ./flowpush.fcgi), the admin command that
makes each test's database from $FLOWPUSH_CLI (default ./flowpush). The
last line printed is "N passed, N failed"; the exit status is non-zero
when anything failed.
"""

import json
import os
import socket
import sqlite3
import sys
import time
import urllib.parse

# The harness sits next to this file; importing it must not leave byte
# code in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgi_harness import (CgiTestCase, FORM, UUID0, main)  # noqa: E402

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

STATUSES = ("pending", "queued", "running", "paused", "completed",
            "failed", "cancelled", "archived")

# How to bring a new campaign into each status.
PATH_TO = {
    "pending": [],
    "queued": ["start"],
    "running": ["start", "run"],
    "paused": ["start", "pause"],
    "completed": ["start", "run", "complete"],
    "failed": ["start", "run", "fail"],
    "cancelled": ["cancel"],
    "archived": ["cancel", "archive"],
}

# The state machine of the issue: action -> {from: to}.
MACHINE = {
    "start": {"pending": "queued", "failed": "queued"},
    "run": {"queued": "running"},
    "pause": {"queued": "paused", "running": "paused"},
    "resume": {"paused": "queued"},
    "cancel": {"pending": "cancelled", "queued": "cancelled",
               "running": "cancelled", "paused": "cancelled"},
    "complete": {"running": "completed"},
    "fail": {"running": "failed"},
    "archive": {"completed": "archived", "failed": "archived",
                "cancelled": "archived"},
}

SQL_TEXT = "x'); DROP TABLE personas;-- \" % _ \\ ; /* */ OR 1=1 `"


def dns_persona(name="dns one", **cfg):
    config = {"resolvers": ["1.1.1.1", "8.8.8.8:53"]}
    config.update(cfg)
    return {"name": name, "personaType": "dns", "configDetails": config}


def http_persona(name="http one", **cfg):
    config = {"userAgent": "Mozilla/5.0 (X11; Linux x86_64)"}
    config.update(cfg)
    return {"name": name, "personaType": "http", "configDetails": config}


def rule(pattern, rule_type="string", **kw):
    r = {"pattern": pattern, "ruleType": rule_type}
    r.update(kw)
    return r


def keyword_set(name="kw one", rules=None, **kw):
    rec = {"name": name, "rules": rules if rules is not None
           else [rule("buy now")]}
    rec.update(kw)
    return rec


def proxy(name="px one", address="192.0.2.10:3128", **kw):
    rec = {"name": name, "address": address, "protocol": "http"}
    rec.update(kw)
    return rec


def pool(name="pool one", members=None, **kw):
    rec = {"name": name, "members": members or []}
    rec.update(kw)
    return rec


def gen_campaign(name="gen", **params):
    p = {"patternType": "prefix", "variableLength": 3,
         "characterSet": "abc", "tld": ".com"}
    p.update(params)
    return {"name": name, "campaignType": "domain_generation",
            "domainGenerationParams": p}


class Fixtures(CgiTestCase):
    """A case that needs records to refer to."""

    def make_refs(self):
        self.dns = self.create("personas", dns_persona())
        self.http = self.create("personas", http_persona())
        self.kws = self.create("keyword-sets", keyword_set())
        self.px = self.create("proxies", proxy())
        self.pool = self.create("proxy-pools", pool(members=[
            {"proxyId": self.px["id"]}]))
        self.src = self.create("campaigns", gen_campaign("source"))

    def dns_campaign(self, **params):
        p = {"sourceCampaignId": self.src["id"],
             "personaIds": [self.dns["id"]]}
        p.update(params)
        return {"name": "dnsv", "campaignType": "dns_validation",
                "dnsValidationParams": p}

    def http_campaign(self, **params):
        p = {"sourceCampaignId": self.src["id"],
             "personaIds": [self.http["id"]],
             "keywordSetIds": [self.kws["id"]],
             "proxyPoolId": self.pool["id"]}
        p.update(params)
        return {"name": "httpv", "campaignType": "http_keyword_validation",
                "httpKeywordParams": p}

    def campaign_in(self, status, **fields):
        rec = gen_campaign("in " + status)
        rec.update(fields)
        c = self.create("campaigns", rec)
        for act in PATH_TO[status]:
            a = self.action(c["id"], act)
            self.assertEqual(a.status, 200, (act, a))
            c = a.json()
        self.assertEqual(c["status"], status)
        return c


def add_range_test(cls, name, make, path, lo, hi, extra=None):
    """Adds one test: the field at path (in the body make() returns) takes
    lo and hi and refuses lo - 1 and hi + 1 (hi None: no upper bound)."""
    keys = path.split(".")

    def put_value(body, v):
        obj = body
        for k in keys[:-1]:
            obj = obj[k]
        obj[keys[-1]] = v

    def put_extra(body):
        for k, ev in (extra or {}).items():
            obj = body
            for part in k.split(".")[:-1]:
                obj = obj[part]
            obj[k.split(".")[-1]] = ev

    def test(self):
        refs = getattr(self, "make_refs", None)
        if refs:
            refs()
        n = 0
        for v in [lo] + ([hi] if hi is not None else []):
            body = make(self, n)
            n += 1
            put_extra(body)
            put_value(body, v)
            a = self.req("POST", "/api/" + cls.collection, body)
            self.assertEqual(a.status, 201, (path, v, a))
        for v in [lo - 1] + ([hi + 1] if hi is not None else []):
            body = make(self, n)
            n += 1
            put_extra(body)
            put_value(body, v)
            before = self.site.snapshot()
            a = self.req("POST", "/api/" + cls.collection, body)
            self.assertInvalid(a, path)
            self.assertUnchanged(before)

    test.__name__ = name
    setattr(cls, name, test)


# ---------------------------------------------------------------- personas

class Personas(CgiTestCase):
    collection = "personas"

    def test_persona_name_may_repeat_across_types_but_not_within_one(self):
        self.create("personas", dns_persona("shared"))
        self.create("personas", http_persona("shared"))
        before = self.site.snapshot()
        a = self.req("POST", "/api/personas", dns_persona("shared"))
        err = self.assertError(a, 409, "conflict")
        self.assertIn("name", err.get("fields", {}))
        self.assertUnchanged(before)

    def test_persona_rename_onto_a_name_of_its_type_is_409(self):
        self.create("personas", dns_persona("taken"))
        p = self.create("personas", dns_persona("free"))
        self.assertError(self.patch("personas", p["id"], {"name": "taken"}),
                         409, "conflict")

    def test_persona_name_must_be_1_to_255_characters(self):
        self.create("personas", dns_persona("é" * 255))
        for bad in ("", "n" * 256):
            self.assertInvalid(self.req("POST", "/api/personas",
                                        dns_persona(bad)), "name")

    def test_persona_type_must_be_dns_or_http(self):
        rec = dns_persona()
        rec["personaType"] = "smtp"
        self.assertInvalid(self.req("POST", "/api/personas", rec),
                           "personaType")

    def test_persona_type_cannot_change_after_creation(self):
        p = self.create("personas", dns_persona())
        a = self.put("personas", p["id"], http_persona())
        self.assertInvalid(a, "personaType")
        self.assertEqual(self.get("personas", p["id"])["personaType"],
                         "dns")

    def test_persona_is_enabled_by_default(self):
        self.assertIs(self.create("personas", dns_persona())["isEnabled"],
                      True)

    def test_persona_description_is_kept(self):
        p = self.create("personas", dict(dns_persona(),
                                         description="line\nnext"))
        self.assertEqual(p["description"], "line\nnext")

    def test_persona_needs_config_details(self):
        rec = dns_persona()
        del rec["configDetails"]
        self.assertInvalid(self.req("POST", "/api/personas", rec),
                           "configDetails")

    def test_dns_persona_needs_at_least_one_resolver(self):
        self.assertInvalid(self.req("POST", "/api/personas",
                                    dns_persona(resolvers=[])),
                           "configDetails.resolvers")
        rec = dns_persona()
        del rec["configDetails"]["resolvers"]
        self.assertInvalid(self.req("POST", "/api/personas", rec),
                           "configDetails.resolvers")

    def test_dns_resolvers_are_host_or_host_port(self):
        good = ["1.1.1.1", "dns.example.net", "9.9.9.9:53",
                "[2606:4700::1111]:53", "2606:4700::1111"]
        p = self.create("personas", dns_persona(resolvers=good))
        self.assertEqual(p["configDetails"]["resolvers"], good)
        for bad in ("udp://1.1.1.1", "1.1.1.1:0", "1.1.1.1:65536",
                    "a b", "x:y", "user@1.1.1.1", ""):
            a = self.req("POST", "/api/personas",
                         dns_persona(resolvers=["1.1.1.1", bad]))
            self.assertInvalid(a, "configDetails.resolvers[1]")

    def test_dns_resolver_strategy_is_one_of_four(self):
        for i, s in enumerate(("round_robin", "random", "weighted",
                               "priority")):
            self.create("personas", dns_persona("s%d" % i,
                                                resolverStrategy=s))
        self.assertInvalid(self.req("POST", "/api/personas", dns_persona(
            "bad", resolverStrategy="fastest")),
            "configDetails.resolverStrategy")

    def test_dns_weighted_resolvers_map_resolvers_to_weights(self):
        p = self.create("personas", dns_persona(
            resolverStrategy="weighted",
            resolversWeighted={"1.1.1.1": 3, "8.8.8.8:53": 1}))
        self.assertEqual(p["configDetails"]["resolversWeighted"],
                         {"1.1.1.1": 3, "8.8.8.8:53": 1})
        a = self.req("POST", "/api/personas", dns_persona(
            "w2", resolversWeighted={"1.1.1.1": "heavy"}))
        self.assertInvalid(a, "configDetails.resolversWeighted.1.1.1.1")
        a = self.req("POST", "/api/personas", dns_persona(
            "w3", resolversWeighted={"4.4.4.4": 1}))
        self.assertInvalid(a, "configDetails.resolversWeighted.4.4.4.4")

    def test_dns_preferred_order_is_a_list_of_resolvers(self):
        p = self.create("personas", dns_persona(
            resolversPreferredOrder=["8.8.8.8:53", "1.1.1.1"]))
        self.assertEqual(p["configDetails"]["resolversPreferredOrder"],
                         ["8.8.8.8:53", "1.1.1.1"])
        self.assertInvalid(self.req("POST", "/api/personas", dns_persona(
            "o2", resolversPreferredOrder="1.1.1.1")),
            "configDetails.resolversPreferredOrder")

    def test_dns_use_system_resolvers_is_a_boolean(self):
        p = self.create("personas", dns_persona(useSystemResolvers=True))
        self.assertIs(p["configDetails"]["useSystemResolvers"], True)
        self.assertInvalid(self.req("POST", "/api/personas", dns_persona(
            "b2", useSystemResolvers="yes")),
            "configDetails.useSystemResolvers")

    def test_dns_query_delay_min_may_not_exceed_max(self):
        self.create("personas", dns_persona(queryDelayMinMs=100,
                                            queryDelayMaxMs=100))
        a = self.req("POST", "/api/personas", dns_persona(
            "d2", queryDelayMinMs=200, queryDelayMaxMs=100))
        self.assertInvalid(a, "configDetails.queryDelayMinMs")

    def test_dns_rate_limit_dps_takes_fractions(self):
        p = self.create("personas", dns_persona(rateLimitDps=2.5))
        self.assertEqual(p["configDetails"]["rateLimitDps"], 2.5)

    def test_dns_persona_gets_documented_defaults(self):
        cfg = self.create("personas", dns_persona())["configDetails"]
        self.assertEqual(cfg["queryTimeoutSeconds"], 5)
        self.assertEqual(cfg["resolverStrategy"], "round_robin")
        self.assertIs(cfg["useSystemResolvers"], False)
        self.assertEqual(cfg["rateLimitBurst"], 1)

    def test_http_persona_needs_a_user_agent(self):
        rec = http_persona()
        del rec["configDetails"]["userAgent"]
        self.assertInvalid(self.req("POST", "/api/personas", rec),
                           "configDetails.userAgent")

    def test_http_user_agent_with_a_line_break_is_refused(self):
        a = self.req("POST", "/api/personas", http_persona(
            userAgent="ua\r\nX-Injected: 1"))
        self.assertInvalid(a, "configDetails.userAgent")

    def test_http_headers_are_a_map_of_header_names_to_values(self):
        p = self.create("personas", http_persona(
            headers={"Accept-Language": "en", "X-Trace": "1"},
            headerOrder=["Accept-Language", "X-Trace"]))
        self.assertEqual(p["configDetails"]["headers"],
                         {"Accept-Language": "en", "X-Trace": "1"})
        self.assertEqual(p["configDetails"]["headerOrder"],
                         ["Accept-Language", "X-Trace"])
        a = self.req("POST", "/api/personas", http_persona(
            "h2", headers={"X-A": "ok\r\nX-B: injected"}))
        self.assertInvalid(a, "configDetails.headers.X-A")

    def test_http_header_name_that_is_not_a_token_is_refused(self):
        for i, bad in enumerate(("X-A\r\nX-B", "Bad Name", "X:Y")):
            a = self.req("POST", "/api/personas", http_persona(
                "hn%d" % i, headers={bad: "v"}))
            err = self.assertError(a, 422)
            self.assertTrue(any(k.startswith("configDetails.headers")
                                for k in err["fields"]), a)

    def test_http_tls_client_hello_takes_its_five_fields(self):
        hello = {"minVersion": "TLS12", "maxVersion": "TLS13",
                 "cipherSuites": ["TLS_AES_128_GCM_SHA256"],
                 "curvePreferences": ["X25519"],
                 "ja3": "771,4865-4866,0-23,29-23,0"}
        p = self.create("personas", http_persona(tlsClientHello=hello))
        self.assertEqual(p["configDetails"]["tlsClientHello"], hello)

    def test_http_tls_min_version_above_max_is_refused(self):
        a = self.req("POST", "/api/personas", http_persona(
            tlsClientHello={"minVersion": "TLS13", "maxVersion": "TLS12"}))
        self.assertInvalid(a, "configDetails.tlsClientHello.minVersion")

    def test_http2_settings_enabled_is_a_boolean(self):
        p = self.create("personas", http_persona(
            http2Settings={"enabled": False}))
        self.assertIs(p["configDetails"]["http2Settings"]["enabled"], False)
        self.assertInvalid(self.req("POST", "/api/personas", http_persona(
            "h2s", http2Settings={"enabled": 1})),
            "configDetails.http2Settings.enabled")

    def test_http_cookie_mode_is_one_of_six(self):
        for i, m in enumerate(("preserve", "ignore", "custom", "none",
                               "file", "session")):
            self.create("personas", http_persona(
                "c%d" % i, cookieHandling={"mode": m}))
        self.assertInvalid(self.req("POST", "/api/personas", http_persona(
            "cx", cookieHandling={"mode": "eat"})),
            "configDetails.cookieHandling.mode")

    def test_http_headless_options_are_kept(self):
        cfg = {"useHeadless": True, "viewportWidth": 1280,
               "viewportHeight": 720, "headlessTimeoutSeconds": 45,
               "waitDelaySeconds": 2, "fetchBodyForKeywords": True,
               "allowInsecureTls": True}
        got = self.create("personas", http_persona(**cfg))["configDetails"]
        for k, v in cfg.items():
            self.assertEqual(got[k], v, k)

    def test_unknown_key_in_config_details_is_422_not_dropped(self):
        before = self.site.snapshot()
        a = self.req("POST", "/api/personas", dns_persona(retries=3))
        self.assertInvalid(a, "configDetails.retries")
        self.assertUnchanged(before)

    def test_dns_setting_in_an_http_persona_is_422(self):
        a = self.req("POST", "/api/personas", http_persona(
            resolvers=["1.1.1.1"]))
        self.assertInvalid(a, "configDetails.resolvers")

    def test_unknown_key_inside_tls_client_hello_is_422(self):
        a = self.req("POST", "/api/personas", http_persona(
            tlsClientHello={"grease": True}))
        self.assertInvalid(a, "configDetails.tlsClientHello.grease")


def _dns(self, n):
    return dns_persona("r%d" % n)


def _http(self, n):
    return http_persona("r%d" % n)


for _f, _lo, _hi in (("queryTimeoutSeconds", 1, 60),
                     ("maxDomainsPerRequest", 1, 1000),
                     ("concurrentQueriesPerDomain", 1, 10),
                     ("queryDelayMaxMs", 0, 10000),
                     ("maxConcurrentGoroutines", 1, 1000),
                     ("rateLimitDps", 0, None),
                     ("rateLimitBurst", 1, None)):
    add_range_test(Personas, "test_dns_%s_takes_%s_to_%s_only" % (
        _f, _lo, _hi if _hi is not None else "any"), _dns,
        "configDetails." + _f, _lo, _hi)
add_range_test(Personas, "test_dns_queryDelayMinMs_takes_0_to_5000_only",
               _dns, "configDetails.queryDelayMinMs", 0, 5000,
               extra={"configDetails.queryDelayMaxMs": 10000})
for _f, _lo, _hi in (("requestTimeoutSeconds", 1, 300),
                     ("maxRedirects", 0, 20),
                     ("viewportWidth", 320, 4096),
                     ("viewportHeight", 240, 4096),
                     ("headlessTimeoutSeconds", 1, 300),
                     ("waitDelaySeconds", 0, 60),
                     ("rateLimitDps", 0, None),
                     ("rateLimitBurst", 1, None)):
    add_range_test(Personas, "test_http_%s_takes_%s_to_%s_only" % (
        _f, _lo, _hi if _hi is not None else "any"), _http,
        "configDetails." + _f, _lo, _hi)


# ------------------------------------------------------------ keyword sets

class KeywordSets(CgiTestCase):
    collection = "keyword-sets"
    settings = {"max_rules": "5"}

    def test_keyword_set_name_is_unique(self):
        self.create("keyword-sets", keyword_set("same"))
        self.assertError(self.req("POST", "/api/keyword-sets",
                                  keyword_set("same")), 409, "conflict")

    def test_keyword_set_name_must_be_1_to_255_characters(self):
        for bad in ("", "k" * 256):
            self.assertInvalid(self.req("POST", "/api/keyword-sets",
                                        keyword_set(bad)), "name")

    def test_keyword_set_is_enabled_by_default(self):
        self.assertIs(self.create("keyword-sets", keyword_set())
                      ["isEnabled"], True)

    def test_rule_needs_a_pattern_and_a_rule_type(self):
        a = self.req("POST", "/api/keyword-sets", keyword_set(rules=[
            rule("ok"), {"ruleType": "string"}, {"pattern": "x"}]))
        err = self.assertInvalid(a, "rules[1].pattern")
        self.assertIn("rules[2].ruleType", err["fields"])

    def test_rule_type_is_string_or_regex(self):
        a = self.req("POST", "/api/keyword-sets", keyword_set(rules=[
            rule("x", "glob")]))
        self.assertInvalid(a, "rules[0].ruleType")

    def test_rule_gets_an_id_and_documented_defaults(self):
        r = self.create("keyword-sets", keyword_set())["rules"][0]
        self.assertRegex(r["id"], r"^[0-9a-f-]{36}$")
        self.assertIs(r["isCaseSensitive"], False)
        self.assertEqual(r["contextChars"], 0)
        self.assertIsNone(r["category"])

    def test_rule_ids_are_kept_and_must_be_unique_in_the_set(self):
        k = self.create("keyword-sets", keyword_set())
        rid = k["rules"][0]["id"]
        got = self.put("keyword-sets", k["id"], keyword_set(rules=[
            dict(rule("buy now"), id=rid)])).json()
        self.assertEqual(got["rules"][0]["id"], rid)
        a = self.put("keyword-sets", k["id"], keyword_set(rules=[
            dict(rule("a"), id=rid), dict(rule("b"), id=rid)]))
        self.assertInvalid(a, "rules[1].id")

    def test_rule_context_chars_may_not_be_negative(self):
        a = self.req("POST", "/api/keyword-sets", keyword_set(rules=[
            rule("x", contextChars=-1)]))
        self.assertInvalid(a, "rules[0].contextChars")

    def test_regex_rule_that_does_not_compile_is_422_naming_rules_N_pattern(
            self):
        before = self.site.snapshot()
        a = self.req("POST", "/api/keyword-sets", keyword_set(rules=[
            rule("fine", "regex"), rule("a(b", "regex")]))
        err = self.assertInvalid(a, "rules[1].pattern")
        self.assertNotIn("rules[0].pattern", err["fields"])
        self.assertUnchanged(before)

    def test_regex_rules_are_posix_extended(self):
        self.create("keyword-sets", keyword_set("ere", rules=[
            rule("^(buy|sell)[[:space:]]+now{1,3}$", "regex"),
            rule("a+b?|c", "regex")]))
        # Perl syntax is not POSIX: an inline flag group does not compile
        a = self.req("POST", "/api/keyword-sets", keyword_set("pcre", rules=[
            rule("(?i)buy", "regex")]))
        self.assertInvalid(a, "rules[0].pattern")

    def test_string_rule_is_not_compiled(self):
        k = self.create("keyword-sets", keyword_set(rules=[
            rule("a(b[", "string")]))
        self.assertEqual(k["rules"][0]["pattern"], "a(b[")

    def test_regex_that_would_expand_beyond_bounds_is_refused_quickly(self):
        t0 = time.monotonic()
        for i, pat in enumerate(("(.{1,32767})", "x{1,30000}",
                                 "((a{1,100}){1,100}){1,100}",
                                 "(.{0,10}){0,1000}")):
            a = self.req("POST", "/api/keyword-sets", keyword_set(
                "big%d" % i, rules=[rule(pat, "regex")]))
            self.assertInvalid(a, "rules[0].pattern")
        self.assertLess(time.monotonic() - t0, 5)

    def test_rule_count_is_computed_and_ignores_what_is_sent(self):
        k = self.create("keyword-sets", keyword_set(rules=[
            rule("a"), rule("b")], ruleCount=99))
        self.assertEqual(k["ruleCount"], 2)
        k = self.patch("keyword-sets", k["id"], {"rules": [rule("c")]})
        self.assertEqual(k.json()["ruleCount"], 1)

    def test_rules_beyond_the_configured_maximum_are_refused(self):
        self.create("keyword-sets", keyword_set(
            "five", rules=[rule("r%d" % i) for i in range(5)]))
        a = self.req("POST", "/api/keyword-sets", keyword_set(
            "six", rules=[rule("r%d" % i) for i in range(6)]))
        self.assertInvalid(a, "rules")

    def test_rule_maximum_is_documented(self):
        with open(os.path.join(SRCDIR, "docs", "API.md")) as f:
            doc = f.read()
        line = [l for l in doc.splitlines() if l.startswith("| `rules[]`")]
        self.assertTrue(line, "rules[] missing from docs/API.md")
        self.assertIn("max_rules", line[0])
        self.assertIn("1000", line[0])


# ----------------------------------------------------------------- proxies

class Proxies(CgiTestCase):
    collection = "proxies"
    SECRET = "s3cr3t-Pa55word-never-shown"

    def test_proxy_name_is_unique(self):
        self.create("proxies", proxy("same", "192.0.2.1:80"))
        a = self.req("POST", "/api/proxies", proxy("same", "192.0.2.2:80"))
        err = self.assertError(a, 409, "conflict")
        self.assertIn("name", err["fields"])

    def test_proxy_address_is_unique(self):
        self.create("proxies", proxy("a", "192.0.2.1:80"))
        a = self.req("POST", "/api/proxies", proxy("b", "192.0.2.1:80"))
        err = self.assertError(a, 409, "conflict")
        self.assertIn("address", err["fields"])

    def test_proxy_address_is_host_port_or_bracketed_v6_port(self):
        for i, good in enumerate(("proxy.example.net:8080", "10.1.2.3:1",
                                  "[2001:db8::1]:3128")):
            self.create("proxies", proxy("g%d" % i, good))
        for i, bad in enumerate(("10.1.2.3", "2001:db8::1:3128",
                                 "[2001:db8::1]", "10.1.2.3:0",
                                 "10.1.2.3:70000", "http://10.1.2.3:80",
                                 "10.1.2.3:80/x", "[zz::1]:80")):
            a = self.req("POST", "/api/proxies", proxy("b%d" % i, bad))
            self.assertInvalid(a, "address")

    def test_proxy_address_with_userinfo_is_refused(self):
        a = self.req("POST", "/api/proxies", proxy(
            address="user:pw@192.0.2.1:80"))
        err = self.assertInvalid(a, "address")
        self.assertNotIn("pw@", json.dumps(err))

    def test_proxy_protocol_is_one_of_four(self):
        for i, p in enumerate(("http", "https", "socks4", "socks5")):
            self.create("proxies", proxy("p%d" % i, "192.0.2.%d:80" % (i + 1),
                                         protocol=p))
        self.assertInvalid(self.req("POST", "/api/proxies", proxy(
            "p9", "192.0.2.9:80", protocol="ftp")), "protocol")

    def test_proxy_country_code_is_iso_3166_alpha_2(self):
        p = self.create("proxies", proxy(countryCode="DE"))
        self.assertEqual(p["countryCode"], "DE")
        for i, bad in enumerate(("XX", "de", "DEU", "D", "")):
            self.assertInvalid(self.req("POST", "/api/proxies", proxy(
                "c%d" % i, "192.0.2.%d:80" % (i + 20), countryCode=bad)),
                "countryCode")

    def test_proxy_is_enabled_by_default(self):
        self.assertIs(self.create("proxies", proxy())["isEnabled"], True)

    def test_password_is_never_returned_by_any_get(self):
        p = self.create("proxies", proxy(password=self.SECRET))
        self.assertIs(p["hasPassword"], True)
        self.assertNotIn("password", p)
        for uri in ("/api/proxies/" + p["id"], "/api/proxies",
                    "/api/proxies?protocol=http", "/api/dashboard",
                    "/api/changes?since=0"):
            a = self.req("GET", uri)
            self.assertEqual(a.status, 200, a)
            self.assertNotIn(self.SECRET.encode(), a.body, uri)
            self.assertNotIn(b'"password"', a.body, uri)

    def test_password_never_reaches_the_journal(self):
        p = self.create("proxies", proxy(password=self.SECRET))
        self.put("proxies", p["id"], proxy(password=self.SECRET + "2"))
        self.patch("proxies", p["id"], {"password": self.SECRET + "3",
                                        "description": "d"})
        self.patch("proxies", p["id"], {"password": None})
        self.delete("proxies", p["id"])
        rows = self.site.journal()
        self.assertGreaterEqual(len(rows), 5)
        for r in rows:
            self.assertNotIn(self.SECRET, r["raw"] or "")
            self.assertNotIn("password", r["raw"] or "")

    def test_put_without_password_keeps_it(self):
        p = self.create("proxies", proxy(password=self.SECRET))
        a = self.put("proxies", p["id"], proxy(description="new"))
        self.assertEqual(a.status, 200, a)
        self.assertIs(a.json()["hasPassword"], True)
        # Kept, and sealed at rest: the PUT had to open it to keep it.
        rows = self.site.sql("SELECT secret FROM proxies")
        self.assertTrue(rows[0][0].startswith("fp1:"), rows[0][0])
        self.assertIn(":password:", rows[0][0])
        self.assertNotIn(self.SECRET, rows[0][0])

    def test_patch_without_password_keeps_it(self):
        p = self.create("proxies", proxy(password=self.SECRET))
        a = self.patch("proxies", p["id"], {"description": "new"})
        self.assertIs(a.json()["hasPassword"], True)

    def test_password_null_clears_it(self):
        p = self.create("proxies", proxy(password=self.SECRET))
        a = self.patch("proxies", p["id"], {"password": None})
        self.assertEqual(a.status, 200, a)
        self.assertIs(a.json()["hasPassword"], False)
        rows = self.site.sql("SELECT secret FROM proxies")
        self.assertNotIn(self.SECRET, rows[0][0] or "")

    def test_has_password_sent_by_a_client_is_ignored(self):
        p = self.create("proxies", proxy(hasPassword=True))
        self.assertIs(p["hasPassword"], False)

    def test_health_fields_are_updatable_through_patch(self):
        p = self.create("proxies", proxy())
        self.assertIsNone(p["isHealthy"])
        a = self.patch("proxies", p["id"], {
            "isHealthy": True, "lastStatus": "200 OK",
            "lastCheckedAt": "2026-01-31T12:00:00.000Z", "latencyMs": 42})
        self.assertEqual(a.status, 200, a)
        got = self.get("proxies", p["id"])
        self.assertEqual((got["isHealthy"], got["lastStatus"],
                          got["lastCheckedAt"], got["latencyMs"]),
                         (True, "200 OK", "2026-01-31T12:00:00.000Z", 42))

    def test_health_check_time_must_be_rfc_3339(self):
        p = self.create("proxies", proxy())
        self.assertInvalid(self.patch("proxies", p["id"], {
            "lastCheckedAt": "yesterday"}), "lastCheckedAt")
        self.assertInvalid(self.patch("proxies", p["id"], {
            "latencyMs": -1}), "latencyMs")


# ------------------------------------------------------------- proxy pools

class ProxyPools(CgiTestCase):
    collection = "proxy-pools"

    def make_refs(self):
        self.px = self.create("proxies", proxy())

    def test_pool_name_is_unique(self):
        self.create("proxy-pools", pool("same"))
        self.assertError(self.req("POST", "/api/proxy-pools", pool("same")),
                         409, "conflict")

    def test_pool_strategy_is_one_of_four(self):
        for i, s in enumerate(("round_robin", "random", "least_used",
                               "weighted")):
            self.create("proxy-pools", pool("s%d" % i, poolStrategy=s))
        self.assertInvalid(self.req("POST", "/api/proxy-pools", pool(
            "sx", poolStrategy="fastest")), "poolStrategy")

    def test_pool_is_enabled_by_default(self):
        self.assertIs(self.create("proxy-pools", pool())["isEnabled"], True)

    def test_pool_member_must_name_an_existing_proxy(self):
        self.make_refs()
        a = self.req("POST", "/api/proxy-pools", pool(members=[
            {"proxyId": self.px["id"]}, {"proxyId": UUID0}]))
        self.assertInvalid(a, "members[1].proxyId")
        a = self.req("POST", "/api/proxy-pools", pool(members=[
            {"proxyId": "../proxies"}]))
        self.assertInvalid(a, "members[0].proxyId")

    def test_pool_member_weight_is_at_least_1_and_defaults_to_1(self):
        self.make_refs()
        p = self.create("proxy-pools", pool(members=[
            {"proxyId": self.px["id"]}]))
        self.assertEqual(p["members"], [{"proxyId": self.px["id"],
                                         "weight": 1, "isActive": True}])
        self.assertInvalid(self.req("POST", "/api/proxy-pools", pool(
            "w0", members=[{"proxyId": self.px["id"], "weight": 0}])),
            "members[0].weight")

    def test_pool_lists_a_proxy_once(self):
        self.make_refs()
        a = self.req("POST", "/api/proxy-pools", pool(members=[
            {"proxyId": self.px["id"]}, {"proxyId": self.px["id"]}]))
        self.assertInvalid(a, "members[1].proxyId")

    def test_deleting_a_proxy_removes_it_from_pools(self):
        self.make_refs()
        other = self.create("proxies", proxy("px two", "192.0.2.11:3128"))
        p = self.create("proxy-pools", pool(members=[
            {"proxyId": self.px["id"]}, {"proxyId": other["id"]}]))
        self.assertEqual(self.delete("proxies", self.px["id"]).status, 204)
        got = self.get("proxy-pools", p["id"])
        self.assertEqual([m["proxyId"] for m in got["members"]],
                         [other["id"]])
        self.assertEqual(got["version"], 2)

    def test_deleting_a_proxy_journals_the_pool_update_in_the_same_seq_range(
            self):
        self.make_refs()
        p = self.create("proxy-pools", pool(members=[
            {"proxyId": self.px["id"]}]))
        start = self.site.last_seq()
        self.assertEqual(self.delete("proxies", self.px["id"]).status, 204)
        rows = self.site.journal(start)
        seqs = [r["seq"] for r in rows]
        self.assertEqual(seqs, list(range(start + 1, start + 1 + len(rows))))
        kinds = [(r["topic"], r["action"], r["id"]) for r in rows]
        self.assertIn(("proxy-pools", "updated", p["id"]), kinds)
        self.assertIn(("proxies", "deleted", self.px["id"]), kinds)
        self.assertIn(("dashboard", "updated", None), kinds)
        upd = [r for r in rows if r["topic"] == "proxy-pools"][0]
        self.assertEqual(upd["data"]["members"], [])
        self.assertEqual(upd["version"], 2)
        # one transaction: every row carries the same moment's neighbours
        self.assertEqual(len(rows), 3)


for _f, _lo, _hi in (("healthCheckIntervalSeconds", 10, 86400),
                     ("healthCheckTimeoutSeconds", 1, 300),
                     ("maxFailures", 1, 100)):
    add_range_test(ProxyPools, "test_pool_%s_takes_%d_to_%d_only" % (
        _f, _lo, _hi), lambda self, n: pool("r%d" % n), _f, _lo, _hi)


# --------------------------------------------------------------- campaigns

class Campaigns(Fixtures):
    collection = "campaigns"

    def test_campaign_type_must_be_one_of_three(self):
        rec = gen_campaign()
        rec["campaignType"] = "port_scan"
        self.assertInvalid(self.req("POST", "/api/campaigns", rec),
                           "campaignType")

    def test_campaign_type_cannot_change_after_creation(self):
        self.make_refs()
        a = self.put("campaigns", self.src["id"], self.dns_campaign())
        self.assertInvalid(a, "campaignType")

    def test_campaign_names_need_not_be_unique(self):
        self.create("campaigns", gen_campaign("twin"))
        self.create("campaigns", gen_campaign("twin"))

    def test_campaign_name_must_be_1_to_255_characters(self):
        for bad in ("", "c" * 256):
            self.assertInvalid(self.req("POST", "/api/campaigns",
                                        gen_campaign(bad)), "name")

    def test_campaign_needs_the_params_block_of_its_type(self):
        rec = gen_campaign()
        del rec["domainGenerationParams"]
        self.assertInvalid(self.req("POST", "/api/campaigns", rec),
                           "domainGenerationParams")

    def test_campaign_may_not_carry_another_types_params_block(self):
        self.make_refs()
        rec = gen_campaign()
        rec["dnsValidationParams"] = self.dns_campaign()[
            "dnsValidationParams"]
        self.assertInvalid(self.req("POST", "/api/campaigns", rec),
                           "dnsValidationParams")

    def test_new_campaign_is_pending_with_zero_progress(self):
        c = self.create("campaigns", gen_campaign())
        self.assertEqual(c["status"], "pending")
        for k in ("totalItems", "processedItems", "successfulItems",
                  "failedItems", "progressPercentage"):
            self.assertEqual(c[k], 0, k)
        self.assertIsNone(c["startedAt"])
        self.assertIsNone(c["completedAt"])
        self.assertIsNone(c["errorMessage"])

    def test_domain_pattern_type_is_prefix_suffix_or_both(self):
        for p in ("prefix", "suffix", "both"):
            self.create("campaigns", gen_campaign(patternType=p))
        self.assertInvalid(self.req("POST", "/api/campaigns", gen_campaign(
            patternType="middle")), "domainGenerationParams.patternType")

    def test_domain_variable_length_must_be_above_0(self):
        self.assertInvalid(self.req("POST", "/api/campaigns", gen_campaign(
            variableLength=0)), "domainGenerationParams.variableLength")

    def test_domain_count_to_generate_may_not_be_negative(self):
        self.create("campaigns", gen_campaign(numDomainsToGenerate=0))
        self.assertInvalid(self.req("POST", "/api/campaigns", gen_campaign(
            numDomainsToGenerate=-1)),
            "domainGenerationParams.numDomainsToGenerate")

    def test_domain_params_keep_constant_string_and_tld(self):
        c = self.create("campaigns", gen_campaign(
            constantString="shop", tld=".co.uk", characterSet="xyz0"))
        p = c["domainGenerationParams"]
        self.assertEqual((p["constantString"], p["tld"], p["characterSet"]),
                         ("shop", ".co.uk", "xyz0"))

    def test_dns_validation_source_campaign_must_exist(self):
        self.make_refs()
        a = self.req("POST", "/api/campaigns", self.dns_campaign(
            sourceCampaignId=UUID0))
        self.assertInvalid(a, "dnsValidationParams.sourceCampaignId")

    def test_dns_validation_needs_at_least_one_existing_dns_persona(self):
        self.make_refs()
        self.create("campaigns", self.dns_campaign())
        for ids, path in (([], "dnsValidationParams.personaIds"),
                          ([UUID0], "dnsValidationParams.personaIds[0]"),
                          ([self.dns["id"], self.http["id"]],
                           "dnsValidationParams.personaIds[1]")):
            a = self.req("POST", "/api/campaigns", self.dns_campaign(
                personaIds=ids))
            self.assertInvalid(a, path)

    def test_dns_validation_counts_have_their_ranges(self):
        self.make_refs()
        c = self.create("campaigns", self.dns_campaign(
            batchSize=1, retryAttempts=0, rotationIntervalSeconds=0,
            processingSpeedPerMinute=0))
        self.assertEqual(c["dnsValidationParams"]["batchSize"], 1)
        for k, v in (("batchSize", 0), ("retryAttempts", -1),
                     ("rotationIntervalSeconds", -1),
                     ("processingSpeedPerMinute", -1)):
            a = self.req("POST", "/api/campaigns", self.dns_campaign(**{k: v}))
            self.assertInvalid(a, "dnsValidationParams." + k)

    def test_http_validation_needs_existing_http_personas(self):
        self.make_refs()
        self.create("campaigns", self.http_campaign())
        for ids, path in (([], "httpKeywordParams.personaIds"),
                          ([self.dns["id"]],
                           "httpKeywordParams.personaIds[0]")):
            a = self.req("POST", "/api/campaigns", self.http_campaign(
                personaIds=ids))
            self.assertInvalid(a, path)

    def test_http_validation_keyword_sets_must_exist(self):
        self.make_refs()
        a = self.req("POST", "/api/campaigns", self.http_campaign(
            keywordSetIds=[self.kws["id"], UUID0]))
        self.assertInvalid(a, "httpKeywordParams.keywordSetIds[1]")

    def test_http_validation_proxy_pool_is_existing_or_null(self):
        self.make_refs()
        c = self.create("campaigns", self.http_campaign(proxyPoolId=None))
        self.assertIsNone(c["httpKeywordParams"]["proxyPoolId"])
        a = self.req("POST", "/api/campaigns", self.http_campaign(
            proxyPoolId=UUID0))
        self.assertInvalid(a, "httpKeywordParams.proxyPoolId")

    def test_http_validation_ports_are_1_to_65535(self):
        self.make_refs()
        c = self.create("campaigns", self.http_campaign(
            targetHttpPorts=[1, 65535]))
        self.assertEqual(c["httpKeywordParams"]["targetHttpPorts"],
                         [1, 65535])
        for i, bad in enumerate((0, 65536)):
            a = self.req("POST", "/api/campaigns", self.http_campaign(
                targetHttpPorts=[80, bad]))
            self.assertInvalid(a, "httpKeywordParams.targetHttpPorts[1]")

    def test_http_validation_keeps_ad_hoc_keywords_and_counts(self):
        self.make_refs()
        c = self.create("campaigns", self.http_campaign(
            adHocKeywords=["casino", "crypto"], batchSize=5,
            retryAttempts=0))
        p = c["httpKeywordParams"]
        self.assertEqual((p["adHocKeywords"], p["batchSize"],
                          p["retryAttempts"]),
                         (["casino", "crypto"], 5, 0))
        for k, v in (("batchSize", 0), ("retryAttempts", -1)):
            a = self.req("POST", "/api/campaigns",
                         self.http_campaign(**{k: v}))
            self.assertInvalid(a, "httpKeywordParams." + k)

    def test_status_sent_in_a_patch_is_ignored_and_does_not_move_it(self):
        c = self.create("campaigns", gen_campaign())
        a = self.patch("campaigns", c["id"], {"status": "running",
                                              "description": "x"})
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["status"], "pending")
        self.assertEqual(self.get("campaigns", c["id"])["status"], "pending")

    def test_status_sent_back_unchanged_in_a_put_is_accepted(self):
        c = self.create("campaigns", gen_campaign())
        c["description"] = "round trip"
        a = self.put("campaigns", c["id"], c)
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["status"], "pending")

    def test_status_sent_on_create_is_ignored_and_the_campaign_is_pending(
            self):
        rec = gen_campaign()
        rec["status"] = "completed"
        self.assertEqual(self.create("campaigns", rec)["status"], "pending")

    def test_run_sets_started_at_and_complete_sets_completed_at(self):
        c = self.campaign_in("running")
        self.assertRegex(c["startedAt"], r"^\d{4}-\d\d-\d\dT.*Z$")
        self.assertIsNone(c["completedAt"])
        done = self.action(c["id"], "complete").json()
        self.assertEqual(done["startedAt"], c["startedAt"])
        self.assertRegex(done["completedAt"], r"^\d{4}-\d\d-\d\dT.*Z$")

    def test_fail_records_the_error_message_and_retry_clears_it(self):
        c = self.campaign_in("running")
        a = self.action(c["id"], "fail", {"errorMessage": "resolver down"})
        self.assertEqual(a.json()["errorMessage"], "resolver down")
        a = self.action(c["id"], "start")
        self.assertEqual(a.json()["status"], "queued")
        self.assertIsNone(a.json()["errorMessage"])

    def test_unknown_field_in_an_action_body_is_422(self):
        c = self.campaign_in("running")
        before = self.site.snapshot()
        a = self.action(c["id"], "fail", {"errorMesage": "typo"})
        self.assertInvalid(a, "errorMesage")
        self.assertUnchanged(before)

    def test_forbidden_transition_changes_nothing(self):
        c = self.create("campaigns", gen_campaign())
        before = self.site.snapshot()
        err = self.assertError(self.action(c["id"], "complete"), 409)
        self.assertIn("start", err["message"])
        self.assertUnchanged(before)


def _add_action_test(act):
    allowed = MACHINE[act]

    def test(self):
        for st in STATUSES:
            c = self.campaign_in(st)
            a = self.action(c["id"], act)
            if st in allowed:
                self.assertEqual(a.status, 200, (act, st, a))
                self.assertEqual(a.json()["status"], allowed[st])
                self.assertEqual(a.json()["version"], c["version"] + 1)
            else:
                self.assertError(a, 409, "invalid_transition")
                self.assertEqual(self.get("campaigns", c["id"])["version"],
                                 c["version"])

    froms = " and ".join(sorted(allowed))
    name = "test_%s_moves_%s_to_%s_and_is_409_from_any_other_status" % (
        act, froms.replace(" ", "_"), "_".join(sorted(set(allowed.values()))))
    test.__name__ = name
    setattr(Campaigns, name, test)


for _act in MACHINE:
    _add_action_test(_act)


def _dns_campaign_body(self, n):
    return self.dns_campaign()


class Progress(Fixtures):
    def running(self, total=100):
        return self.campaign_in("running", totalItems=total)

    def progress(self, c, processed, ok, failed, **kw):
        body = {"processedItems": processed, "successfulItems": ok,
                "failedItems": failed}
        body.update(kw)
        return self.patch("campaigns", c["id"], body)

    def test_progress_patch_on_a_running_campaign_updates_the_percentage(
            self):
        c = self.running(200)
        a = self.progress(c, 50, 45, 5)
        self.assertEqual(a.status, 200, a)
        got = a.json()
        self.assertEqual(got["processedItems"], 50)
        self.assertEqual(got["progressPercentage"], 25)
        self.assertEqual(got["status"], "running")

    def test_processed_must_equal_successful_plus_failed(self):
        c = self.running()
        self.assertInvalid(self.progress(c, 10, 5, 4), "processedItems")

    def test_processed_may_not_exceed_total(self):
        c = self.running(10)
        self.assertInvalid(self.progress(c, 11, 11, 0), "processedItems")

    def test_progress_counters_never_decrease(self):
        c = self.running()
        self.assertEqual(self.progress(c, 10, 8, 2).status, 200)
        before = self.site.snapshot()
        a = self.progress(c, 9, 8, 1)
        self.assertInvalid(a, "processedItems")
        self.assertUnchanged(before)

    def test_reaching_total_completes_a_running_campaign(self):
        c = self.running(20)
        a = self.progress(c, 20, 19, 1)
        self.assertEqual(a.status, 200, a)
        got = a.json()
        self.assertEqual(got["status"], "completed")
        self.assertEqual(got["progressPercentage"], 100)
        self.assertIsNotNone(got["completedAt"])

    def test_progress_percentage_sent_by_a_client_is_ignored(self):
        c = self.running(10)
        a = self.progress(c, 1, 1, 0, progressPercentage=99)
        self.assertEqual(a.json()["progressPercentage"], 10)

    def test_deleting_a_persona_a_running_campaign_uses_keeps_progress_open(
            self):
        self.make_refs()
        rec = self.dns_campaign()
        rec["totalItems"] = 10
        c = self.create("campaigns", rec)
        for act in ("start", "run"):
            self.assertEqual(self.action(c["id"], act).status, 200)
        self.assertEqual(self.delete("personas", self.dns["id"]).status, 204)
        a = self.progress(c, 4, 4, 0)
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["processedItems"], 4)

    def test_progress_on_create_is_refused(self):
        rec = gen_campaign()
        rec.update(totalItems=10, processedItems=1, successfulItems=1)
        self.assertError(self.req("POST", "/api/campaigns", rec), 422)


def _add_progress_test(status):
    def test(self):
        c = self.campaign_in(status, totalItems=100)
        before = self.site.snapshot()
        a = self.patch("campaigns", c["id"], {
            "processedItems": 1, "successfulItems": 1})
        self.assertError(a, 409)
        self.assertUnchanged(before)

    name = "test_progress_patch_on_a_%s_campaign_is_409" % status
    test.__name__ = name
    setattr(Progress, name, test)


for _st in STATUSES:
    if _st != "running":
        _add_progress_test(_st)


# --------------------------------------------------------------- dashboard

class Dashboard(Fixtures):
    def dash(self):
        a = self.req("GET", "/api/dashboard")
        self.assertEqual(a.status, 200, a)
        return a.json()

    def test_dashboard_counts_campaigns_by_every_status(self):
        for st in ("pending", "running", "running", "archived"):
            self.campaign_in(st)
        c = self.dash()["campaigns"]
        self.assertEqual(c["total"], 4)
        self.assertEqual(set(c["byStatus"]), set(STATUSES))
        self.assertEqual((c["byStatus"]["pending"], c["byStatus"]["running"],
                          c["byStatus"]["archived"],
                          c["byStatus"]["paused"]), (1, 2, 1, 0))

    def test_dashboard_counts_personas_by_type_and_enabled(self):
        self.create("personas", dns_persona("a"))
        self.create("personas", dns_persona("b", ))
        self.create("personas", dict(dns_persona("c"), isEnabled=False))
        self.create("personas", dict(http_persona("d"), isEnabled=False))
        p = self.dash()["personas"]
        self.assertEqual((p["total"], p["enabled"]), (4, 2))
        self.assertEqual(p["dns"], {"total": 3, "enabled": 2})
        self.assertEqual(p["http"], {"total": 1, "enabled": 0})

    def test_dashboard_counts_keyword_sets(self):
        self.create("keyword-sets", keyword_set("a"))
        self.create("keyword-sets", keyword_set("b", isEnabled=False))
        self.assertEqual(self.dash()["keywordSets"],
                         {"total": 2, "enabled": 1})

    def test_dashboard_counts_proxies_total_enabled_and_health(self):
        a = self.create("proxies", proxy("a", "192.0.2.1:80"))
        self.create("proxies", proxy("b", "192.0.2.2:80", isEnabled=False))
        self.create("proxies", proxy("c", "192.0.2.3:80", isHealthy=False))
        self.create("proxies", proxy("d", "192.0.2.4:80"))
        self.patch("proxies", a["id"], {"isHealthy": True})
        # One word per isHealthy value, as the pages say it.
        self.assertEqual(self.dash()["proxies"],
                         {"total": 4, "enabled": 3, "healthy": 1,
                          "failing": 1, "unchecked": 2})

    def test_dashboard_counts_pools(self):
        self.create("proxy-pools", pool("a"))
        self.create("proxy-pools", pool("b", isEnabled=False))
        self.assertEqual(self.dash()["proxyPools"],
                         {"total": 2, "enabled": 1})

    def test_dashboard_activity_is_the_last_20_events_newest_first(self):
        made = [self.create("proxies", proxy("p%d" % i,
                                             "192.0.2.%d:80" % (i + 1)))
                for i in range(22)]
        act = self.dash()["activity"]
        self.assertEqual(len(act), 20)
        self.assertEqual([e["id"] for e in act],
                         [p["id"] for p in reversed(made)][:20])
        seqs = [e["seq"] for e in act]
        self.assertEqual(seqs, sorted(seqs, reverse=True))
        self.assertNotIn("dashboard", {e["topic"] for e in act})

    def test_dashboard_seq_is_the_journal_position_it_includes(self):
        self.create("personas", dns_persona())
        self.assertEqual(self.dash()["seq"], self.site.last_seq())

    def test_change_that_moves_the_figures_writes_a_dashboard_row(self):
        start = self.site.last_seq()
        p = self.create("personas", dns_persona())
        rows = self.site.journal(start)
        self.assertEqual([(r["seq"], r["topic"]) for r in rows],
                         [(start + 1, "personas"), (start + 2, "dashboard")])
        dash = rows[1]
        self.assertEqual((dash["action"], dash["id"], dash["version"]),
                         ("updated", None, None))
        figures = self.dash()
        for k in ("campaigns", "personas", "keywordSets", "proxies",
                  "proxyPools"):
            self.assertEqual(dash["data"][k], figures[k], k)
        self.assertEqual(rows[0]["id"], p["id"])

    def test_change_that_leaves_the_figures_writes_no_dashboard_row(self):
        p = self.create("personas", dns_persona())
        start = self.site.last_seq()
        self.patch("personas", p["id"], {"description": "same counts"})
        self.assertEqual([r["topic"] for r in self.site.journal(start)],
                         ["personas"])

    def test_campaign_action_moves_the_dashboard_in_the_same_transaction(
            self):
        c = self.create("campaigns", gen_campaign())
        start = self.site.last_seq()
        self.action(c["id"], "start")
        rows = self.site.journal(start)
        self.assertEqual([r["topic"] for r in rows],
                         ["campaigns", "dashboard"])
        self.assertEqual(rows[1]["data"]["campaigns"]["byStatus"]["queued"],
                         1)


# ----------------------------------------------------------- bad input

class BadInput(Fixtures):
    """Bad input gets a clear JSON error and changes nothing."""

    def refused(self, status, *args, **kw):
        before = self.site.snapshot()
        a = self.req(*args, **kw)
        err = self.assertError(a, status)
        self.assertTrue(err["message"])
        self.assertUnchanged(before)
        return err

    def test_invalid_json_is_400_and_changes_nothing(self):
        for body in (b'{"name":', b'{"name":"x",}', b"[]", b"null",
                     b'{"a":1,"a":2}'):
            self.refused(400, "POST", "/api/personas", body,
                         ctype="application/json")

    def test_wrong_types_are_422_naming_the_field(self):
        rec = dns_persona()
        rec["isEnabled"] = "true"
        rec["configDetails"]["queryTimeoutSeconds"] = "5"
        err = self.refused(422, "POST", "/api/personas", rec)
        self.assertIn("isEnabled", err["fields"])
        self.assertIn("configDetails.queryTimeoutSeconds", err["fields"])

    def test_a_fraction_where_an_integer_belongs_is_422(self):
        err = self.refused(422, "POST", "/api/personas", dns_persona(
            queryTimeoutSeconds=5.5))
        self.assertIn("configDetails.queryTimeoutSeconds", err["fields"])

    def test_invalid_utf8_is_400_and_changes_nothing(self):
        self.refused(400, "POST", "/api/personas",
                     b'{"name":"\xc3\x28","personaType":"dns"}',
                     ctype="application/json")

    def test_nul_bytes_are_400_and_change_nothing(self):
        self.refused(400, "POST", "/api/personas",
                     b'{"name":"a\x00b","personaType":"dns"}',
                     ctype="application/json")
        self.refused(400, "POST", "/api/personas",
                     b'{"name":"a\\u0000b","personaType":"dns"}',
                     ctype="application/json")

    def test_oversized_body_is_413_and_changes_nothing(self):
        body = json.dumps(dns_persona(description="d" * 70000))
        self.refused(413, "POST", "/api/personas", body,
                     ctype="application/json",
                     settings={"body_limit": "65536"})

    def test_missing_content_length_is_an_error_and_changes_nothing(self):
        a_before = self.site.snapshot()
        a = self.req("POST", "/api/personas", dns_persona(), length="")
        self.assertIn(a.status, (400, 411), a)
        self.assertError(a, a.status)
        self.assertUnchanged(a_before)

    def test_lying_content_length_is_400_and_changes_nothing(self):
        body = json.dumps(dns_persona())
        self.refused(400, "POST", "/api/personas", body,
                     ctype="application/json", length=str(len(body) + 10))
        self.refused(400, "POST", "/api/personas", body + "   ",
                     ctype="application/json", length=str(len(body)))

    def test_unknown_fields_are_422_in_every_collection(self):
        self.make_refs()
        bodies = {"personas": dns_persona("u"),
                  "keyword-sets": keyword_set("u"),
                  "proxies": proxy("u", "192.0.2.77:80"),
                  "proxy-pools": pool("u"),
                  "campaigns": gen_campaign("u")}
        for coll, body in bodies.items():
            body["colour"] = "red"
            err = self.refused(422, "POST", "/api/" + coll, body)
            self.assertIn("colour", err["fields"], coll)

    def test_unknown_nested_fields_are_422(self):
        self.make_refs()
        for coll, body, path in (
                ("keyword-sets", keyword_set("n", rules=[
                    dict(rule("x"), weight=2)]), "rules[0].weight"),
                ("proxy-pools", pool("n", members=[
                    {"proxyId": self.px["id"], "priority": 1}]),
                 "members[0].priority"),
                ("campaigns", gen_campaign("n", prefix="x"),
                 "domainGenerationParams.prefix")):
            err = self.refused(422, "POST", "/api/" + coll, body)
            self.assertIn(path, err["fields"], coll)

    def test_unknown_field_in_a_patch_is_422(self):
        p = self.create("personas", dns_persona())
        err = self.refused(422, "PATCH", "/api/personas/" + p["id"],
                           {"nickname": "x"})
        self.assertIn("nickname", err["fields"])

    def test_very_long_unknown_field_name_is_named_in_the_error(self):
        key = "é" * 300
        rec = dns_persona()
        rec[key] = 1
        err = self.refused(422, "POST", "/api/personas", rec)
        self.assertTrue(err.get("fields"), err)

    def test_path_traversal_in_ids_is_404(self):
        p = self.create("personas", dns_persona())
        for path in ("..", "%2e%2e", "..%2f..%2fetc%2fpasswd",
                     p["id"] + "%2f..", p["id"].upper(),
                     "%2e%2e%2fproxies"):
            for method, body in (("GET", None), ("PUT", dns_persona("t")),
                                 ("PATCH", {"description": "t"}),
                                 ("DELETE", None)):
                before = self.site.snapshot()
                a = self.req(method, "/api/personas/" + path, body)
                self.assertIn(a.status, (400, 404), (method, path, a))
                self.assertError(a, a.status)
                self.assertUnchanged(before)

    def test_ten_thousand_character_names_are_422_in_every_collection(self):
        self.make_refs()
        long_name = "n" * 10000
        for coll, body in (("personas", dns_persona(long_name)),
                           ("keyword-sets", keyword_set(long_name)),
                           ("proxies", proxy(long_name, "192.0.2.78:80")),
                           ("proxy-pools", pool(long_name)),
                           ("campaigns", gen_campaign(long_name))):
            err = self.refused(422, "POST", "/api/" + coll, body)
            self.assertIn("name", err["fields"], coll)

    def test_sql_metacharacters_in_every_string_field_are_stored_verbatim(
            self):
        self.make_refs()
        s = SQL_TEXT
        bodies = {
            "personas": dict(http_persona(s, userAgent=s,
                                          headers={"X-'%": s},
                                          headerOrder=["X-'%"],
                                          tlsClientHello={
                                              "ja3": s,
                                              "cipherSuites": [s]}),
                             description=s),
            "keyword-sets": keyword_set(s, description=s, rules=[
                rule(s, category=s)]),
            "proxies": proxy(s, "192.0.2.99:80", description=s, username=s,
                             password=s, lastStatus=s),
            "proxy-pools": pool(s, description=s),
            "campaigns": dict(gen_campaign(s, characterSet=s,
                                           constantString="';--"),
                              description=s),
        }
        bodies["campaigns/http"] = dict(self.http_campaign(
            adHocKeywords=[s]), name=s)
        for key, body in bodies.items():
            coll = key.split("/")[0]
            rec = self.create(coll, body)
            got = self.get(coll, rec["id"])
            body.pop("password", None)
            self.assertContains(got, body, coll)
            listed = self.items(coll)
            self.assertIn(rec["id"], [r["id"] for r in listed])
        # every table is still there and holds what it held
        self.assertEqual(len(self.items("personas")), 3)

    def assertContains(self, got, want, where):
        """Every value of want is in got, at the same place."""
        if isinstance(want, dict):
            for k, v in want.items():
                self.assertIn(k, got, where)
                self.assertContains(got[k], v, "%s.%s" % (where, k))
        elif isinstance(want, list):
            self.assertEqual(len(got), len(want), where)
            for i, v in enumerate(want):
                self.assertContains(got[i], v, "%s[%d]" % (where, i))
        else:
            self.assertEqual(got, want, where)

    def test_sql_metacharacters_in_filters_match_nothing_or_are_400(self):
        self.create("personas", dns_persona())
        for q in ("personaType=" + urllib.parse.quote("dns' OR '1'='1"),
                  "isEnabled=" + urllib.parse.quote("1 OR 1=1"),
                  "personaType=" + urllib.parse.quote("dns\"); --"),
                  urllib.parse.quote("name') OR 1=1 --") + "=x",
                  "limit=" + urllib.parse.quote("1; DROP TABLE personas"),
                  "after=" + urllib.parse.quote("0 OR 1=1")):
            a = self.req("GET", "/api/personas?" + q)
            if a.status == 200:
                self.assertEqual(a.json()["items"], [], q)
            else:
                self.assertError(a, 400)
        self.assertEqual(len(self.items("personas")), 1)

    def test_number_overflow_is_refused_without_wrapping(self):
        rec = gen_campaign()
        rec["totalItems"] = 2 ** 63
        a = self.req("POST", "/api/campaigns", rec)
        self.assertIn(a.status, (400, 422), a)
        self.assertError(a, a.status)
        rec["totalItems"] = 10 ** 13
        self.assertInvalid(self.req("POST", "/api/campaigns", rec),
                           "totalItems")

    def test_form_with_a_non_finite_number_is_422(self):
        before = self.site.snapshot()
        body = urllib.parse.urlencode([
            ("name", "f"), ("personaType", "dns"),
            ("configDetails.resolvers", "1.1.1.1"),
            ("configDetails.rateLimitDps", "nan")])
        a = self.req("POST", "/api/personas", body, ctype=FORM,
                     headers={"HTTP_ACCEPT": "application/json"})
        self.assertInvalid(a, "configDetails.rateLimitDps")
        self.assertUnchanged(before)


# ------------------------------------------------------------- the writes

class Writes(Fixtures):
    def test_every_write_journals_its_record_with_version_and_actor(self):
        user = {"REMOTE_USER": "alice"}
        start = self.site.last_seq()
        p = self.create("personas", dns_persona(), headers=user)
        self.put("personas", p["id"], dns_persona("two"), headers=user)
        self.patch("personas", p["id"], {"description": "x"}, headers=user)
        self.delete("personas", p["id"], headers=user)
        rows = [r for r in self.site.journal(start)
                if r["topic"] == "personas"]
        self.assertEqual([(r["action"], r["version"], r["actor"])
                          for r in rows],
                         [("created", 1, "alice"), ("updated", 2, "alice"),
                          ("updated", 3, "alice"), ("deleted", 3, "alice")])
        self.assertIsNone(rows[-1]["data"])
        self.assertEqual(rows[2]["data"]["description"], "x")

    def test_failed_write_leaves_no_journal_row(self):
        self.create("personas", dns_persona("taken"))
        before = self.site.snapshot()
        self.req("POST", "/api/personas", dns_persona("taken"))
        self.req("POST", "/api/personas", dns_persona("", ))
        self.assertUnchanged(before)

    def test_write_while_another_holds_the_lock_is_503_and_changes_nothing(
            self):
        before = self.site.snapshot()
        con = sqlite3.connect(self.site.db, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            a = self.req("POST", "/api/personas", dns_persona(),
                         settings={"busy_timeout_ms": "200"})
            err = self.assertError(a, 503, "busy_database")
            self.assertTrue(a.header("retry-after"), a)
            self.assertTrue(err["message"])
        finally:
            con.execute("ROLLBACK")
            con.close()
        self.assertUnchanged(before)
        self.create("personas", dns_persona())

    def test_write_rings_the_doorbell_after_commit_and_a_refused_one_does_not(
            self):
        path = os.path.join(self.site.dir, "bell.sock")
        bell = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        bell.bind(path)
        bell.settimeout(5)
        try:
            self.create("personas", dns_persona(),
                        settings={"doorbell": path})
            self.assertEqual(len(bell.recv(16)), 1)
            seq = self.site.last_seq()
            a = self.req("POST", "/api/personas", dns_persona(""),
                         settings={"doorbell": path})
            self.assertEqual(a.status, 422, a)
            bell.settimeout(0.3)
            with self.assertRaises(socket.timeout):
                bell.recv(16)
            self.assertEqual(self.site.last_seq(), seq)
        finally:
            bell.close()

    def test_journal_rows_never_hold_secrets(self):
        self.make_refs()
        secret = "pool-member-secret-value"
        px = self.create("proxies", proxy("sec", "192.0.2.50:80",
                                          password=secret))
        pl = self.create("proxy-pools", pool("sec pool", members=[
            {"proxyId": px["id"]}]))
        self.patch("proxies", px["id"], {"isHealthy": True})
        self.put("proxies", px["id"], proxy("sec", "192.0.2.50:80",
                                            password=secret + "!"))
        self.delete("proxies", px["id"])
        self.patch("proxy-pools", pl["id"], {"description": "after"})
        for r in self.site.journal():
            self.assertNotIn(secret, r["raw"] or "", r)
        a = self.req("GET", "/api/changes?since=0&limit=1000")
        self.assertNotIn(secret.encode(), a.body)

    def test_database_that_cannot_be_opened_is_500_without_naming_files(
            self):
        a = self.req("GET", "/api/personas", settings={
            "database": "/nonexistent-fp-dir/private-name.db"})
        err = self.assertError(a, 500)
        self.assertNotIn("private-name", err["message"])
        self.assertNotIn(b"/nonexistent-fp-dir", a.body)

    def test_bad_filter_value_is_quoted_in_whole_characters(self):
        a = self.req("GET", "/api/proxies?protocol=" +
                     urllib.parse.quote("é" * 100))
        err = self.assertError(a, 400)
        self.assertIn("protocol", err["message"])
        self.assertIn("éééé", err["message"])

    def test_errors_never_carry_sqlite_text(self):
        # a unique clash reaches the database's own unique index path too
        self.create("proxies", proxy("a", "192.0.2.1:80"))
        for a in (self.req("POST", "/api/proxies",
                           proxy("a", "192.0.2.2:80")),
                  self.req("POST", "/api/proxies",
                           proxy("b", "192.0.2.1:80")),
                  self.req("GET", "/api/proxies?after=abc"),
                  self.req("GET", "/api/proxies?protocol=gopher")):
            self.assertGreaterEqual(a.status, 400, a)
            self.assertError(a, a.status)



class RecordSize(CgiTestCase):
    settings = {"body_limit": "12000"}

    def test_a_patch_that_would_grow_a_record_past_body_limit_is_413(self):
        k = self.create("keyword-sets", keyword_set("big", description="d" * 9000))
        before = self.site.snapshot()
        # Each body is under the limit; the record they would make is not.
        rules = [rule("pattern number %04d" % i) for i in range(60)]
        a = self.patch("keyword-sets", k["id"], {"rules": rules})
        err = self.assertError(a, 413, "record_too_large")
        self.assertIn("12000", err["message"])
        self.assertUnchanged(before)
        # A record that stays within it is written.
        a = self.patch("keyword-sets", k["id"], {"description": "short",
                                                 "rules": rules})
        self.assertEqual(a.status, 200, a)


if __name__ == "__main__":
    sys.exit(main(__name__))
