"""pgserver.py - a throwaway PostgreSQL server from Debian's binaries, in a folder of its own, for the tests; it stops exactly what it started."""

import atexit
import glob
import ipaddress
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from freeport import free_port  # noqa: E402  (re-exported to the tests)


def postgres_bin():
    """The newest /usr/lib/postgresql/N/bin with initdb, or None."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            try:
                found.append((int(d.split("/")[-2]), d))
            except ValueError:
                pass
    return max(found)[1] if found else None


# Servers started and not yet stopped, for the SIGTERM handler below.
_running = []


def _stop_on_sigterm(signum, frame):
    """A test stopped by SIGTERM (a timeout, a check run being stopped)
    stops its servers first: pg_ctl starts each in a session of its own,
    which no signal to the test's process group reaches, and atexit does
    not run on a signal. Then whatever handled SIGTERM before (stack.py's
    turns it into an exit), or exit."""
    for pg in list(_running):
        pg.stop()
    if callable(_previous_sigterm):
        _previous_sigterm(signum, frame)
    os._exit(128 + signum)


_previous_sigterm = signal.getsignal(signal.SIGTERM)
signal.signal(signal.SIGTERM, _stop_on_sigterm)


class PgServer:
    """One cluster: initdb, then postgres on a Unix socket in its folder
    (and, with tcp=True, on 127.0.0.1 at a free port).

    PostgreSQL refuses to run as root: as root, the server runs as the
    unprivileged user `postgres` (Debian's package makes it), owning the
    folder. The cluster trusts local connections (a test server that
    nothing but the test reaches) and runs with fsync off: a test never
    survives a power cut."""

    def __init__(self, folder=None, tcp=False, netns=None, listen=None):
        """netns: run the server in that network namespace (ip netns);
        listen: the address it listens on besides its Unix socket (port
        5432 then, as on a host of its own)."""
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries (Debian: postgresql)")
        # Unix socket paths are limited to 107 bytes: keep the folder short.
        self.folder = folder or tempfile.mkdtemp(prefix="fppg-", dir="/tmp")
        self.own_folder = folder is None
        self.data = os.path.join(self.folder, "data")
        self.sockdir = self.folder
        self.log = os.path.join(self.folder, "server.log")
        self.port = free_port() if tcp and listen is None else 5432
        self.tcp = tcp or listen is not None
        self.listen = listen or "127.0.0.1"
        self.netns = netns
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chmod(self.folder, 0o755)
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self.running = False
        atexit.register(self.stop)

    def _run(self, *args, check=True, timeout=60):
        cmd = list(args)
        if self.user is not None:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        if self.netns is not None:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.folder)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s\n%s" % (args[0], r.returncode, r.stdout, r.stderr,
                                                            self.log_tail()))
        return r

    def log_tail(self, n=3000):
        try:
            with open(self.log) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    @property
    def uri(self):
        """A libpq URI of the test database."""
        return "postgresql:///flowpush?host=%s&port=%d&user=flowpush" % (self.sockdir, self.port)

    @property
    def tcp_uri(self):
        """The same database over TCP, at the listen address."""
        return "postgresql://flowpush@%s:%d/flowpush" % (self.listen, self.port)

    @property
    def conninfo(self):
        return "host=%s port=%d user=flowpush dbname=flowpush" % (self.sockdir, self.port)

    def _options(self):
        listen = self.listen if self.tcp else ""
        return ("-c listen_addresses='%s' -c port=%d -c unix_socket_directories=%s "
                "-c fsync=off -c full_page_writes=off -c max_connections=200"
                % (listen, self.port, self.sockdir))

    def start(self):
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._run(os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust", "-U", "flowpush",
                      "-E", "UTF8", "--no-locale")
            if self.listen != "127.0.0.1":
                # Hosts of the test's own network namespaces only.
                with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
                    net = ipaddress.ip_network(self.listen + "/16", strict=False)
                    f.write("host all all %s trust\n" % net)
            created = True
        else:
            created = False
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "30",
                  "-o", self._options(), "start")
        self.running = True
        _running.append(self)
        if created:
            self.psql("CREATE DATABASE flowpush", database="postgres")
        return self

    def stop(self):
        if not self.running:
            return
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "-t", "30",
                  "stop", check=False)
        self.running = False
        if self in _running:
            _running.remove(self)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self):
        """Stops (fast: sessions are cut) and starts the same cluster."""
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-m", "fast", "-w",
                  "-t", "30", "-o", self._options(), "restart")

    def kill9(self):
        """SIGKILL of the postmaster (by its own postmaster.pid)."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = int(f.readline())
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        # stop() still removes the folder (and finds no server to stop).

    def psql(self, sql, database="flowpush"):
        """Runs sql with psql; returns its unaligned output."""
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "host=%s port=%d user=flowpush dbname=%s" % (self.sockdir, self.port, database),
                            "-c", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql %r: %s" % (sql, r.stderr))
        return r.stdout

    def session(self, database="flowpush"):
        """An interactive psql on the database (text pipes on its stdin
        and stdout): a connection a test keeps open, e.g. to hold a lock.
        The caller ends it (\\q) and waits for it."""
        return subprocess.Popen([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t",
                                 "-v", "ON_ERROR_STOP=1",
                                 "host=%s port=%d user=flowpush dbname=%s"
                                 % (self.sockdir, self.port, database)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
