#!/usr/bin/python3
"""test_lists.py - the list contract of docs/LISTS.md through real nginx: search, sort, filters, totals, cursors, ids, seq, events' prev and the dashboard."""

import base64
import http.client
import json
import os
import sys
import threading
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack, run_unittest_main  # noqa: E402

ST = None
_local = threading.local()

# The table of docs/LISTS.md ("Per collection"); createdAt and updatedAt
# sort every collection.
SEARCHABLE = {
    "campaigns": ["name", "description"],
    "personas": ["name", "description"],
    "keyword-sets": ["name", "description"],
    "proxies": ["name", "description", "address"],
    "proxy-pools": ["name", "description"],
}
SORTABLE = {
    "campaigns": ["name", "createdAt", "updatedAt", "status", "progressPercentage"],
    "personas": ["name", "createdAt", "updatedAt", "personaType"],
    "keyword-sets": ["name", "createdAt", "updatedAt", "ruleCount"],
    "proxies": ["name", "createdAt", "updatedAt", "countryCode", "latencyMs"],
    "proxy-pools": ["name", "createdAt", "updatedAt"],
}
BOOL = (True, False)
FILTERS = {
    "campaigns": {"campaignType": ("domain_generation", "dns_validation",
                                   "http_keyword_validation"),
                  "status": ("pending", "queued", "running", "paused", "completed",
                             "failed", "cancelled", "archived")},
    "personas": {"personaType": ("dns", "http"), "isEnabled": BOOL},
    "keyword-sets": {"isEnabled": BOOL},
    "proxies": {"protocol": ("http", "https", "socks4", "socks5"),
                "isEnabled": BOOL, "isHealthy": BOOL},
    "proxy-pools": {"isEnabled": BOOL,
                    "poolStrategy": ("round_robin", "random", "least_used", "weighted")},
}
SUMMARY_KEYS = {"seq", "ts", "topic", "action", "id", "name", "version", "actor"}


# ------------------------------------------------------------------ HTTP

def _conn():
    """This thread's keep-alive connection to the current stack's nginx
    (ManyMatchesTest runs its own stack)."""
    c = getattr(_local, "conn", None)
    if c is None or getattr(_local, "port", None) != ST.port:
        if c is not None:
            c.close()
        c = ST.connection()
        _local.conn, _local.port = c, ST.port
    return c


def close_conn():
    """Close this thread's connection (a thread's last act)."""
    c = getattr(_local, "conn", None)
    if c is not None:
        c.close()
        _local.conn = None


def call(method, path, body=None, headers=None):
    """(status, parsed JSON body or None) over this thread's keep-alive
    connection; a GET is retried once on a connection the server closed."""
    for attempt in (0, 1):
        try:
            status, _, data = ST.request(method, path, body, headers, conn=_conn())
            break
        except (http.client.HTTPException, OSError):
            _local.conn.close()
            _local.conn = None
            if attempt or method != "GET":
                raise
    if not data:
        return status, None
    try:
        return status, json.loads(data)
    except ValueError:
        return status, {"notJson": data[:300].decode("utf-8", "replace")}


def qs(params):
    """A query string from a dict or a list of pairs (None values dropped);
    booleans as true/false."""
    pairs = params.items() if isinstance(params, dict) else params
    out = []
    for k, v in pairs:
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        out.append((k, v))
    return urllib.parse.urlencode(out)


def get_list(coll, params=()):
    return call("GET", "/api/%s?%s" % (coll, qs(params)))


def ok_list(coll, params=()):
    status, body = get_list(coll, params)
    assert status == 200, "GET /api/%s?%s answered %d %r" % (coll, qs(params), status, body)
    return body


def walk(coll, params=(), limit=3, max_pages=5000):
    """The pages (answers) met following next from the first page."""
    params = list(params.items() if isinstance(params, dict) else params)
    pages = [ok_list(coll, params + [("limit", limit)])]
    while pages[-1]["next"] is not None:
        assert len(pages) < max_pages, "next never ends"
        pages.append(ok_list(coll, params + [("limit", limit), ("after", pages[-1]["next"])]))
    return pages


def walk_back(coll, page, params=(), limit=3, max_pages=5000):
    """The pages met following prev from page (page not included)."""
    params = list(params.items() if isinstance(params, dict) else params)
    pages = []
    while page["prev"] is not None:
        assert len(pages) < max_pages, "prev never ends"
        page = ok_list(coll, params + [("limit", limit), ("before", page["prev"])])
        pages.append(page)
    return pages


def items_of(pages):
    return [r for p in pages for r in p["items"]]


def ids_of(items):
    return [r["id"] for r in items]


def read_all(coll, params=()):
    """Every record of coll (with params), by pages of 1000."""
    return items_of(walk(coll, params, limit=1000))


def create(coll, body):
    status, rec = call("POST", "/api/" + coll, body)
    assert status == 201, "POST /api/%s %r answered %d %r" % (coll, body, status, rec)
    return rec


def patch(coll, rec_id, body):
    status, rec = call("PATCH", "/api/%s/%s" % (coll, rec_id), body)
    assert status == 200, "PATCH %s/%s %r answered %d %r" % (coll, rec_id, body, status, rec)
    return rec


def delete(coll, rec_id):
    status, body = call("DELETE", "/api/%s/%s" % (coll, rec_id))
    assert status == 204, "DELETE %s/%s answered %d %r" % (coll, rec_id, status, body)


def action(camp_id, name, body=None):
    status, rec = call("POST", "/api/campaigns/%s/%s" % (camp_id, name), body or {})
    assert status == 200, "action %s answered %d %r" % (name, status, rec)
    return rec


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def word():
    """A search word no other record holds (letters only, lower case)."""
    return "w" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def last_seq():
    """The journal position now, as a list answer tells it."""
    status, body = call("GET", "/api/proxy-pools?limit=1")
    assert status == 200, body
    return body["seq"]


def changes_since(since, topics=None):
    """Every event after since, oldest first."""
    events = []
    for _ in range(10000):
        q = {"since": since, "limit": 1000}
        if topics:
            q["topics"] = topics
        status, body = call("GET", "/api/changes?" + qs(q))
        assert status == 200, body
        assert not body.get("reset"), body
        events.extend(body["events"])
        if body["seq"] == since or not body["events"]:
            return events
        since = body["seq"]
    raise AssertionError("/api/changes never reached the end")


# ------------------------------------------------------------------ order

