#!/usr/bin/python3
"""test_access.py - who may reach what, through the real web servers: roles by the REMOTE_USER that nginx (auth_basic) and Apache (AuthType Basic) authenticated, and the allow-list of the daemon's health and metrics.

The HTTP authentication is added to the rendered configurations the way
docs/DEPLOY.md (section 7) tells an operator to, with an htpasswd file the
test writes ({SHA} lines, which nginx and Apache both read). The roles come
from the config key "roles", written into the config file.
"""

import base64
import hashlib
import http.client
import http.server
import os
import re
import sys
import threading
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack, free_port, run_unittest_main  # noqa: E402
from test_servers import ServerStack, apache_missing, LIGHTTPD  # noqa: E402

USERS = {"ada": "ada-pw", "otto": "otto-pw", "vera": "vera-pw",
         "uma": "uma-pw", "mallory": "mallory-pw"}
ROLES = "ada: admin; otto: operator; vera: viewer; mallory: none"
# An address no test client has: the monitoring endpoints refuse loopback.
ELSEWHERE = "192.0.2.7 2001:db8::7"


def write_htpasswd(path):
    with open(path, "w", encoding="utf-8") as f:
        for user, password in USERS.items():
            digest = base64.b64encode(hashlib.sha1(password.encode()).digest())
            f.write("%s:{SHA}%s\n" % (user, digest.decode()))
    os.chmod(path, 0o644)


def basic(user, password=None):
    cred = "%s:%s" % (user, USERS[user] if password is None else password)
    return {"Authorization": "Basic " + base64.b64encode(cred.encode()).decode()}


def proxy():
    return {"name": "px-" + uuid.uuid4().hex[:10], "protocol": "http",
            "address": "10.%d.%d.%d:3128" % tuple(uuid.uuid4().bytes[:3])}


def campaign():
    return {"name": "c-" + uuid.uuid4().hex[:8], "campaignType": "domain_generation",
            "totalItems": 10,
            "domainGenerationParams": {"patternType": "prefix", "variableLength": 3,
                                       "characterSet": "abc", "tld": "com"}}


class RolesInConfig:
    """A stack whose config file says roles = self.roles_value: in the file,
    as an operator writes it, so that programs the web server starts
    itself (mod_fcgid, mod_cgid) read it too."""

    roles_value = ""

    def _init_db(self):
        super()._init_db()
        with open(self.config, "a", encoding="utf-8") as f:
            f.write("roles = %s\n" % self.roles_value)


class NginxAuthStack(RolesInConfig, Stack):
    """The tests' nginx stack with auth_basic in its server block."""

    def _render_nginx(self):
        super()._render_nginx()
        write_htpasswd(os.path.join(self.state, "htpasswd"))
        conf = os.path.join(self.state, "nginx.conf")
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        text, n = re.subn(r"(\n\t\tserver_name _;\n)",
                          '\\1\t\tauth_basic "flowpush";\n\t\tauth_basic_user_file %s;\n'
                          % os.path.join(self.state, "htpasswd"), text)
        assert n == 1, "no server_name line in the rendered nginx.conf"
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text)


