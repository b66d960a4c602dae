#!/usr/bin/python3
"""test_api.py - the HTTP API through real nginx + spawn-fcgi + flowpush.fcgi: CRUD, versions, the journal, secrets, JSON errors, concurrency, long-poll."""

import http.client
import json
import os
import re
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack, raw_request, run_unittest_main  # noqa: E402

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

ST = None


def setUpModule():
    global ST
    ST = Stack(push=False).start()


def tearDownModule():
    if ST is not None:
        ST.stop()


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def current_seq():
    """The journal position now: the seq a list answer's snapshot includes."""
    status, _, body = ST.json("GET", "/api/keyword-sets?limit=1")
    assert status == 200, body
    return body["seq"]


def changes_since(since, topics=None):
    """Every event after since (following the pages), oldest first, and the
    seq to continue from."""
    events = []
    for _ in range(10000):
        q = {"since": since, "limit": 1000}
        if topics:
            q["topics"] = topics
        status, _, body = ST.json("GET", "/api/changes?" + urllib.parse.urlencode(q))
        assert status == 200, body
        assert not body.get("reset"), "unexpected reset: %r" % body
        events.extend(body["events"])
        if body["seq"] == since:
            return events, since
        assert body["seq"] > since, body
        since = body["seq"]
    raise AssertionError("/api/changes never reached the end")


def create_keyword_set(conn=None, **fields):
    body = {"name": unique("kw")}
    body.update(fields)
    return ST.json("POST", "/api/keyword-sets", body, conn=conn)


class JsonErrorMixin:
    def assertJsonError(self, status, headers, body, want):
        self.assertEqual(status, want, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        "a %d answer is %r, not JSON" % (status, headers.get("content-type")))
        self.assertIsInstance(body, dict)
        self.assertIn("error", body)
        self.assertEqual(body["error"]["status"], want)
        self.assertIsInstance(body["error"]["code"], str)
        self.assertIsInstance(body["error"]["message"], str)


