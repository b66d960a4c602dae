#!/usr/bin/python3
"""leak_check.py - 10,000 requests through one FastCGI process of the sanitizer build, then LeakSanitizer's verdict at its exit.

Usage: leak_check.py [--build DIR] [--requests N] [--clients C] [--deadline S]

Why LeakSanitizer and not valgrind: the same 10,000 requests under
valgrind's memcheck take many minutes on two cores, while the ASan build
(`configure --enable-sanitizers`) serves them in well under a minute, and
LeakSanitizer also runs at the exit of that one long-lived process, so every
allocation a request left behind without a reference is reported. (To use
valgrind instead on a normal build: `spawn-fcgi -n -s SOCK -- valgrind
--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1
build/flowpush.fcgi`, see docs/DEPLOY.md.)

The process must also exit by itself on SIGTERM: LeakSanitizer runs at
exit, and a FastCGI server that ignores SIGTERM leaves orphans behind its
web server.
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack, default_build  # noqa: E402

SANITIZER_MARKS = ("ERROR: LeakSanitizer", "ERROR: AddressSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")


class Client:
    """One keep-alive connection through nginx, counting what it sees."""

    def __init__(self, port, deadline):
        self.port = port
        self.deadline = deadline
        self.conn = None
        self.sent = 0
        self.unexpected = []
        self.since = 0

    def req(self, method, path, body=None, headers=None, want=(200,)):
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        self.sent += 1
        if r.status not in want:
            self.unexpected.append("%s %s -> %d %s" % (method, path, r.status,
                                                        data[:160].decode("utf-8", "replace")))
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return r.status, r, data

    def cycle(self, i):
        """Ten requests that walk through most code paths of the API."""
        name = "leak-%s" % uuid.uuid4().hex[:16]
        st, _, data = self.req("POST", "/api/keyword-sets", {
            "name": name, "description": "d" * (i % 50),
            "rules": [{"pattern": "a[0-9]+b", "ruleType": "regex"},
                      {"pattern": "shop", "ruleType": "string", "isCaseSensitive": True}]},
            want=(201,))
        if st != 201:
            return
        rid = json.loads(data)["id"]
        path = "/api/keyword-sets/" + rid
        self.req("GET", path)
        self.req("GET", path, headers={"If-None-Match": '"1"'}, want=(304,))
        self.req("PATCH", path, {"description": "patched", "rules": [
            {"pattern": "x+", "ruleType": "regex"}]}, {"If-Match": '"1"'})
        self.req("PUT", path, {"name": name + "-stale"}, {"If-Match": '"1"'}, want=(412,))
        extra = i % 8
        if extra == 0:
            self.req("GET", "/api/keyword-sets?limit=5&after=bogus", want=(400,))
        elif extra == 1:
            self.req("GET", "/api/dashboard")
        elif extra == 2:
            self.req("GET", "/api/token?topics=keyword-sets,dashboard", want=(200, 404))
        elif extra == 3:
            self.req("POST", "/api/keyword-sets", "{broken", {"Content-Type": "application/json"},
                     want=(400,))
        elif extra == 4:
            self.req("GET", "/api/no-such/%d" % i, want=(404,))
        elif extra == 5:
            self.req("POST", "/api/proxies", {
                "name": name, "address": name + ".example.net:8080", "protocol": "socks5",
                "password": "secret-%d" % i}, want=(201,))
        elif extra == 6:
            self.req("GET", "/api/personas?limit=3")
        else:
            self.req("GET", "/api/campaigns?limit=3")
        st, _, data = self.req("GET", "/api/changes?since=%d&limit=20" % self.since)
        if st == 200:
            body = json.loads(data)
            if not body.get("reset"):
                self.since = body["seq"]
        self.req("POST", "/api/keyword-sets", {"name": "", "unknownField": 1}, want=(422,))
        form = urllib.parse.urlencode({"name": name + "-f", "rules[0].pattern": "f",
                                       "rules[0].ruleType": "string",
                                       "_redirect": "/keyword-sets.html"})
        self.req("POST", "/api/keyword-sets", form,
                 {"Content-Type": "application/x-www-form-urlencoded"}, want=(303,))
        # A failed one: the "Not saved" page.
        self.req("POST", "/api/keyword-sets",
                 urllib.parse.urlencode({"name": "", "_form": "ks-form",
                                         "_redirect": "/keyword-sets.html"}),
                 {"Content-Type": "application/x-www-form-urlencoded"}, want=(422,))
        self.req("DELETE", path, headers={"If-Match": '"2"'}, want=(204,))

    def run(self, cycles):
        try:
            for i in range(cycles):
                if time.monotonic() > self.deadline:
                    self.unexpected.append("deadline reached after %d requests" % self.sent)
                    return
                self.cycle(i)
        except Exception as e:  # reported, and the check fails
            self.unexpected.append("client error: %r" % e)
        finally:
            if self.conn is not None:
                self.conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=None, help="a build configured with --enable-sanitizers")
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--deadline", type=float, default=900, help="seconds for all requests")
    a = ap.parse_args()
    build = os.path.abspath(a.build) if a.build else default_build()

    passed = failed = 0
    # atexit=1 prints ASan's exit statistics from the same atexit chain
    # that runs the leak check: seeing them proves the check ran.
    env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23:atexit=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
           "LSAN_OPTIONS": "exitcode=23"}
    st = Stack(build=build, push=False, env=env)
    st.start()
    try:
        cycles = max(1, a.requests // 10 // a.clients)
        deadline = time.monotonic() + a.deadline
        clients = [Client(st.port, deadline) for _ in range(a.clients)]
        threads = [threading.Thread(target=c.run, args=(cycles,)) for c in clients]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - t0
        sent = sum(c.sent for c in clients)
        unexpected = [u for c in clients for u in c.unexpected]
        print("%d requests through nginx to one flowpush.fcgi in %.1f s" % (sent, took))
        if unexpected or sent < a.requests * 0.95:
            failed += 1
            print("FAIL: requests: %d unexpected answers, e.g.:" % len(unexpected))
            for u in unexpected[:20]:
                print("    " + u)
        else:
            passed += 1
            print("PASS: every answer was the expected one")

        print("stopping flowpush.fcgi with SIGTERM; LeakSanitizer runs at its exit")
        rc = st.stop_fcgi(timeout=120)
        log = open(st.logs["flowpush.fcgi"], encoding="utf-8", errors="replace").read()
        marks = [m for m in SANITIZER_MARKS if m in log]
        ran = "AddressSanitizer exit stats" in log
        if not ran:
            marks.append("the sanitizer's exit hooks never ran (not a sanitizer build, "
                         "or the process did not exit through exit())")
        if rc == 0 and not marks:
            passed += 1
            print("PASS: exit status 0, no leak or sanitizer report")
        else:
            failed += 1
            why = "exit status %s" % rc
            if rc is not None and rc < 0:
                why += " (killed by signal %d: it did not exit on SIGTERM, so the leak " \
                       "check could not run)" % -rc
            print("FAIL: flowpush.fcgi %s; %s" % (why, ", ".join(marks) or "no report"))
            print(log[-12000:])
    finally:
        st.stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
