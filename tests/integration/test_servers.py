#!/usr/bin/python3
"""test_servers.py - the Apache (mod_proxy_fcgi, mod_fcgid, mod_cgid) and lighttpd configurations of deploy/, run as they are with the real programs.

Each configuration is rendered by deploy/render into a temporary state
folder and served by a private server instance on a free loopback port (the
system's own configuration and services are never touched). A server that is
not installed is skipped. For each one: the API answers JSON through it, a
same-origin write passes, a foreign one is refused, bodies over the limits
answer 413 as JSON, a failed form posted without JavaScript gets the API's
own "Not saved" page, SSE and WebSocket events arrive through its push proxy
as they happen, and an error of the server itself is JSON.
"""

import asyncio
import http.client
import json
import os
import pwd
import re
import grp
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from push_headers import PushHeaderChecks  # noqa: E402
from stack import (SRC, Stack, StackError, _live_stacks, _tcp_open, _unix_open, raw_request,  # noqa: E402
                   free_port, run_unittest_main)

try:
    import websockets
except ImportError:  # python3-websockets is one of quickstart's packages
    websockets = None

RENDER = os.path.join(SRC, "deploy", "render")
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
FCGID_SO = "/usr/lib/apache2/modules/mod_fcgid.so"
ROOT = os.geteuid() == 0