class CrudTest(JsonErrorMixin, unittest.TestCase):
    def test_create_answers_201_with_a_new_record_and_its_location(self):
        name = unique("kw")
        status, headers, rec = ST.json("POST", "/api/keyword-sets", {"name": name})
        self.assertEqual(status, 201, rec)
        self.assertRegex(rec["id"], UUID_RE)
        self.assertEqual(rec["version"], 1)
        self.assertEqual(rec["name"], name)
        self.assertRegex(rec["createdAt"], TS_RE)
        self.assertRegex(rec["updatedAt"], TS_RE)
        self.assertTrue(headers.get("location", "").endswith("/api/keyword-sets/" + rec["id"]),
                        headers.get("location"))

    def test_read_answers_the_record_with_its_version_as_etag(self):
        _, _, rec = create_keyword_set()
        status, headers, got = ST.json("GET", "/api/keyword-sets/" + rec["id"])
        self.assertEqual(status, 200)
        self.assertEqual(got, rec)
        self.assertEqual(headers.get("etag"), '"1"')
        status, _, _ = ST.request("GET", "/api/keyword-sets/" + rec["id"],
                                  headers={"If-None-Match": '"1"'})
        self.assertEqual(status, 304)

    def test_update_with_the_current_if_match_bumps_the_version(self):
        _, _, rec = create_keyword_set()
        path = "/api/keyword-sets/" + rec["id"]
        new_name = unique("renamed")
        status, headers, got = ST.json("PUT", path, {"name": new_name}, {"If-Match": '"1"'})
        self.assertEqual(status, 200, got)
        self.assertEqual(got["version"], 2)
        self.assertEqual(got["name"], new_name)
        self.assertEqual(got["createdAt"], rec["createdAt"])
        status, _, got = ST.json("PATCH", path, {"description": "patched"}, {"If-Match": '"2"'})
        self.assertEqual(status, 200, got)
        self.assertEqual(got["version"], 3)
        self.assertEqual(got["name"], new_name)
        self.assertEqual(got["description"], "patched")

    def test_a_stale_if_match_answers_412_and_changes_nothing(self):
        _, _, rec = create_keyword_set()
        path = "/api/keyword-sets/" + rec["id"]
        status, _, _ = ST.json("PATCH", path, {"description": "first"}, {"If-Match": '"1"'})
        self.assertEqual(status, 200)
        status, headers, body = ST.json("PATCH", path, {"description": "second"},
                                        {"If-Match": '"1"'})
        self.assertJsonError(status, headers, body, 412)
        status, headers, body = ST.json("DELETE", path, headers={"If-Match": '"1"'})
        self.assertJsonError(status, headers, body, 412)
        _, _, got = ST.json("GET", path)
        self.assertEqual(got["version"], 2)
        self.assertEqual(got["description"], "first")

    def test_delete_answers_204_and_the_record_is_gone(self):
        _, _, rec = create_keyword_set()
        path = "/api/keyword-sets/" + rec["id"]
        status, _, body = ST.request("DELETE", path, headers={"If-Match": '"1"'})
        self.assertEqual(status, 204, body)
        status, headers, body = ST.json("GET", path)
        self.assertJsonError(status, headers, body, 404)

    def test_list_answers_items_next_and_seq(self):
        for _ in range(3):
            create_keyword_set()
        status, _, body = ST.json("GET", "/api/keyword-sets?limit=2")
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["items"]), 2)
        self.assertIsInstance(body["seq"], int)
        self.assertIsNotNone(body["next"])
        status, _, page2 = ST.json("GET", "/api/keyword-sets?" + urllib.parse.urlencode(
            {"limit": 2, "after": body["next"]}))
        self.assertEqual(status, 200, page2)
        ids1 = {r["id"] for r in body["items"]}
        ids2 = {r["id"] for r in page2["items"]}
        self.assertFalse(ids1 & ids2, "pages overlap")

    def test_dashboard_answers_json_with_seq(self):
        status, _, body = ST.json("GET", "/api/dashboard")
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body["seq"], int)

    def test_a_form_post_answers_303_to_its_redirect(self):
        form = urllib.parse.urlencode({"name": unique("form"), "_redirect": "/keyword-sets.html"})
        status, headers, body = ST.request(
            "POST", "/api/keyword-sets", form,
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 303, body)
        self.assertTrue(headers.get("location", "").endswith("/keyword-sets.html"),
                        headers.get("location"))

    def test_a_failed_form_without_javascript_gets_the_not_saved_page_through_nginx(self):
        # nginx passes the API's own HTML on (fastcgi_intercept_errors is
        # off), and serves the stylesheet the page links.
        taken = unique("taken")
        self.assertEqual(create_keyword_set(name=taken)[0], 201)
        form = urllib.parse.urlencode({
            "_form": "ks-form", "_redirect": "/keyword-sets.html",
            "name": taken, "description": "<i>typed</i>"})
        status, headers, body = ST.request(
            "POST", "/api/keyword-sets", form,
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 409, body)
        self.assertEqual(headers.get("content-type"), "text/html; charset=utf-8")
        self.assertIsNone(headers.get("location"))
        text = body.decode("utf-8")
        self.assertIn("<title>Not saved", text)
        self.assertIn('data-code="conflict"', text)
        self.assertRegex(text, r'<p id="failure-message">[^<]+</p>')
        self.assertNotIn("<i>", text)
        css = re.search(r'<link rel="stylesheet" href="([^"]+)"', text).group(1)
        status, headers, _ = ST.request("GET", css)
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("text/css"))
        # The console's pages may be kept for Back, which refills the form.
        status, headers, _ = ST.request("GET", "/keyword-sets.html")
        self.assertEqual(status, 200)
        self.assertNotIn("no-store", headers.get("cache-control", ""))

    def test_a_failed_form_with_long_text_comes_back_through_nginx(self):
        # Everything typed would not fit into the server's header buffer:
        # the answer is still the 303 with the error, not a 502.
        form = urllib.parse.urlencode({
            "_form": "ks-form", "_redirect": "/keyword-sets.html", "_script": "1",
            "name": "", "description": "\u00e9" * 3000})
        status, headers, body = ST.request(
            "POST", "/api/keyword-sets", form,
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 303, body)
        loc = urllib.parse.urlsplit(headers.get("location", ""))
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(q["error"], ["validation_failed"])
        self.assertIn("field.name", q)
        self.assertEqual(q["partial"], ["1"])
        self.assertEqual(loc.fragment, "ks-form-failed")

