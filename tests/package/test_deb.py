#!/usr/bin/python3
"""test_deb.py - the Debian package, installed as an operator installs it.

FLOWPUSH_DEB names the flowpush_*.deb (./quickstart check builds it with
dpkg-buildpackage). The test installs it with dpkg into a chroot of this
machine's own system: an overlay over / in a mount namespace of the test's
own (unshare -m), so the packages the package needs are there and nothing
it does (the flowpush user, /etc/flowpush, unit symlinks) reaches the real
system. Then, in order:

- the programs, pages, server configurations, units and logrotate snippet
  are where docs/DEPLOY.md says; the config has a fresh secret and data
  key and names sockets under /run/flowpush; `flowpush check` passes;
- the systemd units pass `systemd-analyze verify` (which fails on a unit
  whose program is missing), and their ExecStart lines, run as the units
  say (user, group, environment, RuntimeDirectory), serve the installed
  pages through nginx whose workers run as www-data: pages, the API, the
  daemon's health, and an event from an API write over SSE;
- installing the same package again keeps the config byte for byte;
- purging removes the config, the database and the units.

It needs root, unshare and overlayfs; where one is missing it says so on
a skip line. Ends with "N passed, N failed"."""

import grp
import http.client
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True

IN_NS = "FLOWPUSH_TEST_DEB_IN_NAMESPACE"
DEB = os.environ.get("FLOWPUSH_DEB", "")
CONF = "/etc/flowpush/flowpush.conf"
UNITS = ("flowpushd.service", "flowpush-fcgi.service")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SRC = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests"))
from freeport import free_port  # noqa: E402

BASE = None          # a tmpfs holding the overlay's layers and the chroot
ROOT = None          # the chroot, set by setUpModule
PROCS = []           # processes started in it, stopped by PID at the end


def run(argv, user=None, env=None, check=True, timeout=120):
    """Runs argv inside the chroot (as user, with only env and PATH) and
    returns the CompletedProcess (text)."""
    cmd = ["chroot", ROOT]
    if user is not None:
        cmd += ["setpriv", "--reuid=" + user, "--regid=" + user,
                "--init-groups", "--"]
    full_env = {"PATH": PATH, "LANG": "C.UTF-8"}
    full_env.update(env or {})
    cmd += ["env", "-i"] + ["%s=%s" % kv for kv in full_env.items()]
    cmd += list(argv)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (
            " ".join(argv), out.returncode, out.stdout, out.stderr))
    return out


def host_path(path):
    """The chroot's path as seen from the test."""
    return os.path.join(ROOT, path.lstrip("/"))


def read(path, mode="r"):
    with open(host_path(path), mode) as f:
        return f.read()


def conf_values():
    values = {}
    for line in read(CONF).splitlines():
        m = re.match(r"^\s*([a-z_]+)\s*=\s*(.*?)\s*$", line)
        if m:
            values[m.group(1)] = m.group(2)
    return values


def chroot_passwd(name):
    """(uid, gid) of a user in the chroot's /etc/passwd."""
    for line in read("/etc/passwd").splitlines():
        f = line.split(":")
        if f[0] == name:
            return int(f[2]), int(f[3])
    raise AssertionError("no user %s in the chroot" % name)


def chroot_group_members(name):
    for line in read("/etc/group").splitlines():
        f = line.split(":")
        if f[0] == name:
            return int(f[2]), [m for m in f[3].split(",") if m]
    raise AssertionError("no group %s in the chroot" % name)


def unit_service(name):
    """The [Service] section of an installed unit: key -> list of values."""
    section, out = None, {}
    for line in read("/lib/systemd/system/" + name).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def start_unit(name):
    """Starts a unit's ExecStart inside the chroot the way systemd does for
    these units: RuntimeDirectory made with its mode for User:Group, the
    Environment lines, the user with its groups. Returns the Popen."""
    svc = unit_service(name)
    user, group = svc["User"][0], svc["Group"][0]
    uid, _ = chroot_passwd(user)
    gid, _ = chroot_group_members(group)
    for key, mode_key in (("RuntimeDirectory", "RuntimeDirectoryMode"),
                          ("LogsDirectory", "LogsDirectoryMode")):
        base = "/run" if key == "RuntimeDirectory" else "/var/log"
        for d in svc.get(key, []):
            path = host_path(os.path.join(base, d))
            os.makedirs(path, exist_ok=True)
            os.chown(path, uid, gid)
            os.chmod(path, int(svc.get(mode_key, ["0755"])[0], 8))
    env = {"PATH": PATH}
    for e in svc.get("Environment", []):
        k, v = e.split("=", 1)
        env[k] = v
    argv = shlex.split(svc["ExecStart"][0])
    cmd = ["chroot", ROOT, "setpriv", "--reuid=" + user, "--regid=" + group,
           "--init-groups", "--", "env", "-i"]
    cmd += ["%s=%s" % kv for kv in env.items()] + argv
    with open(os.path.join(ROOT, "tmp", name + ".log"), "wb") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p