class SessionChecker(http.server.BaseHTTPRequestHandler):
    """A stand-in for a single sign-on service, asked by nginx's
    auth_request: a "session=<user>" cookie of a known user is let in,
    with X-Remote-User naming the user; anything else is 401."""

    def do_GET(self):
        cookie = self.headers.get("Cookie", "")
        user = cookie[len("session="):] if cookie.startswith("session=") else ""
        self.send_response(200 if user in USERS else 401)
        if user in USERS:
            self.send_header("X-Remote-User", user)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class NginxAuthRequestStack(RolesInConfig, Stack):
    """nginx with auth_request to a SessionChecker, configured as
    docs/DEPLOY.md (section 7) shows."""

    checker = None

    def start(self):
        self.checker = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()),
                                                       SessionChecker)
        threading.Thread(target=self.checker.serve_forever, daemon=True).start()
        return super().start()

    def stop(self):
        super().stop()
        if self.checker is not None:
            self.checker.shutdown()
            self.checker.server_close()
            self.checker = None

    def _render_nginx(self):
        super()._render_nginx()
        conf = os.path.join(self.state, "nginx.conf")
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        server = ("\t\tauth_request /_flowpush_auth;\n"
                  "\t\tauth_request_set $flowpush_user $upstream_http_x_remote_user;\n"
                  "\t\tlocation = /_flowpush_auth {\n\t\t\tinternal;\n"
                  "\t\t\tproxy_pass http://127.0.0.1:%d/check;\n"
                  "\t\t\tproxy_pass_request_body off;\n"
                  "\t\t\tproxy_set_header Content-Length \"\";\n"
                  "\t\t\tproxy_set_header X-Original-URI $request_uri;\n\t\t}\n"
                  % self.checker.server_address[1])
        text, n = re.subn(r"(\n\t\tserver_name _;\n)", lambda m: m.group(1) + server, text)
        assert n == 1, "no server_name line in the rendered nginx.conf"
        text, n = re.subn(r"fastcgi_param REMOTE_USER \$remote_user;",
                          "fastcgi_param REMOTE_USER $flowpush_user;", text)
        assert n == 1, "no REMOTE_USER line in the rendered nginx.conf"
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text)


class ApacheAuthStack(RolesInConfig, ServerStack):
    """Apache with AuthType Basic at the top of the site's VirtualHost."""

    def edit_site(self, path):
        htpasswd = os.path.join(self.state, "htpasswd")
        write_htpasswd(htpasswd)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        block = ('\t<Location "/">\n\t\tAuthType Basic\n\t\tAuthName "flowpush"\n'
                 '\t\tAuthBasicProvider file\n\t\tAuthUserFile "%s"\n'
                 '\t\tRequire valid-user\n\t</Location>\n' % htpasswd)
        text, n = re.subn(r"(<VirtualHost [^>]*>\n)", lambda m: m.group(1) + block, text)
        assert n == 1, "no VirtualHost in the rendered site"
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def edit_main(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        mods = "".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n" % (m, m)
                       for m in ("auth_basic", "authn_core", "authn_file", "authz_user"))
        text = text.replace("\nInclude ", "\n" + mods + "Include ", 1)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


