"""pgpush.py - what the PostgreSQL tests share: flowpushd processes following one journal, SSE subscribers that resume with Last-Event-ID, and network namespaces to run them in."""

import ctypes
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from pgserver import free_port

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(ns):
    """Moves the calling thread into the network namespace ns (a name of
    ip netns): sockets it makes from now on live there."""
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


def in_netns(ns, fn):
    """fn() run in the network namespace ns, on a thread of its own."""
    if ns is None:
        return fn()
    out = {}

    def run():
        try:
            enter_netns(ns)
            out["value"] = fn()
        except BaseException as e:  # handed to the caller
            out["error"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def race(race_bin, database, *args, check=True, ns=None):
    """Runs journal_race (in ns when given); returns (exit code, its JSON)."""
    cmd = [race_bin, "--database", database, *map(str, args)]
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        out = None
    if check and r.returncode != 0:
        raise AssertionError("journal_race %s: exit %d\n%s%s" % (" ".join(map(str, args)), r.returncode,
                                                              r.stdout, r.stderr))
    return r.returncode, out


class Daemon:
    """One flowpushd following the PostgreSQL journal database, listening
    on host (a free port on 127.0.0.1 by default; 8081 on an address of a
    network namespace ns, in which it then runs)."""

    def __init__(self, pushd, name, database, folder, host="127.0.0.1", ns=None, poll_ms=1000):
        self.pushd = pushd
        self.name = name
        self.host = host
        self.ns = ns
        self.port = free_port() if ns is None else 8081
        self.log = os.path.join(folder, name + ".log")
        self.conf = os.path.join(folder, name + ".conf")
        with open(self.conf, "w") as f:
            f.write("database = %s\npush_listen = %s\npush_port = %d\n"
                    "push_instance = %s\nlog_file = %s\nlog_level = info\n"
                    "push_poll_ms = %d\n" % (database, host, self.port, name, self.log, poll_ms))
        self.proc = None

    def start(self):
        cmd = [self.pushd, "--config", self.conf]
        if self.ns is not None:
            # exec: the PID is the daemon's own, for kill9.
            cmd = ["ip", "netns", "exec", self.ns] + cmd
        self.proc = subprocess.Popen(cmd)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                status, body = self.health(self.ns)
                if status == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("flowpushd %s did not come up:\n%s" % (self.name, self.log_text()))

    def health(self, ns=None):
        """GET /push/health, from the network namespace ns (None: this
        one)."""
        def get():
            c = http.client.HTTPConnection(self.host, self.port, timeout=5)
            try:
                c.request("GET", "/push/health")
                r = c.getresponse()
                return r.status, json.loads(r.read())
            finally:
                c.close()
        return in_netns(ns, get)

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()[-3000:]
        except OSError:
            return "(no log)"

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def sse_events(resp, stop):
    """(event name, data line) of each data line of the SSE response resp
    (its framing decoded: through nginx the stream is chunked), until
    stop() is true; OSError when the stream ends."""
    event = "message"
    while not stop():
        line = resp.readline()
        if not line:
            raise OSError("the stream ended")
        line = line.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            yield event, line[5:]
        elif line == "":
            event = "message"


class Subscriber(threading.Thread):
    """Reads /push/events (SSE) of one daemon, keeping every event's seq;
    resume() moves it to another daemon with Last-Event-ID."""

    def __init__(self, daemon, since, ns=None):
        super().__init__(daemon=True)
        self.ns = ns
        self.seqs = []
        self.last = since
        self.target = daemon
        self.stopping = False
        self.switch = threading.Event()
        self.connected = threading.Event()
        self.errors = []
        self.lock = threading.Lock()

    def run(self):
        if self.ns is not None:
            enter_netns(self.ns)
        while not self.stopping:
            d = self.target
            self.switch.clear()
            try:
                self.read(d)
            except (OSError, http.client.HTTPException) as e:
                if self.stopping:
                    return
                if not self.switch.is_set():
                    self.errors.append("%s: %s" % (d.name, e))
                # Wait to be moved (the test decides where to resume).
                self.switch.wait(10)

    def read(self, d):
        c = http.client.HTTPConnection(d.host, d.port, timeout=30)
        self.conn = c
        c.request("GET", "/push/events?topics=campaigns",
                  headers={"Accept": "text/event-stream", "Last-Event-ID": str(self.last)})
        r = c.getresponse()
        if r.status != 200:
            raise http.client.HTTPException("status %d" % r.status)
        self.connected.set()
        for event, data in sse_events(r, lambda: self.stopping or self.switch.is_set()):
            if event == "message":
                try:
                    ev = json.loads(data)
                except ValueError:
                    self.errors.append("%s: not JSON: %r" % (d.name, data))
                    continue
                with self.lock:
                    self.seqs.append(ev["seq"])
                    self.last = ev["seq"]
            elif event == "reset":
                self.errors.append("reset from %s" % d.name)

    def resume_on(self, d):
        self.target = d
        self.switch.set()
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    def wait_for(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.seqs) >= n:
                    return True
            time.sleep(0.02)
        return False

    def close(self):
        self.stopping = True
        self.switch.set()
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass


class Stream(threading.Thread):
    """A page's EventSource, usually through a web server: when the stream
    ends it comes back after a moment with Last-Event-ID, as browsers do,
    wherever the web server sends it. path holds the query (topics,
    token); ns: the network namespace to run in."""

    def __init__(self, host, port, path, since, ns=None, delay=0.3):
        super().__init__(daemon=True)
        self.host, self.port, self.path, self.ns = host, port, path, ns
        self.delay = delay            # seconds before coming back
        self.last = since
        self.seqs, self.errors, self.others, self.reconnects = [], [], [], 0
        self.times = []               # time.monotonic() of each event
        self.stopping = False
        self.conn = None
        self.t0 = time.monotonic()

    def run(self):
        if self.ns is not None:
            enter_netns(self.ns)
        while not self.stopping:
            try:
                self.read()
            except (OSError, http.client.HTTPException, ValueError) as e:
                if self.stopping:
                    return
                self.errors.append("%.1f s, %d events: %s" % (time.monotonic() - self.t0,
                                                               len(self.seqs), e))
            if self.stopping:
                return
            self.reconnects += 1
            time.sleep(self.delay)

    def read(self):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.conn = c
        try:
            self.follow(c)
        finally:
            c.close()

    def follow(self, c):
        c.request("GET", self.path,
                  headers={"Accept": "text/event-stream", "Last-Event-ID": str(self.last)})
        r = c.getresponse()
        if r.status != 200:
            raise http.client.HTTPException("status %d" % r.status)
        for event, data in sse_events(r, lambda: self.stopping):
            if event == "message":
                ev = json.loads(data)
                self.times.append(time.monotonic())
                self.seqs.append(ev["seq"])
                self.last = ev["seq"]
            else:
                self.others.append(event)    # a reset would lose events

    def wait_until(self, seq, timeout=30):
        deadline = time.monotonic() + timeout
        while self.last < seq and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.last >= seq

    def close(self):
        self.stopping = True
        if self.conn is not None and self.conn.sock is not None:
            try:
                self.conn.sock.shutdown(2)
            except OSError:
                pass


def wait_until(cond, timeout=60, step=0.01):
    """Polls cond() until it is true or timeout seconds pass; its last
    value."""
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(step)
    return cond()


def create_until_it_lands(request, name, tries=200, wait=0.2):
    """POSTs the DNS persona name with request(method, path, body) ->
    (status, body) as a client that tries again what the API could not do
    (502, 503, a cut connection: the database restarting). A 409 on a
    later try means an earlier one was cut after its commit. Returns
    (landed, how many tries met an unavailable API, the refusal or None)."""
    unavailable = 0
    for attempt in range(1, tries + 1):
        try:
            status, body = request("POST", "/api/personas", {
                "name": name, "personaType": "dns",
                "configDetails": {"resolvers": ["192.0.2.1"]}})
        except OSError as e:
            status, body = 0, str(e)
        if status == 201 or (status == 409 and attempt > 1):
            return True, unavailable, None
        if status not in (0, 502, 503):
            return False, unavailable, "%s: %d %s" % (name, status, body)
        unavailable += 1
        time.sleep(wait)
    return False, unavailable, "%s: still unavailable after %d tries" % (name, tries)


def assert_exactly(tc, got, want, what):
    tc.assertEqual(len(got), len(set(got)), "%s: an event came twice" % what)
    tc.assertEqual(got, sorted(got), "%s: events out of order" % what)
    tc.assertEqual(got, want, "%s: missing %s" % (what, sorted(set(want) - set(got))[:10]))


class DaemonCase(unittest.TestCase):
    """A test that starts daemons and subscribers, all stopped after it:
    keep() a daemon started, subscribe() from the namespace sub_ns."""

    sub_ns = None

    def setUp(self):
        self.daemons = []
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.close()
        for d in self.daemons:
            d.stop()

    def keep(self, d):
        self.daemons.append(d)
        return d

    def subscribe(self, d, since):
        s = Subscriber(d, since, ns=self.sub_ns)
        self.subs.append(s)
        s.start()
        self.assertTrue(s.connected.wait(10), "no stream from %s" % d.name)
        return s