def fold(s):
    """ASCII letters lower-cased, other characters as they are."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def value_key(v):
    # Booleans before numbers before strings never mix within one field.
    if isinstance(v, bool):
        return (0, int(v))
    if isinstance(v, (int, float)):
        return (0, v)
    return (1, fold(v))


def expected_order(items, field, desc):
    """items in the documented order of sort=field (or -field): values
    ASCII-folded then by code point, null last ascending, ties by id; the
    descending order is the exact reverse."""
    def key(r):
        v = r.get(field)
        return (1, (0, 0), r["id"]) if v is None else (0, value_key(v), r["id"])
    out = sorted(items, key=key)
    return out[::-1] if desc else out


def assertJsonError(tc, status, body, want_status, want_code=None):
    tc.assertEqual(status, want_status, body)
    tc.assertIsInstance(body, dict, body)
    tc.assertIn("error", body, body)
    err = body["error"]
    tc.assertEqual(err.get("status"), want_status, body)
    tc.assertIsInstance(err.get("code"), str, body)
    tc.assertIsInstance(err.get("message"), str, body)
    if want_code:
        tc.assertEqual(err["code"], want_code, body)


# ------------------------------------------------------------------ fixture

# Names that tell ASCII folding to lower case (what the contract says) from
# folding to upper case ('_' 0x5f lies between 'Z' and 'a'), from code-unit
# order ('\U0001F600' after '\uFFFD') and from no folding at all.
SORT_NAMES = ["alpha", "ALPHA", "Alpha beta", "_under", "[bracket", "^caret", "`grave",
              "Zulu", "zulu", "\u00e9clair", "\u00c9zra", "\u00e9mile", "~tilde", "1one",
              "\u65e5\u672c\u8a9e", "a", "B", "b", "\uFFFDrepl", "\U0001F600smile"]


def make_fixture():
    """Records of every collection whose sort and filter fields vary,
    with ties, nulls and case differences."""
    fx = {}
    kws = []
    for i, name in enumerate(SORT_NAMES):
        rules = [{"pattern": "p%d" % j, "ruleType": "string"} for j in range(i % 4)]
        kws.append(create("keyword-sets", {"name": name, "rules": rules,
                                           "isEnabled": i % 3 != 0,
                                           "description": "fixture keyword set %d" % i}))
    fx["keyword-sets"] = kws

    personas = []
    for i, name in enumerate(SORT_NAMES[:12]):
        # The same name in both types: ties of name broken by id.
        personas.append(create("personas", {
            "name": name, "personaType": "dns", "isEnabled": i % 2 == 0,
            "configDetails": {"resolvers": ["1.1.1.1"]}}))
        if i % 3 == 0:
            personas.append(create("personas", {
                "name": name, "personaType": "http", "isEnabled": i % 4 == 0,
                "configDetails": {"userAgent": "ua"}}))
    fx["personas"] = personas
    dns = next(p["id"] for p in personas if p["personaType"] == "dns")
    http_p = next(p["id"] for p in personas if p["personaType"] == "http")

    camps = []
    dg = {"patternType": "prefix", "variableLength": 3, "characterSet": "abc", "tld": "com"}
    names = ["Same", "same", "SAME", "other", "_x", "Zeta", "zeta", "\u00e9t\u00e9",
             "beta", "Beta", "gamma", "delta"]
    for i, name in enumerate(names):
        camps.append(create("campaigns", {"name": name, "campaignType": "domain_generation",
                                          "domainGenerationParams": dg,
                                          "totalItems": [3, 7, 10, 6, 5, 8, 0][i % 7]}))
    src = camps[0]["id"]
    camps.append(create("campaigns", {"name": "dns one", "campaignType": "dns_validation",
                                      "dnsValidationParams": {"sourceCampaignId": src,
                                                              "personaIds": [dns]}}))
    camps.append(create("campaigns", {"name": "http one",
                                      "campaignType": "http_keyword_validation",
                                      "httpKeywordParams": {"sourceCampaignId": src,
                                                            "personaIds": [http_p]}}))
    # Statuses: 0 pending, 1 queued, 2,3 running with progress, 4 paused,
    # 5 cancelled, 6 completed, 7 failed, 8 archived, 9 running.
    c = [r["id"] for r in camps]
    action(c[1], "start")
    for i in (2, 3, 4, 6, 7, 8, 9):
        action(c[i], "start")
        action(c[i], "run")
    patch("campaigns", c[2], {"processedItems": 2, "successfulItems": 1, "failedItems": 1})
    patch("campaigns", c[3], {"processedItems": 1, "successfulItems": 1})
    patch("campaigns", c[9], {"processedItems": 1, "successfulItems": 1})
    action(c[4], "pause")
    action(c[5], "cancel")
    action(c[6], "complete")
    action(c[7], "fail", {"errorMessage": "broken"})
    action(c[8], "complete")
    action(c[8], "archive")
    fx["campaigns"] = camps

    proxies = []
    countries = [None, "DE", "FR", "US", "DE", None, "AT"]
    latencies = [None, 5, 12, 12, 300, None, 0]
    healthy = [None, True, False, True, None, False, True]
    protocols = ["http", "https", "socks4", "socks5"]
    for i, name in enumerate(SORT_NAMES[:14]):
        body = {"name": name, "address": "Host-%d.Example.ORG:%d" % (i, 8000 + i),
                "protocol": protocols[i % 4], "isEnabled": i % 3 != 1}
        if countries[i % 7]:
            body["countryCode"] = countries[i % 7]
        if latencies[i % 7] is not None:
            body["latencyMs"] = latencies[i % 7]
        if healthy[i % 7] is not None:
            body["isHealthy"] = healthy[i % 7]
        proxies.append(create("proxies", body))
    fx["proxies"] = proxies

    pools = []
    strategies = ["round_robin", "random", "least_used", "weighted"]
    for i, name in enumerate(SORT_NAMES[:10]):
        pools.append(create("proxy-pools", {"name": name, "poolStrategy": strategies[i % 4],
                                            "isEnabled": i % 2 == 0}))
    fx["proxy-pools"] = pools
    return fx


FIX = None


def setUpModule():
    global ST, FIX
    ST = Stack(push=False).start()
    FIX = make_fixture()


def tearDownModule():
    close_conn()
    if ST is not None:
        ST.stop()


# ------------------------------------------------------------------ q

class SearchTest(unittest.TestCase):
    def q_ids(self, coll, q, extra=()):
        return set(ids_of(read_all(coll, [("q", q)] + list(extra))))

    def test_q_finds_a_record_by_its_name(self):
        w = word()
        rec = create("keyword-sets", {"name": "kw %s end" % w})
        create("keyword-sets", {"name": unique("kw")})
        self.assertEqual(self.q_ids("keyword-sets", w), {rec["id"]})

    def test_q_finds_a_record_by_its_description(self):
        w = word()
        rec = create("proxy-pools", {"name": unique("pool"), "description": "about %s here" % w})
        self.assertEqual(self.q_ids("proxy-pools", w), {rec["id"]})

    def test_q_finds_a_substring_inside_a_word(self):
        w = word()
        rec = create("keyword-sets", {"name": "x%sy" % w})
        self.assertEqual(self.q_ids("keyword-sets", w[2:8]), {rec["id"]})

    def test_q_finds_a_proxy_by_its_address(self):
        w = word()
        rec = create("proxies", {"name": unique("px"), "address": "%s.example.net:3128" % w,
                                 "protocol": "http"})
        self.assertEqual(self.q_ids("proxies", "%s.example.net:3128" % w), {rec["id"]})

    def test_q_does_not_search_fields_that_are_not_searchable(self):
        w = word()
        create("proxies", {"name": unique("px"), "address": "a%s.example:1" % w[:6],
                           "protocol": "http", "username": w})
        self.assertEqual(self.q_ids("proxies", w), set())

    def test_q_folds_ascii_letters_both_ways(self):
        w = word()
        lower = create("keyword-sets", {"name": "lc " + w})
        upper = create("keyword-sets", {"name": "UC " + w.upper() + "X"})
        both = {lower["id"], upper["id"]}
        self.assertEqual(self.q_ids("keyword-sets", w.upper()), both)
        self.assertEqual(self.q_ids("keyword-sets", w), both)
        self.assertEqual(self.q_ids("keyword-sets", w[:3] + w[3:].upper()), both)

    def test_q_matches_other_letters_as_written(self):
        w = word()
        rec = create("keyword-sets", {"name": "\u00c9b\u00e8ne " + w})
        self.assertEqual(self.q_ids("keyword-sets", "\u00c9b\u00e8ne " + w), {rec["id"]})
        self.assertEqual(self.q_ids("keyword-sets", "\u00c9B\u00e8NE " + w), {rec["id"]})
        self.assertEqual(self.q_ids("keyword-sets", "\u00e9b\u00e8ne " + w), set())
        self.assertEqual(self.q_ids("keyword-sets", "\u00c9b\u00c8ne " + w), set())

    def test_a_q_of_one_or_two_characters_is_400_bad_query(self):
        for q in ("a", "ab", "\u00e9\u00e9", "  "):
            with self.subTest(q=q):
                status, body = get_list("keyword-sets", {"q": q})
                assertJsonError(self, status, body, 400, "bad_query")

    def test_a_q_of_three_characters_searches(self):
        w = word()
        rec = create("keyword-sets", {"name": "%s \u65e5\u672c\u8a9e" % w})
        status, body = get_list("keyword-sets", {"q": w[:3]})
        self.assertEqual(status, 200, body)
        self.assertIn(rec["id"], ids_of(read_all("keyword-sets", {"q": w[:3]})))
        self.assertIn(rec["id"], self.q_ids("keyword-sets", "\u65e5\u672c\u8a9e"))

    def test_a_q_over_256_bytes_is_400_bad_query(self):
        status, body = get_list("keyword-sets", {"q": "x" * 257})
        assertJsonError(self, status, body, 400, "bad_query")
        status, body = get_list("keyword-sets", {"q": "x" * 256})
        self.assertEqual(status, 200, body)

    def test_an_empty_q_is_no_search(self):
        plain = ok_list("keyword-sets", {"limit": 1000})
        empty = ok_list("keyword-sets", {"q": "", "limit": 1000})
        self.assertEqual(ids_of(empty["items"]), ids_of(plain["items"]))
        self.assertEqual(empty["total"], plain["total"])

    def test_a_q_with_a_double_quote_is_taken_literally(self):
        w = word()
        rec = create("keyword-sets", {"name": 'say "%s" now' % w})
        other = create("keyword-sets", {"name": "say %s now" % w})
        self.assertEqual(self.q_ids("keyword-sets", '"%s"' % w), {rec["id"]})
        self.assertEqual(self.q_ids("keyword-sets", '"%s' % w), {rec["id"]})
        self.assertEqual(self.q_ids("keyword-sets", "%s now" % w), {other["id"]})
        self.assertEqual(self.q_ids("keyword-sets", '"""'), set())

    def test_fts_syntax_in_q_is_taken_literally(self):
        w = word()
        a = create("keyword-sets", {"name": "%sa" % w})
        b = create("keyword-sets", {"name": "%sb" % w})
        lit = create("keyword-sets", {"name": "%sa OR %sb" % (w, w)})
        star = create("keyword-sets", {"name": "%s*star" % w})
        near = create("keyword-sets", {"name": "NEAR(%s" % w})
        col = create("keyword-sets", {"name": "name:%s" % w})
        for q, want in (("%sa OR %sb" % (w, w), {lit["id"]}),
                        ("%s*" % w, {star["id"]}),
                        ("NEAR(%s" % w, {near["id"]}),
                        ("name:%s" % w, {col["id"]}),
                        ("***", set()),
                        ("^%s" % w, set()),
                        ("%sa AND %sb" % (w, w), set()),
                        ("NOT %sa" % w, set())):
            with self.subTest(q=q):
                self.assertEqual(self.q_ids("keyword-sets", q), want)
        self.assertEqual(self.q_ids("keyword-sets", w),
                         {a["id"], b["id"], lit["id"], star["id"], near["id"], col["id"]})

    def test_control_characters_in_q_are_400_bad_query(self):
        for q in ("abc\x01", "ab\tc", "abc\n", "\x7fabc", "a\x1bbc"):
            with self.subTest(q=q):
                status, body = get_list("keyword-sets", {"q": q})
                assertJsonError(self, status, body, 400, "bad_query")

    def test_q_follows_a_rename(self):
        old, new = word(), word()
        rec = create("proxy-pools", {"name": "pool " + old})
        patch("proxy-pools", rec["id"], {"name": "pool " + new})
        self.assertEqual(self.q_ids("proxy-pools", old), set())
        self.assertEqual(self.q_ids("proxy-pools", new), {rec["id"]})

    def test_q_follows_an_address_change(self):
        old, new = word(), word()
        rec = create("proxies", {"name": unique("px"), "address": old + ".example:1",
                                 "protocol": "http"})
        patch("proxies", rec["id"], {"address": new + ".example:1"})
        self.assertEqual(self.q_ids("proxies", old), set())
        self.assertEqual(self.q_ids("proxies", new.upper()), {rec["id"]})

    def test_like_wildcards_in_q_are_taken_literally(self):
        w = word()
        pct = create("keyword-sets", {"name": "%s 50%%x" % w})
        und = create("keyword-sets", {"name": "%s a_c" % w})
        create("keyword-sets", {"name": "%s 50zx abc" % w})
        self.assertEqual(self.q_ids("keyword-sets", "%s 50%%" % w), {pct["id"]})
        self.assertEqual(self.q_ids("keyword-sets", "0%x"), {pct["id"]})
        self.assertEqual(self.q_ids("keyword-sets", "%s a_c" % w), {und["id"]})

    def test_a_record_written_by_the_command_line_is_searched_and_counted(self):
        w = word()
        before = ok_list("keyword-sets", {"isEnabled": False, "limit": 1})["total"]
        r = ST.cli("create", "keyword-sets",
                   input=json.dumps({"name": "cli " + w, "isEnabled": False}))
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = json.loads(r.stdout)
        self.assertEqual(self.q_ids("keyword-sets", w), {rec["id"]})
        self.assertEqual(ok_list("keyword-sets", {"isEnabled": False, "limit": 1})["total"],
                         before + 1)
        r = ST.cli("delete", "keyword-sets", rec["id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.q_ids("keyword-sets", w), set())
        self.assertEqual(ok_list("keyword-sets", {"isEnabled": False, "limit": 1})["total"],
                         before)

    def test_q_forgets_a_deleted_record(self):
        w = word()
        rec = create("proxy-pools", {"name": "pool " + w})
        delete("proxy-pools", rec["id"])
        self.assertEqual(self.q_ids("proxy-pools", w), set())

    def test_q_with_a_filter_keeps_only_matching_rows(self):
        w = word()
        on = create("keyword-sets", {"name": "on " + w, "isEnabled": True})
        create("keyword-sets", {"name": "off " + w, "isEnabled": False})
        self.assertEqual(self.q_ids("keyword-sets", w, [("isEnabled", "true")]), {on["id"]})

    def test_q_results_come_in_the_sort_order(self):
        w = word()
        for n in ("b", "C", "a", "D"):
            create("keyword-sets", {"name": "%s %s" % (n, w)})
        items = items_of(walk("keyword-sets", {"q": w, "sort": "name"}, limit=3))
        self.assertEqual([r["name"][0] for r in items], ["a", "b", "C", "D"])


class ManyMatchesTest(unittest.TestCase):
    """More than 1,000 records match q: its own stack, so that the other
    tests' collections stay small."""
    N = 1100

    @classmethod
    def setUpClass(cls):
        global ST
        cls.main = ST
        ST = cls.stack = Stack(push=False).start()
        try:
            cls.disabled = set()
            for i in range(cls.N):
                rec = create("keyword-sets", {"name": "Zebra herd %04d" % ((i * 7919) % cls.N),
                                              "isEnabled": i % 50 != 0})
                if i % 50 == 0:
                    cls.disabled.add(rec["id"])
            for i in range(5):
                create("keyword-sets", {"name": "lion %d" % i})
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        global ST
        ST = cls.main
        cls.stack.stop()

    def setUp(self):
        global ST
        ST = self.stack

    def tearDown(self):
        global ST
        ST = self.main

    def test_total_is_1000_and_a_lower_bound(self):
        body = ok_list("keyword-sets", {"q": "zebra"})
        self.assertEqual(body["total"], 1000, body["total"])
        self.assertIs(body["totalIsLowerBound"], True)

    def test_every_match_is_paged_once_in_order(self):
        pages = walk("keyword-sets", {"q": "ZEBRA", "sort": "name"}, limit=250)
        items = items_of(pages)
        self.assertEqual(len(items), self.N)
        self.assertEqual(len(set(ids_of(items))), self.N)
        self.assertEqual(ids_of(items), ids_of(expected_order(items, "name", False)))
        self.assertTrue(all(r["name"].startswith("Zebra") for r in items))

    def test_every_match_is_paged_back_in_reverse_page_order(self):
        params = {"q": "zebra", "sort": "-createdAt"}
        pages = walk("keyword-sets", params, limit=300)
        back = walk_back("keyword-sets", pages[-1], params, limit=300)
        self.assertEqual([ids_of(p["items"]) for p in back],
                         [ids_of(p["items"]) for p in pages[-2::-1]])

    def test_a_filter_narrows_many_matches_and_the_total_is_a_lower_bound(self):
        pages = walk("keyword-sets", {"q": "zebra", "isEnabled": "false"}, limit=7)
        self.assertEqual(set(ids_of(items_of(pages))), self.disabled)
        self.assertEqual(len(items_of(pages)), len(self.disabled))
        self.assertIs(pages[0]["totalIsLowerBound"], True)
        self.assertLessEqual(pages[0]["total"], len(self.disabled))

    def test_a_filtered_walk_over_many_matches_pages_back_too(self):
        params = {"q": "herd", "sort": "-name", "isEnabled": "true"}
        pages = walk("keyword-sets", params, limit=97)
        items = items_of(pages)
        self.assertEqual(len(items), self.N - len(self.disabled))
        self.assertEqual(ids_of(items), ids_of(expected_order(items, "name", True)))
        back = walk_back("keyword-sets", pages[-1], params, limit=97)
        self.assertEqual([ids_of(p["items"]) for p in back],
                         [ids_of(p["items"]) for p in pages[-2::-1]])

    def test_limit_is_clamped_to_1000(self):
        body = ok_list("keyword-sets", {"limit": 5000})
        self.assertEqual(len(body["items"]), 1000)
        self.assertIsNotNone(body["next"])
        rest = ok_list("keyword-sets", {"limit": 5000, "after": body["next"]})
        self.assertEqual(len(rest["items"]), self.N + 5 - 1000)

    def test_total_without_q_is_exact_past_1000(self):
        body = ok_list("keyword-sets", {"limit": 1})
        self.assertEqual(body["total"], self.N + 5)
        self.assertIs(body["totalIsLowerBound"], False)


# ------------------------------------------------------------------ sort

class SortTest(unittest.TestCase):
    def check_sort(self, coll, field, desc):
        full = read_all(coll)
        self.assertGreater(len(full), 5)
        want = ids_of(expected_order(full, field, desc))
        pages = walk(coll, {"sort": ("-" if desc else "") + field}, limit=3)
        got = ids_of(items_of(pages))
        self.assertEqual(got, want)
        self.assertIsNone(pages[0]["prev"])
        self.assertTrue(all(len(p["items"]) == 3 for p in pages[:-1]))

    def test_an_unknown_sort_field_is_400_bad_sort(self):
        for coll, sort in (("campaigns", "bogus"), ("campaigns", "-description"),
                           ("proxies", "address"), ("proxies", "password"),
                           ("personas", "status"), ("keyword-sets", "-"),
                           ("keyword-sets", "id"), ("proxy-pools", "--name")):
            with self.subTest(coll=coll, sort=sort):
                status, body = get_list(coll, {"sort": sort})
                assertJsonError(self, status, body, 400, "bad_sort")

    def test_the_default_order_is_newest_first(self):
        for coll in SORTABLE:
            with self.subTest(coll=coll):
                full = read_all(coll)
                self.assertEqual(ids_of(full), ids_of(expected_order(full, "createdAt", True)))

    def test_records_made_one_after_another_list_newest_first(self):
        made = [create("proxy-pools", {"name": unique("seq")})["id"] for _ in range(6)]
        items = ok_list("proxy-pools", {"limit": 6})["items"]
        self.assertEqual(ids_of(items), made[::-1])


def _make_sort_test(coll, field, desc):
    def test(self):
        self.check_sort(coll, field, desc)
    test.__doc__ = "%s sorted by %s%s comes in the documented order" % (
        coll, "-" if desc else "", field)
    return test


for _c, _fields in SORTABLE.items():
    for _f in _fields:
        for _d in (False, True):
            setattr(SortTest, "test_%s_by_%s%s" % (_c.replace("-", "_"), "minus_" if _d else "", _f),
                    _make_sort_test(_c, _f, _d))


# ------------------------------------------------------------------ filters

class FilterTest(unittest.TestCase):
    def check_filter(self, coll, field, values):
        full = read_all(coll)
        narrowed = False
        for v in values:
            with self.subTest(value=v):
                want = {r["id"] for r in full if r.get(field) == v
                        and type(r.get(field)) is type(v)}
                pages = walk(coll, {field: v}, limit=5)
                got = ids_of(items_of(pages))
                self.assertEqual(len(got), len(set(got)), "a record twice")
                self.assertEqual(set(got), want)
                self.assertEqual(pages[0]["total"], len(want))
                if 0 < len(want) < len(full):
                    narrowed = True
        self.assertTrue(narrowed, "the fixture never let %s narrow" % field)

    def test_a_bad_boolean_value_is_400_bad_filter(self):
        for v in ("yes", "1", "TRUE", "", "null"):
            with self.subTest(value=v):
                status, body = get_list("proxies", {"isEnabled": v})
                assertJsonError(self, status, body, 400, "bad_filter")

    def test_an_unknown_enum_value_is_400_bad_filter(self):
        for coll, f, v in (("campaigns", "status", "sleeping"), ("campaigns", "status", "Running"),
                           ("proxies", "protocol", "ftp"), ("personas", "personaType", "")):
            with self.subTest(coll=coll, value=v):
                status, body = get_list(coll, {f: v})
                assertJsonError(self, status, body, 400, "bad_filter")

    def test_an_unknown_filter_is_400(self):
        for coll, f in (("proxies", "color"), ("proxies", "name"), ("proxies", "countryCode"),
                        ("keyword-sets", "status"), ("campaigns", "isEnabled")):
            with self.subTest(coll=coll, filter=f):
                status, body = get_list(coll, {f: "x"})
                assertJsonError(self, status, body, 400)

    def test_the_same_filter_twice_is_400(self):
        for v2 in ("true", "false"):
            with self.subTest(second=v2):
                status, body = get_list("proxies", [("isEnabled", "true"), ("isEnabled", v2)])
                assertJsonError(self, status, body, 400)

    def test_two_filters_combine(self):
        full = read_all("proxies")
        for proto in FILTERS["proxies"]["protocol"]:
            for en in BOOL:
                with self.subTest(protocol=proto, isEnabled=en):
                    want = {r["id"] for r in full
                            if r["protocol"] == proto and r["isEnabled"] is en}
                    got = ids_of(read_all("proxies", {"protocol": proto, "isEnabled": en}))
                    self.assertEqual(set(got), want)
                    self.assertEqual(len(got), len(want))

    def test_three_filters_combine(self):
        full = read_all("proxies")
        for h in BOOL:
            with self.subTest(isHealthy=h):
                want = {r["id"] for r in full if r["protocol"] in ("https", "socks5")
                        and r["isEnabled"] is True and r["isHealthy"] is h}
                got = set()
                for proto in ("https", "socks5"):
                    params = {"protocol": proto, "isEnabled": True, "isHealthy": h}
                    got |= set(ids_of(read_all("proxies", params)))
                self.assertEqual(got, want)


def _make_filter_test(coll, field, values):
    def test(self):
        self.check_filter(coll, field, values)
    return test


for _c, _filters in FILTERS.items():
    for _f, _vals in _filters.items():
        setattr(FilterTest, "test_%s_filter_%s_narrows" % (_c.replace("-", "_"), _f),
                _make_filter_test(_c, _f, _vals))


# ------------------------------------------------------------------ totals

class TotalTest(unittest.TestCase):
    def total(self, coll, params=()):
        body = ok_list(coll, list(params.items() if isinstance(params, dict) else params)
                       + [("limit", 1)])
        return body["total"], body["totalIsLowerBound"]

    def test_total_without_filters_is_the_full_count(self):
        for coll in SORTABLE:
            with self.subTest(coll=coll):
                self.assertEqual(self.total(coll), (len(read_all(coll)), False))

    def test_total_with_one_filter_is_the_full_count(self):
        for coll, filters in FILTERS.items():
            full = read_all(coll)
            for f, values in filters.items():
                for v in values:
                    with self.subTest(coll=coll, filter=f, value=v):
                        n = sum(1 for r in full if r.get(f) == v and type(r.get(f)) is type(v))
                        self.assertEqual(self.total(coll, {f: v}), (n, False))

    def test_total_with_two_filters_is_the_full_count(self):
        for coll, filters in FILTERS.items():
            names = list(filters)
            full = read_all(coll)
            for i, f in enumerate(names):
                for g in names[i + 1:]:
                    for v in filters[f]:
                        for w in filters[g]:
                            with self.subTest(coll=coll, f=f, v=v, g=g, w=w):
                                n = sum(1 for r in full if r.get(f) == v and r.get(g) == w
                                        and type(r.get(f)) is type(v)
                                        and type(r.get(g)) is type(w))
                                # In both orders of the query.
                                self.assertEqual(self.total(coll, [(f, v), (g, w)]), (n, False))
                                self.assertEqual(self.total(coll, [(g, w), (f, v)]), (n, False))

    def test_total_with_three_filters_is_exact_when_small(self):
        full = read_all("proxies")
        n = sum(1 for r in full if r["protocol"] == "https" and r["isEnabled"] is True
                and r["isHealthy"] is True)
        self.assertEqual(self.total("proxies", {"protocol": "https", "isEnabled": True,
                                                "isHealthy": True}), (n, False))

    def test_totals_move_on_create_update_and_delete(self):
        keys = [(), (("protocol", "socks4"),), (("isEnabled", "false"),),
                (("protocol", "socks4"), ("isEnabled", "false")),
                (("protocol", "https"), ("isEnabled", "true")),
                (("isEnabled", "false"), ("isHealthy", "true"))]

        def snapshot():
            return [self.total("proxies", k)[0] for k in keys]

        def check(before, delta, what):
            self.assertEqual(snapshot(), [b + d for b, d in zip(before, delta)], what)

        s0 = snapshot()
        rec = create("proxies", {"name": unique("tot"), "address": unique("tot") + ":1",
                                 "protocol": "socks4", "isEnabled": False})
        check(s0, [1, 1, 1, 1, 0, 0], "after create")
        patch("proxies", rec["id"], {"isHealthy": True})
        check(s0, [1, 1, 1, 1, 0, 1], "after isHealthy true")
        patch("proxies", rec["id"], {"protocol": "https", "isEnabled": True})
        check(s0, [1, 0, 0, 0, 1, 0], "after protocol and isEnabled change")
        patch("proxies", rec["id"], {"description": "no filter field"})
        check(s0, [1, 0, 0, 0, 1, 0], "after a description change")
        call("PUT", "/api/proxies/" + rec["id"],
             {"name": rec["name"], "address": rec["address"], "protocol": "socks4",
              "isEnabled": False})
        check(s0, [1, 1, 1, 1, 0, 1], "after PUT (isHealthy kept)")
        delete("proxies", rec["id"])
        check(s0, [0] * 6, "after delete")

    def test_totals_follow_a_campaign_action(self):
        dg = {"patternType": "prefix", "variableLength": 3, "characterSet": "abc", "tld": "com"}
        before = {s: self.total("campaigns", {"status": s})[0] for s in ("pending", "queued")}
        rec = create("campaigns", {"name": unique("c"), "campaignType": "domain_generation",
                                   "domainGenerationParams": dg})
        self.assertEqual(self.total("campaigns", {"status": "pending"})[0],
                         before["pending"] + 1)
        action(rec["id"], "start")
        self.assertEqual(self.total("campaigns", {"status": "pending"})[0], before["pending"])
        self.assertEqual(self.total("campaigns", {"status": "queued"})[0], before["queued"] + 1)
        self.assertEqual(self.total("campaigns", [("status", "queued"),
                                                  ("campaignType", "domain_generation")])[0],
                         sum(1 for r in read_all("campaigns") if r["status"] == "queued"
                             and r["campaignType"] == "domain_generation"))

    def test_total_with_q_is_exact_for_small_sets(self):
        w = word()
        for i in range(7):
            create("keyword-sets", {"name": "%s %d" % (w, i), "isEnabled": i % 2 == 0})
        self.assertEqual(self.total("keyword-sets", {"q": w}), (7, False))
        self.assertEqual(self.total("keyword-sets", {"q": w, "isEnabled": True}), (4, False))
        self.assertEqual(self.total("keyword-sets", {"q": w.upper() + " 3"}), (1, False))
        self.assertEqual(self.total("keyword-sets", {"q": w + "zz"}), (0, False))

    def test_total_with_q_and_a_filter_is_the_same_on_every_page(self):
        w = word()
        made = [create("keyword-sets", {"name": "%s %d" % (w.upper() if i % 2 else w, i),
                                        "isEnabled": i % 3 != 0}) for i in range(9)]
        params = {"q": w, "isEnabled": "true", "sort": "-name"}
        pages = walk("keyword-sets", params, limit=2)
        pages += walk_back("keyword-sets", pages[-1], params, limit=2)
        self.assertEqual([(p["total"], p["totalIsLowerBound"]) for p in pages],
                         [(6, False)] * 5)
        # In the order of the name without regard to case, both ways.
        want = [r["id"] for r in sorted(made, key=lambda r: r["name"].lower(), reverse=True)
                if r["isEnabled"]]
        self.assertEqual(ids_of(items_of(pages[:3])), want)
        self.assertEqual(ids_of(items_of(reversed(pages[3:]))), want[:4])
        # A page after the last match still counts the matches.
        for r in items_of(pages[1:3]):
            delete("keyword-sets", r["id"])
        past = ok_list("keyword-sets", list(params.items()) + [("limit", 2), ("after", pages[0]["next"])])
        self.assertEqual((past["items"], past["total"], past["totalIsLowerBound"]), ([], 2, False))

    def test_total_with_ids_counts_the_known_ids(self):
        kws = FIX["keyword-sets"][:4]
        ids = ",".join([r["id"] for r in kws] + [str(uuid.uuid4())])
        self.assertEqual(self.total("keyword-sets", {"ids": ids}), (4, False))


# ------------------------------------------------------------------ cursors

class CursorTest(unittest.TestCase):
    def test_next_to_the_end_then_prev_back_gives_the_same_pages_reversed(self):
        for coll, params in (("keyword-sets", {"sort": "name"}),
                             ("proxies", {"sort": "-latencyMs"}),
                             ("proxies", {"sort": "countryCode", "isEnabled": "true"}),
                             ("campaigns", {"sort": "progressPercentage"}),
                             ("personas", {"sort": "-personaType"}),
                             ("proxy-pools", {})):
            with self.subTest(coll=coll, params=params):
                pages = walk(coll, params, limit=3)
                self.assertGreater(len(pages), 2)
                back = walk_back(coll, pages[-1], params, limit=3)
                self.assertEqual([ids_of(p["items"]) for p in back],
                                 [ids_of(p["items"]) for p in pages[-2::-1]])
                self.assertIsNone(back[-1]["prev"])
                self.assertTrue(all(p["next"] is not None for p in back))

    def test_the_first_page_has_no_prev_and_the_last_no_next(self):
        pages = walk("proxy-pools", {"sort": "name"}, limit=4)
        self.assertIsNone(pages[0]["prev"])
        self.assertIsNone(pages[-1]["next"])
        self.assertTrue(all(p["prev"] is not None for p in pages[1:]))
        self.assertTrue(all(p["next"] is not None for p in pages[:-1]))

    def test_a_page_that_ends_exactly_at_the_last_row_has_no_next(self):
        n = ok_list("proxy-pools", {"limit": 1})["total"]
        body = ok_list("proxy-pools", {"limit": n})
        self.assertEqual(len(body["items"]), n)
        self.assertIsNone(body["next"])

    def test_after_and_before_together_are_400_bad_cursor(self):
        page = ok_list("keyword-sets", {"limit": 2})
        second = ok_list("keyword-sets", {"limit": 2, "after": page["next"]})
        status, body = get_list("keyword-sets", {"limit": 2, "after": page["next"],
                                                 "before": second["prev"]})
        assertJsonError(self, status, body, 400, "bad_cursor")

    def cursor(self, coll, params):
        body = ok_list(coll, dict(params, limit=2))
        self.assertIsNotNone(body["next"])
        return body["next"]

    def refused(self, coll, params, cursor):
        for key in ("after", "before"):
            with self.subTest(key=key, params=params):
                status, body = get_list(coll, dict(params, limit=2, **{key: cursor}))
                assertJsonError(self, status, body, 400, "bad_cursor")

    def test_a_cursor_from_another_sort_is_400_bad_cursor(self):
        c = self.cursor("keyword-sets", {"sort": "name"})
        self.refused("keyword-sets", {"sort": "-name"}, c)
        self.refused("keyword-sets", {"sort": "ruleCount"}, c)
        self.refused("keyword-sets", {}, c)

    def test_a_cursor_from_another_filter_is_400_bad_cursor(self):
        c = self.cursor("proxies", {"isEnabled": "true"})
        self.refused("proxies", {"isEnabled": "false"}, c)
        self.refused("proxies", {}, c)
        self.refused("proxies", {"isEnabled": "true", "protocol": "http"}, c)

    def test_a_cursor_from_another_q_is_400_bad_cursor(self):
        c = self.cursor("keyword-sets", {"q": "fixture"})
        self.refused("keyword-sets", {"q": "fixture keyword"}, c)
        self.refused("keyword-sets", {}, c)
        c = self.cursor("keyword-sets", {})
        self.refused("keyword-sets", {"q": "fixture"}, c)

    def test_a_cursor_from_another_collection_is_400_bad_cursor(self):
        c = self.cursor("proxy-pools", {"sort": "name"})
        self.refused("keyword-sets", {"sort": "name"}, c)
        self.refused("personas", {"sort": "name"}, c)

    def test_a_cursor_from_other_ids_is_400_bad_cursor(self):
        ids = [r["id"] for r in FIX["keyword-sets"][:5]]
        c = self.cursor("keyword-sets", {"ids": ",".join(ids)})
        self.refused("keyword-sets", {"ids": ",".join(ids[:4])}, c)
        self.refused("keyword-sets", {}, c)

    def test_a_garbage_cursor_is_400_bad_cursor(self):
        real = self.cursor("keyword-sets", {})
        for c in ("garbage", "!!!", base64.urlsafe_b64encode(b'[1,"x"]').decode().rstrip("="),
                  base64.urlsafe_b64encode(b"not json").decode().rstrip("="),
                  real[:-6], real + "AAAA", ""):
            with self.subTest(cursor=c):
                status, body = get_list("keyword-sets", {"limit": 2, "after": c})
                assertJsonError(self, status, body, 400, "bad_cursor")

    def test_a_forged_cursor_for_this_list_with_a_bad_key_type_is_400(self):
        real = self.cursor("keyword-sets", {"sort": "name"})
        arr = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
        arr[2], arr[3] = "i", "text"
        forged = base64.urlsafe_b64encode(json.dumps(arr).encode()).decode().rstrip("=")
        status, body = get_list("keyword-sets", {"sort": "name", "after": forged})
        assertJsonError(self, status, body, 400, "bad_cursor")

    def test_changing_the_limit_keeps_a_cursor_valid(self):
        all_ids = ids_of(read_all("keyword-sets", {"sort": "name"}))
        first = ok_list("keyword-sets", {"sort": "name", "limit": 3})
        more = ok_list("keyword-sets", {"sort": "name", "limit": 5, "after": first["next"]})
        self.assertEqual(ids_of(more["items"]), all_ids[3:8])
        back = ok_list("keyword-sets", {"sort": "name", "limit": 2, "before": more["prev"]})
        self.assertEqual(ids_of(back["items"]), all_ids[1:3])

    def test_filters_in_another_order_keep_a_cursor_valid(self):
        a = [("protocol", "http"), ("isEnabled", "true")]
        first = ok_list("proxies", a + [("limit", 1)])
        self.assertIsNotNone(first["next"])
        every = ids_of(read_all("proxies", a))
        status, body = get_list("proxies", a[::-1] + [("limit", 1000), ("after", first["next"])])
        self.assertEqual(status, 200, body)
        self.assertEqual(ids_of(body["items"]), every[1:])

    def test_a_limit_past_a_billion_is_clamped_too(self):
        status, body = get_list("keyword-sets", {"limit": "10000000000"})
        self.assertEqual(status, 200, body)
        self.assertLessEqual(len(body["items"]), 1000)

    def test_a_bad_limit_is_400(self):
        for v in ("0", "-1", "ten", "1.5"):
            with self.subTest(limit=v):
                status, body = get_list("keyword-sets", {"limit": v})
                assertJsonError(self, status, body, 400)

    def test_the_default_limit_is_100(self):
        for _ in range(max(0, 101 - ok_list("keyword-sets", {"limit": 1})["total"])):
            create("keyword-sets", {"name": unique("fill")})
        body = ok_list("keyword-sets")
        self.assertEqual(len(body["items"]), 100)
        self.assertIsNotNone(body["next"])

    def test_a_cursor_of_a_deleted_row_still_pages_on(self):
        w = word()
        made = [create("proxy-pools", {"name": "%s %d" % (w, i)}) for i in range(6)]
        params = {"q": w, "sort": "name"}
        first = ok_list("proxy-pools", dict(params, limit=3))
        delete("proxy-pools", made[2]["id"])
        rest = ok_list("proxy-pools", dict(params, limit=3, after=first["next"]))
        self.assertEqual(ids_of(rest["items"]), [r["id"] for r in made[3:]])
        self.assertIsNone(rest["next"])
        back = ok_list("proxy-pools", dict(params, limit=3, before=rest["prev"]))
        self.assertEqual(ids_of(back["items"]), [r["id"] for r in made[:2]])


class ConcurrentPagingTest(unittest.TestCase):
    def test_paging_while_others_write_skips_and_repeats_nothing(self):
        w = word()
        stable = set()
        for i in range(40):
            rec = create("keyword-sets", {"name": "%s %03d" % (w, i * 10), "isEnabled": True})
            stable.add(rec["id"])
            # Records the filter leaves out, among them.
            create("keyword-sets", {"name": "%s %03d off" % (w, i * 10 + 5), "isEnabled": False})
        params = {"sort": "-name", "isEnabled": "true"}
        cond = threading.Condition()
        state = {"writes": 0, "stop": False, "error": None}

        def writer():
            try:
                made = []
                i = 0
                while True:
                    with cond:
                        if state["stop"]:
                            return
                    i += 1
                    # Names fall before, among and after the stable ones.
                    n = "%s %03d x%d" % (w, (i * 37) % 400, i)
                    made.append(create("keyword-sets", {"name": n, "isEnabled": i % 4 != 0}))
                    # Only the writer's own records go: the oldest
                    # (maybe seen already) and the newest (maybe not yet).
                    if i % 3 == 0:
                        delete("keyword-sets", made.pop(0)["id"])
                    if i % 5 == 0:
                        delete("keyword-sets", made.pop()["id"])
                    with cond:
                        state["writes"] += 1
                        cond.notify_all()
            except BaseException as e:  # reported by the test
                with cond:
                    state["error"] = e
                    cond.notify_all()
            finally:
                close_conn()

        t = threading.Thread(target=writer)
        t.start()
        seen = []
        try:
            page = None
            while True:
                with cond:
                    target = state["writes"] + 2
                    # Readiness, not timing: two writes land between pages.
                    cond.wait_for(lambda: state["writes"] >= target or state["error"], 30)
                    self.assertIsNone(state["error"])
                q = dict(params, limit=5)
                if page is not None:
                    q["after"] = page["next"]
                page = ok_list("keyword-sets", q)
                seen.extend(ids_of(page["items"]))
                if page["next"] is None:
                    break
        finally:
            with cond:
                state["stop"] = True
            t.join(60)
        self.assertIsNone(state["error"])
        self.assertGreater(state["writes"], 20)
        dup = {i for i in seen if seen.count(i) > 1}
        self.assertEqual(dup, set(), "records listed twice")
        self.assertEqual(stable - set(seen), set(), "records skipped")


# ------------------------------------------------------------------ ids

class IdsTest(unittest.TestCase):
    def test_ids_returns_exactly_those_records(self):
        want = [FIX["proxies"][i]["id"] for i in (0, 3, 5)]
        ask = want + [str(uuid.uuid4()), FIX["proxies"][3]["id"]]
        got = read_all("proxies", {"ids": ",".join(ask)})
        self.assertEqual(sorted(ids_of(got)), sorted(want))

    def test_ids_of_another_collection_are_ignored(self):
        got = read_all("proxies", {"ids": FIX["proxy-pools"][0]["id"]})
        self.assertEqual(got, [])

    def test_ids_come_in_the_sort_order(self):
        recs = [FIX["keyword-sets"][i] for i in (4, 1, 7, 2)]
        got = read_all("keyword-sets", {"ids": ",".join(r["id"] for r in recs),
                                        "sort": "name"})
        self.assertEqual(ids_of(got), ids_of(expected_order(recs, "name", False)))

    def test_a_bad_id_is_400(self):
        good = FIX["proxies"][0]["id"]
        for v in ("nope", good + ",nope", good + "x", good.upper()[:-1] + "Z"):
            with self.subTest(ids=v):
                status, body = get_list("proxies", {"ids": v})
                assertJsonError(self, status, body, 400)

    def test_100_ids_are_answered(self):
        ids = [FIX["proxies"][0]["id"]] + [str(uuid.uuid4()) for _ in range(99)]
        status, body = get_list("proxies", {"ids": ",".join(ids)})
        self.assertEqual(status, 200, body)
        self.assertEqual(ids_of(body["items"]), [FIX["proxies"][0]["id"]])

    def test_more_than_100_ids_is_400(self):
        ids = [str(uuid.uuid4()) for _ in range(101)]
        status, body = get_list("proxies", {"ids": ",".join(ids)})
        assertJsonError(self, status, body, 400)


# ------------------------------------------------------------------ seq

class SeqTest(unittest.TestCase):
    def test_a_list_seq_is_the_journal_position(self):
        rec = create("keyword-sets", {"name": unique("seq")})
        since = last_seq()
        # A description counts for no dashboard figure: no dashboard event.
        patch("keyword-sets", rec["id"], {"description": "moved"})
        body = ok_list("proxies", {"limit": 1})
        events = changes_since(since)
        self.assertEqual([(e["topic"], e["id"]) for e in events], [("keyword-sets", rec["id"])])
        self.assertEqual(body["seq"], events[0]["seq"])
        self.assertEqual(changes_since(body["seq"]), [])

    def test_a_list_seq_includes_a_write_with_its_dashboard_event(self):
        since = last_seq()
        rec = create("proxy-pools", {"name": unique("seq")})
        body = ok_list("proxy-pools", {"limit": 1})
        events = changes_since(since)
        mine = [e for e in events if e["id"] == rec["id"]]
        self.assertEqual(len(mine), 1)
        self.assertEqual(body["seq"], events[-1]["seq"])
        self.assertIn(rec["id"], ids_of(body["items"]))


class SnapshotTest(unittest.TestCase):
    def test_rows_and_seq_of_an_answer_are_one_snapshot(self):
        w = word()
        since = last_seq()
        done = threading.Event()
        errors = []

        def writer():
            try:
                for i in range(60):
                    create("proxy-pools", {"name": "%s %d" % (w, i)})
            except BaseException as e:
                errors.append(e)
            finally:
                close_conn()
                done.set()

        t = threading.Thread(target=writer)
        t.start()
        answers = []
        while not done.is_set():
            body = ok_list("proxy-pools", {"q": w, "limit": 1000})
            answers.append((body["seq"], set(ids_of(body["items"]))))
        t.join(60)
        self.assertEqual(errors, [])
        created = [(e["seq"], e["id"]) for e in changes_since(since, "proxy-pools")
                   if e["action"] == "created"]
        self.assertEqual(len(created), 60)
        self.assertGreater(len(answers), 3)
        for seq, ids in answers:
            self.assertEqual(ids, {i for s, i in created if s <= seq}, "at seq %d" % seq)


# ------------------------------------------------------------------ prev

class PrevTest(unittest.TestCase):
    def events_of(self, since, rec_id):
        return [e for e in changes_since(since) if e.get("id") == rec_id]

    def test_a_created_event_has_no_prev(self):
        since = last_seq()
        rec = create("proxies", {"name": unique("px"), "address": unique("h") + ":1",
                                 "protocol": "http"})
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["action"], "created")
        self.assertNotIn("prev", e)

    def test_a_name_change_carries_the_old_name_only(self):
        rec = create("keyword-sets", {"name": unique("old"), "description": "d"})
        since = last_seq()
        patch("keyword-sets", rec["id"], {"name": unique("new")})
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["prev"], {"name": rec["name"]})

    def test_an_is_enabled_change_carries_the_old_value_only(self):
        rec = create("proxy-pools", {"name": unique("pool")})
        since = last_seq()
        patch("proxy-pools", rec["id"], {"isEnabled": False, "maxFailures": 7})
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["prev"], {"isEnabled": True})

    def test_a_change_of_several_fields_carries_exactly_the_changed_ones(self):
        rec = create("proxies", {"name": unique("px"), "address": unique("h") + ":1",
                                 "protocol": "http", "countryCode": "DE"})
        since = last_seq()
        patch("proxies", rec["id"], {"name": unique("px2"), "description": "now",
                                     "protocol": "socks5", "isHealthy": False,
                                     "countryCode": "FR", "latencyMs": 3})
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["prev"], {"name": rec["name"], "description": None,
                                     "protocol": "http", "isHealthy": None})

    def test_a_status_change_carries_the_old_status(self):
        dg = {"patternType": "prefix", "variableLength": 3, "characterSet": "abc", "tld": "com"}
        rec = create("campaigns", {"name": unique("c"), "campaignType": "domain_generation",
                                   "domainGenerationParams": dg, "totalItems": 4})
        since = last_seq()
        action(rec["id"], "start")
        action(rec["id"], "run")
        evs = self.events_of(since, rec["id"])
        self.assertEqual([e["prev"] for e in evs], [{"status": "pending"}, {"status": "queued"}])

    def test_a_progress_only_patch_carries_an_empty_prev(self):
        dg = {"patternType": "prefix", "variableLength": 3, "characterSet": "abc", "tld": "com"}
        rec = create("campaigns", {"name": unique("c"), "campaignType": "domain_generation",
                                   "domainGenerationParams": dg, "totalItems": 4})
        action(rec["id"], "start")
        action(rec["id"], "run")
        since = last_seq()
        patch("campaigns", rec["id"], {"processedItems": 1, "successfulItems": 1})
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["action"], "updated")
        self.assertEqual(e["prev"], {})

    def test_a_change_of_no_search_or_filter_field_carries_an_empty_prev(self):
        rec = create("keyword-sets", {"name": unique("kw")})
        since = last_seq()
        patch("keyword-sets", rec["id"], {"rules": [{"pattern": "x", "ruleType": "string"}]})
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["prev"], {})

    def test_a_patch_to_the_same_values_carries_an_empty_prev(self):
        rec = create("proxy-pools", {"name": unique("pool"), "isEnabled": True})
        since = last_seq()
        patch("proxy-pools", rec["id"], {"name": rec["name"], "isEnabled": True,
                                         "maxFailures": 9})
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["prev"], {})

    def test_a_put_that_drops_the_description_carries_the_old_one(self):
        rec = create("proxy-pools", {"name": unique("pool"), "description": "was here"})
        since = last_seq()
        status, body = call("PUT", "/api/proxy-pools/" + rec["id"], {"name": rec["name"]})
        self.assertEqual(status, 200, body)
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["prev"], {"description": "was here"})

    def test_a_pool_updated_by_a_member_delete_carries_an_empty_prev(self):
        px = create("proxies", {"name": unique("px"), "address": unique("h") + ":1",
                                "protocol": "http"})
        pool = create("proxy-pools", {"name": unique("pool"),
                                      "members": [{"proxyId": px["id"]}]})
        since = last_seq()
        delete("proxies", px["id"])
        evs = self.events_of(since, pool["id"])
        self.assertEqual([e["action"] for e in evs], ["updated"])
        self.assertEqual(evs[0]["prev"], {})

    def test_a_delete_carries_every_searchable_and_filter_field(self):
        rec = create("proxies", {"name": unique("px"), "address": unique("h") + ":1",
                                 "protocol": "socks4", "isEnabled": False, "isHealthy": True,
                                 "description": "gone soon"})
        since = last_seq()
        delete("proxies", rec["id"])
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["action"], "deleted")
        self.assertEqual(set(e["prev"]), set(SEARCHABLE["proxies"]) | set(FILTERS["proxies"]))
        self.assertEqual(e["prev"], {"name": rec["name"], "description": "gone soon",
                                     "address": rec["address"], "protocol": "socks4",
                                     "isEnabled": False, "isHealthy": True})

    def test_a_deleted_campaign_carries_its_search_and_filter_fields(self):
        dg = {"patternType": "prefix", "variableLength": 3, "characterSet": "abc", "tld": "com"}
        rec = create("campaigns", {"name": unique("c"), "campaignType": "domain_generation",
                                   "domainGenerationParams": dg})
        since = last_seq()
        delete("campaigns", rec["id"])
        (e,) = self.events_of(since, rec["id"])
        self.assertEqual(e["prev"], {"name": rec["name"], "description": None,
                                     "campaignType": "domain_generation", "status": "pending"})


