#!/usr/bin/python3
"""stack.py - start the real flowpush stack (nginx + spawn-fcgi + flowpush.fcgi + flowpushd) on free loopback ports for tests.

Usage from a test:

    from stack import Stack
    with Stack() as st:              # or st = Stack(); st.start(); ...; st.stop()
        status, headers, body = st.request("GET", "/api/campaigns")

Usage from another language's test runner (tests/browser):

    /usr/bin/python3 tests/integration/stack.py [--build DIR] [--no-push]

prints one JSON line {"url":..., "port":..., "pushPort":..., "pushSocket":...,
"state":..., "config":..., "pid":...} once everything answers, and stops the
stack when its standard input closes or it gets SIGTERM or SIGINT.

flowpushd listens on a Unix stream socket in the state folder, as nginx
reaches it in production (push_socket; push_port is then None), or on a
free TCP port when that path would not fit in a socket address or the
stack is made with push_unix=False. Tests that talk to the daemon itself,
not through nginx, use push_connect() and push_connection(), which reach it
either way.

The build folder is --build, else $FLOWPUSH_BUILD, else run/build in the
source tree. The nginx configuration is rendered from deploy/nginx.conf.in by
deploy/render, exactly as quickstart does it. Every process is started by the
harness and stopped by PID on stop(), also when a test fails or the harness
gets SIGTERM.
"""

import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests"))
from freeport import free_port  # noqa: E402  (re-exported to the tests)

_live_stacks = []

# The store the stacks use: "sqlite" (a file in the state folder, the
# default) or "postgresql" (a PostgreSQL server of the stack's own, from
# tests/pg/pgserver.py): FLOWPUSH_TEST_STORE, so that one suite runs
# against both.
STORE = os.environ.get("FLOWPUSH_TEST_STORE", "sqlite")
if STORE not in ("sqlite", "postgresql"):
    raise SystemExit("FLOWPUSH_TEST_STORE is sqlite or postgresql, not %r" % STORE)
ON_SQLITE = STORE == "sqlite"


def default_build():
    """The build folder the tests use: $FLOWPUSH_BUILD or run/build."""
    return os.path.abspath(os.environ.get("FLOWPUSH_BUILD") or os.path.join(SRC, "run", "build"))


