#!/usr/bin/python3
"""test_push_pg.py - the journal on PostgreSQL: appends commit in seq order under many writers; any number of flowpushd follow it (LISTEN/NOTIFY), a subscriber resumes on another daemon after a kill -9, and a server restart loses no event."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pgserver import PgServer, postgres_bin  # noqa: E402
import pgpush  # noqa: E402
from pgpush import assert_exactly  # noqa: E402

BUILD = os.environ.get("FLOWPUSH_BUILD") or os.path.join(HERE, "..", "..")
RACE = os.path.join(BUILD, "tests", "pg", "journal_race")
PUSHD = os.path.join(BUILD, "flowpushd")
PG = None
TMP = None


def setUpModule():
    global PG, TMP
    if postgres_bin() is None:
        raise unittest.SkipTest("no PostgreSQL server binaries installed (Debian: postgresql)")
    for p in (RACE, PUSHD):
        if not os.access(p, os.X_OK):
            raise RuntimeError("%s is not built (set FLOWPUSH_BUILD)" % p)
    TMP = tempfile.mkdtemp(prefix="fp-pgpush-")
    PG = PgServer()
    PG.start()


def tearDownModule():
    if PG is not None:
        PG.stop()
    if TMP is not None:
        subprocess.run(["rm", "-rf", TMP], check=False)


def race(*args, database=None, check=True):
    """journal_race against the test server (or database)."""
    return pgpush.race(RACE, database or PG.uri, *args, check=check)


def journal_seqs(after=0):
    out = PG.psql("SELECT seq FROM journal WHERE seq > %d AND topic = 'campaigns' ORDER BY seq" % after)
    return [int(x) for x in out.split()]


def last_seq():
    return int(PG.psql("SELECT seq FROM journal_seq").strip() or 0)


class JournalOrder(unittest.TestCase):
    def test_many_writers__readers_never_see_a_newer_seq_before_an_older_one(self):
        rc, out = race("--writers", 8, "--appends", 300, "--readers", 2)
        self.assertEqual(out["violations"], 0, out)
        self.assertEqual(out["rows"], 2400, out)
        self.assertEqual(out["rowsOutOfOrder"], 0, out)
        self.assertGreater(out["reads"], 10, "the readers did follow the writers")

    def test_the_readers_catch_a_plain_sequence_committing_out_of_order(self):
        # The check above could not fail if the readers missed a reordering:
        # a bigserial table, which hands out numbers before commit, shows one.
        seen = []
        for _ in range(5):
            rc, out = race("--writers", 8, "--appends", 300, "--readers", 2,
                           "--scheme", "sequence", check=False)
            seen.append(out)
            if rc == 3:
                break
        self.assertEqual(rc, 3, seen)
        self.assertGreater(out["violations"], 0, out)

    def test_sqlite_journal_keeps_the_same_order(self):
        rc, out = race("--writers", 8, "--appends", 200, "--readers", 2,
                       database=os.path.join(TMP, "race.db"))
        self.assertEqual((out["store"], out["violations"], out["rows"]), ("sqlite", 0, 1600), out)


class NoFileForAServer(unittest.TestCase):
    """A PostgreSQL database is a server, never a path: the programs make
    no SQLite file named after the URI."""

    def test_init_and_reads_on_a_server_leave_only_the_config(self):
        cli = os.path.join(BUILD, "flowpush")
        work = tempfile.mkdtemp(dir=TMP)
        r = subprocess.run([cli, "--database", PG.uri, "init"], cwd=work, capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("database: PostgreSQL", r.stdout)
        self.assertEqual(os.listdir(work), ["flowpush.conf"])
        conf = os.path.join(work, "flowpush.conf")
        r = subprocess.run([cli, "--config", conf, "get", "campaigns",
                            "00000000-0000-4000-8000-000000000000"],
                           cwd=work, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(json.loads(r.stderr)["error"]["status"], 404)
        self.assertEqual(sorted(os.listdir(work)), ["flowpush.conf"])


class Daemons(pgpush.DaemonCase):
    def setUp(self):
        super().setUp()
        race("--writers", 1, "--appends", 1, "--topic", "campaigns")

    def daemon(self, name, poll_ms=1000):
        return self.keep(pgpush.Daemon(PUSHD, name, PG.uri, TMP, poll_ms=poll_ms).start())

    def test_two_daemons_deliver_every_event_once_in_order(self):
        a, b = self.daemon("push-a"), self.daemon("push-b")
        for d in (a, b):
            status, h = d.health()
            self.assertEqual((status, h["instance"], h["store"]), (200, d.name, "postgresql"), h)
        start = last_seq()
        sa, sb = self.subscribe(a, start), self.subscribe(b, start)
        race("--writers", 8, "--appends", 100, "--readers", 1, "--hold-us", 0, "--topic", "campaigns")
        want = journal_seqs(start)
        self.assertEqual(len(want), 800)
        for name, s in (("push-a", sa), ("push-b", sb)):
            self.assertTrue(s.wait_for(800), "%s: %d of 800 events" % (name, len(s.seqs)))
            assert_exactly(self, s.seqs, want, name)
            self.assertEqual(s.errors, [])

    def test_kill9_of_one_daemon__the_subscriber_resumes_on_the_other_with_nothing_lost(self):
        a, b = self.daemon("push-a"), self.daemon("push-b")
        start = last_seq()
        s = self.subscribe(a, start)
        writers = threading.Thread(target=race, args=("--writers", 4, "--appends", 150, "--readers", 1,
                                                       "--hold-us", 6000, "--topic", "campaigns"))
        writers.start()
        self.assertTrue(s.wait_for(100), "events before the kill: %d" % len(s.seqs))
        a.kill9()
        at_kill = len(s.seqs)
        s.resume_on(b)
        writers.join(120)
        want = journal_seqs(start)
        self.assertEqual(len(want), 600)
        self.assertTrue(s.wait_for(600), "%d of 600 after resuming on push-b" % len(s.seqs))
        assert_exactly(self, s.seqs, want, "across the kill")
        self.assertLess(at_kill, 600, "every event came before the kill: the resume tested nothing")
        self.assertEqual([e for e in s.errors if "reset" in e], [])

    def test_postgresql_restart_under_load__no_subscriber_loses_an_event(self):
        a = self.daemon("push-a")
        start = last_seq()
        s = self.subscribe(a, start)
        # Writers retry what a restart refuses (503); a commit that got
        # through counts whatever the writer learnt, so the truth is the
        # journal read afterwards.
        writers = threading.Thread(target=race, args=("--writers", 4, "--appends", 200, "--readers", 1,
                                                       "--hold-us", 3000, "--topic", "campaigns"),
                                   kwargs={"check": False})
        writers.start()
        self.assertTrue(s.wait_for(50), "events before the restart: %d" % len(s.seqs))
        PG.restart()
        self.assertTrue(writers.is_alive(), "the writers were done before the restart: it tested nothing")
        writers.join(180)
        self.assertFalse(writers.is_alive())
        want = journal_seqs(start)
        self.assertGreaterEqual(len(want), 800)
        self.assertTrue(s.wait_for(len(want), timeout=30),
                        "%d of %d events after the restart\n%s" % (len(s.seqs), len(want), a.log_text()))
        assert_exactly(self, s.seqs, want, "across the restart")
        self.assertIn("closing the database", a.log_text(), "the restart was not seen: it tested nothing")


    def test_after_a_server_restart__events_still_come_by_notification_not_by_the_poll(self):
        # The poll comes only once a minute: what arrives within seconds
        # came by LISTEN/NOTIFY, so the connection opened again after the
        # restart LISTENs again.
        a = self.daemon("push-a", poll_ms=60000)
        start = last_seq()
        s = self.subscribe(a, start)
        PG.restart()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                status, h = a.health()
                if status == 200 and h["database"]:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        self.assertEqual(status, 200, h)
        race("--writers", 2, "--appends", 25, "--readers", 1, "--hold-us", 0, "--topic", "campaigns")
        want = journal_seqs(start)
        self.assertTrue(s.wait_for(len(want), timeout=10),
                        "%d of %d events within 10 s (the poll is 60 s)\n%s" % (len(s.seqs), len(want), a.log_text()))
        assert_exactly(self, s.seqs, want, "after the restart")


if __name__ == "__main__":
    unittest.main(verbosity=2)
