#!/usr/bin/python3
"""test_cgi.py - flowpush.fcgi run as plain CGI: status, headers, JSON.

The FastCgi cases run the same binary with a listening socket on fd 0.
Each test gets a fresh folder with a config file (named by FLOWPUSH_CONFIG)
and an empty database. The binary comes from $FLOWPUSH_FCGI (default
./flowpush.fcgi). The last line printed is "N passed, N failed"; the exit
status is non-zero when anything failed.
"""

import html
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgi_harness import Answer, cgi_env  # noqa: E402  (shared helpers)

FCGI = os.path.abspath(os.environ.get("FLOWPUSH_FCGI", "./flowpush.fcgi"))
HOST = "127.0.0.1:8080"
ORIGIN = "http://" + HOST
UUID0 = "00000000-0000-4000-8000-000000000000"
FORM = "application/x-www-form-urlencoded"
# The field the console's script adds to a page's forms: it takes a failure
# from the page's address, so a failure is answered 303 there.
SCRIPT = [("_script", "1")]
JOIN_LIMIT = 10   # seconds a stopping FastCGI process may take


def persona(name="p", **extra):
    rec = {"name": name, "personaType": "dns",
           "configDetails": {"resolvers": ["1.1.1.1"]}}
    rec.update(extra)
    return rec


def campaign(name="c"):
    return {"name": name, "campaignType": "domain_generation",
            "domainGenerationParams": {
                "patternType": "prefix", "variableLength": 3,
                "characterSet": "abc", "tld": "com"}}


class CgiCase(unittest.TestCase):
    """Base: a temporary state folder and a way to run one request."""

    config = {"secret": "00112233445566778899aabbccddeeff",
              "body_limit": "65536", "changes_wait_max": "3",
              "log_level": "error"}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fp-cgi-")
        self.db = os.path.join(self.dir, "flowpush.db")
        # As "flowpush init" leaves it: in WAL mode, schema still missing
        # (the program migrates on open).
        with sqlite3.connect(self.db) as db:
            db.execute("PRAGMA journal_mode=WAL")
        db.close()
        self.conf = os.path.join(self.dir, "flowpush.conf")
        with open(self.conf, "w") as f:
            f.write("database = %s\n" % self.db)
            for k, v in self.config.items():
                f.write("%s = %s\n" % (k, v))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, method, uri, headers=None, extra=None):
        env = cgi_env(self.conf, method, uri)
        for k, v in (headers or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        env.update(extra or {})
        return env

    def start(self, method, uri, body=None, ctype=None, headers=None,
              extra=None, length=None):
        """Starts the CGI; returns (process, stdin bytes)."""
        env = self.env(method, uri, headers, extra)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            ctype = ctype or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if body is not None:
            env["CONTENT_LENGTH"] = str(len(body))
        if length is not None:
            env["CONTENT_LENGTH"] = length
        if ctype:
            env["CONTENT_TYPE"] = ctype
        proc = subprocess.Popen([FCGI], env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        return proc, body or b""

    def finish(self, proc, body):
        out, err = proc.communicate(body, timeout=30)
        self.assertNotIn(b"AddressSanitizer", err, err.decode("latin-1"))
        self.assertNotIn(b"runtime error", err, err.decode("latin-1"))
        return Answer(out)

    def req(self, method, uri, body=None, **kw):
        return self.finish(*self.start(method, uri, body, **kw))

    def create(self, coll, rec):
        a = self.req("POST", "/api/" + coll, rec)
        self.assertEqual(a.status, 201, a)
        return a.json()

    def assertError(self, a, status, code=None):
        self.assertEqual(a.status, status, a)
        self.assertEqual(a.header("content-type"), "application/json")
        err = a.json()["error"]
        self.assertEqual(err["status"], status)
        if code:
            self.assertEqual(err["code"], code, a)
        low = a.body.lower()
        for word in (b"sqlite", b"sql ", b"syntax error", b"constraint"):
            self.assertNotIn(word, low, a)
        return err


class Crud(CgiCase):
    def test_create_answers_201_with_location_and_etag(self):
        a = self.req("POST", "/api/personas", persona("one"))
        self.assertEqual(a.status, 201, a)
        rec = a.json()
        self.assertEqual(a.header("location"), "/api/personas/" + rec["id"])
        self.assertEqual(a.header("etag"), '"1"')
        self.assertEqual(a.header("content-type"), "application/json")
        self.assertEqual(a.header("cache-control"), "no-store")
        self.assertEqual(rec["version"], 1)
        self.assertEqual(rec["name"], "one")

    def test_get_returns_the_record_with_etag(self):
        rec = self.create("personas", persona("one"))
        a = self.req("GET", "/api/personas/" + rec["id"])
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["id"], rec["id"])
        self.assertEqual(a.header("etag"), '"1"')
        self.assertEqual(a.header("cache-control"), "no-store")

    def test_list_has_items_next_and_seq(self):
        rec = self.create("personas", persona("one"))
        a = self.req("GET", "/api/personas")
        self.assertEqual(a.status, 200, a)
        doc = a.json()
        self.assertEqual([r["id"] for r in doc["items"]], [rec["id"]])
        self.assertIsNone(doc["next"])
        self.assertIsInstance(doc["seq"], int)
        self.assertGreaterEqual(doc["seq"], 1)

    def test_trailing_slash_is_tolerated(self):
        rec = self.create("personas", persona("one"))
        self.assertEqual(self.req("GET", "/api/personas/").status, 200)
        a = self.req("GET", "/api/personas/%s/" % rec["id"])
        self.assertEqual(a.status, 200, a)

    def test_prefix_before_api_is_kept_in_location(self):
        a = self.req("POST", "/cgi-bin/flowpush.fcgi/api/personas",
                     persona("one"))
        self.assertEqual(a.status, 201, a)
        self.assertEqual(a.header("location"),
                         "/cgi-bin/flowpush.fcgi/api/personas/" +
                         a.json()["id"])

    def test_without_request_uri_script_name_and_path_info_serve(self):
        a = self.req("GET", "/x", headers={
            "REQUEST_URI": None, "SCRIPT_NAME": "/cgi-bin/fp.fcgi",
            "PATH_INFO": "/api/personas"})
        self.assertEqual(a.status, 200, a)

    def test_put_replaces_and_bumps_version(self):
        rec = self.create("personas", persona("one"))
        a = self.req("PUT", "/api/personas/" + rec["id"],
                     persona("two"), headers={"HTTP_IF_MATCH": '"1"'})
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["name"], "two")
        self.assertEqual(a.json()["version"], 2)
        self.assertEqual(a.header("etag"), '"2"')

    def test_patch_merges(self):
        rec = self.create("personas", persona("one"))
        a = self.req("PATCH", "/api/personas/" + rec["id"],
                     {"description": "hello"},
                     ctype="application/merge-patch+json")
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["description"], "hello")
        self.assertEqual(a.json()["name"], "one")
        self.assertEqual(a.header("etag"), '"2"')

    def test_delete_answers_204_then_404(self):
        rec = self.create("personas", persona("one"))
        a = self.req("DELETE", "/api/personas/" + rec["id"],
                     headers={"HTTP_IF_MATCH": '"1"'})
        self.assertEqual(a.status, 204, a)
        self.assertEqual(a.body, b"")
        self.assertError(self.req("GET", "/api/personas/" + rec["id"]),
                         404)

    def test_head_sends_headers_only(self):
        rec = self.create("personas", persona("one"))
        a = self.req("HEAD", "/api/personas/" + rec["id"])
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.body, b"")
        self.assertEqual(a.header("etag"), '"1"')

    def test_campaign_action_moves_state(self):
        rec = self.create("campaigns", campaign())
        a = self.req("POST", "/api/campaigns/%s/start" % rec["id"])
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["status"], "queued")
        self.assertEqual(a.header("etag"), '"%d"' % a.json()["version"])
        self.assertError(self.req("POST", "/api/campaigns/%s/archive"
                                  % rec["id"]), 409)
        self.assertError(self.req("POST", "/api/campaigns/%s/explode"
                                  % rec["id"]), 404)

    def test_dashboard_has_seq(self):
        a = self.req("GET", "/api/dashboard")
        self.assertEqual(a.status, 200, a)
        self.assertIn("seq", a.json())

    def test_sql_metacharacters_are_stored_verbatim(self):
        name = "Robert'); DROP TABLE personas;-- \" % _ \\ ;"
        rec = self.create("personas", persona(name))
        a = self.req("GET", "/api/personas/" + rec["id"])
        self.assertEqual(a.json()["name"], name)
        a = self.req("GET", "/api/personas")
        self.assertEqual([r["name"] for r in a.json()["items"]], [name])
        a = self.req("GET", "/api/personas?personaType=" +
                     urllib.parse.quote("dns' OR '1'='1"))
        self.assertIn(a.status, (200, 400), a)
        if a.status == 200:
            self.assertEqual(a.json()["items"], [])
        else:
            self.assertError(a, 400)

    def test_unicode_is_kept(self):
        rec = self.create("personas", persona("Zoë 東京 🚀"))
        a = self.req("GET", "/api/personas/" + rec["id"])
        self.assertEqual(a.json()["name"], "Zoë 東京 🚀")


