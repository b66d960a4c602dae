#!/usr/bin/python3
"""test_cli.py - black-box tests of the flowpush command on a temp database."""

import json
import os
import pty
import re
import shutil
import sqlite3
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.environ.get("FLOWPUSH_BIN") or os.path.abspath("flowpush")
# The other two programs are built beside it.
DAEMON = os.path.join(os.path.dirname(BIN), "flowpushd")
FCGI = os.path.join(os.path.dirname(BIN), "flowpush.fcgi")
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# FLOWPUSH_TEST_STORE=postgresql runs the suite on PostgreSQL: a server of
# the module's own, a database per test. Tests of the SQLite file itself
# (its path, modes, backup) are SQLite's only.
STORE = os.environ.get("FLOWPUSH_TEST_STORE", "sqlite")
PG = None
DATABASES = [0]


def setUpModule():
    global PG
    if STORE != "postgresql":
        return
    sys.path.insert(0, os.path.join(SRC, "tests", "pg"))
    from pgserver import PgServer
    PG = PgServer().start()


def tearDownModule():
    if PG is not None:
        PG.stop()


def new_database():
    """A fresh database on the module's PostgreSQL server: its URI."""
    DATABASES[0] += 1
    name = "cli%d" % DATABASES[0]
    PG.psql("CREATE DATABASE %s" % name, database="postgres")
    return "postgresql:///%s?host=%s&port=%d&user=flowpush" % (name, PG.sockdir, PG.port)


sqlite_only = unittest.skipIf(STORE != "sqlite", "a test of the SQLite file")


def configure_version():
    """The version configure.ac's AC_INIT gives the build."""
    with open(os.path.join(SRC, "configure.ac"), encoding="utf-8") as fh:
        m = re.search(r"^AC_INIT\(\[flowpush\], \[([^\]]+)\]", fh.read(),
                      re.M)
    return m.group(1)


def listed_keys(help_text):
    """The config keys a --help lists, one "  key   help" line each."""
    keys = help_text.split("Configuration keys", 1)[1]
    return set(re.findall(r"^  ([a-z_0-9]+) ", keys, re.M))
COLLECTIONS = ("campaigns", "personas", "keyword-sets", "proxies",
               "proxy-pools")


