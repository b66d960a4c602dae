#!/usr/bin/python3
"""cgi_harness.py - shared set-up for black-box tests of flowpush.fcgi run as plain CGI.

Each test case gets a fresh folder holding a config and a database made by
`flowpush --config F init --database D` (or, without the admin command, a
hand-written config over an empty file, which the CGI migrates on first
open). Requests run the real binary with a CGI environment, the body on
stdin, and parse its answer. The journal is read straight from the SQLite
file, read-only, to check what each write recorded.

Binaries: $FLOWPUSH_FCGI (default ./flowpush.fcgi) and $FLOWPUSH_CLI
(default ./flowpush). main() prints "N passed, N failed" last and returns
the exit status.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

FCGI = os.path.abspath(os.environ.get("FLOWPUSH_FCGI", "./flowpush.fcgi"))
CLI = os.path.abspath(os.environ.get("FLOWPUSH_CLI", "./flowpush"))
HOST = "127.0.0.1:8080"
ORIGIN = "http://" + HOST
UUID0 = "00000000-0000-4000-8000-000000000000"
FORM = "application/x-www-form-urlencoded"

# Words that would show an SQL or library error text reaching a client.
LEAK_WORDS = (b"sqlite", b"sql ", b"syntax error", b"constraint",
              b"no such table", b"no such column", b"near \"")


class Answer:
    """One CGI answer: status, headers (lower-case names), body."""

    def __init__(self, raw, stderr=b""):
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("no header block in %r (stderr %r)"
                                 % (raw[:200], stderr[:500]))
        self.headers = {}
        self.status = 200
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "status":
                self.status = int(value.split()[0])
            self.headers.setdefault(name, []).append(value)
        self.body = body
        self.stderr = stderr

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%s %r %r>" % (self.status, self.headers, self.body[:600])


def cgi_env(conf, method, uri):
    """The environment a web server gives a CGI program for one request."""
    query = uri.partition("?")[2]
    return {"PATH": "/usr/bin:/bin", "FLOWPUSH_CONFIG": conf,
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8080", "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": method, "REQUEST_URI": uri,
            "SCRIPT_NAME": "", "QUERY_STRING": query, "HTTP_HOST": HOST}


def clean_env():
    """The caller's FLOWPUSH_* settings must not leak into the tests."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("FLOWPUSH_")}


