#!/usr/bin/python3
"""test_cluster.py - `./quickstart cluster` as a user runs it: PostgreSQL, two API pools and two push daemons behind nginx. Eight writers go through both pools while readers follow the journal and browsers' streams follow the pages' topic; one daemon is killed with SIGKILL under them; every stream resumes on a daemon that is up with nothing lost or doubled. SIGTERM stops exactly what was started. Then PostgreSQL is restarted under writers that retry what the API could not do: every write lands once, every stream gets every event once."""

import glob
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from pgserver import free_port, postgres_bin  # noqa: E402
from pgpush import Stream, assert_exactly, create_until_it_lands, wait_until  # noqa: E402

BUILD = os.environ.get("FLOWPUSH_BUILD") or os.path.join(SRC, "run", "build")
WRITERS = 8
WRITES = 40          # per writer
SUBSCRIBERS = 12
READERS = 2


def setUpModule():
    if postgres_bin() is None:
        raise unittest.SkipTest("no PostgreSQL server binaries installed (Debian: postgresql)")
    for p in ("flowpush", "flowpush.fcgi", "flowpushd"):
        if not os.access(os.path.join(BUILD, p), os.X_OK):
            raise RuntimeError("%s/%s is not built (set FLOWPUSH_BUILD)" % (BUILD, p))