class Conditional(CgiCase):
    def setUp(self):
        super().setUp()
        self.rec = self.create("personas", persona("one"))
        self.uri = "/api/personas/" + self.rec["id"]

    def test_if_none_match_same_version_is_304(self):
        for tag in ('"1"', 'W/"1"', '*', '"7", "1"'):
            a = self.req("GET", self.uri,
                         headers={"HTTP_IF_NONE_MATCH": tag})
            self.assertEqual(a.status, 304, (tag, a))
            self.assertEqual(a.body, b"")
            self.assertEqual(a.header("etag"), '"1"')

    def test_if_none_match_other_version_is_200(self):
        a = self.req("GET", self.uri, headers={"HTTP_IF_NONE_MATCH": '"2"'})
        self.assertEqual(a.status, 200, a)

    def test_stale_if_match_is_412(self):
        a = self.req("PUT", self.uri, persona("two"),
                     headers={"HTTP_IF_MATCH": '"5"'})
        self.assertError(a, 412)
        a = self.req("DELETE", self.uri, headers={"HTTP_IF_MATCH": '"5"'})
        self.assertError(a, 412)
        self.assertEqual(self.req("GET", self.uri).status, 200)

    def test_malformed_if_match_is_412(self):
        for tag in ("1", 'W/"1"', '"1", "2"', '"abc"'):
            a = self.req("PATCH", self.uri, {"description": "x"},
                         headers={"HTTP_IF_MATCH": tag})
            self.assertError(a, 412)