class JournalTest(unittest.TestCase):
    def test_each_change_appears_once_in_changes_in_order(self):
        since = current_seq()
        _, _, rec = create_keyword_set()
        path = "/api/keyword-sets/" + rec["id"]
        status, _, upd = ST.json("PATCH", path, {"description": "d"}, {"If-Match": '"1"'})
        self.assertEqual(status, 200, upd)
        status, _, _ = ST.request("DELETE", path)
        self.assertEqual(status, 204)

        events, last = changes_since(since, "keyword-sets")
        mine = [e for e in events if e["id"] == rec["id"]]
        self.assertEqual([e["action"] for e in mine], ["created", "updated", "deleted"], mine)
        self.assertEqual([e["version"] for e in mine[:2]], [1, 2])
        for e in mine:
            self.assertEqual(e["topic"], "keyword-sets")
            self.assertRegex(e["ts"], TS_RE)
            self.assertIn("actor", e)
        self.assertEqual(mine[0]["data"]["name"], rec["name"])
        self.assertEqual(mine[1]["data"]["description"], "d")
        self.assertIsNone(mine[2]["data"])
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(set(seqs)), "seq not strictly increasing")
        self.assertTrue(all(s > since for s in seqs))
        self.assertGreaterEqual(last, seqs[-1])

    def test_a_list_seq_subscribes_without_gap_or_duplicate(self):
        _, _, before = create_keyword_set()
        status, _, page = ST.json("GET", "/api/keyword-sets?limit=1000")
        self.assertEqual(status, 200)
        listed = {r["id"] for r in page["items"]}
        self.assertIn(before["id"], listed)
        _, _, after = create_keyword_set()
        events, _ = changes_since(page["seq"], "keyword-sets")
        created = [e["id"] for e in events if e["action"] == "created"]
        self.assertIn(after["id"], created)
        self.assertNotIn(before["id"], created)

    def test_since_beyond_the_newest_seq_answers_a_reset(self):
        seq = current_seq()
        status, _, body = ST.json("GET", "/api/changes?since=%d" % (seq + 1000))
        self.assertEqual(status, 200, body)
        self.assertTrue(body.get("reset"), body)
        self.assertIsInstance(body["seq"], int)


class SecretTest(unittest.TestCase):
    def test_a_proxy_password_is_never_returned_nor_journaled(self):
        secret = "pw-" + uuid.uuid4().hex
        since = current_seq()
        status, _, rec = ST.json("POST", "/api/proxies", {
            "name": unique("proxy"), "address": unique("p") + ".example.net:3128",
            "protocol": "http", "username": "alice", "password": secret})
        self.assertEqual(status, 201, rec)
        self.assertIs(rec["hasPassword"], True)
        self.assertNotIn("password", rec)
        path = "/api/proxies/" + rec["id"]
        status, _, got = ST.json("PATCH", path, {"description": "kept"})
        self.assertEqual(status, 200, got)
        self.assertIs(got["hasPassword"], True, "a PATCH without password must keep it")

        answers = []
        for p in (path, "/api/proxies", "/api/proxies?limit=1000", "/api/dashboard",
                  "/api/changes?since=%d&limit=1000" % since,
                  "/api/changes?since=%d&topics=proxies" % since):
            status, _, data = ST.request("GET", p)
            self.assertEqual(status, 200, (p, data))
            answers.append((p, data))
        for p, data in answers:
            self.assertNotIn(secret.encode(), data, "the password leaked in GET " + p)

        rows = ST.query("SELECT count(*) FROM journal WHERE data LIKE ?", "%" + secret + "%")
        self.assertEqual(rows, [("0",)], "the password was written into the journal")
        [(stored,)] = ST.query("SELECT secret FROM proxies WHERE id = ?", rec["id"])
        self.assertTrue(stored, "no secret stored")
        self.assertNotIn(secret, stored, "the password is not sealed at rest")

        status, _, got = ST.json("PATCH", path, {"password": None})
        self.assertEqual(status, 200, got)
        self.assertIs(got["hasPassword"], False)


class RekeyTest(unittest.TestCase):
    def test_the_running_api_follows_a_rekey(self):
        status, _, rec = ST.json("POST", "/api/proxies", {
            "name": unique("rk"), "address": unique("rk") + ".example.net:3128",
            "protocol": "http", "password": "pw-" + uuid.uuid4().hex})
        self.assertEqual(status, 201, rec)
        r = ST.cli("rekey")
        self.assertEqual(r.returncode, 0, r.stderr)
        key = json.loads(r.stdout)["key"]
        # The FastCGI process started with the old key: it reads the new
        # one from the changed config to open and keep the secret ...
        path = "/api/proxies/" + rec["id"]
        status, _, got = ST.json("PATCH", path, {"description": "after"})
        self.assertEqual(status, 200, got)
        self.assertIs(got["hasPassword"], True)
        # ... and seals what it writes with it.
        status, _, made = ST.json("POST", "/api/proxies", {
            "name": unique("rk2"), "address": unique("rk2") + ".example.net:1",
            "protocol": "http", "password": "x"})
        self.assertEqual(status, 201, made)
        [(stored,)] = ST.query("SELECT secret FROM proxies WHERE id = ?", made["id"])
        self.assertTrue(stored.startswith("fp1:%s:" % key), stored)