class RoleChecks:
    """What every server with HTTP authentication in front and ROLES (plus
    STAR, the "*" entry, when set) must show."""

    STAR = None
    st = None

    @classmethod
    def roles(cls):
        return ROLES + ("; *: " + cls.STAR if cls.STAR else "")

    def call(self, user, method, path, body=None, headers=None):
        h = dict(basic(user) if user else {})
        h.update(headers or {})
        return self.st.json(method, path, body, h)

    def assertJsonError(self, answer, status, code):
        got, headers, body = answer
        self.assertEqual(got, status, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        headers)
        self.assertEqual(body["error"]["status"], status)
        self.assertEqual(body["error"]["code"], code)
        return body["error"]

    def create(self, coll, rec):
        status, _, body = self.call("ada", "POST", "/api/" + coll, rec)
        self.assertEqual(status, 201, body)
        return body

    def running_campaign(self):
        cid = self.create("campaigns", campaign())["id"]
        for action in ("start", "run"):
            status, _, body = self.call("otto", "POST", "/api/campaigns/%s/%s" % (cid, action))
            self.assertEqual(status, 200, body)
        return cid

    def test_without_a_password_the_server_answers_a_json_401(self):
        status, headers, body = self.st.request("GET", "/api/keyword-sets")
        self.assertEqual(status, 401, body)
        self.assertIn("basic", headers.get("www-authenticate", "").lower())
        self.assertEqual(headers.get("content-type", "").split(";")[0], "application/json")
        self.assertIn(b'"unauthorized"', body)
        self.assertEqual(self.call("vera", "GET", "/api/keyword-sets",
                                   headers=basic("vera", "wrong"))[0], 401)

    def test_a_viewer_reads_and_gets_a_token_but_may_not_patch(self):
        rec = self.create("keyword-sets", {"name": "ks-" + uuid.uuid4().hex[:10]})
        for path in ("/api/keyword-sets", "/api/keyword-sets/" + rec["id"],
                     "/api/dashboard", "/api/changes?since=0&limit=1",
                     "/api/token?topics=keyword-sets"):
            status, _, body = self.call("vera", "GET", path)
            self.assertEqual(status, 200, (path, body))
        err = self.assertJsonError(
            self.call("vera", "PATCH", "/api/keyword-sets/" + rec["id"],
                      {"description": "viewer"}), 403, "forbidden")
        self.assertIn("viewer", err["message"])
        self.assertJsonError(self.call("vera", "POST", "/api/keyword-sets",
                                       {"name": "v-" + uuid.uuid4().hex[:8]}),
                             403, "forbidden")
        self.assertEqual(self.call("vera", "GET", "/api/keyword-sets/" + rec["id"])[2]["version"], 1)

    def test_a_viewers_token_subscribes_through_the_server(self):
        if not self.st.push:
            self.skipTest("flowpushd is not built")
        status, _, seq = self.call("vera", "GET", "/api/keyword-sets?limit=1")
        self.assertEqual(status, 200, seq)
        status, _, tok = self.call("vera", "GET", "/api/token?topics=keyword-sets")
        self.assertEqual(status, 200, tok)
        conn = http.client.HTTPConnection("127.0.0.1", self.st.port, timeout=10)
        try:
            conn.request("GET", "/push/events?" + urllib.parse.urlencode(
                {"since": seq["seq"], "topics": "keyword-sets", "token": tok["token"]}),
                headers=basic("vera"))
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            rec = self.create("keyword-sets", {"name": "sse-" + uuid.uuid4().hex[:10]})
            deadline, buf = time.monotonic() + 8, b""
            while time.monotonic() < deadline and rec["id"].encode() not in buf:
                line = r.fp.readline()
                if not line:
                    break
                buf += line
            self.assertIn(rec["id"].encode(), buf)
        finally:
            conn.close()

    def test_an_operator_acts_on_campaigns_and_reports_progress(self):
        cid = self.running_campaign()
        status, _, body = self.call("otto", "PATCH", "/api/campaigns/" + cid,
                                    {"processedItems": 3, "successfulItems": 2,
                                     "failedItems": 1})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["processedItems"], 3)
        status, _, body = self.call("otto", "POST", "/api/campaigns/%s/pause" % cid)
        self.assertEqual((status, body["status"]), (200, "paused"), body)

    def test_an_operator_creates_no_proxy_and_renames_nothing(self):
        self.assertJsonError(self.call("otto", "POST", "/api/proxies", proxy()),
                             403, "forbidden")
        cid = self.running_campaign()
        self.assertJsonError(self.call("otto", "PATCH", "/api/campaigns/" + cid,
                                       {"name": "renamed"}), 403, "forbidden")
        status, _, body = self.call("otto", "GET", "/api/proxies?limit=1")
        self.assertEqual(status, 200, body)

    def test_an_admin_does_everything(self):
        rec = self.create("proxies", proxy())
        status, _, body = self.call("ada", "PATCH", "/api/proxies/" + rec["id"],
                                    {"description": "admin"})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.call("ada", "DELETE", "/api/proxies/" + rec["id"])[0], 204)
        cid = self.running_campaign()
        status, _, body = self.call("ada", "POST", "/api/campaigns/%s/cancel" % cid)
        self.assertEqual(status, 200, body)

    def test_a_user_given_none_has_no_role_at_all(self):
        for path in ("/api/keyword-sets", "/api/token", "/api/changes?since=0"):
            self.assertJsonError(self.call("mallory", "GET", path), 403, "forbidden")

    def test_a_user_no_entry_names_follows_the_star_entry(self):
        answer = self.call("uma", "GET", "/api/keyword-sets")
        token = self.call("uma", "GET", "/api/token")
        if self.STAR is None:
            self.assertJsonError(answer, 403, "forbidden")
            self.assertJsonError(token, 403, "forbidden")
            return
        self.assertEqual(answer[0], 200, answer[2])
        self.assertEqual(token[0], 200, token[2])
        self.assertJsonError(self.call("uma", "POST", "/api/keyword-sets",
                                       {"name": "u-" + uuid.uuid4().hex[:8]}),
                             403, "forbidden")

    def test_the_journal_names_the_user_the_server_authenticated(self):
        rec = self.create("keyword-sets", {"name": "actor-" + uuid.uuid4().hex[:8]})
        status, _, body = self.call("vera", "GET", "/api/changes?since=0&limit=1000"
                                    "&topics=keyword-sets/" + rec["id"])
        self.assertEqual(status, 200, body)
        self.assertEqual([e["actor"] for e in body["events"]], ["ada"])

    def test_health_from_an_allowed_address_needs_what_the_server_says(self):
        if not self.st.push:
            self.skipTest("flowpushd is not built")
        # nginx: an allowed address and a password (satisfy all); Apache:
        # the allowed address alone (its later Require replaces the site's).
        self.assertEqual(self.st.request("GET", "/push/health")[0],
                         self.HEALTH_WITHOUT_PASSWORD)
        self.assertEqual(self.st.request("GET", "/push/health", None, basic("uma"))[0], 200)

    def test_a_refused_form_goes_back_to_the_page_with_the_error(self):
        rec = self.create("keyword-sets", {"name": "form-" + uuid.uuid4().hex[:8]})
        headers_in = dict(basic("vera"), **{"Content-Type": "application/x-www-form-urlencoded",
                                            "Referer": self.st.url + "/keyword-sets.html"})
        # Posted by the page's script (_script=1): 303 back with the error.
        status, headers, _ = self.st.request(
            "POST", "/api/keyword-sets/" + rec["id"],
            urllib.parse.urlencode({"_method": "PATCH", "_script": "1", "description": "x"}),
            headers_in)
        self.assertEqual(status, 303)
        loc = urllib.parse.urlsplit(headers["location"])
        self.assertEqual(loc.path, "/keyword-sets.html")
        self.assertEqual(urllib.parse.parse_qs(loc.query)["error"], ["forbidden"])
        # Without JavaScript: the "Not saved" page, with the 403.
        status, headers, body = self.st.request(
            "POST", "/api/keyword-sets/" + rec["id"],
            urllib.parse.urlencode({"_method": "PATCH", "description": "x"}),
            headers_in)
        self.assertEqual(status, 403)
        self.assertIn("text/html", headers["content-type"])
        self.assertIn(b"Not saved", body)