def render(template, out, **values):
    r = subprocess.run([RENDER, os.path.join(SRC, "deploy", template)]
                       + ["%s=%s" % kv for kv in values.items()],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise StackError("deploy/render %s: %s" % (template, r.stderr))
    with open(out, "w", encoding="utf-8") as f:
        f.write(r.stdout)


class ServerStack(Stack):
    """The programs of Stack (config, database, flowpushd) behind Apache or
    lighttpd instead of nginx."""

    def __init__(self, server, mode=None, values=None, **kw):
        super().__init__(**kw)
        self.server = server
        self.mode = mode
        # More NAME=VALUE for the site's template (MONITOR_ALLOW, ...).
        self.values = dict(values or {})

    def start(self):
        for prog in ("flowpush", "flowpush.fcgi"):
            if not os.access(os.path.join(self.build, prog), os.X_OK):
                raise StackError("%s/%s is not built" % (self.build, prog))
        import tempfile
        self.state = tempfile.mkdtemp(prefix="fp-srv-")
        for d in ("logs", "tmp", "fcgid", "www", "bin", "deploy"):
            os.makedirs(os.path.join(self.state, d))
        # The server's workers may run as another user than this checkout's
        # owner: give them copies they can read, in a folder they may enter.
        shutil.copytree(os.path.join(SRC, "deploy", "errors"),
                        os.path.join(self.state, "deploy", "errors"))
        shutil.copy2(os.path.join(self.build, "flowpush.fcgi"), os.path.join(self.state, "bin"))
        with open(os.path.join(self.state, "www", "index.html"), "w") as f:
            f.write("<!doctype html><title>flowpush</title>\n")
        self.port = free_port()
        self.push_port = free_port()
        _live_stacks.append(self)
        try:
            self._init_db()
            if ROOT and self.server == "apache":
                uid = pwd.getpwnam("www-data").pw_uid
                gid = grp.getgrnam("www-data").gr_gid
                for top, dirs, files in os.walk(self.state):
                    for n in [top] + [os.path.join(top, x) for x in dirs + files]:
                        os.chown(n, uid, gid)
            os.chmod(self.state, 0o755)
            if self.push:
                self.start_push()
            if self.server == "apache":
                self._start_apache()
            else:
                self._start_lighttpd()
        except BaseException:
            self.stop()
            raise
        return self

    def common(self):
        return {
            "LISTEN": "127.0.0.1", "PORT": str(self.port), "WWW": os.path.join(self.state, "www"),
            "CLIENT_MAX_BODY": str(self.body_limit() + 65536),
            "DEPLOY": os.path.join(self.state, "deploy"),
            "BINDIR": os.path.join(self.state, "bin"), "CONFIG": self.config,
            "PUSH_HOST": "127.0.0.1", "PUSH_PORT": str(self.push_port),
        }

    def _start_apache(self):
        site = os.path.join(self.state, "site.conf")
        v = self.common()
        v.update(SERVER_NAME="127.0.0.1", FCGI_SOCKET=self.socket_path,
                 BODY_LIMIT=str(self.body_limit()))
        v.update(self.values)
        render("apache/flowpush.conf.in", site, **v)
        self.edit_site(site)
        main = os.path.join(self.state, "httpd.conf")
        render("apache/httpd.conf.in", main, STATE=self.state, LISTEN="127.0.0.1",
               PORT=str(self.port), SERVER_NAME="127.0.0.1", SITE=site,
               USER_LINE="User www-data\nGroup www-data" if ROOT else "")
        if self.mode == "FLOWPUSH_PROXY_FCGI":
            self.start_fcgi()
        self.edit_main(main)
        argv = [APACHE, "-f", main, "-D", self.mode, "-D", "FOREGROUND"]
        check = subprocess.run(argv[:3] + ["-D", self.mode, "-t"], capture_output=True, text=True,
                               env=self.env())
        if check.returncode != 0:
            raise StackError("apache2 -t: " + check.stderr)
        self._start("apache", argv)
        self._wait("apache", lambda: _tcp_open(self.port))

    def edit_site(self, path):
        """Changes the rendered Apache site before the server starts, as
        an operator would (HTTP authentication): nothing here."""

    def edit_main(self, path):
        """The same for Apache's main configuration."""

    def start_fcgi(self):
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        argv = ["spawn-fcgi", "-n", "-s", self.socket_path, "-M", "0660"]
        if ROOT:
            argv += ["-U", "www-data", "-G", "www-data", "-u", "www-data", "-g", "www-data"]
        self._start("flowpush.fcgi", argv + ["--", os.path.join(self.state, "bin", "flowpush.fcgi")])
        self._wait("flowpush.fcgi", lambda: _unix_open(self.socket_path))

    def _start_lighttpd(self):
        conf = os.path.join(self.state, "lighttpd.conf")
        v = self.common()
        del v["CLIENT_MAX_BODY"]
        v.update(STATE=self.state, USER_LINE="", NOFILE="20000", CONNECTIONS="8192",
                 CLIENT_MAX_BODY_KB=str((self.body_limit() + 65536) // 1024))
        v.update(self.values)
        render("lighttpd/flowpush.conf.in", conf, **v)
        check = subprocess.run([LIGHTTPD, "-tt", "-f", conf], capture_output=True, text=True)
        if check.returncode != 0:
            raise StackError("lighttpd -tt: " + check.stderr + check.stdout)
        self._start("lighttpd", [LIGHTTPD, "-D", "-f", conf])
        self._wait("lighttpd", lambda: _tcp_open(self.port))
        # lighttpd starts flowpush.fcgi itself (bin-path) on its socket,
        # whose name it suffixes with the process number.
        self._wait("lighttpd", lambda: _unix_open(self.socket_path + "-0")
                   or _unix_open(self.socket_path))


def token(st, topics):
    status, _, body = st.json("GET", "/api/token?" + urllib.parse.urlencode({"topics": topics}))
    assert status == 200, body
    return body["token"]


def assert_failure_page(case, st):
    """A failed form posted without JavaScript gets the API's own "Not
    saved" page through the server, not one of the server's error pages."""
    form = urllib.parse.urlencode({"_form": "ks-form", "_redirect": "/keyword-sets.html",
                                   "name": "", "description": "<b>typed</b>"})
    status, headers, body = st.request("POST", "/api/keyword-sets", form,
                                       {"Content-Type": "application/x-www-form-urlencoded",
                                        "Origin": st.url})
    case.assertEqual(status, 422, body)
    case.assertEqual(headers.get("content-type"), "text/html; charset=utf-8")
    text = body.decode("utf-8")
    case.assertIn("<title>Not saved", text)
    case.assertIn('data-code="validation_failed"', text)
    case.assertIn('<li data-path="name">', text)
    case.assertNotIn("<b>", text)
    # The servers have error pages of their own for 400 and 500: the
    # API's page passes them too.
    status, headers, body = st.request(
        "POST", "/api/keyword-sets/00000000-0000-4000-8000-000000000000",
        "_method=GET", {"Content-Type": "application/x-www-form-urlencoded", "Origin": st.url})
    case.assertEqual(status, 400, body)
    case.assertEqual(headers.get("content-type"), "text/html; charset=utf-8")
    case.assertIn(b'data-code="bad_form"', body)


def current_seq(st):
    status, _, body = st.json("GET", "/api/keyword-sets?limit=1")
    assert status == 200, body
    return body["seq"]


METRIC_LINE = re.compile(r'^([a-z_]+)\{(.*)\} ([0-9.]+)$')
METRIC_LABEL = re.compile(r'([a-z_]+)="([^"]*)"')


def scrape(st, source=None):
    """GET /api/metrics through the server, from source (an address on
    this host) or 127.0.0.1. Returns (status, headers, {(name, labels):
    value}) with labels a frozenset of (key, value)."""
    c = http.client.HTTPConnection("127.0.0.1", st.port, timeout=30,
                                   source_address=(source, 0) if source else None)
    try:
        c.request("GET", "/api/metrics")
        r = c.getresponse()
        text = r.read().decode("utf-8")
        headers = {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()
    values = {}
    if r.status == 200:
        for line in text.splitlines():
            m = METRIC_LINE.match(line)
            if m:
                labels = frozenset(METRIC_LABEL.findall(m.group(2)))
                values[(m.group(1), labels)] = float(m.group(3))
    return r.status, headers, values if r.status == 200 else text


def metric(values, name, **labels):
    return values.get((name, frozenset(labels.items())), 0)


class MetricsChecks:
    """/api/metrics through a server: counts from every process of the
    API, and open to this host only. self.st is the running stack."""

    def test_api_metrics_count_requests_errors_and_latency_by_route(self):
        status, headers, before = scrape(self.st)
        self.assertEqual(status, 200, before)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        for _ in range(3):
            status, _, _ = self.st.request("GET", "/api/keyword-sets?limit=1")
            self.assertEqual(status, 200)
        missing = "/api/keyword-sets/" + str(uuid.uuid4())
        for _ in range(2):
            status, _, _ = self.st.request("GET", missing)
            self.assertEqual(status, 404)
        status, _, _ = self.st.request("POST", "/api/keyword-sets", {"name": ""},
                                       {"Origin": self.st.url})
        self.assertEqual(status, 422)
        _, _, after = scrape(self.st)
        coll = {"route": "/api/{c}", "method": "GET"}
        rec = {"route": "/api/{c}/{id}", "method": "GET"}
        post = {"route": "/api/{c}", "method": "POST"}

        def moved(name, **labels):
            return metric(after, name, **labels) - metric(before, name, **labels)
        self.assertEqual(moved("flowpush_api_requests_total", status="200", **coll), 3)
        self.assertEqual(moved("flowpush_api_requests_total", status="404", **rec), 2)
        self.assertEqual(moved("flowpush_api_requests_total", status="422", **post), 1)
        self.assertEqual(moved("flowpush_api_errors_total", **rec, **{"class": "client"}), 2)
        self.assertEqual(moved("flowpush_api_errors_total", **post, **{"class": "client"}), 1)
        self.assertEqual(moved("flowpush_api_errors_total", **coll, **{"class": "client"}), 0)
        self.assertEqual(moved("flowpush_api_request_ms_count", **coll), 3)
        self.assertEqual(moved("flowpush_api_request_ms_bucket", le="+Inf", **coll), 3)
        self.assertGreater(moved("flowpush_api_request_ms_sum", **coll), 0)
        # Unmatched paths count too, under a route of their own.
        status, _, _ = self.st.request("GET", "/api/no-such-thing")
        self.assertEqual(status, 404)
        _, _, last = scrape(self.st)
        self.assertEqual(metric(last, "flowpush_api_requests_total", route="unmatched",
                                method="*", status="404")
                         - metric(after, "flowpush_api_requests_total", route="unmatched",
                                  method="*", status="404"), 1)

    def test_api_metrics_are_refused_to_other_addresses(self):
        # 127.0.0.2 is this host too, but not the address the recipes
        # allow: it stands for any client elsewhere.
        status, headers, text = scrape(self.st, source="127.0.0.2")
        self.assertEqual(status, 403, text)
        self.assertNotIn("flowpush_api", text)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), text)
        self.assertEqual(json.loads(text)["error"]["status"], 403)
        # The rest of the API stays open to it.
        c = http.client.HTTPConnection("127.0.0.1", self.st.port, timeout=30,
                                       source_address=("127.0.0.2", 0))
        try:
            c.request("GET", "/api/keyword-sets?limit=1")
            self.assertEqual(c.getresponse().status, 200)
        finally:
            c.close()


class NginxMetricsTest(MetricsChecks, unittest.TestCase):
    """deploy/nginx.conf.in (as Stack renders it) with spawn-fcgi."""

    st = None

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(push=False).start()

    @classmethod
    def tearDownClass(cls):
        if cls.st is not None:
            cls.st.stop()

    def test_api_metrics_add_up_the_requests_of_every_process(self):
        # The FastCGI process keeps the counters mapped; a second
        # process, the same program run as plain CGI, counts into the
        # same file, and the scrape through nginx shows both.
        _, _, before = scrape(self.st)
        self.st.request("GET", "/api/keyword-sets/" + str(uuid.uuid4()))
        env = self.st.env()
        env.update(REQUEST_METHOD="GET", QUERY_STRING="", SERVER_NAME="127.0.0.1",
                   REQUEST_URI="/api/keyword-sets/" + str(uuid.uuid4()))
        r = subprocess.run([os.path.join(self.st.build, "flowpush.fcgi")],
                           stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           timeout=30)
        self.assertIn(b"Status: 404", r.stdout)
        _, _, after = scrape(self.st)
        labels = {"route": "/api/{c}/{id}", "method": "GET", "status": "404"}
        self.assertEqual(metric(after, "flowpush_api_requests_total", **labels)
                         - metric(before, "flowpush_api_requests_total", **labels), 2)


class ServerChecks(MetricsChecks, PushHeaderChecks):
    """The checks every server configuration must pass; a subclass names
    the server (SERVER, MODE) and whether it can be run here (available)."""

    SERVER = None
    MODE = None
    st = None

    @classmethod
    def available(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        why = cls.available()
        if why:
            raise unittest.SkipTest(why)
        cls.st = ServerStack(cls.SERVER, cls.MODE)
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        if cls.st is not None:
            cls.st.stop()

    def assertJsonError(self, status, headers, body, want):
        self.assertEqual(status, want, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        "a %d answer is %r, not JSON: %r" % (status, headers.get("content-type"), body))
        self.assertEqual(body["error"]["status"], want)

    def test_the_api_answers_json_through_the_server(self):
        status, headers, body = self.st.json("GET", "/api/keyword-sets?limit=2")
        self.assertEqual(status, 200, body)
        self.assertIn("items", body)
        status, headers, body = self.st.json("GET", "/api/no-such-collection")
        self.assertJsonError(status, headers, body, 404)

    def test_a_same_origin_write_passes_and_a_foreign_one_is_refused(self):
        name = "srv-" + uuid.uuid4().hex[:10]
        status, headers, rec = self.st.json("POST", "/api/keyword-sets", {"name": name},
                                            {"Origin": self.st.url})
        self.assertEqual(status, 201, rec)
        status, headers, got = self.st.json("GET", "/api/keyword-sets/" + rec["id"])
        self.assertEqual(status, 200, got)
        self.assertEqual(headers.get("etag"), '"1"')
        status, headers, body = self.st.json("POST", "/api/keyword-sets", {"name": name + "x"},
                                             {"Origin": "http://evil.example"})
        self.assertJsonError(status, headers, body, 403)

    def test_a_failed_form_without_javascript_gets_the_not_saved_page(self):
        assert_failure_page(self, self.st)

    def PORT(self):
        return self.st.port

    def stack(self):
        return self.st

    def test_a_uri_too_long_is_a_414_json_error(self):
        status, headers, body = raw_request(self.PORT(), (
            "GET /api/keyword-sets?q=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Connection: close\r\n\r\n" % ("x" * 20000)).encode())
        # lighttpd counts the request line with the headers: 431.
        self.assertJsonError(status, headers, body,
                             431 if status == 431 else 414)

    def test_a_malformed_request_is_a_400_json_error(self):
        status, headers, body = raw_request(self.PORT(), (
            b"GET /api/keyword-sets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"this line is no header\r\nConnection: close\r\n\r\n"))
        self.assertJsonError(status, headers, body, 400)

    def test_a_body_just_over_the_limit_is_the_apis_413(self):
        big = json.dumps({"name": "x", "description": "d" * (self.st.body_limit() + 10)})
        status, headers, body = self.st.json("POST", "/api/keyword-sets", big,
                                             {"Content-Type": "application/json"})
        self.assertJsonError(status, headers, body, 413)

    def test_a_body_far_over_the_limit_is_a_413_json_error(self):
        big = b'{"name":"' + b"x" * (self.st.body_limit() * 2) + b'"}'
        status, headers, body = self.st.json("POST", "/api/keyword-sets", big,
                                             {"Content-Type": "application/json"})
        self.assertJsonError(status, headers, body, 413)

    def test_sse_events_arrive_through_the_server_as_they_happen(self):
        if not self.st.push:
            self.skipTest("flowpushd is not built")
        since = current_seq(self.st)
        conn = http.client.HTTPConnection("127.0.0.1", self.st.port, timeout=10)
        try:
            conn.request("GET", "/push/events?" + urllib.parse.urlencode(
                {"since": since, "topics": "keyword-sets", "token": token(self.st, "keyword-sets")}))
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertTrue(r.getheader("Content-Type", "").startswith("text/event-stream"))
            _, _, rec = self.st.json("POST", "/api/keyword-sets",
                                     {"name": "sse-" + uuid.uuid4().hex[:10]})
            deadline = time.monotonic() + 8
            buf = b""
            while time.monotonic() < deadline:
                line = r.fp.readline()
                if not line:
                    break
                buf += line
                if rec["id"].encode() in buf and buf.endswith(b"\n\n"):
                    break
            self.assertIn(rec["id"].encode(), buf,
                          "the event never came through the server (buffered?): %r" % buf[-300:])
        finally:
            conn.close()

    def test_websocket_events_arrive_through_the_server(self):
        if not self.st.push:
            self.skipTest("flowpushd is not built")
        if websockets is None:
            self.skipTest("python3-websockets is not installed")
        since = current_seq(self.st)
        url = "ws://127.0.0.1:%d/push/ws?%s" % (self.st.port, urllib.parse.urlencode(
            {"since": since, "topics": "keyword-sets", "token": token(self.st, "keyword-sets")}))
        st = self.st

        async def go():
            async with websockets.connect(url, origin=st.url, open_timeout=10) as ws:
                _, _, rec = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: st.json("POST", "/api/keyword-sets",
                                          {"name": "ws-" + uuid.uuid4().hex[:10]}))
                while True:
                    ev = json.loads(await asyncio.wait_for(ws.recv(), 8))
                    if ev.get("id") == rec["id"]:
                        return ev

        ev = asyncio.run(go())
        self.assertEqual(ev["action"], "created")
        self.assertEqual(ev["topic"], "keyword-sets")

    def test_the_push_path_without_the_daemon_is_a_json_error(self):
        if not self.st.push:
            self.skipTest("flowpushd is not built")
        try:
            self.st.stop_process("flowpushd")
            status, headers, body = self.st.json("GET", "/push/health")
            self.assertIn(status, (502, 503))
            self.assertJsonError(status, headers, body, status)
        finally:
            self.st.start_push()
            # A server may keep a backend marked down for a moment after a
            # failed connection (lighttpd does): wait until it is back.
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if self.st.request("GET", "/push/health")[0] == 200:
                    break
                time.sleep(0.2)


SHARED_HOST_CONF = """
ServerRoot "/etc/apache2"
PidFile "{state}/apache.pid"
DefaultRuntimeDir "{state}"
ErrorLog "{state}/logs/apache-error.log"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
{user}
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
ScriptSock "{state}/cgid.sock"
TypesConfig /etc/mime.types
<Directory />
\tAllowOverride None
\tRequire all denied
</Directory>
# What a typical shared host allows in a user's web root.
DocumentRoot "{state}/public_html"
<Directory "{state}/public_html">
\tAllowOverride All
\tOptions +ExecCGI
\tAddHandler cgi-script .cgi
\tRequire all granted
</Directory>
"""


class SharedHostingTest(MetricsChecks, unittest.TestCase):
    """deploy/shared-hosting as the recipe in docs/DEPLOY.md lays it out:
    .htaccess + CGI wrapper on an Apache that only allows overrides."""

    st = None

    @classmethod
    def setUpClass(cls):
        why = apache_missing()
        if why:
            raise unittest.SkipTest(why)
        cls.st = st = Stack(push=False)
        import tempfile
        st.state = tempfile.mkdtemp(prefix="fp-shared-")
        st.port = free_port()
        st.push_port = free_port()
        _live_stacks.append(st)
        try:
            pub = os.path.join(st.state, "public_html")
            os.makedirs(os.path.join(pub, "cgi-bin"))
            os.makedirs(os.path.join(st.state, "logs"))
            shutil.copytree(os.path.join(SRC, "deploy", "errors"), os.path.join(pub, "_errors"))
            shutil.copy2(os.path.join(SRC, "deploy", "shared-hosting", "htaccess"),
                         os.path.join(pub, ".htaccess"))
            with open(os.path.join(pub, "index.html"), "w") as f:
                f.write("<!doctype html><title>flowpush</title>\n")
            shutil.copy2(os.path.join(st.build, "flowpush.fcgi"), st.state)
            with open(os.path.join(SRC, "deploy", "shared-hosting", "flowpush.cgi")) as f:
                wrapper = f.read()
            # Files that must never be served, should they land here.
            for name in ("stray.db", "stray.conf"):
                with open(os.path.join(pub, name), "w") as f:
                    f.write("secret = not-for-the-web\n")
            wrapper = wrapper.replace("FLOWPUSH_DIR=/home/example/flowpush",
                                      "FLOWPUSH_DIR=" + st.state)
            cgi = os.path.join(pub, "cgi-bin", "flowpush.cgi")
            with open(cgi, "w") as f:
                f.write(wrapper)
            os.chmod(cgi, 0o755)
            st._init_db()
            if ROOT:
                uid = pwd.getpwnam("www-data").pw_uid
                gid = grp.getgrnam("www-data").gr_gid
                for top, dirs, files in os.walk(st.state):
                    for n in [top] + [os.path.join(top, x) for x in dirs + files]:
                        os.chown(n, uid, gid)
            os.chmod(st.state, 0o755)
            conf = os.path.join(st.state, "httpd.conf")
            with open(conf, "w") as f:
                f.write(SHARED_HOST_CONF.format(state=st.state, port=st.port,
                                                user="User www-data\nGroup www-data" if ROOT else ""))
            st._start("apache", [APACHE, "-f", conf, "-D", "FOREGROUND"])
            st._wait("apache", lambda: _tcp_open(st.port))
        except BaseException:
            st.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.st is not None:
            cls.st.stop()

    def test_the_api_answers_through_the_htaccess_and_the_wrapper(self):
        status, headers, body = self.st.json("GET", "/api/keyword-sets?limit=1")
        self.assertEqual(status, 200, body)
        self.assertIn("seq", body)
        status, _, rec = self.st.json("POST", "/api/keyword-sets",
                                      {"name": "shared-" + uuid.uuid4().hex[:10]},
                                      {"Origin": self.st.url})
        self.assertEqual(status, 201, rec)
        status, _, got = self.st.json("GET", "/api/keyword-sets/" + rec["id"])
        self.assertEqual(status, 200, got)

    def test_a_failed_form_without_javascript_gets_the_not_saved_page(self):
        assert_failure_page(self, self.st)

    def test_long_poll_works_without_a_daemon(self):
        since = current_seq(self.st)
        _, _, rec = self.st.json("POST", "/api/keyword-sets",
                                 {"name": "lp-" + uuid.uuid4().hex[:10]})
        status, _, body = self.st.json(
            "GET", "/api/changes?since=%d&topics=keyword-sets&wait=5" % since)
        self.assertEqual(status, 200, body)
        self.assertIn(rec["id"], [e["id"] for e in body["events"]])

    def test_a_body_over_the_limit_is_a_413_json_error(self):
        big = b'{"name":"' + b"x" * (self.st.body_limit() + 100) + b'"}'
        status, headers, body = self.st.json("POST", "/api/keyword-sets", big,
                                             {"Content-Type": "application/json"})
        self.assertEqual(status, 413, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        self.assertEqual(body["error"]["status"], 413)

    def test_database_and_config_files_in_the_web_root_are_not_served(self):
        for path in ("/stray.db", "/stray.conf"):
            status, _, body = self.st.request("GET", path)
            self.assertEqual(status, 403, path)
            self.assertNotIn(b"not-for-the-web", body)


def apache_missing(need_fcgid=False):
    if not os.access(APACHE, os.X_OK):
        return "apache2 is not installed"
    if need_fcgid and not os.path.exists(FCGID_SO):
        return "libapache2-mod-fcgid is not installed"
    if ROOT:
        try:
            pwd.getpwnam("www-data")
        except KeyError:
            return "no www-data user for Apache's workers"
    return None


class ApacheProxyFcgiTest(ServerChecks, unittest.TestCase):
    SERVER, MODE = "apache", "FLOWPUSH_PROXY_FCGI"

    @classmethod
    def available(cls):
        return apache_missing()

    def test_a_stopped_fastcgi_process_is_a_json_error(self):
        try:
            self.st.stop_fcgi()
            status, headers, body = self.st.json("GET", "/api/keyword-sets")
            self.assertIn(status, (502, 503))
            self.assertJsonError(status, headers, body, status)
        finally:
            self.st.start_fcgi()


class ApacheFcgidTest(ServerChecks, unittest.TestCase):
    SERVER, MODE = "apache", "FLOWPUSH_FCGID"

    @classmethod
    def available(cls):
        return apache_missing(need_fcgid=True)


class ApacheCgiTest(ServerChecks, unittest.TestCase):
    SERVER, MODE = "apache", "FLOWPUSH_CGI"

    @classmethod
    def available(cls):
        return apache_missing()


class LighttpdTest(ServerChecks, unittest.TestCase):
    SERVER = "lighttpd"

    @classmethod
    def available(cls):
        if not os.access(LIGHTTPD, os.X_OK):
            return "lighttpd is not installed"
        return None


if __name__ == "__main__":
    run_unittest_main()