class Errors(CgiCase):
    def test_unknown_collection_is_404(self):
        self.assertError(self.req("GET", "/api/users"), 404, "not_found")
        self.assertError(self.req("GET", "/nothing"), 404)
        self.assertError(self.req("GET", "/api"), 404)

    def test_missing_record_is_404(self):
        self.assertError(self.req("GET", "/api/personas/" + UUID0), 404)
        self.assertError(self.req("DELETE", "/api/personas/" + UUID0), 404)

    def test_path_traversal_and_junk_ids_are_404(self):
        rec = self.create("personas", persona("one"))
        for path in ("/api/personas/..", "/api/personas/%2e%2e",
                     "/api/personas/..%2f..%2fetc%2fpasswd",
                     "/api/personas/../campaigns",
                     "/api/personas/%s/.." % rec["id"],
                     "/api/personas/" + rec["id"].upper(),
                     "/api/personas/" + rec["id"] + "%00",
                     "/api/personas/' OR 1=1 --",
                     "/api/personas/" + rec["id"] + "'",
                     "/api/..%2fpersonas"):
            a = self.req("GET", path)
            self.assertIn(a.status, (400, 404), (path, a))
            self.assertError(a, a.status)

    def test_wrong_method_is_405_with_allow(self):
        a = self.req("DELETE", "/api/personas")
        self.assertError(a, 405, "method_not_allowed")
        self.assertEqual(a.header("allow"), "GET, HEAD, POST")
        a = self.req("PUT", "/api/dashboard", {})
        self.assertError(a, 405)
        self.assertEqual(a.header("allow"), "GET, HEAD")
        a = self.req("GET", "/api/campaigns/%s/start" % UUID0)
        self.assertEqual(a.header("allow"), "POST")
        a = self.req("BREW", "/api/personas")
        self.assertError(a, 405)

    def test_body_over_limit_is_413(self):
        big = b'{"name":"' + b"x" * 70000 + b'"}'
        a = self.req("POST", "/api/personas", big, ctype="application/json")
        self.assertError(a, 413, "body_too_large")

    def test_more_bytes_than_the_limit_is_413(self):
        big = b'{"name":"' + b"x" * 70000 + b'"}'
        a = self.req("POST", "/api/personas", big,
                     ctype="application/json", length="20")
        self.assertError(a, 413)

    def test_lying_content_length_is_400(self):
        a = self.req("POST", "/api/personas", b'{"name":"x"}',
                     ctype="application/json", length="40")
        self.assertError(a, 400)
        a = self.req("POST", "/api/personas", b'{"name":"x"}    ',
                     ctype="application/json", length="12")
        self.assertError(a, 400)
        for cl in ("abc", "-1", "1e3", " 12", "99999999999999999999999"):
            a = self.req("POST", "/api/personas", b'{"name":"x"}',
                         ctype="application/json", length=cl)
            self.assertIn(a.status, (400, 413), (cl, a))
            self.assertError(a, a.status)

    def test_typed_body_without_content_length_is_411(self):
        # A typed body but no length: in CGI its end cannot be found.
        a = self.req("POST", "/api/personas", None,
                     ctype="application/json")
        self.assertError(a, 411, "length_required")

    def test_body_over_the_limit_is_read_off_before_exit(self):
        big = b"x" * (2 << 20)
        proc, _ = self.start("POST", "/api/personas", big,
                             ctype="application/json")
        # Writing 2 MiB through a 64 KiB pipe fails with a broken pipe if
        # the program exits without reading what the server hands over.
        try:
            proc.stdin.write(big)
            proc.stdin.close()
        except BrokenPipeError:
            proc.kill()
            proc.wait()
            self.fail("the program left the body unread")
        out = proc.stdout.read()
        proc.wait(timeout=30)
        proc.stderr.close()
        proc.stdout.close()
        self.assertEqual(Answer(out).status, 413)

    def test_other_content_type_is_415(self):
        a = self.req("POST", "/api/personas", "name=x", ctype="text/plain")
        self.assertError(a, 415)
        a = self.req("POST", "/api/personas", '{"name":"x"}',
                     ctype="application/json; charset=latin1")
        self.assertError(a, 415)

    def test_charset_parameter_is_allowed(self):
        a = self.req("POST", "/api/personas", json.dumps(persona("one")),
                     ctype="application/json; charset=UTF-8")
        self.assertEqual(a.status, 201, a)

    def test_bad_json_is_400(self):
        for body in (b'{"name":', b"[1,2]", b'"x"', b"", b"nul",
                     b'{"a":1,"a":2}'):
            a = self.req("POST", "/api/personas", body,
                         ctype="application/json")
            err = self.assertError(a, 400)
            self.assertTrue(err["message"], a)

    def test_bad_json_says_what_is_wrong_without_library_text(self):
        cases = {b'{"name": 1e400}': "a number is out of range",
                 b'{"a":1,"a":2}': "an object repeats a key",
                 b'{"name":': "it ends too early",
                 b'{"name":"x"} {}': "more follows the JSON value",
                 b'{"name" "x"}': "its syntax is wrong"}
        for body, says in cases.items():
            a = self.req("POST", "/api/personas", body,
                         ctype="application/json")
            err = self.assertError(a, 400, "bad_json")
            self.assertIn(says, err["message"], body)
            for library in ("near", "overflow", "'"):
                self.assertNotIn(library, err["message"], body)

    def test_nul_bytes_are_400(self):
        a = self.req("POST", "/api/personas", b'{"name":"a\x00b"}',
                     ctype="application/json")
        self.assertError(a, 400, "bad_json")
        a = self.req("POST", "/api/personas", b'{"name":"a\\u0000b"}',
                     ctype="application/json")
        self.assertError(a, 400, "bad_json")
        # A form that cannot be read cannot say that a script runs: the
        # "Not saved" page answers, with the error's own status.
        a = self.req("POST", "/api/personas", "name=a%00b&personaType=dns",
                     ctype=FORM)
        self.assertEqual(a.status, 400, a)
        self.assertEqual(a.header("content-type"), "text/html; charset=utf-8")
        self.assertIn(b"Not saved", a.body)

    def test_invalid_utf8_is_400(self):
        for bad in (b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xff"):
            a = self.req("POST", "/api/personas",
                         b'{"name":"' + bad + b'"}',
                         ctype="application/json")
            self.assertError(a, 400, "bad_json")

    def test_validation_is_422_with_fields(self):
        a = self.req("POST", "/api/personas", {"personaType": "dns"})
        err = self.assertError(a, 422, "validation_failed")
        self.assertIn("name", err["fields"])

    def test_ten_thousand_character_name_is_422(self):
        a = self.req("POST", "/api/personas", persona("n" * 10000))
        err = self.assertError(a, 422)
        self.assertIn("name", err["fields"])
        self.assertEqual(self.req("GET", "/api/personas").json()["items"],
                         [])

    def test_bad_query_is_400(self):
        self.assertError(self.req("GET", "/api/personas?x=%zz"), 400)
        self.assertError(self.req("GET", "/api/personas?limit=abc"), 400)


class Security(CgiCase):
    def test_foreign_origin_write_is_403(self):
        for h in ({"HTTP_ORIGIN": "http://evil.example"},
                  {"HTTP_ORIGIN": "http://127.0.0.1:9999"},
                  {"HTTP_ORIGIN": "null"},
                  {"HTTP_SEC_FETCH_SITE": "cross-site"}):
            a = self.req("POST", "/api/personas", persona("one"),
                         headers=h)
            self.assertError(a, 403, "cross_origin")
        self.assertEqual(self.req("GET", "/api/personas").json()["items"],
                         [])

    def test_foreign_origin_read_is_served(self):
        a = self.req("GET", "/api/personas",
                     headers={"HTTP_ORIGIN": "http://evil.example"})
        self.assertEqual(a.status, 200, a)

    def test_own_origin_write_is_served(self):
        a = self.req("POST", "/api/personas", persona("one"),
                     headers={"HTTP_ORIGIN": ORIGIN,
                              "HTTP_SEC_FETCH_SITE": "same-origin"})
        self.assertEqual(a.status, 201, a)

    def test_host_without_port_uses_server_port(self):
        # Debian's nginx passes HTTP_HOST as $host, which drops the port.
        h = {"HTTP_HOST": "127.0.0.1", "HTTP_ORIGIN": ORIGIN}
        a = self.req("POST", "/api/personas", persona("one"), headers=h)
        self.assertEqual(a.status, 201, a)
        h["HTTP_ORIGIN"] = "http://127.0.0.1:9999"
        a = self.req("POST", "/api/personas", persona("two"), headers=h)
        self.assertError(a, 403)

    def test_https_origin_needs_https(self):
        a = self.req("POST", "/api/personas", persona("one"),
                     headers={"HTTP_ORIGIN": "https://" + HOST})
        self.assertError(a, 403)
        a = self.req("POST", "/api/personas", persona("one"),
                     headers={"HTTP_ORIGIN": "https://" + HOST,
                              "HTTPS": "on"})
        self.assertEqual(a.status, 201, a)

    def test_required_user_missing_is_401(self):
        extra = {"FLOWPUSH_REQUIRE_USER": "1"}
        a = self.req("POST", "/api/personas", persona("one"), extra=extra)
        self.assertError(a, 401)
        self.assertEqual(self.req("GET", "/api/personas",
                                  extra=extra).status, 200)
        a = self.req("POST", "/api/personas", persona("one"),
                     extra=dict(extra, REMOTE_USER="alice"))
        self.assertEqual(a.status, 201, a)
        ev = self.req("GET", "/api/changes?since=0&topics=personas").json()
        self.assertEqual(ev["events"][0]["actor"], "alice")

    def test_anonymous_actor_is_null(self):
        self.create("personas", persona("one"))
        ev = self.req("GET", "/api/changes?since=0&topics=personas").json()
        self.assertIsNone(ev["events"][0]["actor"])


class Forms(CgiCase):
    def form(self, uri, pairs, headers=None, **kw):
        body = urllib.parse.urlencode(pairs)
        h = {"HTTP_REFERER": ORIGIN + "/personas.html?tab=dns"}
        h.update(headers or {})
        return self.req("POST", uri, body, ctype=FORM, headers=h, **kw)

    PERSONA = [("name", "formed"), ("personaType", "dns"),
               ("configDetails.resolvers", "1.1.1.1"),
               ("configDetails.resolvers", "8.8.8.8")]

    def test_form_create_is_303_to_the_referer(self):
        a = self.form("/api/personas", self.PERSONA)
        self.assertEqual(a.status, 303, a)
        self.assertEqual(a.header("location"), "/personas.html?tab=dns")
        items = self.req("GET", "/api/personas").json()["items"]
        self.assertEqual(items[0]["name"], "formed")
        self.assertEqual(items[0]["configDetails"]["resolvers"],
                         ["1.1.1.1", "8.8.8.8"])

    def test_form_redirect_on_this_site_wins(self):
        a = self.form("/api/personas",
                      self.PERSONA + [("_redirect", "/index.html#x")])
        self.assertEqual(a.status, 303, a)
        self.assertEqual(a.header("location"), "/index.html#x")

    def test_form_redirect_elsewhere_is_ignored(self):
        for target in ("//evil.example/", "http://evil.example/",
                       "/\\evil.example", "/a\r\nSet-Cookie: x=1"):
            a = self.form("/api/personas",
                          [("name", "n" + str(len(target))),
                           ("personaType", "dns"),
                           ("configDetails.resolvers", "1.1.1.1"),
                           ("_redirect", target)])
            self.assertEqual(a.status, 303, a)
            self.assertEqual(a.header("location"), "/personas.html?tab=dns")
            self.assertNotIn("set-cookie", a.headers)

    def test_form_from_foreign_referer_goes_home(self):
        a = self.form("/api/personas", self.PERSONA,
                      headers={"HTTP_REFERER": "http://evil.example/x"})
        self.assertEqual(a.status, 303, a)
        self.assertEqual(a.header("location"), "/")

    def test_form_error_with_script_is_303_back_with_error_and_message(self):
        a = self.form("/api/personas", [("personaType", "dns")] + SCRIPT)
        self.assertEqual(a.status, 303, a)
        loc = urllib.parse.urlsplit(a.header("location"))
        self.assertEqual(loc.path, "/personas.html")
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(q["tab"], ["dns"])
        self.assertEqual(q["error"], ["validation_failed"])
        self.assertTrue(q["message"][0])
        self.assertEqual(a.json()["error"]["status"], 422)

    def test_form_error_keeps_the_input_but_never_a_secret(self):
        a = self.form("/api/proxies",
                      [("_form", "proxy-form"), ("_redirect", "/proxies.html"),
                       ("name", "edge one"), ("address", "10.0.0.1"),
                       ("protocol", "socks5"), ("username", "bob"),
                       ("password", "hunter2"), ("isEnabled", "false"),
                       ("isEnabled", "true")] + SCRIPT)
        self.assertEqual(a.status, 303, a)
        loc = urllib.parse.urlsplit(a.header("location"))
        self.assertEqual(loc.path, "/proxies.html")
        self.assertEqual(loc.fragment, "proxy-form-failed")
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(q["error"], ["validation_failed"])
        self.assertEqual(q["form"], ["proxy-form"])
        self.assertIn("host:port", q["field.address"][0])
        self.assertEqual(q["value.name"], ["edge one"])
        self.assertEqual(q["value.address"], ["10.0.0.1"])
        self.assertEqual(q["value.username"], ["bob"])
        self.assertEqual(q["value.isEnabled"], ["false", "true"])
        self.assertNotIn("hunter2", a.header("location"))
        self.assertNotIn("value.password", q)
        self.assertNotIn("value._redirect", q)
        self.assertNotIn("partial", q)

    def test_form_error_twice_keeps_one_set_of_echoes(self):
        first = self.form("/api/personas",
                          [("_form", "f"), ("name", "")] + SCRIPT)
        again = self.form("/api/personas",
                          [("_form", "f"), ("name", "x")] + SCRIPT,
                          headers={"HTTP_REFERER": ORIGIN +
                                   first.header("location")})
        q = urllib.parse.parse_qs(
            urllib.parse.urlsplit(again.header("location")).query)
        self.assertEqual(q["value.name"], ["x"])
        self.assertEqual(q["tab"], ["dns"])
        self.assertEqual(len(q["error"]), 1)
        self.assertEqual(len(q["message"]), 1)

    def test_form_error_with_a_long_text_stays_under_the_header_limit(self):
        a = self.form("/api/proxies",
                      [("_form", "proxy-form"), ("name", "n"),
                       ("description", "d" * 8000), ("address", "bad"),
                       ("protocol", "http")] + SCRIPT)
        self.assertEqual(a.status, 303, a)
        loc = a.header("location")
        self.assertLessEqual(len(loc), 3000)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        self.assertEqual(q["partial"], ["1"])
        self.assertEqual(q["value.name"], ["n"])
        self.assertNotIn("value.description", q)
        self.assertIn("field.address", q)

    def test_campaign_edit_form_patches_name_params_and_total(self):
        rec = self.create("campaigns", campaign("before"))
        a = self.form("/api/campaigns/" + rec["id"],
                      [("_method", "PATCH"), ("_form", "form-gen"),
                       ("name", "after"), ("description", ""),
                       ("totalItems", "50"),
                       ("domainGenerationParams.patternType", "suffix"),
                       ("domainGenerationParams.variableLength", "4"),
                       ("domainGenerationParams.characterSet", "xyz"),
                       ("domainGenerationParams.constantString", "k"),
                       ("domainGenerationParams.tld", ".net"),
                       ("domainGenerationParams.numDomainsToGenerate", "9")],
                      headers={"HTTP_REFERER": ORIGIN + "/campaigns.html",
                               "HTTP_IF_MATCH": '"1"'})
        self.assertEqual(a.status, 303, a)
        self.assertEqual(a.header("location"), "/campaigns.html")
        got = self.req("GET", "/api/campaigns/" + rec["id"]).json()
        self.assertEqual((got["name"], got["description"], got["totalItems"],
                          got["version"]), ("after", None, 50, 2))
        self.assertEqual(got["domainGenerationParams"],
                         {"patternType": "suffix", "variableLength": 4,
                          "characterSet": "xyz", "constantString": "k",
                          "tld": ".net", "numDomainsToGenerate": 9})

    def test_campaign_edit_form_error_comes_back_with_the_input(self):
        rec = self.create("campaigns", campaign("keep"))
        a = self.form("/api/campaigns/" + rec["id"],
                      [("_method", "PATCH"), ("_form", "form-gen"),
                       ("name", "renamed"),
                       ("domainGenerationParams.variableLength", "99")]
                      + SCRIPT,
                      headers={"HTTP_REFERER": ORIGIN + "/campaigns.html"})
        self.assertEqual(a.status, 303, a)
        loc = urllib.parse.urlsplit(a.header("location"))
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(q["form"], ["form-gen"])
        self.assertIn("field.domainGenerationParams.variableLength", q)
        self.assertEqual(q["value.name"], ["renamed"])
        self.assertEqual(q["value.domainGenerationParams.variableLength"],
                         ["99"])
        got = self.req("GET", "/api/campaigns/" + rec["id"]).json()
        self.assertEqual((got["name"], got["version"]), ("keep", 1))

    def test_form_method_override_deletes(self):
        rec = self.create("personas", persona("one"))
        a = self.form("/api/personas/" + rec["id"], [("_method", "DELETE")])
        self.assertEqual(a.status, 303, a)
        self.assertError(self.req("GET", "/api/personas/" + rec["id"]), 404)

    def test_form_method_override_patches(self):
        rec = self.create("personas", persona("one"))
        a = self.form("/api/personas/" + rec["id"],
                      [("_method", "PATCH"), ("description", "via form")])
        self.assertEqual(a.status, 303, a)
        got = self.req("GET", "/api/personas/" + rec["id"]).json()
        self.assertEqual(got["description"], "via form")

    def test_form_bad_method_override_is_reported(self):
        rec = self.create("personas", persona("one"))
        a = self.form("/api/personas/" + rec["id"],
                      [("_method", "GET")] + SCRIPT)
        self.assertEqual(a.status, 303, a)
        self.assertIn("error=bad_form", a.header("location"))
        a = self.form("/api/personas/" + rec["id"], [("_method", "GET")])
        page = self.assertFailurePage(a, 400, "bad_form")
        self.assertIn("_method must be", page["message"])

    def test_form_asking_for_json_gets_json(self):
        a = self.form("/api/personas", self.PERSONA,
                      headers={"HTTP_ACCEPT": "application/json"})
        self.assertEqual(a.status, 201, a)
        self.assertEqual(a.json()["name"], "formed")

    def test_form_cross_origin_is_refused(self):
        a = self.form("/api/personas", self.PERSONA + SCRIPT,
                      headers={"HTTP_ORIGIN": "http://evil.example"})
        self.assertEqual(a.status, 303, a)
        self.assertIn("error=cross_origin", a.header("location"))
        self.assertEqual(self.req("GET", "/api/personas").json()["items"],
                         [])

    def test_form_from_another_site_gets_a_page_linking_home_bare(self):
        # The link must not carry what another site typed into a form of
        # this one (the page's script would fill it in).
        a = self.form("/api/personas",
                      self.PERSONA + [("_form", "form-dns")],
                      headers={"HTTP_ORIGIN": "http://evil.example"})
        page = self.assertFailurePage(a, 403, "cross_origin")
        self.assertEqual(page["back"], "/personas.html?tab=dns")
        self.assertNotIn(b"value.", a.body)
        self.assertNotIn(b"formed", a.body)
        self.assertEqual(self.req("GET", "/api/personas").json()["items"],
                         [])

    def assertFailurePage(self, a, status, code):
        """The "Not saved" page of a form posted without JavaScript:
        returns its message, field messages and link back."""
        self.assertEqual(a.status, status, a)
        self.assertEqual(a.header("content-type"), "text/html; charset=utf-8")
        self.assertEqual(a.header("cache-control"), "no-store")
        self.assertIn("default-src 'none'",
                      a.header("content-security-policy"))
        self.assertIsNone(a.header("location"))
        text = a.body.decode("utf-8")
        self.assertTrue(text.startswith("<!doctype html>"), text[:80])
        self.assertIn("<title>Not saved", text)
        self.assertIn('data-status="%d"' % status, text)
        self.assertIn('data-code="%s"' % code, text)
        self.assertIn('href="/css/app.css"', text)
        self.assertIn("Back</strong>", text)
        msg = re.search(r'<p id="failure-message">([^<]*)</p>', text)
        back = re.search(r'<a class="btn" id="failure-back" href="([^"]*)"',
                         text)
        self.assertTrue(msg and back, text)
        fields = {html.unescape(k): html.unescape(v) for k, v in re.findall(
            r'<li data-path="[^"]*"><code>([^<]*)</code>: ([^<]*)</li>', text)}
        return {"message": html.unescape(msg.group(1)), "fields": fields,
                "back": html.unescape(back.group(1)), "text": text}

    def test_form_error_without_script_is_a_page_with_the_reason(self):
        a = self.form("/api/proxies",
                      [("_form", "proxy-form"), ("_redirect", "/proxies.html"),
                       ("name", "edge one"), ("address", "10.0.0.1"),
                       ("protocol", "socks5"), ("username", "bob"),
                       ("password", "hunter2"), ("isEnabled", "false"),
                       ("isEnabled", "true")])
        page = self.assertFailurePage(a, 422, "validation_failed")
        self.assertTrue(page["message"])
        self.assertIn("host:port", page["fields"]["address"])
        # The link goes back to the page with what the script refills.
        loc = urllib.parse.urlsplit(page["back"])
        self.assertEqual(loc.path, "/proxies.html")
        self.assertEqual(loc.fragment, "proxy-form-failed")
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(q["error"], ["validation_failed"])
        self.assertEqual(q["value.name"], ["edge one"])
        self.assertIn("field.address", q)
        self.assertNotIn(b"hunter2", a.body)
        self.assertEqual(self.req("GET", "/api/proxies").json()["items"], [])

    def test_form_error_page_escapes_whatever_was_sent(self):
        hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
        a = self.form("/api/proxies",
                      [("_form", "proxy-form"), ("_redirect", "/proxies.html"),
                       ("name", hostile), ("address", hostile),
                       ("protocol", "http"), ("password", "sekrit" + hostile),
                       ("x" + hostile, "1")])
        page = self.assertFailurePage(a, 422, "validation_failed")
        self.assertIn("x" + hostile, page["fields"])
        for raw in (b"<script", b"<img", hostile.encode()):
            self.assertNotIn(raw, a.body)
        self.assertNotIn(b"sekrit", a.body)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(page["back"]).query)
        self.assertEqual(q["value.name"], [hostile])
        self.assertNotIn("value.password", q)

    def test_form_error_page_has_the_status_of_its_error(self):
        self.create("keyword-sets", {"name": "taken"})
        a = self.form("/api/keyword-sets",
                      [("_redirect", "/keyword-sets.html"), ("name", "taken")])
        page = self.assertFailurePage(a, 409, "conflict")
        self.assertEqual(urllib.parse.urlsplit(page["back"]).path,
                         "/keyword-sets.html")
        a = self.form("/api/personas/" + UUID0, [("_method", "DELETE")])
        self.assertFailurePage(a, 404, "not_found")
        a = self.form("/api/personas", [("personaType", "dns")],
                      headers={"HTTP_ACCEPT": "application/json"})
        self.assertError(a, 422, "validation_failed")

    def test_form_action_with_empty_body(self):
        rec = self.create("campaigns", campaign())
        a = self.form("/api/campaigns/%s/start" % rec["id"], [])
        self.assertEqual(a.status, 303, a)
        got = self.req("GET", "/api/campaigns/" + rec["id"]).json()
        self.assertEqual(got["status"], "queued")