class NginxRolesTest(RoleChecks, unittest.TestCase):
    """nginx auth_basic; no "*" entry: a user no entry names has no role."""

    HEALTH_WITHOUT_PASSWORD = 401

    @classmethod
    def setUpClass(cls):
        cls.st = NginxAuthStack()
        cls.st.roles_value = cls.roles()
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        if cls.st is not None:
            cls.st.stop()


class NginxAuthRequestTest(unittest.TestCase):
    """nginx auth_request: the user comes from the checker's answer."""

    st = None

    @classmethod
    def setUpClass(cls):
        cls.st = NginxAuthRequestStack(push=False)
        cls.st.roles_value = ROLES
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        if cls.st is not None:
            cls.st.stop()

    def call(self, user, method, path, body=None, headers=None):
        h = {"Cookie": "session=" + user} if user else {}
        h.update(headers or {})
        return self.st.json(method, path, body, h)

    def test_without_a_session_the_answer_is_a_json_401(self):
        status, headers, body = self.st.json("GET", "/api/keyword-sets")
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"]["code"], "unauthorized")

    def test_the_checkers_user_gets_that_users_role(self):
        status, _, rec = self.call("ada", "POST", "/api/keyword-sets",
                                   {"name": "ar-" + uuid.uuid4().hex[:8]})
        self.assertEqual(status, 201, rec)
        self.assertEqual(self.call("vera", "GET", "/api/keyword-sets/" + rec["id"])[0], 200)
        status, _, body = self.call("vera", "PATCH", "/api/keyword-sets/" + rec["id"],
                                    {"description": "x"})
        self.assertEqual((status, body["error"]["code"]), (403, "forbidden"), body)
        self.assertEqual(self.call("uma", "GET", "/api/keyword-sets")[0], 403)

    def test_a_user_name_the_client_sends_itself_is_not_believed(self):
        rec = self.call("ada", "POST", "/api/keyword-sets",
                        {"name": "spoof-" + uuid.uuid4().hex[:8]})[2]
        status, _, body = self.call("vera", "PATCH", "/api/keyword-sets/" + rec["id"],
                                    {"description": "x"},
                                    {"X-Remote-User": "ada", "Remote-User": "ada"})
        self.assertEqual(status, 403, body)