class ErrorTest(JsonErrorMixin, unittest.TestCase):
    def test_an_unknown_collection_is_a_404_json_error(self):
        status, headers, body = ST.json("GET", "/api/no-such-things")
        self.assertJsonError(status, headers, body, 404)

    def test_an_unknown_record_is_a_404_json_error(self):
        status, headers, body = ST.json("GET", "/api/personas/" + str(uuid.uuid4()))
        self.assertJsonError(status, headers, body, 404)

    def test_a_wrong_method_is_a_405_json_error_with_allow(self):
        status, headers, body = ST.json("DELETE", "/api/keyword-sets")
        self.assertJsonError(status, headers, body, 405)
        self.assertIn("GET", headers.get("allow", ""))

    def test_malformed_json_is_a_400_json_error(self):
        status, headers, body = ST.json("POST", "/api/keyword-sets", "{not json",
                                        {"Content-Type": "application/json"})
        self.assertJsonError(status, headers, body, 400)

    def test_another_content_type_is_a_415_json_error(self):
        status, headers, body = ST.json("POST", "/api/keyword-sets", "name=x",
                                        {"Content-Type": "text/plain"})
        self.assertJsonError(status, headers, body, 415)

    def test_an_invalid_record_is_a_422_json_error_naming_the_field(self):
        status, headers, body = ST.json("POST", "/api/keyword-sets", {"name": ""})
        self.assertJsonError(status, headers, body, 422)
        self.assertIn("name", body["error"].get("fields", {}))

    def test_a_cross_site_write_is_a_403_json_error(self):
        status, headers, body = ST.json("POST", "/api/keyword-sets", {"name": unique("x")},
                                        {"Origin": "http://evil.example"})
        self.assertJsonError(status, headers, body, 403)

    def test_a_same_origin_write_through_nginx_is_accepted(self):
        # nginx must hand the API the Host with its port, or the API
        # cannot tell a same-origin page from a foreign one.
        status, _, body = ST.json("POST", "/api/keyword-sets", {"name": unique("same")},
                                  {"Origin": ST.url})
        self.assertEqual(status, 201, body)

    def test_a_body_just_over_the_limit_is_the_apis_own_413(self):
        limit = ST.body_limit()
        big = json.dumps({"name": "x", "description": "d" * (limit + 10)})
        status, headers, body = ST.json("POST", "/api/keyword-sets", big,
                                        {"Content-Type": "application/json"})
        self.assertJsonError(status, headers, body, 413)

    def test_a_body_far_over_the_limit_is_nginxs_413_as_json(self):
        limit = ST.body_limit()
        big = b'{"name":"' + b"x" * (limit * 2) + b'"}'
        status, headers, body = ST.json("POST", "/api/keyword-sets", big,
                                        {"Content-Type": "application/json"})
        self.assertJsonError(status, headers, body, 413)