class Changes(CgiCase):
    def test_since_is_required_and_checked(self):
        for q in ("", "?since=", "?since=-1", "?since=abc", "?since=1.5"):
            self.assertError(self.req("GET", "/api/changes" + q), 400)

    def test_limit_and_wait_must_be_numbers(self):
        self.assertError(self.req("GET", "/api/changes?since=0&limit=x"),
                         400)
        self.assertError(self.req("GET", "/api/changes?since=0&wait=x"),
                         400)

    def test_bad_topics_are_400(self):
        self.assertError(self.req("GET", "/api/changes?since=0&topics=nope"),
                         400)

    def test_events_after_since_oldest_first(self):
        p = self.create("personas", persona("one"))
        x = self.create("proxies", {"name": "x", "address": "10.0.0.1:3128",
                                    "protocol": "http"})
        doc = self.req("GET", "/api/changes?since=0").json()
        seqs = [e["seq"] for e in doc["events"]]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(doc["seq"], seqs[-1])
        ids = [e["id"] for e in doc["events"] if e["id"]]
        self.assertEqual(ids, [p["id"], x["id"]])

    def test_topics_filter(self):
        self.create("personas", persona("one"))
        x = self.create("proxies", {"name": "x", "address": "10.0.0.1:3128",
                                    "protocol": "http"})
        doc = self.req("GET", "/api/changes?since=0&topics=proxies").json()
        self.assertEqual([e["id"] for e in doc["events"]], [x["id"]])

    def test_limit_is_honoured_and_clamped(self):
        for i in range(3):
            self.create("personas", persona("p%d" % i))
        doc = self.req("GET", "/api/changes?since=0&limit=1").json()
        self.assertEqual(len(doc["events"]), 1)
        self.assertEqual(doc["seq"], doc["events"][0]["seq"])
        doc = self.req("GET", "/api/changes?since=0&limit=0").json()
        self.assertEqual(len(doc["events"]), 1)
        a = self.req("GET", "/api/changes?since=0&limit=99999")
        self.assertEqual(a.status, 200, a)

    def test_an_answer_is_bounded_in_bytes_and_loses_nothing(self):
        made = [self.create("keyword-sets", {
            "name": "big %d" % i, "description": "d" * 16000})["id"]
            for i in range(10)]
        budget = {"FLOWPUSH_CHANGES_MAX_BYTES": "65536"}
        since, seen, answers = 0, [], 0
        while True:
            a = self.req("GET", "/api/changes?since=%d&limit=1000" % since,
                         extra=budget)
            self.assertEqual(a.status, 200, a)
            self.assertLess(len(a.body), 65536 + 20000)
            doc = a.json()
            if doc["seq"] == since:
                break
            answers += 1
            seen += [e["id"] for e in doc["events"]
                     if e["action"] == "created"]
            since = doc["seq"]
        self.assertEqual(seen, made)
        self.assertGreater(answers, 2)

    def test_since_in_the_future_is_a_reset(self):
        self.create("personas", persona("one"))
        doc = self.req("GET", "/api/changes?since=999").json()
        self.assertTrue(doc.get("reset"))

    def test_wait_without_events_answers_empty_after_the_wait(self):
        last = self.req("GET", "/api/changes?since=0").json()["seq"]
        t0 = time.monotonic()
        a = self.req("GET", "/api/changes?since=%d&wait=1" % last)
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["events"], [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    def test_wait_is_clamped_to_the_maximum(self):
        t0 = time.monotonic()
        a = self.req("GET", "/api/changes?since=0&wait=3600")
        self.assertEqual(a.status, 200, a)
        self.assertLess(time.monotonic() - t0, 15)

    def test_wait_ends_when_an_event_arrives(self):
        proc, body = self.start("GET", "/api/changes?since=0&wait=3")
        time.sleep(0.3)   # the CGI has no readiness signal to wait for
        rec = self.create("personas", persona("one"))
        a = self.finish(proc, body)
        self.assertEqual(a.status, 200, a)
        ids = [e["id"] for e in a.json()["events"]]
        self.assertIn(rec["id"], ids)


class Token(CgiCase):
    def test_token_is_signed_for_the_topics(self):
        now = time.time()
        a = self.req("GET", "/api/token?topics=personas,dashboard",
                     extra={"REMOTE_USER": "alice"})
        self.assertEqual(a.status, 200, a)
        doc = a.json()
        self.assertIsInstance(doc["token"], str)
        self.assertIn(".", doc["token"])
        self.assertAlmostEqual(doc["expires"], now + 3600, delta=30)

    def test_bad_topics_are_400(self):
        self.assertError(self.req("GET", "/api/token?topics=../x"), 400)

    def test_no_secret_is_404(self):
        a = self.req("GET", "/api/token", extra={"FLOWPUSH_SECRET": ""})
        self.assertError(a, 404, "not_configured")

    def test_post_is_405(self):
        self.assertError(self.req("POST", "/api/token", {}), 405)


class TopicGrants(CgiCase):
    """topic_grants: who may subscribe to what, by REMOTE_USER."""

    grants = {"FLOWPUSH_TOPIC_GRANTS":
              "alice: campaigns,dashboard; admin: *; *: dashboard"}

    def as_user(self, user, uri):
        extra = dict(self.grants)
        if user:
            extra["REMOTE_USER"] = user
        return self.req("GET", uri, extra=extra)

    def test_token_topics_outside_the_grant_are_403(self):
        a = self.as_user("alice", "/api/token?topics=campaigns")
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["topics"], "campaigns")
        self.assertError(self.as_user("alice", "/api/token?topics=proxies"),
                         403, "forbidden_topics")
        self.assertError(self.as_user(None, "/api/token?topics=*"),
                         403, "forbidden_topics")
        self.assertEqual(self.as_user("admin", "/api/token?topics=*").status,
                         200)

    def test_without_topics_a_user_gets_the_grant(self):
        a = self.as_user("alice", "/api/token")
        self.assertEqual(a.json()["topics"], "campaigns,dashboard")
        a = self.as_user("nobody-named", "/api/token")
        self.assertEqual(a.json()["topics"], "dashboard")

    def test_changes_answer_only_granted_topics(self):
        self.create("personas", persona("hidden"))
        a = self.as_user("alice", "/api/changes?since=0")
        self.assertEqual(a.status, 200, a)
        self.assertEqual({e["topic"] for e in a.json()["events"]} -
                         {"campaigns", "dashboard"}, set())
        self.assertError(self.as_user("alice",
                                      "/api/changes?since=0&topics=personas"),
                         403, "forbidden_topics")
        a = self.as_user("admin", "/api/changes?since=0&topics=personas")
        self.assertEqual(len(a.json()["events"]), 1)

    def test_no_grants_means_everyone_everything(self):
        a = self.req("GET", "/api/changes?since=0&topics=personas")
        self.assertEqual(a.status, 200, a)

    def test_unreadable_grants_are_500_bad_config(self):
        a = self.req("GET", "/api/token", extra={
            "FLOWPUSH_TOPIC_GRANTS": "alice campaigns"})
        self.assertError(a, 500, "bad_config")