class ApacheRolesTest(RoleChecks, unittest.TestCase):
    """Apache AuthType Basic with mod_proxy_fcgi; "*: viewer"."""

    MODE = "FLOWPUSH_PROXY_FCGI"
    STAR = "viewer"
    HEALTH_WITHOUT_PASSWORD = 200

    @classmethod
    def setUpClass(cls):
        why = apache_missing(need_fcgid=cls.MODE == "FLOWPUSH_FCGID")
        if why:
            raise unittest.SkipTest(why)
        cls.st = ApacheAuthStack("apache", cls.MODE)
        cls.st.roles_value = cls.roles()
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        if cls.st is not None:
            cls.st.stop()


class ApacheFcgidRolesTest(ApacheRolesTest):
    """The same through mod_fcgid, whose /api section must not open the
    API to the anonymous."""

    MODE = "FLOWPUSH_FCGID"


class ApacheCgiRolesTest(ApacheRolesTest):
    MODE = "FLOWPUSH_CGI"


class MonitorChecks:
    """/push/health and /push/metrics through a server rendered with
    MONITOR_ALLOW = ALLOW (None: the template's default)."""

    ALLOW = None
    st = None

    @classmethod
    def values(cls):
        return {} if cls.ALLOW is None else {"MONITOR_ALLOW": cls.ALLOW}

    @classmethod
    def tearDownClass(cls):
        if cls.st is not None:
            cls.st.stop()

    def test_health_and_metrics_answer_only_the_allowed_addresses(self):
        if not self.st.push:
            self.skipTest("flowpushd is not built")
        for path in ("/push/health", "/push/metrics"):
            status, headers, body = self.st.request("GET", path)
            if self.ALLOW is None:
                self.assertEqual(status, 200, (path, body))
                continue
            self.assertEqual(status, 403, (path, body))
            self.assertEqual(headers.get("content-type", "").split(";")[0],
                             "application/json", path)
            self.assertIn(b'"forbidden"', body)
            self.assertNotIn(b"flowpush_", body)

    def test_subscribing_is_not_restricted(self):
        if not self.st.push:
            self.skipTest("flowpushd is not built")
        status, _, tok = self.st.json("GET", "/api/token?topics=dashboard")
        self.assertEqual(status, 200, tok)
        conn = http.client.HTTPConnection("127.0.0.1", self.st.port, timeout=10)
        try:
            conn.request("GET", "/push/events?" + urllib.parse.urlencode(
                {"since": 0, "topics": "dashboard", "token": tok["token"]}))
            self.assertEqual(conn.getresponse().status, 200)
        finally:
            conn.close()


class NginxMonitorDefaultTest(MonitorChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = Stack(nginx_values=cls.values())
        cls.st.start()


class NginxMonitorElsewhereTest(NginxMonitorDefaultTest):
    ALLOW = ELSEWHERE


class ApacheMonitorElsewhereTest(MonitorChecks, unittest.TestCase):
    ALLOW = ELSEWHERE

    @classmethod
    def setUpClass(cls):
        why = apache_missing()
        if why:
            raise unittest.SkipTest(why)
        cls.st = ServerStack("apache", "FLOWPUSH_PROXY_FCGI", values=cls.values())
        cls.st.start()


class LighttpdMonitorElsewhereTest(MonitorChecks, unittest.TestCase):
    ALLOW = ELSEWHERE

    @classmethod
    def setUpClass(cls):
        if not os.access(LIGHTTPD, os.X_OK):
            raise unittest.SkipTest("lighttpd is not installed")
        cls.st = ServerStack("lighttpd", values=cls.values())
        cls.st.start()


if __name__ == "__main__":
    run_unittest_main()
