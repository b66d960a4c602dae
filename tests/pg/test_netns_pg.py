#!/usr/bin/python3
"""test_netns_pg.py - flowpush across a network: PostgreSQL, two web hosts (nginx + flowpush.fcgi), a writing host, two push hosts and a client, each in a network namespace of the test's own on one bridge; every write lands once and every event arrives once, in order, across a kill -9 of a push host and a restart of the database."""

import http.client
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
from pgpush import Stream, assert_exactly, create_until_it_lands, wait_until  # noqa: E402

BUILD = os.environ.get("FLOWPUSH_BUILD") or os.path.join(HERE, "..", "..")
SRC = os.path.dirname(os.path.dirname(HERE))
FCGI = os.path.join(BUILD, "flowpush.fcgi")
RACE = os.path.join(BUILD, "tests", "pg", "journal_race")
PUSHD = os.path.join(BUILD, "flowpushd")

# The hosts and their addresses, on a network that exists only inside the
# test's namespaces.
PREFIX = "fp%d" % os.getpid()
HOSTS = {"db": "10.231.0.2", "web": "10.231.0.3", "push1": "10.231.0.4",
         "push2": "10.231.0.5", "client": "10.231.0.6", "web1": "10.231.0.7",
         "web2": "10.231.0.8"}
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


class WebHost:
    """A web host in its namespace: spawn-fcgi + flowpush.fcgi on a Unix
    socket and nginx from deploy/nginx.conf.in on ADDRESS:8080, /push/
    spread over the push hosts, the store the database host's server."""

    def __init__(self, name, folder, push_hosts):
        self.name, self.ns, self.addr, self.port = name, NS[name], HOSTS[name], 8080
        self.dir = os.path.join(folder, name)
        for d in ("logs", "nginx-tmp"):
            os.makedirs(os.path.join(self.dir, d))
        self.conf = os.path.join(self.dir, "flowpush.conf")
        with open(self.conf, "w") as f:
            # No token secret: the push hosts check none either.
            f.write("database = %s\ndoorbell =\nsecret =\nlog_level = warn\n" % PG.tcp_uri)
        self.sock = os.path.join(self.dir, "fcgi.sock")
        push = ["%s:8081" % HOSTS[h] for h in push_hosts]
        r = subprocess.run([os.path.join(SRC, "deploy", "render"),
                            os.path.join(SRC, "deploy", "nginx.conf.in"),
                            "USER_LINE=user root root;", "WORKERS=1", "NOFILE=4096",
                            "CONNECTIONS=2048", "STATE=" + self.dir, "DAEMON=off",
                            "MIME_TYPES=/etc/nginx/mime.types", "LISTEN=" + self.addr,
                            "PORT=%d" % self.port, "WWW=" + os.path.join(SRC, "www"),
                            "CLIENT_MAX_BODY=1114112", "FCGI_SOCKET=" + self.sock,
                            "PUSH_UPSTREAM=" + push[0], "PUSH_MORE=" + " ".join(push[1:])],
                           capture_output=True, text=True, check=True)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(r.stdout)
        self.procs = []

    def start(self):
        env = dict(os.environ, FLOWPUSH_CONFIG=self.conf)
        with open(os.path.join(self.dir, "logs", "fcgi.log"), "ab") as log:
            self.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", self.ns, "spawn-fcgi", "-n", "-s", self.sock, "-M", "0660",
                 "--", FCGI], env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT))
            self.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", self.ns, "nginx", "-p", self.dir, "-c",
                 os.path.join(self.dir, "nginx.conf"), "-e",
                 os.path.join(self.dir, "logs", "nginx-error.log")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.request("GET", "/api/personas?limit=1")[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                self.stop()
                raise AssertionError("web host %s did not come up" % self.name)
            time.sleep(0.1)

    def request(self, method, path, body=None):
        """One request from the client host; (status, parsed body)."""
        def go():
            c = http.client.HTTPConnection(self.addr, self.port, timeout=30)
            try:
                h = {"Content-Type": "application/json"} if body is not None else {}
                c.request(method, path, None if body is None else json.dumps(body), h)
                r = c.getresponse()
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
            finally:
                c.close()
        return pgpush.in_netns(NS["client"], go)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []


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

    def test_two_web_hosts_two_push_hosts__every_write_lands_once_and_reaches_every_stream__across_a_kill9_and_a_database_restart(self):
        # Both web hosts open the store at once: one makes the tables
        # under the advisory lock, the other finds them made.
        webs = [WebHost(h, TMP, ("push1", "push2")) for h in ("web1", "web2")]
        for w in webs:
            self.addCleanup(w.stop)
        failed = []

        def start(w):
            try:
                w.start()
            except BaseException as e:  # reported below
                failed.append(e)

        starters = [threading.Thread(target=start, args=(w,)) for w in webs]
        for t in starters:
            t.start()
        for t in starters:
            t.join(60)
        self.assertEqual(failed, [])
        a, b = self.daemon("push1"), self.daemon("push2")
        status, page = webs[0].request("GET", "/api/personas?limit=1")
        self.assertEqual(status, 200, page)
        start = page["seq"]
        streams = [Stream(w.addr, w.port, "/push/events?topics=personas", start, ns=NS["client"])
                   for w in webs for _ in range(3)]
        for s in streams:
            s.start()
            self.addCleanup(s.close)
        made, errors, unavailable = [], [], [0]
        names = ["n%d-%d-%d" % (start, i, k) for i in range(4) for k in range(50)]

        def write(i):
            # Alternately through each web host.
            for k in range(50):
                ok, waits, refusal = create_until_it_lands(webs[(i + k) % 2].request,
                                                           names[i * 50 + k])
                unavailable[0] += waits
                (made if ok else errors).append(names[i * 50 + k] if ok else refusal)

        writers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for t in writers:
            t.start()
        wait_until(lambda: len(made) >= 80)
        a.kill9()
        # Then the database host's server restarts under the writers.
        wait_until(lambda: len(made) >= 140)
        PG.restart()
        for t in writers:
            t.join(180)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(made), sorted(names))
        self.assertGreater(unavailable[0], 0, "no write met the restart")
        rows = PG.psql("SELECT seq, data::jsonb ->> 'name' FROM journal WHERE "
                       "seq > %d AND topic = 'personas' ORDER BY seq" % start).split()
        want = [int(r.split("|")[0]) for r in rows]
        self.assertEqual(sorted(r.split("|")[1] for r in rows), sorted(names),
                         "a write is missing from the journal, or there twice")
        for s in streams:
            s.wait_until(want[-1])
        for i, s in enumerate(streams):
            assert_exactly(self, s.seqs, want, "stream %d through %s (errors %s)"
                           % (i, webs[i // 3].name, s.errors[-2:]))
            self.assertEqual(s.others, [])
        self.assertGreater(sum(s.reconnects for s in streams), 0, "no stream was on push1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