class Roles(CgiCase):
    """roles: who may do what, by REMOTE_USER."""

    ROLES = "ada: admin; otto, olga: operator; vera: viewer; mallory: none"

    def as_user(self, user, method, uri, body=None, roles=ROLES, **kw):
        extra = dict(kw.pop("extra", {}))
        extra["FLOWPUSH_ROLES"] = roles
        if user:
            extra["REMOTE_USER"] = user
        return self.req(method, uri, body, extra=extra, **kw)

    def running_campaign(self):
        rec = dict(campaign("run"), totalItems=10)
        c = self.as_user("ada", "POST", "/api/campaigns", rec)
        self.assertEqual(c.status, 201, c)
        cid = c.json()["id"]
        for action in ("start", "run"):
            a = self.as_user("otto", "POST",
                             "/api/campaigns/%s/%s" % (cid, action))
            self.assertEqual(a.status, 200, a)
        return cid

    def test_a_viewer_reads_and_subscribes_but_does_not_write(self):
        rec = self.as_user("ada", "POST", "/api/personas", persona()).json()
        for uri in ("/api/personas", "/api/personas/" + rec["id"],
                    "/api/dashboard", "/api/changes?since=0",
                    "/api/token?topics=personas"):
            a = self.as_user("vera", "GET", uri)
            self.assertEqual(a.status, 200, (uri, a))
        err = self.assertError(self.as_user(
            "vera", "PATCH", "/api/personas/" + rec["id"],
            {"description": "x"}), 403, "forbidden")
        self.assertIn("viewer", err["message"])
        self.assertError(self.as_user("vera", "POST", "/api/personas",
                                      persona("v")), 403, "forbidden")
        self.assertError(self.as_user("vera", "DELETE",
                                      "/api/personas/" + rec["id"]),
                         403, "forbidden")
        self.assertEqual(self.as_user("ada", "GET", "/api/personas/" +
                                      rec["id"]).json()["version"], 1)

    def test_a_viewers_write_is_refused_before_its_body_is_read(self):
        rec = self.as_user("ada", "POST", "/api/personas", persona()).json()
        self.assertError(self.as_user(
            "vera", "PATCH", "/api/personas/" + rec["id"], "{not json",
            ctype="application/json"), 403, "forbidden")

    def test_an_operator_acts_on_campaigns_and_reports_progress(self):
        cid = self.running_campaign()
        a = self.as_user("olga", "PATCH", "/api/campaigns/" + cid,
                         {"processedItems": 2, "successfulItems": 1,
                          "failedItems": 1, "version": 3})
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["processedItems"], 2)
        a = self.as_user("otto", "POST", "/api/campaigns/%s/pause" % cid)
        self.assertEqual(a.status, 200, a)

    def test_an_operator_changes_no_other_field_and_creates_nothing(self):
        cid = self.running_campaign()
        err = self.assertError(self.as_user(
            "otto", "PATCH", "/api/campaigns/" + cid,
            {"processedItems": 1, "successfulItems": 1, "name": "new"}),
            403, "forbidden")
        self.assertIn("progress", err["message"])
        self.assertError(self.as_user("otto", "PUT", "/api/campaigns/" + cid,
                                      campaign("new")), 403, "forbidden")
        self.assertError(self.as_user(
            "otto", "POST", "/api/proxies",
            {"name": "p", "address": "10.0.0.1:3128", "protocol": "http"}),
            403, "forbidden")
        self.assertError(self.as_user("otto", "DELETE",
                                      "/api/campaigns/" + cid),
                         403, "forbidden")
        got = self.as_user("otto", "GET", "/api/campaigns/" + cid).json()
        self.assertEqual((got["name"], got["processedItems"]), ("run", 0))

    def test_an_admin_does_everything(self):
        a = self.as_user("ada", "POST", "/api/proxies",
                         {"name": "p", "address": "10.0.0.1:3128",
                          "protocol": "http"})
        self.assertEqual(a.status, 201, a)
        pid = a.json()["id"]
        a = self.as_user("ada", "PATCH", "/api/proxies/" + pid,
                         {"description": "d"})
        self.assertEqual(a.status, 200, a)
        self.assertEqual(self.as_user("ada", "DELETE",
                                      "/api/proxies/" + pid).status, 204)

    def test_a_user_with_no_role_is_403_everywhere(self):
        for user in ("mallory", "stranger"):
            for uri in ("/api/personas", "/api/token", "/api/dashboard",
                        "/api/changes?since=0"):
                err = self.assertError(self.as_user(user, "GET", uri),
                                       403, "forbidden")
                self.assertIn("no role", err["message"])

    def test_the_anonymous_without_a_star_entry_is_401(self):
        self.assertError(self.as_user(None, "GET", "/api/personas"),
                         401, "unauthorized")

    def test_the_star_entry_gives_others_and_the_anonymous_a_role(self):
        roles = self.ROLES + "; *: viewer"
        for user in ("stranger", None):
            self.assertEqual(self.as_user(user, "GET", "/api/personas",
                                          roles=roles).status, 200)
            self.assertError(self.as_user(user, "POST", "/api/personas",
                                          persona(), roles=roles),
                             403 if user else 401)
        self.assertError(self.as_user("mallory", "GET", "/api/personas",
                                      roles=roles), 403, "forbidden")

    def test_require_user_still_asks_the_anonymous_to_sign_in(self):
        a = self.as_user(None, "POST", "/api/personas", persona(),
                         roles="*: admin",
                         extra={"FLOWPUSH_REQUIRE_USER": "1"})
        self.assertError(a, 401, "unauthorized")
        a = self.as_user("x", "POST", "/api/personas", persona(),
                         roles="*: admin",
                         extra={"FLOWPUSH_REQUIRE_USER": "1"})
        self.assertEqual(a.status, 201, a)

    def test_topic_grants_narrow_what_a_viewer_may_subscribe_to(self):
        grants = {"FLOWPUSH_TOPIC_GRANTS": "vera: dashboard; *: *"}
        a = self.as_user("vera", "GET", "/api/token", extra=grants)
        self.assertEqual(a.json()["topics"], "dashboard")
        self.assertError(self.as_user("vera", "GET",
                                      "/api/token?topics=personas",
                                      extra=grants), 403, "forbidden_topics")
        # The grant to "*" does not give a user without a role a token.
        self.assertError(self.as_user("stranger", "GET", "/api/token",
                                      extra=grants), 403, "forbidden")

    def test_a_refused_form_is_answered_as_any_failed_form(self):
        rec = self.as_user("ada", "POST", "/api/personas", persona()).json()
        # From the page's script (_script=1): 303 back with the error.
        body = urllib.parse.urlencode([("_method", "PATCH"),
                                       ("_script", "1"),
                                       ("description", "x")])
        a = self.as_user("vera", "POST", "/api/personas/" + rec["id"], body,
                         ctype=FORM, headers={
                             "HTTP_REFERER": ORIGIN + "/personas.html"})
        self.assertEqual(a.status, 303, a)
        q = urllib.parse.parse_qs(
            urllib.parse.urlsplit(a.header("location")).query)
        self.assertEqual(q["error"], ["forbidden"])
        self.assertIn("viewer", q["message"][0])
        # Without JavaScript: the "Not saved" page with the 403.
        body = urllib.parse.urlencode([("_method", "PATCH"),
                                       ("description", "x")])
        a = self.as_user("vera", "POST", "/api/personas/" + rec["id"], body,
                         ctype=FORM, headers={
                             "HTTP_REFERER": ORIGIN + "/personas.html"})
        self.assertEqual(a.status, 403, a)
        self.assertIn("text/html", a.header("content-type"))
        self.assertIn(b"role (viewer)", a.body)

    def test_unreadable_roles_stop_the_program_with_a_json_500(self):
        a = self.as_user("ada", "GET", "/api/personas",
                         roles="ada: superuser")
        self.assertError(a, 500, "bad_config")
        self.assertNotIn(b"superuser", a.body)