class ServerErrorTest(JsonErrorMixin, unittest.TestCase):
    """Errors nginx answers itself, before the API sees the request."""

    def PORT(self):
        return ST.port

    def test_a_uri_too_long_is_a_414_json_error(self):
        status, headers, body = raw_request(self.PORT(), (
            "GET /api/keyword-sets?q=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Connection: close\r\n\r\n" % ("x" * 20000)).encode())
        # lighttpd counts the request line with the headers: 431.
        self.assertJsonError(status, headers, body,
                             431 if status == 431 else 414)

    def test_a_malformed_request_is_a_400_json_error(self):
        status, headers, body = raw_request(self.PORT(), (
            b"GET /api/keyword-sets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"this line is no header\r\nConnection: close\r\n\r\n"))
        self.assertJsonError(status, headers, body, 400)


class GatewayTest(JsonErrorMixin, unittest.TestCase):
    def test_a_stopped_fastcgi_process_is_a_502_json_error(self):
        try:
            ST.stop_fcgi()
            status, headers, body = ST.json("GET", "/api/keyword-sets")
            self.assertJsonError(status, headers, body, 502)
        finally:
            ST.start_fcgi()
        status, _, body = ST.json("GET", "/api/keyword-sets")
        self.assertEqual(status, 200, body)

    def test_the_push_path_without_a_daemon_is_a_502_json_error(self):
        if ST.push:
            self.skipTest("this stack runs flowpushd")
        status, headers, body = ST.json("GET", "/push/health")
        self.assertJsonError(status, headers, body, 502)


WRITERS = 4
CREATES_PER_WRITER = 200


def _writer(args):
    port, tag, n = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    made, bad = [], []
    for i in range(n):
        body = json.dumps({"name": "%s-%d" % (tag, i)})
        for attempt in range(3):
            try:
                conn.request("POST", "/api/keyword-sets", body=body,
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # nginx may close an idle keep-alive connection; retry
                # the request once on a new one.
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                if attempt == 2:
                    raise
        if r.status == 201:
            made.append(json.loads(data)["id"])
        else:
            bad.append((r.status, data[:200].decode("utf-8", "replace")))
    conn.close()
    return made, bad


class ConcurrencyTest(unittest.TestCase):
    def test_concurrent_writers_lose_no_row_and_journal_each_once(self):
        since = current_seq()
        tag = unique("cc")
        jobs = [(ST.port, "%s-w%d" % (tag, w), CREATES_PER_WRITER) for w in range(WRITERS)]
        # Threads, each with its own connection: the server sees WRITERS
        # requests at once. (Forked workers inherited the harness's SIGTERM
        # handler and could hang on the pool's shutdown.)
        with ThreadPoolExecutor(WRITERS) as pool:
            results = list(pool.map(_writer, jobs))
        made = [i for m, _ in results for i in m]
        bad = [b for _, bl in results for b in bl]
        self.assertEqual(bad, [], "some creates failed")
        self.assertEqual(len(made), WRITERS * CREATES_PER_WRITER)
        self.assertEqual(len(set(made)), len(made), "an id was handed out twice")

        events, _ = changes_since(since, "keyword-sets")
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(set(seqs)), "seq not strictly increasing")
        created = [e["id"] for e in events if e["action"] == "created"]
        mine = [i for i in created if i in set(made)]
        self.assertEqual(len(mine), len(made), "journal count differs from creates")
        self.assertEqual(set(mine), set(made))

        listed = set()
        after = None
        while True:
            q = {"limit": 1000}
            if after:
                q["after"] = after
            status, _, page = ST.json("GET", "/api/keyword-sets?" + urllib.parse.urlencode(q))
            self.assertEqual(status, 200, page)
            listed.update(r["id"] for r in page["items"])
            after = page["next"]
            if not after:
                break
        self.assertEqual(set(made) - listed, set(), "rows lost")


class WriteLockTest(unittest.TestCase):
    def test_a_refused_write_answers_while_another_writer_holds_the_lock(self):
        # Validation (compiling regular expressions included) happens
        # before the write lock: a refusal never waits for it.
        with ST.hold_write_lock():
            status, _, body = ST.json("POST", "/api/keyword-sets", {
                "name": unique("lock"),
                "rules": [{"pattern": "a(", "ruleType": "regex"}]})
        self.assertEqual(status, 422, body)
        self.assertIn("rules[0].pattern", body["error"]["fields"])

    def test_a_set_past_the_regex_budget_is_422_naming_the_rule(self):
        rules = [{"pattern": "(a{0,40}){0,40}", "ruleType": "regex"}] * 40
        status, _, body = ST.json("POST", "/api/keyword-sets", {
            "name": unique("budget"), "rules": rules})
        self.assertEqual(status, 422, body)
        self.assertIn("rules[29].pattern", body["error"]["fields"])
        self.assertIn("budget", body["error"]["fields"]["rules[29].pattern"])


class LongPollTest(unittest.TestCase):
    def test_a_waiting_changes_call_returns_promptly_on_a_write(self):
        since = current_seq()
        result = {}

        def poll():
            t0 = time.monotonic()
            result["answer"] = ST.json(
                "GET", "/api/changes?since=%d&topics=keyword-sets&wait=10" % since)
            result["took"] = time.monotonic() - t0

        t = threading.Thread(target=poll)
        t.start()
        # Not a synchronisation: if the write lands before the call waits,
        # the call answers at once with the event, which passes too.
        time.sleep(0.3)
        _, _, rec = create_keyword_set()
        t.join(20)
        self.assertFalse(t.is_alive(), "the long-poll never answered")
        status, _, body = result["answer"]
        self.assertEqual(status, 200, body)
        self.assertIn(rec["id"], [e["id"] for e in body["events"]])
        self.assertLess(result["took"], 8.0, "answered only at the end of the wait")

    def test_a_waiting_changes_call_without_writes_answers_empty_after_the_wait(self):
        since = current_seq()
        t0 = time.monotonic()
        status, _, body = ST.json("GET", "/api/changes?since=%d&topics=campaigns/%s&wait=1"
                                  % (since, uuid.uuid4()))
        took = time.monotonic() - t0
        self.assertEqual(status, 200, body)
        self.assertEqual(body["events"], [])
        self.assertGreaterEqual(took, 0.8)
        self.assertLess(took, 10)


if __name__ == "__main__":
    run_unittest_main()