def raw_request(port, data, timeout=10):
    """Sends data (bytes, any shape, even malformed) to 127.0.0.1:port and
    returns (status, lower-case headers, parsed JSON body or the raw
    bytes) of the answer; the connection is closed after it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                lengths = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
                           if l.lower().startswith(b"content-length:")]
                if lengths and len(body) >= int(lengths[0]):
                    break
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    try:
        body = json.loads(body.decode("utf-8"))
    except ValueError:
        pass
    return status, headers, body


def _tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# The longest path a Unix socket address holds (sun_path, with its NUL).
UNIX_PATH_MAX = 107


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix stream socket; the Host header stays
    127.0.0.1, as nginx would pass the browser's on."""

    def __init__(self, path, timeout=60):
        super().__init__("127.0.0.1", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


def _unix_open(path):
    if not os.path.exists(path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        try:
            s.connect(path)
            return True
        except OSError:
            return False


def _child_env(extra):
    # Configuration comes from the environment (FLOWPUSH_<KEY> overrides a
    # key): drop whatever the caller's shell set so only ours applies.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWPUSH_")}
    env.update(extra)
    return env


class StackError(RuntimeError):
    pass


class Stack:
    """One running flowpush stack in its own temporary state folder."""

    def __init__(self, build=None, push=True, env=None, demo=False, workers=1,
                 push_unix=True, nginx_values=None, store=None):
        self.build = os.path.abspath(build) if build else default_build()
        # More NAME=VALUE for deploy/render (MONITOR_ALLOW, ...).
        self.nginx_values = dict(nginx_values or {})
        self.push = push and os.access(os.path.join(self.build, "flowpushd"), os.X_OK)
        self.extra_env = dict(env or {})
        self.demo = demo
        self.workers = workers
        self.state = None
        self.port = None
        self.push_port = None
        self.push_unix = push_unix
        self.push_socket = None  # flowpushd's Unix socket, or None: TCP
        self.store = store or STORE   # "sqlite" or "postgresql"
        self.pg = None       # the PostgreSQL server of a postgresql store
        self.procs = {}      # name -> Popen, in start order
        self.logs = {}
        # A forked test worker inherits this object; only the process
        # that started the stack may stop it.
        self.owner = os.getpid()

    # ------------------------------------------------------------ set-up

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def config(self):
        return os.path.join(self.state, "flowpush.conf")

    @property
    def database(self):
        """The database setting: a file, or the PostgreSQL server's URI."""
        if self.pg is not None:
            return self.pg.uri
        return os.path.join(self.state, "flowpush.db")

    @property
    def socket_path(self):
        return os.path.join(self.state, "fcgi.sock")

    def env(self):
        """The environment every flowpush program of this stack gets."""
        env = {"FLOWPUSH_CONFIG": self.config}
        if self.push_socket:
            env["FLOWPUSH_PUSH_LISTEN"] = "unix:" + self.push_socket
        else:
            env["FLOWPUSH_PUSH_LISTEN"] = "127.0.0.1"
            env["FLOWPUSH_PUSH_PORT"] = str(self.push_port)
        env.update(self.extra_env)
        return _child_env(env)

    def start(self):
        for prog in ("flowpush", "flowpush.fcgi"):
            if not os.access(os.path.join(self.build, prog), os.X_OK):
                raise StackError("%s/%s is not built" % (self.build, prog))
        # Short prefix: Unix socket paths are limited to 107 bytes.
        self.state = tempfile.mkdtemp(prefix="fp-it-")
        os.makedirs(os.path.join(self.state, "logs"))
        os.makedirs(os.path.join(self.state, "nginx-tmp"))
        self.port = free_port()
        self._pick_push_address()
        _live_stacks.append(self)
        try:
            if self.store == "postgresql":
                sys.path.insert(0, os.path.join(SRC, "tests", "pg"))
                from pgserver import PgServer
                self.pg = PgServer().start()
            self._init_db()
            self._render_nginx()
            self.start_fcgi()
            if self.push:
                self.start_push()
            self._start("nginx", ["nginx", "-p", self.state, "-c",
                                  os.path.join(self.state, "nginx.conf"),
                                  "-e", os.path.join(self.state, "logs", "nginx-error.log")])
            self._wait("nginx", lambda: _tcp_open(self.port))
        except BaseException:
            self.stop()
            raise
        return self

    def _pick_push_address(self):
        path = os.path.join(self.state, "flowpushd-http.sock")
        if self.push_unix and len(os.fsencode(path)) <= UNIX_PATH_MAX:
            self.push_socket, self.push_port = path, None
            return
        if self.push_unix:
            print("stack: %s is too long for a Unix socket; flowpushd listens on TCP"
                  % path, file=sys.stderr, flush=True)
        self.push_socket, self.push_port = None, free_port()

    @property
    def push_upstream(self):
        """Where nginx finds flowpushd: unix:PATH or 127.0.0.1:PORT."""
        if self.push_socket:
            return "unix:" + self.push_socket
        return "127.0.0.1:%d" % self.push_port

    def _init_db(self):
        r = self.cli("init", "--database", self.database)
        if r.returncode != 0:
            raise StackError("flowpush init failed (%d): %s" % (r.returncode, r.stderr))
        if self.demo:
            r = self.cli("demo")
            if r.returncode != 0:
                raise StackError("flowpush demo failed (%d): %s" % (r.returncode, r.stderr))

    def config_value(self, key, default):
        """The value of key in the written config file, or default."""
        if key.upper() in (k[len("FLOWPUSH_"):] for k in self.extra_env):
            return self.extra_env["FLOWPUSH_" + key.upper()]
        value = default
        try:
            with open(self.config, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line.startswith("#") or "=" not in line:
                        continue
                    k, v = line.split("=", 1)
                    if k.strip() == key:
                        value = v.strip()
        except OSError:
            pass
        return value

    def body_limit(self):
        return int(self.config_value("body_limit", "1048576"))

    def _render_nginx(self):
        user_line = ""
        if os.geteuid() == 0:
            import grp
            import pwd
            user_line = "user %s %s;" % (pwd.getpwuid(os.getuid()).pw_name,
                                         grp.getgrgid(os.getgid()).gr_name)
        args = {
            "USER_LINE": user_line,
            "WORKERS": str(self.workers),
            "NOFILE": "20000",
            "CONNECTIONS": "8192",
            "STATE": self.state,
            "DAEMON": "off",
            "MIME_TYPES": "/etc/nginx/mime.types",
            "LISTEN": "127.0.0.1",
            "PORT": str(self.port),
            "WWW": os.path.join(SRC, "www"),
            "CLIENT_MAX_BODY": str(self.body_limit() + 65536),
            "FCGI_SOCKET": self.socket_path,
            "PUSH_UPSTREAM": self.push_upstream,
        }
        args.update(self.nginx_values)
        out = subprocess.run(
            [os.path.join(SRC, "deploy", "render"), os.path.join(SRC, "deploy", "nginx.conf.in")]
            + ["%s=%s" % kv for kv in args.items()],
            capture_output=True, text=True)
        if out.returncode != 0:
            raise StackError("deploy/render failed: " + out.stderr)
        with open(os.path.join(self.state, "nginx.conf"), "w", encoding="utf-8") as f:
            f.write(out.stdout)

    def _start(self, name, argv):
        old = self.procs.get(name)
        if old is not None and old.poll() is None:
            # Starting it again would lose the running one's PID, and with
            # it the only way to stop it: refuse loudly instead.
            raise StackError("%s is already running (pid %d)" % (name, old.pid))
        log = os.path.join(self.state, "logs", name + ".log")
        self.logs[name] = log
        with open(log, "ab") as f:
            self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                                                stderr=subprocess.STDOUT, env=self.env())

    def _wait(self, name, ready, timeout=20.0):
        deadline = time.monotonic() + timeout
        proc = self.procs[name]
        while not ready():
            if proc.poll() is not None:
                raise StackError("%s exited (%s) while starting:\n%s"
                                 % (name, proc.returncode, self.log_tail(name)))
            if time.monotonic() > deadline:
                raise StackError("%s not ready after %.0f s:\n%s"
                                 % (name, timeout, self.log_tail(name)))
            time.sleep(0.05)

    def log_tail(self, name, lines=30):
        try:
            with open(self.logs[name], encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, KeyError):
            return ""

    def start_fcgi(self):
        """Start flowpush.fcgi under spawn-fcgi -n (it keeps the PID)."""
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self._start("flowpush.fcgi", ["spawn-fcgi", "-n", "-s", self.socket_path, "-M", "0660",
                                      "--", os.path.join(self.build, "flowpush.fcgi")])
        self._wait("flowpush.fcgi", lambda: _unix_open(self.socket_path))

    def start_push(self):
        self._start("flowpushd", [os.path.join(self.build, "flowpushd")])
        if self.push_socket:
            self._wait("flowpushd", lambda: _unix_open(self.push_socket))
        else:
            self._wait("flowpushd", lambda: _tcp_open(self.push_port))

    def push_connect(self, timeout=10, rcvbuf=None):
        """A socket connected to flowpushd itself (not through nginx), on
        its Unix socket or TCP port; rcvbuf is set before connecting."""
        if self.push_socket:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = self.push_socket
        else:
            s = socket.socket()
            addr = ("127.0.0.1", self.push_port)
        try:
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.settimeout(timeout)
            s.connect(addr)
        except OSError:
            s.close()
            raise
        return s

    def push_connection(self, timeout=60):
        """An http.client connection to flowpushd itself."""
        if self.push_socket:
            return UnixHTTPConnection(self.push_socket, timeout=timeout)
        return http.client.HTTPConnection("127.0.0.1", self.push_port, timeout=timeout)

    # ------------------------------------------------------------ tear-down

    def stop_process(self, name, timeout=10.0):
        """SIGTERM one process, SIGKILL after timeout; returns its exit
        status (negative: the signal that ended it), None if not started."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def stop_fcgi(self, timeout=10.0):
        return self.stop_process("flowpush.fcgi", timeout)

    def stop(self):
        if os.getpid() != self.owner:
            return
        for name in reversed(list(self.procs)):
            self.stop_process(name)
        if self.pg is not None:
            self.pg.stop()
            self.pg = None
        if self in _live_stacks:
            _live_stacks.remove(self)
        if self.state and not os.environ.get("FLOWPUSH_KEEP_STATE"):
            shutil.rmtree(self.state, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ use

    def query(self, sql, *params):
        """Rows of one read of the store, bypassing the API (what is at
        rest): SQLite's ? parameters on either store. Values come as
        text (None for NULL)."""
        if self.pg is None:
            import sqlite3
            db = sqlite3.connect("file:%s?mode=ro" % self.database, uri=True)
            try:
                return [tuple(None if v is None else str(v) for v in row)
                        for row in db.execute(sql, params).fetchall()]
            finally:
                db.close()
        parts = sql.split("?")
        if len(parts) != len(params) + 1:
            raise ValueError("%d parameters for %r" % (len(params), sql))
        text = parts[0]
        for value, rest in zip(params, parts[1:]):
            text += "'" + str(value).replace("'", "''") + "'" + rest
        out = self.pg.psql(text)
        return [tuple(None if v == "" else v for v in line.split("|"))
                for line in out.splitlines() if line]

    def append_journal_row(self, topic, action, rid, data):
        """Appends a journal row as a writer would, but with data as
        given (even text that is no JSON), bypassing the API; the daemon
        finds it by its poll or, on PostgreSQL, by the NOTIFY."""
        if self.pg is None:
            import sqlite3
            db = sqlite3.connect(self.database, timeout=10)
            with db:
                db.execute("INSERT INTO journal(ts, topic, action, id, version, actor, data)"
                           " VALUES('2026-01-01T00:00:00.000Z', ?, ?, ?, 1, NULL, ?)",
                           (topic, action, rid, data))
            db.close()
            return
        lit = [("'" + v.replace("'", "''") + "'") for v in (topic, action, rid, data)]
        self.pg.psql("WITH s AS (UPDATE journal_seq SET seq = seq + 1 RETURNING seq) "
                     "INSERT INTO journal(seq, ts, topic, action, id, version, actor, data) "
                     "SELECT s.seq, '2026-01-01T00:00:00.000Z', %s, %s, %s, 1, NULL, %s FROM s"
                     % tuple(lit))

    def hold_write_lock(self):
        """A context in which another connection holds the store's write
        lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the journal counter's
        row lock every writer takes first)."""
        import contextlib

        @contextlib.contextmanager
        def held():
            if self.pg is None:
                import sqlite3
                other = sqlite3.connect(self.database, timeout=1, isolation_level=None)
                try:
                    other.execute("BEGIN IMMEDIATE")
                    yield
                finally:
                    other.execute("ROLLBACK")
                    other.close()
                return
            proc = self.pg.session()
            try:
                proc.stdin.write("BEGIN;\nSELECT seq FROM journal_seq FOR UPDATE;\n"
                                 "\\echo locked\n")
                proc.stdin.flush()
                while "locked" not in proc.stdout.readline():
                    if proc.poll() is not None:
                        raise StackError("psql ended before it held the lock")
                yield
            finally:
                if proc.poll() is None:
                    proc.stdin.write("ROLLBACK;\n\\q\n")
                    proc.stdin.close()
                    proc.wait(10)
        return held()


    def cli(self, *args, input=None):
        """Run build/flowpush --config CONFIG ARGS... in this stack's
        environment; returns the CompletedProcess (text)."""
        return subprocess.run([os.path.join(self.build, "flowpush"), "--config", self.config]
                              + list(args), input=input, capture_output=True, text=True,
                              env=self.env(), timeout=120)

    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """One HTTP request through nginx. body: bytes, str, or anything
        else (sent as JSON). Returns (status, headers dict with lower-case
        names, body bytes)."""
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        own = conn is None
        c = conn or self.connection()
        try:
            c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if own:
                c.close()

    def json(self, method, path, body=None, headers=None, conn=None):
        """request() whose answer must be JSON (or empty): returns
        (status, headers, parsed body or None)."""
        status, hdrs, data = self.request(method, path, body, headers, conn)
        if not data:
            return status, hdrs, None
        try:
            return status, hdrs, json.loads(data)
        except ValueError:
            raise AssertionError("%s %s answered %d with a body that is not JSON: %r"
                                 % (method, path, status, data[:300]))


def _stop_all():
    for st in list(_live_stacks):
        st.stop()


atexit.register(_stop_all)


def _exit_on_sigterm(signum, frame):
    # Turn SIGTERM into a normal exit so atexit stops our servers.
    raise SystemExit(128 + signum)


if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def run_unittest_main():
    """unittest.main() for a test file, closing with the line
    'N passed, N failed' (', N skipped' when some were) and exiting 0 only
    when nothing failed."""
    import unittest
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses)
    skipped = len(r.skipped)
    passed = max(0, r.testsRun - failed - skipped - len(r.expectedFailures))
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    sys.stdout.flush()
    print(line, flush=True)
    sys.exit(1 if failed or r.testsRun == 0 else 0)


def _main():
    import argparse
    ap = argparse.ArgumentParser(description="Run a flowpush stack until stdin closes.")
    ap.add_argument("--build", default=None)
    ap.add_argument("--no-push", action="store_true")
    ap.add_argument("--demo", action="store_true", help="load the demo data")
    a = ap.parse_args()

    def on_signal(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    st = Stack(build=a.build, push=not a.no_push, demo=a.demo)
    try:
        st.start()
        print(json.dumps({"url": st.url, "port": st.port,
                          "pushPort": st.push_port if st.push else None,
                          "pushSocket": st.push_socket if st.push else None,
                          "state": st.state, "config": st.config,
                          "build": st.build, "pid": os.getpid()}), flush=True)
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        st.stop()


if __name__ == "__main__":
    _main()
