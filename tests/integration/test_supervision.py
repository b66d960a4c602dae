#!/usr/bin/python3
"""test_supervision.py - ./quickstart keeps its stack up: kill -9 of
flowpushd or of flowpush.fcgi under write load loses no acknowledged write,
journals each once, and the killed part is back by itself; the doorbell
socket removed and the web server restarted under write load lose no
write and no event for a page following over SSE; SIGTERM to
./quickstart stops every part. Runs the real ./quickstart (with the test
build, FLOWPUSH_BUILD) on a free port and a state folder of its own."""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import SRC, default_build, free_port, run_unittest_main  # noqa: E402

QS = None


class Quickstart:
    """./quickstart run in the background, and ways to reach its parts."""

    def __init__(self):
        self.state = tempfile.mkdtemp(prefix="fp-sup-", dir="/tmp")
        self.port = free_port()
        env = dict(os.environ, FLOWPUSH_STATE=self.state, PORT=str(self.port),
                   FLOWPUSH_BUILD=default_build())
        env.pop("PUSH_PORT", None)
        self.log = open(os.path.join(self.state, "quickstart.out"), "w+")
        self.proc = subprocess.Popen([os.path.join(SRC, "quickstart")],
                                     cwd=SRC, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 300
        while "flowpush is up at" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("./quickstart did not come up:\n" +
                                     self.output()[-3000:])
            time.sleep(0.2)

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def pid(self, name):
        with open(os.path.join(self.state, name + ".pid")) as f:
            return int(f.read().strip() or 0)

    def request(self, method, path, body=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body=json.dumps(body) if body is not None
                      else None, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            return r.status, data
        finally:
            c.close()

    def wait_for(self, path, name, old_pid, limit=60):
        """Waits until path answers 200 from a new process name."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                new = self.pid(name)
                if new and new != old_pid and self.request("GET", path)[0] == 200:
                    return new
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise AssertionError("%s did not come back within %d s:\n%s"
                             % (name, limit, self.output()[-2000:]))

    def stop(self):
        pids = []
        for name in ("nginx", "flowpushd", "flowpush.fcgi"):
            try:
                pids.append(self.pid(name))
            except (OSError, ValueError):
                pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
        return pids


def setUpModule():
    global QS
    QS = Quickstart()


def tearDownModule():
    if QS is not None and QS.proc.poll() is None:
        QS.stop()
    if QS is not None:
        shutil.rmtree(QS.state, ignore_errors=True)


class Writer(threading.Thread):
    """Creates keyword sets until stopped, retrying each one that got no
    answer or a 502/503 (the part it needs was down): a retried create may
    have been made once, never twice, and an acknowledged one must stay."""

    def __init__(self, tag):
        super().__init__(daemon=True)
        self.tag = tag
        self.made = []
        self.refused = []
        self.halt = threading.Event()

    def run(self):
        i = 0
        while not self.halt.is_set():
            name = "%s-%d" % (self.tag, i)
            for _ in range(200):
                try:
                    status, data = QS.request("POST", "/api/keyword-sets",
                                              {"name": name})
                except (OSError, http.client.HTTPException):
                    status, data = None, b""
                if status == 201:
                    self.made.append(json.loads(data)["id"])
                    break
                if status == 409:  # made by an attempt whose answer was lost
                    break
                if status not in (None, 502, 503, 504):
                    self.refused.append((status, data[:200]))
                    break
                time.sleep(0.05)
            i += 1
            time.sleep(0.01)


class Follower(threading.Thread):
    """Follows keyword-sets over SSE through the web server from a seq, as
    a page does: when its stream ends or cannot be opened it opens a new
    one from the last id it saw. Collects the ids of created records."""

    def __init__(self, since):
        super().__init__(daemon=True)
        self.last = since
        self.created = []
        self.streams = 0
        self.cut = 0        # streams the server ended
        self.halt = threading.Event()

    def token(self):
        status, data = QS.request("GET", "/api/token?topics=keyword-sets")
        if status != 200:
            raise OSError("no token: %d" % status)
        return json.loads(data)["token"]

    def follow_once(self):
        c = http.client.HTTPConnection("127.0.0.1", QS.port, timeout=2)
        try:
            c.request("GET", "/push/events?" + urllib.parse.urlencode(
                {"topics": "keyword-sets", "since": self.last, "token": self.token()}))
            r = c.getresponse()
            if r.status != 200:
                raise OSError("status %d" % r.status)
            self.streams += 1
            ev_id, data = None, None
            while not self.halt.is_set():
                try:
                    line = r.fp.readline()
                except TimeoutError:
                    return  # quiet for 2 s: open a new one (and see halt)
                if not line:
                    self.cut += 1
                    return
                line = line.rstrip(b"\n")
                if line.startswith(b"id: "):
                    ev_id = int(line[4:])
                elif line.startswith(b"data: "):
                    data = json.loads(line[6:])
                elif line == b"" and data is not None:
                    if data.get("action") == "created":
                        self.created.append(data["id"])
                    self.last = ev_id
                    ev_id, data = None, None
        finally:
            c.close()

    def run(self):
        while not self.halt.is_set():
            try:
                self.follow_once()
            except (OSError, ValueError, http.client.HTTPException):
                time.sleep(0.1)


def changes_since(since):
    events = []
    while True:
        status, data = QS.request("GET", "/api/changes?" + urllib.parse.urlencode(
            {"since": since, "topics": "keyword-sets", "limit": 1000}))
        assert status == 200, data
        body = json.loads(data)
        assert not body.get("reset"), body
        events.extend(body["events"])
        if body["seq"] == since:
            return events
        since = body["seq"]


class SupervisionTest(unittest.TestCase):
    def kill_under_load(self, name, path):
        status, data = QS.request("GET", "/api/keyword-sets?limit=1")
        self.assertEqual(status, 200, data)
        since = json.loads(data)["seq"]
        w = Writer("sup-%s-%d" % (name, time.time()))
        w.start()
        time.sleep(1)
        old = QS.pid(name)
        os.kill(old, signal.SIGKILL)
        new = QS.wait_for(path, name, old)
        time.sleep(1)
        w.halt.set()
        w.join(60)
        self.assertNotEqual(new, old)
        self.assertEqual(w.refused, [])
        self.assertGreater(len(w.made), 0)
        created = [e["id"] for e in changes_since(since)
                   if e["action"] == "created"]
        self.assertEqual(len(created), len(set(created)), "journaled twice")
        self.assertEqual(set(w.made) - set(created), set(), "lost")
        for rid in w.made:
            status, _ = QS.request("GET", "/api/keyword-sets/" + rid)
            self.assertEqual(status, 200, rid)
        self.assertIn("%s (PID %d) stopped" % (name, old), QS.output())

    def test_a_killed_push_daemon_is_back_by_itself(self):
        self.kill_under_load("flowpushd", "/push/health")

    def test_a_killed_api_process_is_back_by_itself(self):
        self.kill_under_load("flowpush.fcgi", "/api/dashboard")

    def seq_now(self):
        status, data = QS.request("GET", "/api/keyword-sets?limit=1")
        self.assertEqual(status, 200, data)
        return json.loads(data)["seq"]

    def follow_through(self, fault, tag):
        """Writes and follows over SSE while fault() runs; every write
        is acknowledged once and reaches the follower exactly once."""
        f = Follower(self.seq_now())
        f.start()
        w = Writer("%s-%d" % (tag, time.time()))
        w.start()
        time.sleep(1)
        fault()
        time.sleep(1.5)
        w.halt.set()
        w.join(60)
        deadline = time.monotonic() + 15
        while set(w.made) - set(f.created) and time.monotonic() < deadline:
            time.sleep(0.1)
        f.halt.set()
        f.join(10)
        self.assertEqual(w.refused, [])
        self.assertGreater(len(w.made), 10)
        self.assertEqual(set(w.made) - set(f.created), set(), "never pushed")
        mine = [i for i in f.created if i in set(w.made)]
        self.assertEqual(len(mine), len(set(mine)), "pushed twice")
        print("\n%s: %d writes acknowledged, each pushed once; %d streams cut"
              % (tag, len(w.made), f.cut), file=sys.stderr)
        return f

    def test_a_removed_doorbell_loses_no_event_and_is_bound_again(self):
        bell = os.path.join(QS.state, "flowpushd.sock")
        self.assertTrue(os.path.exists(bell))
        gone = []

        def remove():
            os.unlink(bell)
            gone.append(time.monotonic())

        self.follow_through(remove, "doorbell removed")
        # Bound again by the daemon itself, without a restart.
        deadline = time.monotonic() + 5
        while not os.path.exists(bell) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(bell), "the doorbell was not bound again")
        with open(os.path.join(QS.state, "logs", "flowpushd.log")) as log:
            self.assertIn("is bound again", log.read())

    def test_a_restarted_web_server_loses_nothing_for_writers_or_followers(self):
        old = QS.pid("nginx")

        def restart():
            t0 = time.monotonic()
            os.kill(old, signal.SIGTERM)
            QS.wait_for("/api/dashboard", "nginx", old)
            print("\nnginx back after %.2f s" % (time.monotonic() - t0), file=sys.stderr)

        f = self.follow_through(restart, "nginx restarted")
        self.assertGreater(f.cut, 0, "the stream was never cut: nothing was tested")
        self.assertIn("nginx (PID %d) stopped" % old, QS.output())

    def test_sigterm_stops_every_part(self):
        # Last (unittest runs tests in name order): it ends the stack.
        pids = QS.stop()
        self.assertEqual(QS.proc.returncode in (0, 143, -15), True,
                         QS.proc.returncode)
        for pid in pids:
            with self.assertRaises(ProcessLookupError):
                os.kill(pid, 0)


if __name__ == "__main__":
    run_unittest_main()
