#!/usr/bin/python3
"""test_cli_pg.py - the flowpush command on a PostgreSQL store: init makes the tables, check reads them, records are written and journaled, demo and demo --scale load, export and import carry a console to another database, prune and rekey work, backup says what to use instead, and no output shows the database's password."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pgserver import PgServer, postgres_bin  # noqa: E402

BUILD = os.environ.get("FLOWPUSH_BUILD") or os.path.join(HERE, "..", "..")
CLI = os.path.join(BUILD, "flowpush")
PG = None
# The test server trusts local connections, so libpq never sends this; it
# stands for a password a real deployment writes into `database`.
PASSWORD = "s3cret-never-printed"


def setUpModule():
    global PG
    if postgres_bin() is None:
        raise unittest.SkipTest("no PostgreSQL server binaries installed (Debian: postgresql)")
    if not os.access(CLI, os.X_OK):
        raise RuntimeError("%s is not built (set FLOWPUSH_BUILD)" % CLI)
    PG = PgServer()
    PG.start()


def tearDownModule():
    if PG is not None:
        PG.stop()


def uri(database):
    return "postgresql://flowpush:%s@/%s?host=%s&port=%d" % (PASSWORD, database, PG.sockdir,
                                                           PG.port)


class CliOnPostgres(unittest.TestCase):
    """Each test gets a database of its own on the module's server."""

    count = 0

    def setUp(self):
        CliOnPostgres.count += 1
        self.dbname = "cli%d" % CliOnPostgres.count
        PG.psql("CREATE DATABASE %s" % self.dbname, database="postgres")
        self.dir = tempfile.mkdtemp(prefix="fp-pgcli-")
        self.conf = os.path.join(self.dir, "flowpush.conf")
        out = self.ok("init", "--database", uri(self.dbname))
        self.assertIn("PostgreSQL (schema version", out)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cli(self, *args, stdin=None, conf=None):
        env = {"PATH": "/usr/bin:/bin"}
        for k, v in os.environ.items():
            if k.endswith("SAN_OPTIONS"):
                env[k] = v
        r = subprocess.run([CLI, "--config", conf or self.conf, "--actor", "tester"] + list(args),
                           input=stdin, capture_output=True, text=True, env=env, cwd=self.dir,
                           timeout=120)
        self.assertNotIn(PASSWORD, r.stdout + r.stderr, "the database password was printed")
        return r

    def ok(self, *args, stdin=None, conf=None):
        r = self.run_cli(*args, stdin=stdin, conf=conf)
        self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r.stdout

    def ok_json(self, *args, body=None):
        return json.loads(self.ok(*args, stdin=None if body is None else json.dumps(body)))

    def sql(self, query):
        return PG.psql(query, database=self.dbname).strip()

    def test_init_makes_the_tables_and_check_finds_them_sound(self):
        with open(self.conf) as f:
            self.assertIn("database = " + uri(self.dbname), f.read())
        self.assertEqual(self.sql("SELECT version FROM flowpush_schema"), "1")
        for table in ("campaigns", "personas", "keyword_sets", "proxies", "proxy_pools",
                      "journal", "journal_seq", "counts"):
            self.assertEqual(self.sql("SELECT to_regclass('%s') IS NOT NULL" % table), "t", table)
        out = self.ok("check")
        self.assertIn("ok   database (PostgreSQL) opens", out)
        self.assertIn("ok   PostgreSQL schema version 1", out)
        # A second init keeps the config and finds the tables made.
        self.assertIn("kept", self.ok("init"))

    def test_records_are_written_journaled_and_listed(self):
        made = self.ok_json("create", "keyword-sets", body={
            "name": "Shop Words", "description": "for shops",
            "rules": [{"pattern": "shop", "ruleType": "string"}]})
        self.assertEqual(made["ruleCount"], 1)
        got = self.ok_json("get", "keyword-sets", made["id"])
        self.assertEqual(got, made)
        upd = self.ok_json("update", "keyword-sets", made["id"], "--if-match", "1",
                           body={"description": "changed"})
        self.assertEqual((upd["version"], upd["description"]), (2, "changed"))
        page = self.ok_json("list", "keyword-sets", "q=SHOP w")
        self.assertEqual([r["id"] for r in page["items"]], [made["id"]])
        self.assertEqual((page["total"], page["totalIsLowerBound"]), (1, False))
        self.ok("delete", "keyword-sets", made["id"])
        r = self.run_cli("get", "keyword-sets", made["id"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(json.loads(r.stderr)["error"]["status"], 404)
        events = [json.loads(line) for line in self.ok("tail", "--since", "0",
                                                       "--topics", "keyword-sets").splitlines()]
        self.assertEqual([(e["action"], e["version"], e["actor"]) for e in events],
                         [("created", 1, "tester"), ("updated", 2, "tester"),
                          ("deleted", 2, "tester")])
        self.assertEqual([e["seq"] for e in events], sorted(e["seq"] for e in events))

    def test_demo_and_a_scale_load_fill_the_console_with_right_totals(self):
        self.ok("demo")
        out = self.ok("demo", "--scale", "300", "proxies")
        self.assertIn("300 records loaded into the PostgreSQL database", out)
        page = self.ok_json("list", "proxies", "--limit", "5")
        total = int(self.sql("SELECT count(*) FROM proxies"))
        self.assertGreaterEqual(total, 300)
        self.assertEqual((page["total"], page["totalIsLowerBound"]), (total, False))
        for flag in ("true", "false"):
            want = int(self.sql("SELECT count(*) FROM proxies WHERE "
                                "(data::jsonb ->> 'isEnabled') = '%s'" % flag))
            page = self.ok_json("list", "proxies", "isEnabled=" + flag)
            self.assertEqual(page["total"], want, flag)
        # The load leaves the planner statistics that say how few rows a
        # search matches (autovacuum would gather them only later).
        self.assertEqual(self.sql("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                                  "WHERE relname = 'proxies'"), "t")
        # Every created record is journaled once.
        journaled = int(self.sql("SELECT count(*) FROM journal WHERE topic = 'proxies' "
                                 "AND action = 'created'"))
        self.assertEqual(journaled, total)

    def test_export_and_import_carry_the_console_to_another_database(self):
        self.ok("demo")
        self.ok_json("create", "proxies", body={
            "name": "with pw", "address": "pw.example.net:3128", "protocol": "http",
            "password": "hunter2"})
        dump = self.ok("export", "--with-secrets")
        other = "%s_copy" % self.dbname
        PG.psql("CREATE DATABASE %s" % other, database="postgres")
        conf2 = os.path.join(self.dir, "copy.conf")
        self.ok("init", "--database", uri(other), conf=conf2)
        self.ok("import", "-", stdin=dump, conf=conf2)

        def records(conf):
            lines = self.ok("export", "--with-secrets", conf=conf).splitlines()
            return sorted(lines[1:])

        self.assertEqual(records(self.conf), records(conf2))
        self.assertGreater(len(records(conf2)), 10)

    def test_prune_keeps_the_newest_rows(self):
        for i in range(6):
            self.ok_json("create", "personas", body={
                "name": "p%d" % i, "personaType": "dns",
                "configDetails": {"resolvers": ["192.0.2.1"]}})
        last = int(self.sql("SELECT seq FROM journal_seq"))
        out = json.loads(self.ok("prune", "--keep-days", "0", "--keep-rows", "3"))
        self.assertEqual(out["lastSeq"], last)
        self.assertEqual(self.sql("SELECT string_agg(seq::text, ',' ORDER BY seq) FROM journal"),
                         ",".join(str(s) for s in range(last - 2, last + 1)))

    def test_rekey_seals_every_secret_with_the_new_key(self):
        rec = self.ok_json("create", "proxies", body={
            "name": "sealed", "address": "s.example.net:1080", "protocol": "socks5",
            "password": "pw-1"})
        key = json.loads(self.ok("rekey"))["key"]
        stored = self.sql("SELECT secret FROM proxies WHERE id = '%s'" % rec["id"])
        self.assertTrue(stored.startswith("fp1:%s:" % key), stored)
        self.assertNotIn("pw-1", stored)
        self.assertIn("0 not yet", self.ok("check"))

    def test_backup_says_what_to_use_instead(self):
        r = self.run_cli("backup", os.path.join(self.dir, "copy.db"))
        self.assertEqual(r.returncode, 1)
        err = json.loads(r.stderr)["error"]
        self.assertEqual((err["status"], err["code"]), (501, "database_unsupported"))
        self.assertIn("pg_dump", err["message"])
        self.assertFalse(os.path.exists(os.path.join(self.dir, "copy.db")))

    def test_a_database_not_in_utf8_is_refused_clearly(self):
        name = self.dbname + "_latin1"
        PG.psql("CREATE DATABASE %s TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' "
                "LC_CTYPE 'C'" % name, database="postgres")
        r = self.run_cli("init", "--database", uri(name),
                         conf=os.path.join(self.dir, "latin1.conf"))
        self.assertEqual(r.returncode, 1, r)
        err = json.loads(r.stderr.splitlines()[-1])["error"]
        self.assertEqual(err["code"], "bad_database", err)
        self.assertIn("UTF8", err["message"])
        self.assertEqual(PG.psql("SELECT to_regclass('campaigns') IS NULL", database=name).strip(),
                         "t", "tables were made in it")

    def test_an_unreachable_server_is_a_clear_503(self):
        conf = os.path.join(self.dir, "gone.conf")
        with open(self.conf) as f:
            text = f.read().replace("port=%d" % PG.port, "port=1")
        with open(conf, "w") as f:
            f.write(text)
        os.chmod(conf, 0o600)
        r = self.run_cli("list", "campaigns", conf=conf)
        self.assertEqual(r.returncode, 1)
        # The log line says why; the last line is the API's error.
        self.assertIn("cannot connect to the PostgreSQL database", r.stderr)
        err = json.loads(r.stderr.splitlines()[-1])["error"]
        self.assertEqual((err["status"], err["code"]), (503, "database_unavailable"), err)

if __name__ == "__main__":
    unittest.main(verbosity=2)