def clean_env():
    """The caller's FLOWPUSH_* settings must not leak into the tests."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("FLOWPUSH_")}


class Cli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fp-cli-")
        self.conf = os.path.join(self.dir, "flowpush.conf")
        self.env = clean_env()
        self.uri = new_database() if PG is not None else None
        out = self.ok("init", *(("--database", self.uri) if self.uri else ()))
        self.assertIn(self.conf, out)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cli(self, *args, stdin=None):
        return subprocess.run([BIN, "--config", self.conf] + list(args),
                              input=stdin, capture_output=True, text=True,
                              env=self.env, timeout=60, cwd=self.dir)

    def ok(self, *args, stdin=None):
        r = self.run_cli(*args, stdin=stdin)
        self.assertEqual(r.returncode, 0,
                         "flowpush %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def ok_json(self, *args, body=None):
        stdin = json.dumps(body) if body is not None else None
        return json.loads(self.ok(*args, stdin=stdin))

    def fails(self, *args, body=None, raw=None):
        stdin = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        r = self.run_cli(*args, stdin=stdin)
        self.assertEqual(r.returncode, 1, r.stdout)
        lines = [l for l in r.stderr.splitlines() if l.startswith("{")]
        self.assertTrue(lines, r.stderr)
        return json.loads(lines[-1])["error"]

    def tail(self, *args):
        return [json.loads(l) for l in self.ok("tail", *args).splitlines()]

    def last_seq(self):
        events = self.tail()
        return events[-1]["seq"] if events else 0

    # ---- init and check ----

    @sqlite_only
    def test_init__writes_private_config_with_fresh_secret(self):
        mode = stat.S_IMODE(os.stat(self.conf).st_mode)
        self.assertEqual(mode, 0o600)
        with open(self.conf) as f:
            text = f.read()
        secret = [l.split("=", 1)[1].strip() for l in text.splitlines()
                  if l.startswith("secret")][0]
        self.assertRegex(secret, r"^[0-9a-f]{64}$")
        self.assertTrue(os.path.exists(os.path.join(self.dir,
                                                    "flowpush.db")))

    def test_init__again__keeps_secret_unless_forced(self):
        with open(self.conf) as f:
            before = f.read()
        self.ok("init")
        with open(self.conf) as f:
            self.assertEqual(f.read(), before)
        self.ok("init", "--force")
        with open(self.conf) as f:
            self.assertNotEqual(f.read(), before)

    @sqlite_only
    def test_init__database_elsewhere__is_named_in_config(self):
        other = os.path.join(self.dir, "sub")
        os.mkdir(other)
        conf2 = os.path.join(self.dir, "two.conf")
        db2 = os.path.join(other, "two.db")
        r = subprocess.run([BIN, "--config", conf2, "init", "--database",
                            db2], capture_output=True, text=True,
                           env=self.env, cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(db2))
        with open(conf2) as f:
            self.assertIn("database = " + db2, f.read())

    def test_check__fresh_install__passes(self):
        out = self.ok("check")
        self.assertNotIn("FAIL", out)
        self.assertIn("PostgreSQL schema version 1" if self.uri else "integrity_check: ok", out)

    def test_check__readable_config__fails(self):
        os.chmod(self.conf, 0o644)
        r = self.run_cli("check")
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL", r.stdout)

    @sqlite_only
    def test_init__database_files__are_closed_to_other_users(self):
        db = os.path.join(self.dir, "flowpush.db")
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o660)
        self.ok_json("create", "proxies", body={
            "name": "p", "address": "192.0.2.1:81", "protocol": "http",
            "password": "s3cret"})
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                self.assertEqual(
                    stat.S_IMODE(os.stat(db + suffix).st_mode) & 0o007, 0,
                    suffix)

    @sqlite_only
    def test_check__database_open_to_others__fails_naming_it(self):
        db = os.path.join(self.dir, "flowpush.db")
        os.chmod(db, 0o644)
        r = self.run_cli("check")
        self.assertEqual(r.returncode, 1)
        line = [l for l in r.stdout.splitlines() if db in l and "mode" in l]
        self.assertTrue(line and line[0].startswith("FAIL"), r.stdout)
        self.assertIn("0644", line[0])

    # ---- secrets at rest ----

    def stored_secrets(self):
        if self.uri:
            out = PG.psql("SELECT secret FROM proxies WHERE secret IS NOT NULL",
                          database=self.uri.split("?")[0].rsplit("/", 1)[1])
            return out.splitlines()
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.dir, "flowpush.db"), uri=True)
        try:
            return [r[0] for r in db.execute(
                "SELECT secret FROM proxies WHERE secret IS NOT NULL")]
        finally:
            db.close()

    def make_proxy(self, n):
        return self.ok_json("create", "proxies", body={
            "name": "sealed %d" % n, "address": "192.0.2.%d:82" % n,
            "protocol": "http", "password": "pw-%d-do-not-show" % n})

    def test_secrets__are_sealed_at_rest(self):
        self.make_proxy(1)
        stored = self.stored_secrets()
        self.assertEqual(len(stored), 1)
        self.assertTrue(stored[0].startswith("fp1:"), stored[0])
        self.assertNotIn("do-not-show", stored[0])
        self.assertIn("ok   secrets sealed", self.ok("check"))

    def test_rekey__seals_every_secret_again_and_keeps_them(self):
        made = [self.make_proxy(n) for n in (1, 2, 3)]
        before = {s[:13] for s in self.stored_secrets()}
        out = json.loads(self.ok("rekey"))
        self.assertEqual(out["sealed"], 3)
        after = {s[:13] for s in self.stored_secrets()}
        self.assertEqual(after, {"fp1:%s:" % out["key"]})
        self.assertNotEqual(before, after)
        with open(self.conf) as f:
            self.assertNotIn("data_key_previous = ", f.read().replace(
                "data_key_previous = \n", ""))
        # The secret survives: an update must open it to keep it.
        rec = self.ok_json("update", "proxies", made[0]["id"],
                           body={"description": "after rekey"})
        self.assertIs(rec["hasPassword"], True)
        self.assertNotIn("FAIL", self.ok("check"))

    def test_rekey__seals_secrets_stored_before_sealing(self):
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write("\n".join(l for l in text.splitlines()
                               if not l.startswith("data_key")) + "\n")
        self.make_proxy(1)
        self.assertTrue(self.stored_secrets()[0].startswith("{"))
        r = self.run_cli("check")
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL secrets are stored unsealed", r.stdout)
        self.assertEqual(json.loads(self.ok("rekey"))["sealed"], 1)
        self.assertTrue(self.stored_secrets()[0].startswith("fp1:"))
        self.assertNotIn("FAIL", self.ok("check"))

    def test_help__lists_commands_and_config_keys(self):
        out = self.ok("help")
        for word in ("init", "tail", "prune", "busy_timeout_ms",
                     "FLOWPUSH_DATABASE"):
            self.assertIn(word, out)
        self.assertEqual(self.ok("--help"), out)

    def test_fcgi_as_cgi__query_words_as_arguments__still_serve_the_request(
            self):
        # A web server gives a CGI the words of a query without '=' as
        # arguments (RFC 3875 4.4): "GET /api/dashboard?--help" is a
        # request to answer, not a question from a shell.
        env = dict(self.env, FLOWPUSH_CONFIG=self.conf,
                   GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET",
                   REQUEST_URI="/api/dashboard?--help",
                   QUERY_STRING="--help", SERVER_NAME="localhost",
                   SERVER_PORT="80", SERVER_PROTOCOL="HTTP/1.1")
        r = subprocess.run([FCGI, "--help"], env=env, capture_output=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        head, _, body = r.stdout.partition(b"\r\n\r\n")
        self.assertIn(b"application/json", head)
        self.assertNotIn(b"usage:", r.stdout)
        self.assertIn("seq", json.loads(body))

    # ---- CRUD ----

    def test_crud__create_list_update_delete__round_trip(self):
        rec = self.ok_json("create", "proxies", body={
            "name": "cli proxy", "address": "192.0.2.1:3128",
            "protocol": "http", "password": "hunter2"})
        self.assertEqual(rec["version"], 1)
        self.assertTrue(rec["hasPassword"])
        self.assertNotIn("password", rec)
        pid = rec["id"]

        page = self.ok_json("list", "proxies")
        self.assertEqual([p["id"] for p in page["items"]], [pid])
        self.assertIsInstance(page["seq"], int)

        got = self.ok_json("get", "proxies", pid)
        self.assertEqual(got["name"], "cli proxy")

        upd = self.ok_json("update", "proxies", pid, "--if-match", "1",
                           body={"description": "patched"})
        self.assertEqual(upd["version"], 2)
        self.assertEqual(upd["description"], "patched")
        self.assertEqual(upd["address"], "192.0.2.1:3128")
        self.assertTrue(upd["hasPassword"])

        err = self.fails("update", "proxies", pid, "--if-match", "1",
                         body={"description": "stale"})
        self.assertEqual(err["status"], 412)

        self.ok("delete", "proxies", pid)
        err = self.fails("get", "proxies", pid)
        self.assertEqual(err["status"], 404)

    def test_list__filters_and_limit__narrow_the_page(self):
        for i, proto in enumerate(["http", "socks5", "http"]):
            self.ok_json("create", "proxies", body={
                "name": "p%d" % i, "address": "192.0.2.%d:80" % (i + 1),
                "protocol": proto})
        page = self.ok_json("list", "proxies", "protocol=http")
        self.assertEqual(len(page["items"]), 2)
        page = self.ok_json("list", "proxies", "--limit", "1")
        self.assertEqual(len(page["items"]), 1)
        self.assertIsNotNone(page["next"])
        page2 = self.ok_json("list", "proxies", "--limit", "1", "--after",
                             page["next"])
        self.assertNotEqual(page2["items"][0]["id"],
                            page["items"][0]["id"])

    def test_errors__are_api_json_on_stderr_with_status_1(self):
        self.assertEqual(self.fails("create", "proxies", raw="{oops")
                         ["status"], 400)
        self.assertEqual(self.fails("list", "people")["status"], 404)
        err = self.fails("create", "proxies", body={"name": ""})
        self.assertEqual(err["status"], 422)
        self.assertIn("fields", err)
        self.assertEqual(self.fails("frobnicate")["status"], 400)
        self.assertEqual(self.fails("get", "proxies")["status"], 400)

    def test_action__campaign__moves_along_state_machine(self):
        rec = self.ok_json("create", "campaigns", body={
            "name": "gen", "campaignType": "domain_generation",
            "domainGenerationParams": {
                "patternType": "prefix", "variableLength": 3,
                "characterSet": "abc", "tld": ".com"}})
        cid = rec["id"]
        self.assertEqual(rec["status"], "pending")
        self.assertEqual(self.ok_json("action", cid, "start")["status"],
                         "queued")
        err = self.fails("action", cid, "complete")
        self.assertEqual(err["status"], 409)
        self.ok_json("action", cid, "run")
        rec = self.ok_json("action", cid, "fail", "--message", "disk full")
        self.assertEqual(rec["status"], "failed")
        self.assertEqual(rec["errorMessage"], "disk full")

    # ---- journal ----

    def test_tail__shows_each_change_once(self):
        start = self.last_seq()
        rec = self.ok_json("--actor", "ops", "create", "keyword-sets",
                           body={"name": "ks", "rules": [
                               {"pattern": "a+b", "ruleType": "regex"}]})
        kid = rec["id"]
        self.ok_json("update", "keyword-sets", kid,
                     body={"description": "d"})
        self.ok("delete", "keyword-sets", kid)

        events = self.tail("--since", str(start))
        seqs = [e["seq"] for e in events]
        self.assertEqual(len(seqs), len(set(seqs)))
        self.assertEqual(seqs, sorted(seqs))
        mine = [(e["action"], e["version"]) for e in events
                if e["topic"] == "keyword-sets" and e["id"] == kid]
        self.assertEqual(mine, [("created", 1), ("updated", 2),
                                ("deleted", 2)])
        created = [e for e in events if e["topic"] == "keyword-sets"][0]
        self.assertEqual(created["actor"], "ops")
        self.assertEqual(created["data"]["ruleCount"], 1)

        only = self.tail("--since", str(start), "--topics", "dashboard")
        self.assertTrue(only)
        self.assertTrue(all(e["topic"] == "dashboard" for e in only))
        self.assertEqual(self.tail("--since", str(seqs[-1])), [])

    def test_tail__no_secret_ever_reaches_the_journal(self):
        self.ok_json("create", "proxies", body={
            "name": "secret proxy", "address": "192.0.2.9:8080",
            "protocol": "http", "password": "do-not-leak"})
        self.assertNotIn("do-not-leak", self.ok("tail"))

    def test_tail_follow__sees_new_change_and_stops_on_sigterm(self):
        start = self.last_seq()
        p = subprocess.Popen([BIN, "--config", self.conf, "tail",
                              "--follow", "--since", str(start),
                              "--topics", "proxies"],
                             stdout=subprocess.PIPE, text=True,
                             env=self.env)
        try:
            rec = self.ok_json("create", "proxies", body={
                "name": "followed", "address": "192.0.2.44:8080",
                "protocol": "http"})
            line = p.stdout.readline()
            ev = json.loads(line)
            self.assertEqual(ev["id"], rec["id"])
            self.assertEqual(ev["action"], "created")
            p.send_signal(signal.SIGTERM)
            rest, _ = p.communicate(timeout=10)
            self.assertEqual(rest, "")
            self.assertEqual(p.returncode, 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    def test_prune__keep_rows__keeps_newest_and_seq_goes_on(self):
        for i in range(4):
            self.ok_json("create", "proxies", body={
                "name": "n%d" % i, "address": "192.0.2.%d:81" % (i + 1),
                "protocol": "http"})
        last = self.last_seq()
        out = json.loads(self.ok("prune", "--keep-days", "0", "--keep-rows", "2"))
        self.assertGreater(out["deleted"], 0)
        self.assertEqual([e["seq"] for e in self.tail()],
                         [last - 1, last])
        self.ok_json("create", "proxies", body={
            "name": "after", "address": "192.0.2.99:81",
            "protocol": "http"})
        self.assertGreater(self.tail()[0]["seq"], last - 2)
        self.assertGreater(self.last_seq(), last)

    def age_journal(self):
        """Every journal row as if written in 2000: older than any
        --keep-days."""
        if self.uri:
            PG.psql("UPDATE journal SET ts = '2000-01-01T00:00:00.000Z'",
                    database=self.uri.split("?")[0].rsplit("/", 1)[1])
            return
        db = sqlite3.connect(os.path.join(self.dir, "flowpush.db"))
        try:
            db.execute("UPDATE journal SET ts = '2000-01-01T00:00:00.000Z'")
            db.commit()
        finally:
            db.close()

    def test_prune__defaults__keep_a_week_and_the_daemons_ring(self):
        with open(self.conf, "a") as f:
            f.write("push_ring_size = 16\n")
        for i in range(12):
            self.ok_json("create", "proxies", body={
                "name": "d%d" % i, "address": "192.0.2.%d:83" % (i + 1),
                "protocol": "http"})
        out = json.loads(self.ok("prune"))
        self.assertEqual((out["deleted"], out["keepDays"], out["keepRows"]),
                         (0, 7, 16))
        last = self.last_seq()
        self.assertGreater(last, 16)
        self.age_journal()
        out = json.loads(self.ok("prune"))
        self.assertEqual(out["deleted"], last - 16)
        self.assertEqual((out["firstSeq"], out["lastSeq"]),
                         (last - 15, last))
        self.assertEqual([e["seq"] for e in self.tail()],
                         list(range(last - 15, last + 1)))

    def test_prune__keep_days_only__deletes_every_old_row(self):
        self.ok_json("create", "proxies", body={
            "name": "o", "address": "192.0.2.1:84", "protocol": "http"})
        self.age_journal()
        out = json.loads(self.ok("prune", "--keep-rows", "0"))
        self.assertGreater(out["deleted"], 0)
        self.assertEqual(out["firstSeq"], 0)
        self.assertEqual(self.tail(), [])
        # The seq goes on: a page that saw the last event follows.
        self.assertEqual(self.tail("--since", str(out["lastSeq"])), [])

    def test_prune__both_limits_off__is_refused_and_deletes_nothing(self):
        self.ok_json("create", "proxies", body={
            "name": "z", "address": "192.0.2.1:85", "protocol": "http"})
        before = self.tail()
        self.age_journal()
        err = self.fails("prune", "--keep-days", "0", "--keep-rows", "0")
        self.assertEqual((err["status"], err["code"]), (400, "usage"))
        self.assertIn("whole journal", err["message"])
        self.assertEqual(len(self.tail()), len(before))

    def test_prune__since_at_the_oldest_kept_edge__resumes_one_below_resets(
            self):
        for i in range(4):
            self.ok_json("create", "proxies", body={
                "name": "e%d" % i, "address": "192.0.2.%d:86" % (i + 1),
                "protocol": "http"})
        out = json.loads(self.ok("prune", "--keep-days", "0",
                                 "--keep-rows", "3"))
        first, last = out["firstSeq"], out["lastSeq"]
        # since = first - 1: nothing after it was pruned, every kept
        # event comes, no reset.
        self.assertEqual([e["seq"] for e in self.tail("--since",
                                                      str(first - 1))],
                         [first, first + 1, first + 2])
        # One lower: the event first - 1 is gone; a reset to the newest
        # seq, and nothing else.
        self.assertEqual(self.tail("--since", str(first - 2)),
                         [{"action": "reset", "seq": last}])

    def test_tail__since_before_a_pruned_gap__says_reset_then_follows(self):
        start = self.last_seq()
        for i in range(3):
            self.ok_json("create", "proxies", body={
                "name": "g%d" % i, "address": "192.0.2.%d:82" % (i + 1),
                "protocol": "http"})
        self.ok("prune", "--keep-days", "0", "--keep-rows", "1")
        last = self.last_seq()
        events = self.tail("--since", str(start))
        self.assertEqual(events, [{"action": "reset", "seq": last}])
        # From where the reset points, it follows like any client.
        self.assertEqual(self.tail("--since", str(last)), [])

    # ---- demo ----

    def test_demo__loads_every_kind_once(self):
        out = self.ok("demo")
        self.assertIn("demo records loaded", out)
        camps = self.ok_json("list", "campaigns")["items"]
        self.assertEqual({c["campaignType"] for c in camps},
                         {"domain_generation", "dns_validation",
                          "http_keyword_validation"})
        self.assertGreaterEqual(len({c["status"] for c in camps}), 5)
        proxies = self.ok_json("list", "proxies")["items"]
        self.assertEqual({p["hasPassword"] for p in proxies},
                         {True, False})
        personas = self.ok_json("list", "personas")["items"]
        self.assertEqual({p["personaType"] for p in personas},
                         {"dns", "http"})
        self.assertTrue(self.ok_json("list", "proxy-pools")["items"])
        err = self.fails("demo")
        self.assertEqual(err["status"], 409)
        self.ok("demo", "--force")
        self.assertEqual(len(self.ok_json("list", "campaigns")["items"]),
                         2 * len(camps))

    def test_demo_scale__n_records_per_collection_with_journal_and_counts(self):
        before = self.last_seq()
        out = self.ok("demo", "--scale", "2100")
        self.assertIn("keyword-sets 2100 of 2100", out)
        for coll in ("campaigns", "personas", "keyword-sets", "proxies",
                     "proxy-pools"):
            page = self.ok_json("list", coll, "--limit", "1")
            self.assertEqual(page["total"], 2100, coll)
            self.assertFalse(page["totalIsLowerBound"])
        events = self.tail("--since", str(before))
        created = [e for e in events if e["action"] == "created"]
        self.assertEqual(len(created), 5 * 2100)
        # One dashboard row a batch (2,000 writes), not one a record, and
        # the last one holds the figures of the whole load.
        dash = [e for e in events if e["topic"] == "dashboard"]
        self.assertLess(len(dash), 20)
        self.assertEqual(dash[-1]["data"]["keywordSets"]["total"], 2100)
        running = self.ok_json("list", "campaigns", "status=running")
        self.assertEqual(running["total"], 210)
        # The search rows of a load are added a batch at a time: records
        # of the first and of the second batch are found, and a record
        # made afterwards one at a time is found too.
        for i in (7, 1999, 2000, 2099):
            page = self.ok_json("list", "keyword-sets", "q= %d " % i)
            self.assertEqual(page["total"], 1, i)
            self.assertIn(" %d " % i, page["items"][0]["name"])
        # Numbers that end in 10: one record in a hundred, both batches.
        self.assertEqual(self.ok_json("list", "keyword-sets",
                                      "q=10 ")["total"], 21)
        self.ok_json("create", "keyword-sets", body={
            "name": "Made after the load", "rules": []})
        page = self.ok_json("list", "keyword-sets", "q=after the load")
        self.assertEqual(page["total"], 1)
        # Tagged names: a second load does not clash.
        self.ok("demo", "--scale", "5", "proxies")
        self.assertEqual(self.ok_json("list", "proxies")["total"], 2105)
        self.assertEqual(self.ok_json("list", "personas")["total"], 2100)

    def test_demo_scale__bad_arguments__are_refused(self):
        for args in (("--scale", "0"), ("--scale", "x"),
                     ("--scale", "5", "nope"), ("--scale", "99999999")):
            err = self.fails("demo", *args)
            self.assertEqual(err["status"], 400, args)

    # ---- backup, export, import ----

    def conf_for(self, db, folder=None):
        """A config like ours (same keys) over another database, in
        folder (default: the database file's)."""
        conf = os.path.join(folder or os.path.dirname(db), "other.conf")
        with open(self.conf) as f:
            lines = [l for l in f.read().splitlines()
                     if not l.startswith("database")]
        with open(conf, "w") as f:
            f.write("\n".join(lines + ["database = " + db]) + "\n")
        os.chmod(conf, 0o600)
        return conf

    def run_on(self, conf, *args, stdin=None):
        r = subprocess.run([BIN, "--config", conf] + list(args),
                           input=stdin, capture_output=True, text=True,
                           env=self.env, timeout=120, cwd=self.dir)
        self.assertEqual(r.returncode, 0, "%s: %s" % (args, r.stderr))
        return r.stdout

    def records_on(self, conf):
        """{collection: {id: record}} as flowpush list shows them."""
        out = {}
        for coll in COLLECTIONS:
            recs, after = {}, None
            while True:
                args = ["list", coll, "--limit", "1000"]
                if after:
                    args += ["--after", after]
                page = json.loads(self.run_on(conf, *args))
                recs.update((r["id"], r) for r in page["items"])
                after = page["next"]
                if not after:
                    break
            out[coll] = recs
        return out

    def journal_on(self, conf):
        return [json.loads(l) for l in
                self.run_on(conf, "tail").splitlines()]

    def start_writers(self, n=2):
        """Writers through the CLI until stop is set; counts their
        writes."""
        import threading
        stop, done, errors = threading.Event(), [0], []
        pid = self.ok_json("create", "personas", body={
            "name": "moving", "personaType": "dns",
            "configDetails": {"resolvers": ["192.0.2.53:53"]}})["id"]

        def write(k):
            i = 0
            while not stop.is_set():
                i += 1
                if i % 2:
                    args, body = ["create", "proxies"], {
                        "name": "w%d-%d" % (k, i), "protocol": "http",
                        "address": "198.51.%d.%d:%d" % (k, i % 250 + 1,
                                                        1000 + i)}
                else:
                    args, body = ["update", "personas", pid], {
                        "description": "w%d %d" % (k, i)}
                r = self.run_cli(*args, stdin=json.dumps(body))
                if r.returncode != 0:
                    errors.append(r.stderr)
                done[0] += 1

        threads = [threading.Thread(target=write, args=(k,))
                   for k in range(n)]
        for t in threads:
            t.start()

        def finish():
            stop.set()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
        return done, finish

    def wait_writes(self, done, more):
        target = done[0] + more
        deadline = time.monotonic() + 60
        while done[0] < target:
            self.assertLess(time.monotonic(), deadline, "writers stuck")
            time.sleep(0.02)

    @sqlite_only
    def test_backup__while_writers_run__restores_to_the_console_at_its_seq(
            self):
        self.ok("demo", "--scale", "300")
        done, finish = self.start_writers()
        try:
            self.wait_writes(done, 4)
            # A copy in many small steps. Retried until writes went on
            # while it ran, so the test is of a live copy.
            for attempt in range(5):
                path = os.path.join(self.dir, "b%d.db" % attempt)
                before = done[0]
                out = json.loads(self.ok("backup", path, "--pages", "16"))
                if done[0] > before + 1:
                    break
            self.assertGreater(done[0], before + 1)
            self.wait_writes(done, 4)
        finally:
            finish()
        seq = out["seq"]
        self.assertEqual(out["backup"], path)
        live = self.journal_on(self.conf)
        self.assertGreater(live[-1]["seq"], seq)

        # Restored as the database of another console.
        rdir = os.path.join(self.dir, "restored")
        os.mkdir(rdir)
        shutil.copy(path, os.path.join(rdir, "flowpush.db"))
        rconf = self.conf_for(os.path.join(rdir, "flowpush.db"))
        self.assertNotIn("FAIL", self.run_on(rconf, "check"))
        # Its journal is the live one up to seq, and it ends there.
        self.assertEqual(self.journal_on(rconf),
                         [e for e in live if e["seq"] <= seq])
        # Its records are the live console's as of seq: the journal
        # replayed up to seq (every record as GET showed it then).
        want = {c: {} for c in COLLECTIONS}
        for e in live:
            if e["seq"] > seq or e["topic"] not in want:
                continue
            if e["action"] == "deleted":
                want[e["topic"]].pop(e["id"], None)
            else:
                want[e["topic"]][e["id"]] = e["data"]
        got = self.records_on(rconf)
        for coll in COLLECTIONS:
            self.assertEqual(len(got[coll]), len(want[coll]), coll)
            self.assertEqual(got[coll], want[coll], coll)
        self.assertGreaterEqual(len(got["proxies"]), 300)

    @sqlite_only
    def test_backup__existing_file__is_refused_unless_forced(self):
        path = os.path.join(self.dir, "b.db")
        with open(path, "w") as f:
            f.write("keep me")
        err = self.fails("backup", path)
        self.assertEqual((err["status"], err["code"]), (409, "file_exists"))
        self.assertIn("--force", err["message"])
        with open(path) as f:
            self.assertEqual(f.read(), "keep me")
        self.assertEqual(sorted(os.listdir(self.dir)),
                         ["b.db", "flowpush.conf", "flowpush.db"])
        out = json.loads(self.ok("backup", path, "--force"))
        self.assertGreater(out["bytes"], 0)
        db = sqlite3.connect(path)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone(),
                             ("ok",))
        finally:
            db.close()
        # The database itself is never a target, forced or not.
        err = self.fails("backup", os.path.join(self.dir, "flowpush.db"),
                         "--force")
        self.assertEqual(err["status"], 409)

    def fresh_console(self, name):
        """Another console: its own folder, config and empty database,
        with our data_key (so secrets could move between the two)."""
        d = os.path.join(self.dir, name)
        os.mkdir(d)
        db = new_database() if self.uri else os.path.join(d, "flowpush.db")
        conf = self.conf_for(db, d)
        r = subprocess.run([BIN, "--config", os.path.join(d, "init.conf"),
                            "init", "--database", db],
                           capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return conf

    def export_lines(self, conf, *args):
        return [json.loads(l) for l in
                self.run_on(conf, "export", *args).splitlines()]

    def test_export_import__fresh_database__same_records_and_created_events(
            self):
        self.ok("demo")
        self.ok("demo", "--scale", "40")
        lines = self.export_lines(self.conf, "--with-secrets")
        head, recs = lines[0], lines[1:]
        self.assertEqual((head["format"], head["version"], head["secrets"]),
                         ("flowpush-export", 1, True))
        self.assertEqual(head["seq"], self.last_seq())
        # Collections come after those they name.
        order = [l["collection"] for l in recs]
        self.assertEqual(sorted(set(order), key=order.index),
                         head["collections"])
        self.assertLess(order.index("proxies"), order.index("proxy-pools"))
        self.assertLess(order.index("personas"), order.index("campaigns"))
        self.assertTrue(any("password" in l["record"] for l in recs))

        path = os.path.join(self.dir, "all.jsonl")
        with open(path, "w") as f:
            f.write(self.run_on(self.conf, "export", "--with-secrets"))
        other = self.fresh_console("other")
        before = self.journal_on(other)
        out = json.loads(self.run_on(other, "import", path))
        self.assertEqual(out["records"], len(recs))
        self.assertEqual(out["withoutSecrets"], 0)
        self.assertEqual(out["lines"], len(lines))

        # The same records, field for field: ids, versions, times,
        # campaign states and progress; and the same secrets.
        self.assertEqual(self.records_on(other), self.records_on(self.conf))
        again = self.export_lines(other, "--with-secrets")[1:]
        self.assertEqual(again, recs)
        # Pages hear of it: one created event a record, at its version,
        # carrying the record, and the dashboard once.
        events = self.journal_on(other)[len(before):]
        created = [e for e in events if e["action"] == "created"]
        self.assertEqual([(e["topic"], e["id"], e["version"], e["data"])
                          for e in created],
                         [(l["collection"], l["record"]["id"],
                           l["record"]["version"],
                           {k: v for k, v in l["record"].items()
                            if k != "password"}) for l in recs])
        dash = [e for e in events if e["topic"] == "dashboard"]
        self.assertEqual(len(dash), 1)
        self.assertEqual(len(events), len(created) + 1)
        self.assertNotIn("password", json.dumps(events))

    def test_export__without_the_flag__carries_no_secret(self):
        self.ok("demo")
        lines = self.export_lines(self.conf)
        self.assertFalse(lines[0]["secrets"])
        self.assertNotIn('"password"', json.dumps(lines))
        with_pw = [l for l in lines[1:] if l["record"].get("hasPassword")]
        self.assertTrue(with_pw)
        path = os.path.join(self.dir, "plain.jsonl")
        with open(path, "w") as f:
            f.write(self.run_on(self.conf, "export"))
        other = self.fresh_console("plain")
        r = subprocess.run([BIN, "--config", other, "import", path],
                           capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["withoutSecrets"],
                         len(with_pw))
        self.assertIn("without their secrets", r.stderr)
        got = self.records_on(other)["proxies"]
        self.assertFalse(any(p["hasPassword"] for p in got.values()))

    def test_export__collections__only_those(self):
        self.ok("demo")
        lines = self.export_lines(self.conf, "--collections",
                                  "proxy-pools,proxies")
        self.assertEqual(lines[0]["collections"], ["proxies", "proxy-pools"])
        self.assertEqual({l["collection"] for l in lines[1:]},
                         {"proxies", "proxy-pools"})
        err = self.fails("export", "--collections", "proxies,nope")
        self.assertEqual(err["status"], 404)
        self.assertIn("nope", err["message"])

    def test_import__bad_lines__each_named_and_nothing_imported(self):
        self.ok("demo")
        lines = self.export_lines(self.conf)
        proxy = [l for l in lines[1:] if l["collection"] == "proxies"][0]
        empty_name = json.loads(json.dumps(proxy))
        empty_name["record"]["name"] = ""
        empty_name["record"]["id"] = "01900000-0000-7000-8000-000000000001"
        bad_time = json.loads(json.dumps(proxy))
        bad_time["record"]["createdAt"] = "yesterday"
        text = "\n".join([
            json.dumps(lines[0]),                         # 1 header
            json.dumps(proxy),                            # 2 fine
            '{"collection": "proxies", "record": ',       # 3 not JSON
            json.dumps({"collection": "gadgets",
                        "record": proxy["record"]}),      # 4 no such
            json.dumps(empty_name),                       # 5 invalid
            "",                                           # 6 blank
            json.dumps(proxy),                            # 7 same id
            json.dumps(bad_time),                         # 8 meta
            json.dumps(lines[0]),                         # 9 header late
        ]) + "\n"
        other = self.fresh_console("bad")
        before = self.journal_on(other)
        r = subprocess.run([BIN, "--config", other, "import", "-"],
                           input=text, capture_output=True, text=True,
                           env=self.env)
        self.assertEqual(r.returncode, 1)
        reports = [json.loads(l) for l in r.stderr.splitlines()]
        by_line = {x["line"]: x for x in reports if "line" in x}
        self.assertEqual(sorted(by_line), [3, 4, 5, 7, 8, 9])
        self.assertEqual(by_line[3]["error"]["code"], "bad_json")
        self.assertEqual(by_line[4]["error"]["status"], 404)
        self.assertIn("gadgets", by_line[4]["error"]["message"])
        self.assertEqual(by_line[5]["error"]["status"], 422)
        self.assertIn("name", by_line[5]["error"]["fields"])
        self.assertEqual(by_line[5]["id"], empty_name["record"]["id"])
        self.assertEqual(by_line[5]["collection"], "proxies")
        self.assertEqual(by_line[7]["error"]["status"], 409)
        self.assertIn("id", by_line[7]["error"]["fields"])
        self.assertIn("createdAt", by_line[8]["error"]["fields"])
        self.assertEqual(by_line[9]["error"]["code"], "bad_line")
        final = reports[-1]["error"]
        self.assertEqual((final["status"], final["code"]),
                         (422, "import_failed"))
        self.assertIn("6 of 9 lines", final["message"])
        # All or nothing: line 2 was fine, yet nothing was written.
        self.assertEqual(self.records_on(other)["proxies"], {})
        self.assertEqual(self.journal_on(other), before)

    def test_import__missing_file__is_a_clear_error(self):
        err = self.fails("import", os.path.join(self.dir, "nope.jsonl"))
        self.assertEqual(err["status"], 404)
        self.assertIn("nope.jsonl", err["message"])


class Programs(unittest.TestCase):
    """--version and --help of the three programs, from a shell."""

    def run_program(self, argv, stdin=subprocess.DEVNULL):
        return subprocess.run(argv, capture_output=True, text=True,
                              env=clean_env(), timeout=60, stdin=stdin)

    def test_version__every_program__prints_configure_s_version(self):
        version = configure_version()
        for argv, name in (([BIN, "--version"], "flowpush"),
                           ([BIN, "version"], "flowpush"),
                           ([DAEMON, "--version"], "flowpushd"),
                           ([FCGI, "--version"], "flowpush.fcgi")):
            with self.subTest(argv=argv[1:], program=name):
                r = self.run_program(argv)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, "%s (flowpush) %s\n" %
                                 (name, version))

    def test_help__each_program__lists_the_keys_it_reads_and_no_other(self):
        # Read in the code: body_limit by the API and the store (the admin
        # command too), push_* by the daemon alone, threads and
        # topic_grants by the API alone, database by all three.
        cases = [
            ([BIN, "--help"], {"database", "body_limit", "data_key"},
             {"push_port", "threads", "topic_grants", "secret"}),
            ([DAEMON, "--help"], {"database", "push_port", "secret",
                                  "doorbell"},
             {"body_limit", "threads", "data_key", "token_ttl"}),
            ([FCGI, "--help"], {"database", "body_limit", "threads",
                                "topic_grants", "secret"},
             {"push_port", "push_heartbeat", "push_origins"}),
        ]
        for argv, has, lacks in cases:
            with self.subTest(program=os.path.basename(argv[0])):
                r = self.run_program(argv)
                self.assertEqual(r.returncode, 0, r.stderr)
                keys = listed_keys(r.stdout)
                self.assertEqual(has - keys, set())
                self.assertEqual(lacks & keys, set())

    def test_fcgi_help__on_a_terminal__answers_instead_of_a_cgi_400(self):
        master, slave = pty.openpty()
        try:
            r = self.run_program([FCGI, "--help"], stdin=slave)
        finally:
            os.close(slave)
            os.close(master)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("usage: flowpush.fcgi"),
                        r.stdout[:200])
        self.assertNotIn("Status:", r.stdout)
        self.assertIn("flowpush.fcgi(8)", r.stdout)

    def test_fcgi_and_daemon__unknown_option__usage_on_stderr_status_2(self):
        for prog in (FCGI, DAEMON):
            with self.subTest(program=os.path.basename(prog)):
                r = self.run_program([prog, "--no-such-option"])
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stdout, "")
                self.assertIn("usage:", r.stderr)


if __name__ == "__main__":
    if not os.access(BIN, os.X_OK):
        sys.stderr.write("flowpush binary not found at %s "
                         "(set FLOWPUSH_BIN)\n" % BIN)
        sys.exit(99)
    unittest.main(verbosity=2)