class Cluster:
    """./quickstart cluster in a state folder of its own."""

    def __init__(self):
        # Under /tmp and open to others: the user postgres enters it.
        self.state = tempfile.mkdtemp(prefix="fpc-", dir="/tmp")
        os.chmod(self.state, 0o755)
        self.port = free_port()
        self.log = os.path.join(self.state, "quickstart.log")
        env = dict(os.environ, PORT=str(self.port), FLOWPUSH_STATE=self.state,
                   FLOWPUSH_BUILD=os.path.abspath(BUILD))
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([os.path.join(SRC, "quickstart"), "cluster"], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while b"flowpush is up at" not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("quickstart cluster did not come up:\n"
                                     + self.text()[-3000:].decode("utf-8", "replace"))
            time.sleep(0.2)

    def text(self):
        with open(self.log, "rb") as f:
            return f.read()

    def pid(self, name):
        with open(os.path.join(self.state, name + ".pid")) as f:
            return int(f.read())

    def new_pid(self, name, old, timeout=15):
        """The PID of name once the supervisor has started it again (its
        file names another than old), or old."""
        def now():
            try:
                return self.pid(name)
            except (OSError, ValueError):
                return old
        wait_until(lambda: now() != old, timeout=timeout)
        return now()

    def pids(self):
        return {os.path.basename(p)[:-4]: self.pid(os.path.basename(p)[:-4])
                for p in glob.glob(os.path.join(self.state, "*.pid"))
                if not p.endswith("nginx.pid")}

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            h = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            c.request(method, path, data, h)
            r = c.getresponse()
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
        finally:
            c.close()

    def daemon_health(self, n):
        """/push/health of daemon push-N, asked on its own socket."""
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(os.path.join(self.state, "push-%d.sock" % n))
            s.sendall(b"GET /push/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\r\n\r\n", 1)[-1].decode()
        except OSError as e:
            return str(e)
        finally:
            s.close()

    def stop(self):
        """SIGTERM to quickstart; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def proc_io(pid, key="syscr"):
    """A counter of /proc/PID/io: how much a process has done."""
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class ClusterTest(unittest.TestCase):
    def test_writers_readers_and_streams_through_two_pools_and_two_daemons(self):
        cl = Cluster()
        self.addCleanup(subprocess.run, ["rm", "-rf", cl.state], check=False)
        try:
            self.check_running_cluster(cl)
        finally:
            pids = cl.pids()
            rc = cl.stop()
        self.assertIn(rc, (0, 143), cl.text()[-2000:])
        time.sleep(0.5)
        self.assertEqual([n for n, p in pids.items() if alive(p)], [],
                         "processes left running after SIGTERM")
        self.assertIn(b"stopping", cl.text())
        # The state folder holds the PostgreSQL cluster, no SQLite file.
        self.assertEqual(glob.glob(os.path.join(cl.state, "*.db")), [])

    def subscribe(self, cl, n):
        """n streams through nginx on personas from the journal's position
        now, as pages open them (with a token); (that seq, the streams)."""
        # A list's seq: the journal position its snapshot includes.
        status, page = cl.request("GET", "/api/personas?limit=1")
        self.assertEqual(status, 200, page)
        status, tok = cl.request("GET", "/api/token?topics=personas")
        self.assertEqual(status, 200, tok)
        path = "/push/events?" + urllib.parse.urlencode({"topics": "personas",
                                                           "token": tok["token"]})
        streams = [Stream("127.0.0.1", cl.port, path, page["seq"]) for _ in range(n)]
        for s in streams:
            s.start()
            self.addCleanup(s.close)
        return page["seq"], streams

    def check_running_cluster(self, cl):
        names = set(cl.pids())
        self.assertEqual(names, {"postgres", "api-1", "api-2", "push-1", "push-2"})
        instances = set()
        for _ in range(20):
            status, health = cl.request("GET", "/push/health")
            self.assertEqual(status, 200, health)
            self.assertEqual(health["store"], "postgresql")
            instances.add(health["instance"])
        self.assertEqual(instances, {"push-1", "push-2"}, "nginx does not balance the daemons")

        start, streams = self.subscribe(cl, SUBSCRIBERS)

        # Readers follow the whole journal through the API: each answer
        # must go on exactly where the last one stopped.
        read_errors, stop_reading = [], threading.Event()

        def follow():
            last = start
            while not stop_reading.is_set():
                status, got = cl.request("GET", "/api/changes?since=%d&limit=200&wait=1" % last)
                if status != 200:
                    read_errors.append("status %d: %s" % (status, got))
                    time.sleep(0.2)
                    continue
                for ev in got["events"]:
                    if ev["seq"] != last + 1:
                        read_errors.append("after %d came %d" % (last, ev["seq"]))
                    last = ev["seq"]

        readers = [threading.Thread(target=follow, daemon=True) for _ in range(READERS)]
        for r in readers:
            r.start()
        pools = {n: proc_io(cl.pid(n)) for n in ("api-1", "api-2")}

        write_errors, made = [], []

        def write(w):
            for k in range(WRITES):
                status, rec = cl.request("POST", "/api/personas", {
                    "name": "w%d-%d" % (w, k), "personaType": "dns",
                    "configDetails": {"resolvers": ["192.0.2.%d" % (w + 1)]}})
                if status != 201:
                    write_errors.append("%d: %s" % (status, rec))
                else:
                    made.append(rec["id"])

        writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for t in writers:
            t.start()
        # Half-way, a daemon dies under its subscribers; quickstart's
        # supervisor starts it again a second later.
        wait_until(lambda: len(made) >= WRITERS * WRITES // 2)
        killed = cl.pid("push-1")
        os.kill(killed, signal.SIGKILL)
        for t in writers:
            t.join(120)
        self.assertEqual(write_errors, [])
        self.assertEqual(len(made), WRITERS * WRITES)
        for n, before in pools.items():
            self.assertGreater(proc_io(cl.pid(n)) - before, 100, "%s took no requests" % n)

        # What the journal holds for the topic, through the API.
        want, since = [], start
        while True:
            status, got = cl.request("GET", "/api/changes?since=%d&topics=personas&limit=1000"
                                     % since)
            self.assertEqual(status, 200, got)
            want += [e["seq"] for e in got["events"]]
            if not got["events"]:
                break
            since = got["events"][-1]["seq"]
        self.assertEqual(len(want), WRITERS * WRITES)

        wait_until(lambda: all(s.last >= want[-1] for s in streams), timeout=30)
        stop_reading.set()
        daemons = "daemons: %s" % [cl.daemon_health(n) for n in (1, 2)]
        for s in streams:
            s.close()
        for r in readers:
            r.join(10)
        self.assertEqual(read_errors, [])
        for i, s in enumerate(streams):
            assert_exactly(self, s.seqs, want, "stream %d (%d reconnects, errors %s; %s)"
                           % (i, s.reconnects, s.errors[-3:], daemons))
            self.assertEqual(s.others, [], "stream %d" % i)
        # The killed daemon's streams came back (on the other one, or on
        # the daemon started again).
        self.assertGreater(sum(s.reconnects for s in streams), 0, "no stream was cut")
        self.assertNotEqual(cl.new_pid("push-1", killed), killed,
                            "the supervisor did not start push-1 again")
        status, health = cl.request("GET", "/push/health")
        self.assertEqual(status, 200, health)

    def test_a_database_restart_under_writers_loses_no_write_and_no_event(self):
        cl = Cluster()
        self.addCleanup(subprocess.run, ["rm", "-rf", cl.state], check=False)
        self.addCleanup(cl.stop)
        start, streams = self.subscribe(cl, 6)
        names = ["r%d-%d" % (w, k) for w in range(4) for k in range(60)]
        landed, errors, unavailable = [], [], [0]

        def write(w):
            for name in names[w * 60:(w + 1) * 60]:
                ok, waits, refusal = create_until_it_lands(cl.request, name)
                unavailable[0] += waits
                (landed if ok else errors).append(name if ok else refusal)

        writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for t in writers:
            t.start()
        wait_until(lambda: len(landed) >= 60)
        # A fast shutdown cuts every session; quickstart starts the
        # server again a second later.
        old = cl.pid("postgres")
        os.kill(old, signal.SIGINT)
        for t in writers:
            t.join(180)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(landed), sorted(names))
        self.assertGreater(unavailable[0], 0, "no write met the restart: it tested nothing")
        self.assertNotEqual(cl.new_pid("postgres", old), old)

        # Each write is in the journal once, and every stream has them all.
        events, since = [], start
        while True:
            status, got = cl.request("GET", "/api/changes?since=%d&topics=personas&limit=1000"
                                     % since)
            self.assertEqual(status, 200, got)
            if not got["events"]:
                break
            events += got["events"]
            since = got["events"][-1]["seq"]
        self.assertEqual(sorted(e["data"]["name"] for e in events), sorted(names))
        want = [e["seq"] for e in events]
        for s in streams:
            s.wait_until(want[-1], timeout=30)
        for i, s in enumerate(streams):
            assert_exactly(self, s.seqs, want, "stream %d (errors %s)" % (i, s.errors[-3:]))
            self.assertEqual(s.others, [], "stream %d" % i)


if __name__ == "__main__":
    unittest.main(verbosity=2)