# ------------------------------------------------------------------ dashboard

class DashboardTest(unittest.TestCase):
    def dashboard(self):
        status, body = call("GET", "/api/dashboard")
        self.assertEqual(status, 200, body)
        return body

    def test_figures_equal_full_counts_after_a_mix_of_writes(self):
        px = create("proxies", {"name": unique("px"), "address": unique("h") + ":2",
                                "protocol": "http", "isHealthy": True})
        patch("proxies", px["id"], {"isEnabled": False})
        kw = create("keyword-sets", {"name": unique("kw"), "isEnabled": False})
        patch("keyword-sets", kw["id"], {"isEnabled": True})
        gone = create("proxy-pools", {"name": unique("pool")})
        delete("proxy-pools", gone["id"])
        pe = create("personas", {"name": unique("pe"), "personaType": "http",
                                 "configDetails": {"userAgent": "u"}, "isEnabled": False})
        dg = {"patternType": "prefix", "variableLength": 3, "characterSet": "abc", "tld": "com"}
        c = create("campaigns", {"name": unique("c"), "campaignType": "domain_generation",
                                 "domainGenerationParams": dg})
        action(c["id"], "start")
        delete("personas", pe["id"])

        d = self.dashboard()
        camps = read_all("campaigns")
        self.assertEqual(d["campaigns"]["total"], len(camps))
        for s in FILTERS["campaigns"]["status"]:
            self.assertEqual(d["campaigns"]["byStatus"][s],
                             sum(1 for r in camps if r["status"] == s), s)
        pers = read_all("personas")
        self.assertEqual(d["personas"]["total"], len(pers))
        self.assertEqual(d["personas"]["enabled"], sum(1 for r in pers if r["isEnabled"]))
        for t in ("dns", "http"):
            self.assertEqual(d["personas"][t]["total"],
                             sum(1 for r in pers if r["personaType"] == t))
            self.assertEqual(d["personas"][t]["enabled"],
                             sum(1 for r in pers if r["personaType"] == t and r["isEnabled"]))
        kws = read_all("keyword-sets")
        self.assertEqual(d["keywordSets"], {"total": len(kws),
                                            "enabled": sum(1 for r in kws if r["isEnabled"])})
        pxs = read_all("proxies")
        self.assertEqual(d["proxies"], {"total": len(pxs),
                                        "enabled": sum(1 for r in pxs if r["isEnabled"]),
                                        "healthy": sum(1 for r in pxs if r["isHealthy"] is True),
                                        "failing": sum(1 for r in pxs if r["isHealthy"] is False),
                                        "unchecked": sum(1 for r in pxs if r["isHealthy"] is None)})
        pools = read_all("proxy-pools")
        self.assertEqual(d["proxyPools"], {"total": len(pools),
                                           "enabled": sum(1 for r in pools if r["isEnabled"])})

    def test_activity_items_are_summaries(self):
        rec = create("proxy-pools", {"name": unique("act"), "description": "x" * 100})
        patch("proxy-pools", rec["id"], {"description": "y"})
        d = self.dashboard()
        self.assertTrue(d["activity"])
        self.assertLessEqual(len(d["activity"]), 20)
        for a in d["activity"]:
            self.assertEqual(set(a), SUMMARY_KEYS, a)
        mine = [a for a in d["activity"] if a["id"] == rec["id"]]
        self.assertEqual([(a["action"], a["version"], a["name"]) for a in mine],
                         [("updated", 2, rec["name"]), ("created", 1, rec["name"])])
        self.assertEqual(mine[0]["topic"], "proxy-pools")
        seqs = [a["seq"] for a in d["activity"]]
        self.assertEqual(seqs, sorted(seqs, reverse=True))

    def test_a_deleted_record_keeps_its_name_in_the_activity(self):
        rec = create("proxy-pools", {"name": unique("gone")})
        delete("proxy-pools", rec["id"])
        mine = [a for a in self.dashboard()["activity"] if a["id"] == rec["id"]]
        self.assertEqual([(a["action"], a["name"]) for a in mine],
                         [("deleted", rec["name"]), ("created", rec["name"])])

    def test_a_huge_keyword_set_does_not_make_the_dashboard_large(self):
        # Close to the largest record (body_limit, 1 MiB, as stored).
        rules = [{"pattern": ("%04d" % i) + "p" * 800, "ruleType": "string",
                  "category": "c" * 40} for i in range(1000)]
        body = {"name": unique("huge"), "description": "d" * 16384, "rules": rules}
        self.assertGreater(len(json.dumps(body)), 850 * 1024)
        rec = create("keyword-sets", body)
        status, _, data = ST.request("GET", "/api/dashboard")
        self.assertEqual(status, 200)
        d = json.loads(data)
        self.assertIn(rec["id"], [a["id"] for a in d["activity"]])
        self.assertLess(len(data), 20 * 1024, "dashboard of %d bytes" % len(data))


if __name__ == "__main__":
    run_unittest_main()
