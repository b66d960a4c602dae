#!/usr/bin/python3
"""test_netns_pg.py - the journal and its daemons across a network: PostgreSQL, a writing host, two push hosts and a client, each in a network namespace of the test's own on one bridge; every event arrives once, in order, across a kill -9 of a push host."""

import os
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pgserver import PgServer, postgres_bin  # noqa: E402
import pgpush  # noqa: E402
from pgpush import assert_exactly  # noqa: E402

BUILD = os.environ.get("FLOWPUSH_BUILD") or os.path.join(HERE, "..", "..")
RACE = os.path.join(BUILD, "tests", "pg", "journal_race")
PUSHD = os.path.join(BUILD, "flowpushd")

# The hosts and their addresses, on a network that exists only inside the
# test's namespaces.
PREFIX = "fp%d" % os.getpid()
HOSTS = {"db": "10.231.0.2", "web": "10.231.0.3", "push1": "10.231.0.4",
         "push2": "10.231.0.5", "client": "10.231.0.6"}
NS = {h: "%s-%s" % (PREFIX, h) for h in HOSTS}
HUB = PREFIX + "-hub"
PG = None
TMP = None


def ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))


def make_network():
    """One bridge in the hub namespace; each host's eth0 on it."""
    ip("netns", "add", HUB)
    ip("-n", HUB, "link", "add", "br0", "type", "bridge")
    ip("-n", HUB, "link", "set", "br0", "up")
    for i, (host, addr) in enumerate(HOSTS.items()):
        ns = NS[host]
        ip("netns", "add", ns)
        ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "p%d" % i, "netns", HUB)
        ip("-n", HUB, "link", "set", "p%d" % i, "master", "br0", "up")
        ip("-n", ns, "addr", "add", addr + "/16", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")


def drop_network():
    for ns in list(NS.values()) + [HUB]:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def setUpModule():
    global PG, TMP
    if postgres_bin() is None:
        raise unittest.SkipTest("no PostgreSQL server binaries installed (Debian: postgresql)")
    if os.geteuid() != 0:
        raise unittest.SkipTest("network namespaces need root")
    try:
        make_network()
    except RuntimeError as e:
        drop_network()
        raise unittest.SkipTest("cannot make network namespaces here: %s" % e)
    TMP = tempfile.mkdtemp(prefix="fp-netns-")
    try:
        PG = PgServer(netns=NS["db"], listen=HOSTS["db"])
        PG.start()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if PG is not None:
        PG.stop()
    drop_network()
    if TMP is not None:
        subprocess.run(["rm", "-rf", TMP], check=False)


class AcrossHosts(pgpush.DaemonCase):
    sub_ns = NS["client"]

    def race(self, *args, **kw):
        return pgpush.race(RACE, PG.tcp_uri, *args, ns=NS["web"], **kw)

    def daemon(self, host):
        return self.keep(pgpush.Daemon(PUSHD, host, PG.tcp_uri, TMP, host=HOSTS[host], ns=NS[host]).start())

    def test_writers_on_one_host__subscribers_of_two_push_hosts_get_every_event__across_a_kill9(self):
        # The web host makes the journal's tables, over the network.
        self.race("--writers", 1, "--appends", 1, "--topic", "campaigns")
        a, b = self.daemon("push1"), self.daemon("push2")
        for d in (a, b):
            status, h = d.health(NS["client"])
            self.assertEqual((status, h["instance"], h["store"]), (200, d.name, "postgresql"), h)
        start = int(PG.psql("SELECT seq FROM journal_seq").strip())
        sa, sb = self.subscribe(a, start), self.subscribe(b, start)
        writers = threading.Thread(target=self.race, args=("--writers", 4, "--appends", 150, "--readers", 1,
                                                           "--hold-us", 6000, "--topic", "campaigns"))
        writers.start()
        self.assertTrue(sa.wait_for(100), "events before the kill: %d" % len(sa.seqs))
        a.kill9()
        at_kill = len(sa.seqs)
        sa.resume_on(b)
        writers.join(120)
        want = [int(x) for x in PG.psql("SELECT seq FROM journal WHERE seq > %d AND topic = 'campaigns'"
                                        " ORDER BY seq" % start).split()]
        self.assertEqual(len(want), 600)
        for name, s in (("the subscriber of push1, resumed on push2", sa), ("push2's own subscriber", sb)):
            self.assertTrue(s.wait_for(600), "%s: %d of 600" % (name, len(s.seqs)))
            assert_exactly(self, s.seqs, want, name)
        self.assertLess(at_kill, 600, "every event came before the kill: the resume tested nothing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