def wait_socket(path, proc, what, timeout=20.0):
    """Waits until the stream socket at path (in the chroot) accepts."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (
                what, proc.returncode, tail_log(what)))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(host_path(path))
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise AssertionError("%s never listened on %s:\n%s" % (
        what, path, tail_log(what)))


def tail_log(name):
    try:
        with open(os.path.join(ROOT, "tmp", name + ".log"), "rb") as f:
            return f.read()[-3000:].decode("utf-8", "replace")
    except OSError:
        return ""


def stop_all():
    for p in reversed(PROCS):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    PROCS.clear()


def setUpModule():
    global BASE, ROOT
    BASE = base = tempfile.mkdtemp(prefix="fp-deb-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "fp-deb", base],
                   check=True, timeout=30)
    for d in ("upper", "work", "root"):
        os.mkdir(os.path.join(base, d))
    ROOT = os.path.join(base, "root")
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    "lowerdir=/,upperdir=%s/upper,workdir=%s/work" % (base, base),
                    ROOT], check=True, timeout=30)
    subprocess.run(["mount", "-t", "proc", "proc", host_path("/proc")],
                   check=True, timeout=30)
    subprocess.run(["mount", "--bind", "/dev", host_path("/dev")],
                   check=True, timeout=30)
    # A /run without /run/systemd/system: the package's scripts see no
    # running systemd and only enable the units, as in an image build.
    for d in ("/run", "/tmp"):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "fp-deb",
                        host_path(d)], check=True, timeout=30)
    os.chmod(host_path("/run"), 0o755)
    shutil.copy(DEB, host_path("/tmp/flowpush.deb"))
    # This machine's own system, without flowpush (were it installed here).
    run(["dpkg", "--purge", "flowpush"], check=False)
    out = run(["dpkg", "-i", "/tmp/flowpush.deb"])
    print(out.stdout.strip())


def tearDownModule():
    stop_all()
    if BASE is not None:
        subprocess.run(["umount", "-R", "-l", BASE], timeout=30)
        os.rmdir(BASE)


class DebTest(unittest.TestCase):
    """One package through its life: install, serve, reinstall, purge
    (the tests run in the order of their names)."""

    def test_1_files_are_where_the_docs_say(self):
        for path in ("/usr/bin/flowpush", "/usr/sbin/flowpushd",
                     "/usr/lib/flowpush/flowpush.fcgi",
                     "/usr/share/flowpush/deploy/render"):
            st = os.stat(host_path(path))
            self.assertTrue(st.st_mode & stat.S_IXOTH, path)
        for path in ("/usr/share/flowpush/www/index.html",
                     "/usr/share/flowpush/deploy/nginx.conf.in",
                     "/usr/share/flowpush/deploy/apache/flowpush.conf.in",
                     "/usr/share/flowpush/deploy/errors/status-502.html",
                     "/usr/share/doc/flowpush/DEPLOY.md.gz",
                     "/etc/logrotate.d/flowpush"):
            self.assertTrue(os.path.isfile(host_path(path)), path)
        out = run(["flowpush", "help"])
        self.assertIn("usage: flowpush", out.stdout + out.stderr)
        # The programs the package installs are the ones it names.
        listed = run(["dpkg", "-L", "flowpush"]).stdout.split()
        for path in ("/usr/sbin/flowpushd", "/usr/lib/flowpush/flowpush.fcgi",
                     "/lib/systemd/system/flowpushd.service"):
            self.assertIn(path, listed)
        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}",
                         "flowpush"]).stdout
        self.assertIn("/etc/logrotate.d/flowpush", conffiles)
        if shutil.which("logrotate"):
            run(["logrotate", "-d", "/etc/logrotate.d/flowpush"])

    def test_1_the_version_is_configure_s(self):
        with open(os.path.join(SRC, "configure.ac"), encoding="utf-8") as f:
            m = re.search(r"AC_INIT\(\[flowpush\], \[([^]]+)\]", f.read())
        version = run(["dpkg-query", "-W", "-f=${Version}", "flowpush"]).stdout
        self.assertEqual(version, m.group(1))

    def test_2_the_config_is_fresh_private_and_names_run_flowpush(self):
        uid, gid = chroot_passwd("flowpush")
        self.assertLess(uid, 1000, "flowpush is a system user")
        st = os.stat(host_path(CONF))
        self.assertEqual((st.st_uid, st.st_gid), (uid, gid))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        v = conf_values()
        self.assertRegex(v["secret"], r"^[0-9a-f]{64}$")
        self.assertRegex(v["data_key"], r"^[0-9a-f]{64}$")
        self.assertNotEqual(v["secret"], v["data_key"])
        self.assertEqual(v["doorbell"], "/run/flowpush/doorbell.sock")
        self.assertEqual(v["push_listen"], "unix:/run/flowpush/push.sock")
        self.assertEqual(v["database"], "/var/lib/flowpush/flowpush.db")
        st = os.stat(host_path("/var/lib/flowpush/flowpush.db"))
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (uid, 0o660))
        out = run(["flowpush", "check"], user="flowpush",
                  env={"FLOWPUSH_CONFIG": CONF})
        self.assertNotIn("FAIL", out.stdout)
        # The web server's user reaches /run/flowpush through the group.
        _, members = chroot_group_members("flowpush")
        self.assertIn("www-data", members)

    def test_3_units_are_installed_enabled_and_verify(self):
        for unit in UNITS:
            text = read("/lib/systemd/system/" + unit)
            self.assertNotRegex(text, r"(?m)^[^#]*/usr/local", unit)
            svc = unit_service(unit)
            self.assertEqual(svc["RuntimeDirectory"], ["flowpush"], unit)
            self.assertEqual(svc["RuntimeDirectoryMode"], ["0750"], unit)
            self.assertEqual(svc["RuntimeDirectoryPreserve"], ["yes"], unit)
            self.assertIn("FLOWPUSH_CONFIG=" + CONF, svc["Environment"])
            self.assertTrue(os.path.islink(host_path(
                "/etc/systemd/system/multi-user.target.wants/" + unit)), unit)
        if not shutil.which("systemd-analyze"):
            self.skipTest("no systemd-analyze here")
        run(["systemd-analyze", "verify"] +
            ["/lib/systemd/system/" + u for u in UNITS])
        # verify does look at the programs: a unit whose program is not
        # there fails it.
        with open(host_path("/tmp/fp-broken.service"), "w") as f:
            f.write(read("/lib/systemd/system/flowpushd.service").replace(
                "/usr/sbin/flowpushd", "/usr/sbin/flowpushd-not-there"))
        out = run(["systemd-analyze", "verify", "/tmp/fp-broken.service"],
                  check=False)
        self.assertNotEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_4_the_units_serve_through_nginx_as_www_data(self):
        if not shutil.which("nginx"):
            self.skipTest("no nginx here")
        pushd = start_unit("flowpushd.service")
        wait_socket("/run/flowpush/push.sock", pushd, "flowpushd.service")
        fcgi = start_unit("flowpush-fcgi.service")
        wait_socket("/run/flowpush/fcgi.sock", fcgi, "flowpush-fcgi.service")
        uid, gid = chroot_passwd("flowpush")
        st = os.stat(host_path("/run/flowpush"))
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (uid, gid, 0o750))
        for name in ("push.sock", "fcgi.sock", "doorbell.sock"):
            st = os.stat(host_path("/run/flowpush/" + name))
            self.assertTrue(stat.S_ISSOCK(st.st_mode), name)
            self.assertEqual(st.st_gid, gid, name)

        port = free_port()
        state = "/tmp/fp-nginx"
        www_uid, www_gid = chroot_passwd("www-data")
        for d in ("", "/logs", "/nginx-tmp"):
            os.makedirs(host_path(state + d), exist_ok=True)
            os.chown(host_path(state + d), www_uid, www_gid)
        v = conf_values()
        rendered = run(["/usr/share/flowpush/deploy/render",
                        "/usr/share/flowpush/deploy/nginx.conf.in",
                        "USER_LINE=user www-data;", "WORKERS=1",
                        "NOFILE=1024", "CONNECTIONS=512", "STATE=" + state,
                        "DAEMON=off", "MIME_TYPES=/etc/nginx/mime.types",
                        "LISTEN=127.0.0.1", "PORT=%d" % port,
                        "WWW=/usr/share/flowpush/www",
                        "CLIENT_MAX_BODY=%d" % (int(v["body_limit"]) + 65536),
                        "FCGI_SOCKET=/run/flowpush/fcgi.sock",
                        "PUSH_UPSTREAM=unix:/run/flowpush/push.sock"]).stdout
        with open(host_path(state + "/nginx.conf"), "w") as f:
            f.write(rendered)
        with open(os.path.join(ROOT, "tmp", "nginx.log"), "wb") as log:
            nginx = subprocess.Popen(
                ["chroot", ROOT, "nginx", "-c", state + "/nginx.conf",
                 "-e", state + "/logs/nginx-error.log"],
                stdout=log, stderr=subprocess.STDOUT)
        PROCS.append(nginx)
        self.wait_http(port, nginx)

        status, body = self.get(port, "/")
        self.assertEqual(status, 200)
        self.assertIn(b"<html", body.lower())
        status, body = self.get(port, "/api/dashboard")
        self.assertEqual(status, 200, body)
        seq = json.loads(body)["seq"]
        status, body = self.get(port, "/push/health")
        self.assertEqual(status, 200, body)

        # An API write reaches a subscriber over SSE: flowpush.fcgi and
        # flowpushd work together as the units run them.
        status, body = self.get(port, "/api/token?topics=keyword-sets")
        self.assertEqual(status, 200, body)
        token = json.loads(body)["token"]
        sse = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # since= the dashboard's seq: the write below is delivered even
        # when it commits before the subscription is in place.
        sse.request("GET", "/push/events?topics=keyword-sets&since=%d&token=%s"
                    % (seq, token))
        resp = sse.getresponse()
        self.assertEqual(resp.status, 200)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/keyword-sets",
                     body=json.dumps({"name": "from the package"}),
                     headers={"Content-Type": "application/json"})
        created = conn.getresponse()
        body = created.read()
        self.assertEqual(created.status, 201, body)
        rid = json.loads(body)["id"]
        end = time.monotonic() + 20
        while time.monotonic() < end:
            line = resp.readline().decode("utf-8", "replace")
            if line.startswith("data:"):
                event = json.loads(line[5:])
                if event.get("id") == rid:
                    self.assertEqual(event["action"], "created")
                    break
        else:
            self.fail("no event for the record created through the API")
        sse.close()
        conn.close()

    def test_5_installing_again_keeps_the_config_byte_for_byte(self):
        before = read(CONF, "rb")
        db = os.stat(host_path("/var/lib/flowpush/flowpush.db"))
        run(["dpkg", "-i", "/tmp/flowpush.deb"])
        self.assertEqual(read(CONF, "rb"), before)
        self.assertEqual(os.stat(host_path(
            "/var/lib/flowpush/flowpush.db")).st_ino, db.st_ino)
        _, members = chroot_group_members("flowpush")
        self.assertEqual(members.count("www-data"), 1)
        run(["flowpush", "check"], user="flowpush",
            env={"FLOWPUSH_CONFIG": CONF})

    def test_6_purge_removes_config_data_and_units(self):
        stop_all()
        run(["dpkg", "--purge", "flowpush"])
        for path in (CONF, "/var/lib/flowpush", "/usr/sbin/flowpushd",
                     "/lib/systemd/system/flowpushd.service",
                     "/etc/systemd/system/multi-user.target.wants/"
                     "flowpushd.service"):
            self.assertFalse(os.path.lexists(host_path(path)), path)

    def wait_http(self, port, proc, timeout=20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                self.fail("nginx exited: " + tail_log("nginx"))
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.fail("nginx never listened: " + tail_log("nginx"))

    def get(self, port, path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


def skip(why):
    print("skip: " + why)
    print("0 passed, 0 failed, 1 skipped")
    return 0


def main():
    prog = unittest.main(module=__name__, exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses)
    skipped = len(r.skipped)
    passed = max(0, r.testsRun - failed - skipped)
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    sys.stdout.flush()
    print(line, flush=True)
    return 1 if failed or r.testsRun == 0 else 0


def in_namespace():
    """Runs this file again inside a mount namespace of its own, where it
    may mount the overlay."""
    if not DEB or not os.path.isfile(DEB):
        return skip("FLOWPUSH_DEB names no package (%r); ./quickstart check "
                    "builds one" % DEB)
    if os.geteuid() != 0:
        return skip("installing a package into a chroot needs root")
    for tool in ("unshare", "chroot", "dpkg", "setpriv"):
        if shutil.which(tool) is None:
            return skip("no %s here" % tool)
    env = dict(os.environ, **{IN_NS: "1", "FLOWPUSH_DEB": os.path.abspath(DEB)})
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "d=$(mktemp -d) && mount -t tmpfs x \"$d\" && mkdir \"$d/u\" "
         "\"$d/w\" \"$d/r\" && mount -t overlay overlay -o lowerdir=/,"
         "upperdir=\"$d/u\",workdir=\"$d/w\" \"$d/r\" && umount \"$d/r\" && "
         "umount \"$d\" && rmdir \"$d\""],
        capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return skip("no mount namespace with an overlay of / here (%s)"
                    % probe.stderr.strip()[:200])
    return subprocess.run(["unshare", "-m", "--propagation", "private",
                           sys.executable, os.path.abspath(__file__)]
                          + sys.argv[1:], env=env, timeout=900).returncode


if __name__ == "__main__":
    if os.environ.get(IN_NS):
        sys.exit(main())
    sys.exit(in_namespace())