def fcgi_request(port, params, body=b""):
    """Sends one FastCGI responder request; returns the Answer."""
    def record(kind, content):
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    def length(n):
        return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)

    def recv(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise AssertionError("FastCGI connection closed early")
            data += chunk
        return data

    pairs = b"".join(length(len(k)) + length(len(v.encode())) + k.encode() +
                     v.encode() for k, v in params.items())
    out = record(1, struct.pack("!HB5x", 1, 0))
    for i in range(0, len(pairs), 65535):
        out += record(4, pairs[i:i + 65535])
    out += record(4, b"")
    for i in range(0, len(body), 65535):
        out += record(5, body[i:i + 65535])
    out += record(5, b"")
    stdout = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(out)
        while True:
            _, kind, _, clen, plen = struct.unpack("!BBHHBx", recv(sock, 8))
            content = recv(sock, clen)
            recv(sock, plen)
            if kind == 6:
                stdout += content
            elif kind == 3:
                break
    return Answer(stdout)


class FastCgi(CgiCase):
    """The same binary with a listening socket on fd 0: a worker pool."""

    def setUp(self):
        super().setUp()
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(64)
        self.port = lsock.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "FLOWPUSH_CONFIG": self.conf,
               "FLOWPUSH_THREADS": "4"}
        # The socket listens before the program starts, so connections
        # wait in the backlog: no need to wait for readiness.
        self.proc = subprocess.Popen([FCGI], stdin=lsock.fileno(), env=env,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        lsock.close()

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
        _, err = self.proc.communicate()
        super().tearDown()
        for marker in (b"AddressSanitizer", b"runtime error"):
            self.assertNotIn(marker, err, err.decode("latin-1"))

    def call(self, method, uri, body=None, headers=None):
        env = self.env(method, uri, headers)
        env = {k: v for k, v in env.items() if k.isupper() and
               k not in ("PATH", "FLOWPUSH_CONFIG")}
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            env["CONTENT_TYPE"] = "application/json"
            env["CONTENT_LENGTH"] = str(len(data))
        return fcgi_request(self.port, env, data)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=JOIN_LIMIT)

    def test_requests_are_served_in_parallel(self):
        answers = []

        def post(i):
            answers.append(self.call("POST", "/api/personas",
                                     persona("p%d" % i)).status)

        threads = [threading.Thread(target=post, args=(i,))
                   for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(answers, [201] * 20)
        a = self.call("GET", "/api/personas")
        self.assertEqual(len(a.json()["items"]), 20)
        self.assertEqual(self.stop(), 0)

    def test_errors_and_bodies_work_as_in_cgi(self):
        self.assertError(self.call("GET", "/api/users"), 404)
        a = self.call("POST", "/api/personas", persona("n" * 10000))
        self.assertError(a, 422)
        env = self.env("POST", "/api/personas")
        env.pop("PATH")
        env.pop("FLOWPUSH_CONFIG")
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = "4"
        self.assertError(fcgi_request(self.port, env, b'{"a":1}'), 400)
        env["CONTENT_LENGTH"] = "20"
        self.assertError(fcgi_request(self.port, env, b"x" * 70000), 413)
        env["CONTENT_LENGTH"] = "300000"
        self.assertError(fcgi_request(self.port, env, b"x" * 300000), 413)
        # no CONTENT_LENGTH: FastCGI frames the body, so it is read
        del env["CONTENT_LENGTH"]
        body = json.dumps(persona("framed")).encode()
        self.assertEqual(fcgi_request(self.port, env, body).status, 201)

    def test_sigterm_when_idle_stops_at_once(self):
        self.assertEqual(self.call("GET", "/api/dashboard").status, 200)
        t0 = time.monotonic()
        self.assertEqual(self.stop(), 0)
        self.assertLess(time.monotonic() - t0, 2)

    def test_sigterm_ends_a_long_poll_promptly(self):
        seq = self.call("GET", "/api/changes?since=0").json()["seq"]
        got = []
        t = threading.Thread(target=lambda: got.append(self.call(
            "GET", "/api/changes?since=%d&wait=3" % seq)))
        t.start()
        time.sleep(0.3)   # let a worker take the request
        t0 = time.monotonic()
        self.assertEqual(self.stop(), 0)
        t.join(timeout=5)
        self.assertLess(time.monotonic() - t0, 2)
        self.assertEqual(got[0].status, 200, got)
        self.assertEqual(got[0].json()["events"], [])


class Result(unittest.TextTestResult):
    pass


def main():
    if not os.access(FCGI, os.X_OK):
        print("cannot run %s (set FLOWPUSH_FCGI)" % FCGI)
        print("0 passed, 1 failed")
        return 1
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[__name__])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result,
                                     stream=sys.stdout)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + \
        len(res.unexpectedSuccesses)
    passed = res.testsRun - failed - len(res.skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