class Site:
    """A state folder with a config and a database, and a way to send one
    request to the CGI."""

    def __init__(self, settings=None, folder=None):
        # folder: an empty folder to use (a test's own file system).
        self.dir = folder or tempfile.mkdtemp(prefix="fp-rules-")
        self.conf = os.path.join(self.dir, "flowpush.conf")
        self.db = os.path.join(self.dir, "flowpush.db")
        # Settings travel as FLOWPUSH_<KEY> overrides, so one config file
        # made by the admin command serves every test.
        self.settings = {"log_level": "error", "doorbell": ""}
        self.settings.update(settings or {})
        if os.access(CLI, os.X_OK):
            r = subprocess.run([CLI, "--config", self.conf, "init",
                                "--database", self.db],
                               capture_output=True, text=True,
                               env=clean_env(), cwd=self.dir, timeout=60)
            if r.returncode != 0:
                raise AssertionError("flowpush init: " + r.stderr)
        else:
            open(self.db, "wb").close()
            with open(self.conf, "w") as f:
                f.write("database = %s\n" % self.db)
                f.write("secret = 00112233445566778899aabbccddeeff\n")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, method, uri, headers=None, settings=None):
        env = cgi_env(self.conf, method, uri)
        for k, v in os.environ.items():
            # sanitizer options reach the binary; nothing else does
            if k.endswith("SAN_OPTIONS"):
                env[k] = v
        merged = dict(self.settings)
        merged.update(settings or {})
        for k, v in merged.items():
            env["FLOWPUSH_" + k.upper()] = str(v)
        for k, v in (headers or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def request(self, method, uri, body=None, ctype=None, headers=None,
                length=None, settings=None):
        """Runs one request; body may be a dict (sent as JSON), str or
        bytes. length overrides CONTENT_LENGTH ("" leaves it out)."""
        env = self.env(method, uri, headers, settings)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            ctype = ctype or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if body is not None:
            env["CONTENT_LENGTH"] = str(len(body))
        if length is not None:
            if length == "":
                env.pop("CONTENT_LENGTH", None)
            else:
                env["CONTENT_LENGTH"] = length
        if ctype:
            env["CONTENT_TYPE"] = ctype
        proc = subprocess.run([FCGI], env=env, input=body or b"",
                              capture_output=True, timeout=60)
        return Answer(proc.stdout, proc.stderr)

    # ---- reading the database behind the API's back, read-only ----

    def sql(self, query, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def journal(self, since=0):
        """Journal rows after since as dicts, oldest first."""
        rows = self.sql("SELECT seq, ts, topic, action, id, version, actor,"
                        " data FROM journal WHERE seq > ? ORDER BY seq",
                        (since,))
        keys = ("seq", "ts", "topic", "action", "id", "version", "actor",
                "data")
        out = []
        for row in rows:
            d = dict(zip(keys, row))
            d["raw"] = d["data"]
            d["data"] = json.loads(d["data"]) if d["data"] else None
            out.append(d)
        return out

    def last_seq(self):
        rows = self.sql("SELECT seq FROM sqlite_sequence "
                        "WHERE name = 'journal'")
        return rows[0][0] if rows else 0

    def snapshot(self):
        """Everything a failed write must leave untouched."""
        tables = ("campaigns", "personas", "keyword_sets", "proxies",
                  "proxy_pools", "journal")
        return {t: self.sql("SELECT * FROM %s ORDER BY 1" % t)
                for t in tables}


class CgiTestCase(unittest.TestCase):
    """Base: a fresh site per test and helpers for the common calls."""

    settings = None

    def setUp(self):
        self.site = Site(self.settings)

    def tearDown(self):
        self.site.close()

    def req(self, method, uri, body=None, **kw):
        a = self.site.request(method, uri, body, **kw)
        self.assertNotIn(b"AddressSanitizer", a.stderr,
                         a.stderr.decode("latin-1"))
        self.assertNotIn(b"runtime error", a.stderr,
                         a.stderr.decode("latin-1"))
        self.assertNotIn(b"LeakSanitizer", a.stderr,
                         a.stderr.decode("latin-1"))
        return a

    def create(self, coll, rec, **kw):
        a = self.req("POST", "/api/" + coll, rec, **kw)
        self.assertEqual(a.status, 201, a)
        return a.json()

    def get(self, coll, rid):
        a = self.req("GET", "/api/%s/%s" % (coll, rid))
        self.assertEqual(a.status, 200, a)
        return a.json()

    def items(self, coll, query=""):
        a = self.req("GET", "/api/%s%s" % (coll, query))
        self.assertEqual(a.status, 200, a)
        return a.json()["items"]

    def patch(self, coll, rid, body, **kw):
        return self.req("PATCH", "/api/%s/%s" % (coll, rid), body, **kw)

    def put(self, coll, rid, body, **kw):
        return self.req("PUT", "/api/%s/%s" % (coll, rid), body, **kw)

    def delete(self, coll, rid, **kw):
        return self.req("DELETE", "/api/%s/%s" % (coll, rid), **kw)

    def action(self, cid, name, body=None):
        return self.req("POST", "/api/campaigns/%s/%s" % (cid, name), body)

    def assertError(self, a, status, code=None):
        """The answer is a JSON error of status that leaks no SQL text;
        returns its error object."""
        self.assertEqual(a.status, status, a)
        self.assertEqual(a.header("content-type"), "application/json", a)
        err = a.json()["error"]
        self.assertEqual(err["status"], status, a)
        if code:
            self.assertEqual(err["code"], code, a)
        low = a.body.lower()
        for word in LEAK_WORDS:
            self.assertNotIn(word, low, a)
        return err

    def assertInvalid(self, a, field):
        """422 naming field among the field errors."""
        err = self.assertError(a, 422, "validation_failed")
        self.assertIn(field, err.get("fields", {}), a)
        return err

    def assertUnchanged(self, before):
        self.assertEqual(self.site.snapshot(), before)


class _Result(unittest.TextTestResult):
    pass


def main(module_name):
    """Runs the tests of a module; prints "N passed, N failed" last."""
    for path, what in ((FCGI, "FLOWPUSH_FCGI"),):
        if not os.access(path, os.X_OK):
            print("cannot run %s (set %s)" % (path, what))
            print("0 passed, 1 failed")
            return 1
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[module_name])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result,
                                     stream=sys.stdout)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + \
        len(res.unexpectedSuccesses)
    passed = res.testsRun - failed - len(res.skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
