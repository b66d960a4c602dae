#!/usr/bin/python3
"""api_bench.py - the API and the whole path through nginx: write-to-receipt latency, API throughput, polling against push.

Usage: bench/api_bench.py [--build DIR] [--quick] [--sections 1,2,3]
                          [--writes N] [--rate R] [--subscribers N]
                          [--campaigns N] [--seconds S] [--window S]
                          [--pages N] [--push-pages N] [--poll-per-minute N]

Starts the real stack with tests/integration/stack.py (nginx with two
workers as quickstart runs it, spawn-fcgi + flowpush.fcgi, flowpushd, a
fresh database with the demo data) on free loopback ports, once per
section, and measures through nginx:

1. end to end: writes made through the API (POST creates and PATCHes of a
   running campaign's progress, http.client, keep-alive, at a steady pace)
   until they reach WebSocket and SSE clients subscribed through nginx:
   latency from the API's answer, and from just before the request was
   sent, to receipt; with 1 + 1 subscribers and with N (half each);
2. API throughput with 1 and 4 concurrent clients: creates, deletes,
   progress PATCHes, status changes, GET /api/campaigns?limit=100 and
   GET /api/dashboard; with the demo data, then with --campaigns more
   campaigns loaded through the API; server CPU per request;
3. one idle open page that polls its four list endpoints (the predecessor,
   108 requests a minute) against one that loaded its lists once and holds
   a push connection: requests a minute and server CPU (nginx + flowpush.fcgi
   + flowpushd, from /proc) per page over a fixed window: --pages polling
   pages, --push-pages push pages (half WebSocket, half SSE), each figure
   above the same window with no page at all.

Every loop is bounded in count and in seconds; the run stops by itself.
Prints one JSON line per measurement, then Markdown tables. The machine is
shared and small: compare figures within one run, as ratios.
"""

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import selectors
import socket
import sys
import time
import urllib.parse

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

from stack import Stack  # noqa: E402

# The topics of the campaigns page (www/js/pages/campaigns.js).
PAGE_COLLECTIONS = ["campaigns", "personas", "keyword-sets", "proxy-pools"]
PAGE_TOPICS = ",".join(PAGE_COLLECTIONS)
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MP = multiprocessing.get_context("fork")


def now():
    # CLOCK_MONOTONIC is one clock for every process of the machine, so
    # times taken in the writer and in the subscriber process compare.
    return time.monotonic()


def campaign_body(i):
    return {"name": "bench campaign %d" % i, "campaignType": "domain_generation",
            "description": "made by api_bench",
            "totalItems": 1000000000,
            "domainGenerationParams": {"patternType": "prefix", "variableLength": 6,
                                       "characterSet": "abcdefghijklmnopqrstuvwxyz",
                                       "constantString": "shop", "tld": ".com",
                                       "numDomainsToGenerate": 100000}}


def pct(values, p):
    """The p-th percentile (nearest rank) of values, None when empty."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def fmt(x, digits=2):
    if x is None:
        return "-"
    if isinstance(x, int):
        return "{:,}".format(x)
    if abs(x) >= 100:
        return "{:,.0f}".format(x)
    return ("%." + str(digits) + "f") % x


# ------------------------------------------------------------------ HTTP

class Api:
    """One keep-alive connection through nginx."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.host = "127.0.0.1:%d" % port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method, path, body=None):
        """(status, body bytes); reconnects once when nginx closed the
        keep-alive connection (keepalive_requests)."""
        hdrs = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                out = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return r.status, out
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError, http.client.CannotSendRequest):
                self.conn.close()
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def json(self, method, path, body=None, want=(200, 201)):
        status, out = self.call(method, path, body)
        if status not in want:
            raise RuntimeError("%s %s: %d %s" % (method, path, status, out[:300]))
        return json.loads(out) if out else None

    def close(self):
        self.conn.close()


def running_campaign(api, i):
    """A new campaign moved to running: the target of progress PATCHes."""
    rec = api.json("POST", "/api/campaigns", campaign_body(i))
    for action in ("start", "run"):
        rec = api.json("POST", "/api/campaigns/%s/%s" % (rec["id"], action), {})
    return rec["id"]


# ------------------------------------------------------------------ CPU

def _task_ns(pid):
    """On-CPU nanoseconds of every thread of pid (schedstat), or None."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    return total


def _stat_ns(pid):
    """utime + stime of pid from /proc/PID/stat, in nanoseconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks * 1e9 / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return out


class Cpu:
    """CPU time of the stack's server processes: nginx (master and
    workers), flowpush.fcgi (all its threads), flowpushd."""

    GROUPS = ("nginx", "flowpush.fcgi", "flowpushd")

    def __init__(self, st):
        self.pids = {"nginx": [], "flowpush.fcgi": [], "flowpushd": []}
        nginx = st.procs["nginx"].pid
        self.pids["nginx"] = [nginx] + _children(nginx)
        self.pids["flowpush.fcgi"] = [st.procs["flowpush.fcgi"].pid]
        if "flowpushd" in st.procs:
            self.pids["flowpushd"] = [st.procs["flowpushd"].pid]

    def sample(self):
        """{group: ns} now; schedstat (ns resolution), else /proc/PID/stat."""
        out = {}
        for g, pids in self.pids.items():
            t = 0
            for pid in pids:
                v = _task_ns(pid)
                if v is None:
                    v = _stat_ns(pid) or 0
                t += v
            out[g] = t
        return out

    @staticmethod
    def diff(a, b):
        d = {g: (b[g] - a[g]) / 1e9 for g in a}
        d["total"] = sum(d[g] for g in Cpu.GROUPS)
        return d


# ------------------------------------------------------------------ push clients

class Sub:
    """One subscriber through nginx, WebSocket or SSE, on a plain socket:
    the receipt time is taken when recv returns, before any parsing."""

    def __init__(self, idx, kind, port, path):
        self.idx, self.kind = idx, kind
        self.buf = bytearray()
        self.msgs = []           # (t, payload bytes)
        self.closed = False
        self.chunked = False
        self.chunk_left = 0      # SSE over chunked encoding: bytes left
        self.raw = bytearray()   # SSE: undecoded chunked bytes
        self.pings = 0
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        host = "127.0.0.1:%d" % port
        if kind == "ws":
            key = base64.b64encode(os.urandom(16))
            req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n\r\n"
                   % (path, host, key.decode(), host))
        else:
            req = ("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n"
                   "Cache-Control: no-cache\r\n\r\n" % (path, host))
        s.sendall(req.encode())
        head = b""
        deadline = now() + 10
        while b"\r\n\r\n" not in head:
            if now() > deadline:
                raise RuntimeError("no response headers from %s" % path)
            part = s.recv(65536)
            if not part:
                raise RuntimeError("%s closed during the handshake" % path)
            head += part
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split()
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if kind == "ws":
            want = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
            if status[1] != "101" or hdrs.get("sec-websocket-accept") != want:
                raise RuntimeError("WebSocket handshake refused: %s" % lines[0])
        else:
            if status[1] != "200":
                raise RuntimeError("SSE refused: %s" % lines[0])
            self.chunked = "chunked" in hdrs.get("transfer-encoding", "").lower()
        s.setblocking(False)
        self.sock = s
        if rest:
            self.feed(now(), rest)

    def feed(self, t, data):
        if self.kind == "ws":
            self.buf += data
            self._ws_frames(t)
        else:
            if self.chunked:
                self.raw += data
                self._dechunk()
            else:
                self.buf += data
            self._sse_events(t)

    def _ws_frames(self, t):
        b = self.buf
        i = 0
        while True:
            if len(b) - i < 2:
                break
            op, ln = b[i] & 0x0F, b[i + 1] & 0x7F
            h = 2
            if ln == 126:
                if len(b) - i < 4:
                    break
                ln = int.from_bytes(b[i + 2:i + 4], "big")
                h = 4
            elif ln == 127:
                if len(b) - i < 10:
                    break
                ln = int.from_bytes(b[i + 2:i + 10], "big")
                h = 10
            if len(b) - i < h + ln:
                break
            payload = bytes(b[i + h:i + h + ln])
            i += h + ln
            if op in (1, 0):
                self.msgs.append((t, payload))
            elif op == 9:
                self.pings += 1
                self._send_ws(0xA, payload)
            elif op == 8:
                self.closed = True
        del b[:i]

    def _send_ws(self, op, payload):
        mask = os.urandom(4)
        frame = bytes([0x80 | op, 0x80 | len(payload)]) + mask + bytes(
            c ^ mask[j % 4] for j, c in enumerate(payload))
        try:
            self.sock.send(frame)
        except OSError:
            pass

    def _dechunk(self):
        r = self.raw
        i = 0
        while i < len(r):
            if self.chunk_left == 0:
                j = r.find(b"\r\n", i)
                if j < 0:
                    break
                line = bytes(r[i:j]).split(b";")[0].strip()
                if not line:          # the CRLF after a chunk
                    i = j + 2
                    continue
                n = int(line, 16)
                i = j + 2
                if n == 0:
                    self.closed = True
                    break
                self.chunk_left = n
            take = min(self.chunk_left, len(r) - i)
            self.buf += r[i:i + take]
            i += take
            self.chunk_left -= take
        del r[:i]

    def _sse_events(self, t):
        b = self.buf
        while True:
            j = b.find(b"\n\n")
            if j < 0:
                break
            block = bytes(b[:j])
            del b[:j + 2]
            data = [ln[5:].lstrip() for ln in block.split(b"\n") if ln.startswith(b"data:")]
            if block.startswith(b":"):
                self.pings += 1
            if not data:
                continue
            if b"\nevent: reset" in b"\n" + block:
                # A reset would mean lost events: counted as no delivery.
                self.msgs.append((t, b'{"action":"reset"}'))
            else:
                self.msgs.append((t, b"\n".join(data)))


def push_path(kind, since, token):
    q = {"topics": PAGE_TOPICS, "since": str(since)}
    if token:
        q["token"] = token
    return ("/push/ws?" if kind == "ws" else "/push/events?") + urllib.parse.urlencode(q)


def subscriber_main(port, kinds, since, token, ctl, max_seconds):
    """Child process: opens the subscribers, says "ready", receives until
    told "stop" (or max_seconds), then sends back per subscriber
    [(t, topic, id, version, action)] and the ping counts."""
    subs = []
    try:
        for i, kind in enumerate(kinds):
            subs.append(Sub(i, kind, port, push_path(kind, since, token)))
    except Exception as e:       # noqa: BLE001 - reported to the parent
        ctl.send(("error", repr(e)))
        return
    sel = selectors.DefaultSelector()
    for s in subs:
        sel.register(s.sock, selectors.EVENT_READ, s)
    sel.register(ctl, selectors.EVENT_READ, None)
    ctl.send(("ready", len(subs)))
    cpu0 = time.process_time()
    deadline = now() + max_seconds
    stop = False
    while not stop and now() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.data
            if s is None:
                if ctl.poll():
                    ctl.recv()
                stop = True
                continue
            try:
                data = s.sock.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            t = now()
            if not data:
                s.closed = True
                sel.unregister(s.sock)
                continue
            s.feed(t, data)
    cpu = time.process_time() - cpu0
    out = []
    for s in subs:
        evs = []
        for t, payload in s.msgs:
            try:
                ev = json.loads(payload)
            except ValueError:
                continue
            evs.append((t, ev.get("topic"), ev.get("id"), ev.get("version"), ev.get("action")))
        out.append({"kind": s.kind, "events": evs, "pings": s.pings, "closed": s.closed,
                    "client_cpu": cpu if s is subs[0] else 0.0})
        s.sock.close()
    ctl.send(("done", out))


class Subscribers:
    """The subscribers of one measurement, in their own process."""

    def __init__(self, port, kinds, since, token, max_seconds):
        self.ctl, child = MP.Pipe()
        self.proc = MP.Process(target=subscriber_main,
                               args=(port, kinds, since, token, child, max_seconds))
        self.proc.start()
        if not self.ctl.poll(60):
            self.stop_now()
            raise RuntimeError("subscribers did not start in 60 s")
        what, arg = self.ctl.recv()
        if what != "ready":
            self.stop_now()
            raise RuntimeError("subscribers: %s" % arg)

    def finish(self, timeout=60):
        self.ctl.send("stop")
        if not self.ctl.poll(timeout):
            self.stop_now()
            raise RuntimeError("subscribers did not report")
        what, out = self.ctl.recv()
        self.proc.join(10)
        return out

    def stop_now(self):
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(5)


# ------------------------------------------------------------------ section 1

def token_for(api):
    status, out = api.call("GET", "/api/token?" + urllib.parse.urlencode({"topics": PAGE_TOPICS}))
    if status == 404:
        return None
    if status != 200:
        raise RuntimeError("token: %d %s" % (status, out[:200]))
    return json.loads(out)["token"]


def end_to_end(args, n_ws, n_sse, label):
    """Writes at a steady pace; latency to every subscriber."""
    with Stack(build=args.build, demo=True, workers=2) as st:
        api = Api(st.port)
        target = running_campaign(api, 0)
        seq = api.json("GET", "/api/campaigns?limit=1")["seq"]
        token = token_for(api)
        # Alternate so that neither transport is always served first.
        kinds = []
        w, s = n_ws, n_sse
        while w or s:
            if w:
                kinds.append("ws")
                w -= 1
            if s:
                kinds.append("sse")
                s -= 1
        budget = args.writes / args.rate + 60
        subs = Subscribers(st.port, kinds, seq, token, budget)
        time.sleep(0.3)
        writes = []          # (kind, id, version, t_send, t_answer, status)
        cpu = Cpu(st)
        c0 = cpu.sample()
        start = now()
        done_by = start + args.writes / args.rate * 3 + 30
        progress = 0
        for k in range(args.writes):
            due = start + k / args.rate
            while True:
                d = due - now()
                if d <= 0:
                    break
                time.sleep(d)
            if now() > done_by:
                break
            if k % 2 == 0:
                t0 = now()
                status, out = api.call("POST", "/api/campaigns", campaign_body(k))
                t1 = now()
                kind = "POST create"
            else:
                progress += 1
                t0 = now()
                status, out = api.call("PATCH", "/api/campaigns/" + target,
                                       {"processedItems": progress, "successfulItems": progress})
                t1 = now()
                kind = "PATCH progress"
            rid = ver = None
            if status in (200, 201):
                rec = json.loads(out)
                rid, ver = rec["id"], rec["version"]
            writes.append((kind, rid, ver, t0, t1, status))
        # Let the last events arrive.
        time.sleep(0.5)
        c1 = cpu.sample()
        res = subs.finish()
        api.close()
        # nginx reaches flowpushd on a Unix socket or on TCP (stack.py).
        upstream = "unix" if getattr(st, "push_socket", None) else "tcp"
    by_key = {(w[1], w[2]): w for w in writes if w[1]}
    rows = []
    for transport in ("ws", "sse"):
        from_answer, from_send = [], []
        got = expected = 0
        for sub in res:
            if sub["kind"] != transport:
                continue
            expected += len(by_key)
            seen = set()
            for t, topic, rid, ver, action in sub["events"]:
                w = by_key.get((rid, ver))
                if topic != "campaigns" or w is None or (rid, ver) in seen:
                    continue
                seen.add((rid, ver))
                got += 1
                from_answer.append((t - w[4]) * 1e3)
                from_send.append((t - w[3]) * 1e3)
        if not expected:
            continue
        rows.append({
            "section": "end_to_end", "scenario": label, "transport": transport,
            "subscribers": kinds.count(transport), "writes": len(writes),
            "deliveries": got, "expected": expected,
            "answer_p50_ms": pct(from_answer, 50), "answer_p95_ms": pct(from_answer, 95),
            "answer_p99_ms": pct(from_answer, 99),
            "send_p50_ms": pct(from_send, 50), "send_p95_ms": pct(from_send, 95),
            "send_p99_ms": pct(from_send, 99),
            "negative_from_answer": sum(1 for x in from_answer if x < 0),
        })
    for kind in ("POST create", "PATCH progress"):
        lat = [(w[4] - w[3]) * 1e3 for w in writes if w[0] == kind and w[5] in (200, 201)]
        rows.append({"section": "end_to_end", "scenario": label, "transport": "api answer",
                     "kind": kind, "writes": len(lat),
                     "errors": sum(1 for w in writes if w[0] == kind and w[5] not in (200, 201)),
                     "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99)})
    cpud = Cpu.diff(c0, c1)
    rows.append({"section": "end_to_end", "scenario": label, "transport": "server cpu",
                 "writes": len(writes), "push_upstream": upstream,
                 "subscriber_client_cpu_us_per_write":
                     sum(x["client_cpu"] for x in res) * 1e6 / max(1, len(writes)),
                 "cpu_us_per_write": {g: cpud[g] * 1e6 / max(1, len(writes))
                                      for g in Cpu.GROUPS + ("total",)}})
    return rows


# ------------------------------------------------------------------ section 2

def load_worker(port, kind, arg, seconds, max_n, go, out, seed):
    """Child process: one keep-alive client; waits for go, then runs."""
    api = Api(port)
    api.call("GET", "/api/dashboard")    # connect before the clock starts
    lat, ids = [], []
    errors = 0
    n = 0
    progress = 0
    actions = ("pause", "resume", "run")
    first = 0
    if kind in ("patch", "action"):
        # Go on from where the previous figure left the campaign: progress
        # only grows, and each action must be allowed from its status.
        rec = api.json("GET", "/api/campaigns/" + arg)
        progress = rec["processedItems"]
        first = {"running": 0, "paused": 1, "queued": 2}[rec["status"]]
    codes = {}
    go.wait(30)
    t_start = now()
    cpu0 = time.process_time()
    deadline = t_start + seconds
    while n < max_n and now() < deadline:
        if kind == "list":
            m, p, b = "GET", "/api/campaigns?limit=100", None
        elif kind == "dashboard":
            m, p, b = "GET", "/api/dashboard", None
        elif kind == "patch":
            progress += 1
            m, p, b = "PATCH", "/api/campaigns/" + arg, {"processedItems": progress,
                                                       "successfulItems": progress}
        elif kind == "action":
            m, p, b = "POST", "/api/campaigns/%s/%s" % (arg, actions[(first + n) % 3]), {}
        elif kind == "create":
            m, p, b = "POST", "/api/campaigns", campaign_body(seed * 1000000 + n)
        elif kind == "delete":
            if n >= len(arg):
                break
            m, p, b = "DELETE", "/api/campaigns/" + arg[n], None
        else:
            raise ValueError(kind)
        t0 = now()
        status, body = api.call(m, p, b)
        lat.append(now() - t0)
        if status >= 300:
            errors += 1
            codes[status] = codes.get(status, 0) + 1
        elif kind == "create":
            ids.append(json.loads(body)["id"])
        n += 1
    t_end = now()
    client_cpu = time.process_time() - cpu0
    api.close()
    out.send({"n": n, "errors": errors, "codes": codes, "lat": lat, "ids": ids,
              "t_start": t_start, "t_end": t_end, "client_cpu": client_cpu})


def run_load(st, kind, clients, seconds, max_n, args_per_client):
    """clients processes in parallel; figures and server CPU."""
    go = MP.Event()
    procs, pipes = [], []
    for i in range(clients):
        a, b = MP.Pipe()
        p = MP.Process(target=load_worker, args=(st.port, kind, args_per_client[i],
                                                 seconds, max_n, go, b, os.getpid() % 1000 * 10 + i))
        p.start()
        procs.append(p)
        pipes.append(a)
    time.sleep(0.3)
    cpu = Cpu(st)
    c0 = cpu.sample()
    go.set()
    results = []
    for a in pipes:
        if not a.poll(seconds + 120):
            raise RuntimeError("a %s client did not finish" % kind)
        results.append(a.recv())
    c1 = cpu.sample()
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.terminate()
            p.join(5)
    n = sum(r["n"] for r in results)
    span = max(r["t_end"] for r in results) - min(r["t_start"] for r in results)
    lat = [x * 1e3 for r in results for x in r["lat"]]
    cpud = Cpu.diff(c0, c1)
    return {
        "kind": kind, "clients": clients, "requests": n,
        "errors": sum(r["errors"] for r in results),
        "codes": {k: sum(r["codes"].get(k, 0) for r in results)
                  for k in set(c for r in results for c in r["codes"])},
        "seconds": span,
        "per_s": n / span if span > 0 else 0,
        "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
        "cpu_us": {g: cpud[g] * 1e6 / max(1, n) for g in Cpu.GROUPS + ("total",)},
        "server_cpu_share": cpud["total"] / span if span > 0 else 0,
        "client_cpu_us": sum(r["client_cpu"] for r in results) * 1e6 / max(1, n),
        "ids": [i for r in results for i in r["ids"]],
    }


def count_campaigns(api):
    return api.json("GET", "/api/dashboard")["campaigns"]["total"]


def throughput_set(st, args, label, api):
    rows = []
    n_campaigns = count_campaigns(api)
    targets = [running_campaign(api, 900000 + i) for i in range(4)]
    cycles = [running_campaign(api, 910000 + i) for i in range(4)]
    plan = [("list", None), ("dashboard", None), ("patch", targets), ("action", cycles)]
    for kind, arg in plan:
        for clients in (1, 4):
            r = run_load(st, kind, clients, args.seconds, args.max_requests // clients,
                         [arg[i] if arg else None for i in range(clients)])
            r.update({"section": "throughput", "data": label, "campaigns": n_campaigns})
            r.pop("ids")
            print(json.dumps(r), flush=True)
            rows.append(r)
    # Creates, then deletes of what was created: the table ends the size
    # it started.
    for clients in (1, 4):
        r = run_load(st, "create", clients, args.seconds, args.max_creates // clients,
                     [None] * clients)
        ids = r.pop("ids")
        r.update({"section": "throughput", "data": label, "campaigns": n_campaigns})
        print(json.dumps(r), flush=True)
        rows.append(r)
        share = [ids[i::clients] for i in range(clients)]
        r = run_load(st, "delete", clients, args.seconds * 3, len(ids), share)
        r.pop("ids")
        r.update({"section": "throughput", "data": label, "campaigns": n_campaigns})
        print(json.dumps(r), flush=True)
        rows.append(r)
    return rows


def throughput(args):
    rows = []
    with Stack(build=args.build, demo=True, workers=2) as st:
        api = Api(st.port)
        rows += throughput_set(st, args, "demo", api)
        # Load the big table through the API, 4 clients, bounded in time.
        t0 = now()
        r = run_load(st, "create", 4, args.load_seconds, args.campaigns // 4, [None] * 4)
        r.pop("ids")
        r.update({"section": "load", "data": "loading", "campaigns": count_campaigns(api)})
        r["load_seconds"] = now() - t0
        print(json.dumps(r), flush=True)
        rows.append(r)
        rows += throughput_set(st, args, "+%d" % r["requests"], api)
        api.close()
    return rows


# ------------------------------------------------------------------ section 3

def access_lines(st):
    try:
        with open(os.path.join(st.state, "logs", "nginx-access.log"), "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def idle_pages(args):
    """Idle window, polling pages, push pages: one stack, one after
    another, each over args.window seconds."""
    rows = []
    interval = len(PAGE_COLLECTIONS) * 60.0 / args.poll_per_minute
    with Stack(build=args.build, demo=True, workers=2) as st:
        cpu = Cpu(st)
        api = Api(st.port)
        api.json("GET", "/api/dashboard")
        time.sleep(1)

        # 1. nobody: what the stack costs by itself (flowpushd's database
        # check every push_poll_ms, timers).
        a0, l0 = cpu.sample(), access_lines(st)
        time.sleep(args.window)
        base = Cpu.diff(a0, cpu.sample())
        rows.append({"section": "pages", "page": "none", "pages": 0, "window_s": args.window,
                     "requests": access_lines(st) - l0, "cpu_s": base})
        print(json.dumps(rows[-1]), flush=True)

        # 2. polling pages: each asks its four lists every interval.
        pages = [Api(st.port) for _ in range(args.pages)]
        for p in pages:
            p.call("GET", "/api/dashboard")
        l0, a0 = access_lines(st), cpu.sample()
        start = now()
        due = [start + i * interval / args.pages for i in range(args.pages)]
        sent = 0
        received = 0
        while True:
            i = min(range(args.pages), key=lambda j: due[j])
            if due[i] >= start + args.window:
                break
            d = due[i] - now()
            if d > 0:
                time.sleep(d)
            for c in PAGE_COLLECTIONS:
                status, body = pages[i].call("GET", "/api/" + c)
                sent += 1
                received += len(body)
            due[i] += interval
        d = start + args.window - now()
        if d > 0:
            time.sleep(d)
        poll = Cpu.diff(a0, cpu.sample())
        for p in pages:
            p.close()
        rows.append({"section": "pages", "page": "polling", "pages": args.pages,
                     "window_s": args.window, "interval_s": interval,
                     "requests": sent, "logged": access_lines(st) - l0,
                     "bytes": received, "cpu_s": poll})
        print(json.dumps(rows[-1]), flush=True)

        # 3. push pages: open (load the lists once, a token, a push
        # connection), then sit idle for the window.
        l0, a0 = access_lines(st), cpu.sample()
        t_open = now()
        opening = 0
        seqs = []
        token = None
        for i in range(args.push_pages):
            page = Api(st.port)
            seq = None
            for c in PAGE_COLLECTIONS:
                after = None
                for _ in range(100):
                    q = "/api/%s?limit=1000" % c + ("&after=" + after if after else "")
                    doc = page.json("GET", q)
                    opening += 1
                    seq = doc["seq"] if seq is None else min(seq, doc["seq"])
                    after = doc["next"]
                    if not after:
                        break
            token = token_for(page)
            opening += 1
            page.close()
            seqs.append(seq)
        kinds = ["ws" if i % 2 == 0 else "sse" for i in range(args.push_pages)]
        subs = Subscribers(st.port, kinds, min(seqs), token, args.window + 60)
        open_cpu = Cpu.diff(a0, cpu.sample())
        open_s = now() - t_open
        opened = access_lines(st) - l0
        l0, a0 = access_lines(st), cpu.sample()
        time.sleep(args.window)
        push = Cpu.diff(a0, cpu.sample())
        idle_logged = access_lines(st) - l0
        res = subs.finish()
        api.close()
        rows.append({"section": "pages", "page": "push", "pages": args.push_pages,
                     "window_s": args.window, "requests": 0, "logged": idle_logged,
                     "pings": sum(s["pings"] for s in res),
                     "events": sum(len(s["events"]) for s in res),
                     "dropped": sum(1 for s in res if s["closed"]),
                     "cpu_s": push, "open_requests": opening, "open_logged": opened,
                     "open_cpu_s": open_cpu, "open_s": open_s})
        print(json.dumps(rows[-1]), flush=True)
    return rows


# ------------------------------------------------------------------ tables

def table_end_to_end(rows):
    print("| subscribers | transport | writes | deliveries | from answer p50 / p95 / p99 ms "
          "| from send p50 / p95 / p99 ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if r["transport"] in ("ws", "sse"):
            print("| %s | %s | %d | %d/%d | %s / %s / %s | %s / %s / %s |" % (
                r["scenario"], "WebSocket" if r["transport"] == "ws" else "SSE",
                r["writes"], r["deliveries"], r["expected"],
                fmt(r["answer_p50_ms"]), fmt(r["answer_p95_ms"]), fmt(r["answer_p99_ms"]),
                fmt(r["send_p50_ms"]), fmt(r["send_p95_ms"]), fmt(r["send_p99_ms"])))
    print()
    print("| subscribers | API answer (send → answer) | writes | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if r["transport"] == "api answer":
            print("| %s | %s | %d | %s | %s | %s |" % (
                r["scenario"], r["kind"], r["writes"], fmt(r["p50_ms"]),
                fmt(r["p95_ms"]), fmt(r["p99_ms"])))
    print()
    print("| subscribers | server CPU µs per write: nginx | flowpush.fcgi | flowpushd | total "
          "| the subscribers' own client, µs per write | nginx to flowpushd |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["transport"] == "server cpu":
            c = r["cpu_us_per_write"]
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["scenario"], fmt(c["nginx"]), fmt(c["flowpush.fcgi"]), fmt(c["flowpushd"]),
                fmt(c["total"]), fmt(r["subscriber_client_cpu_us_per_write"]),
                r["push_upstream"]))


NAMES = {"list": "GET /api/campaigns?limit=100", "dashboard": "GET /api/dashboard",
         "patch": "PATCH progress (running campaign)",
         "action": "status change (pause, resume, run)",
         "create": "POST create", "delete": "DELETE"}


def table_throughput(rows):
    sets = []
    for r in rows:
        if r["section"] == "throughput" and r["data"] not in sets:
            sets.append(r["data"])
    load = [r for r in rows if r["section"] == "load"]
    print("| request | clients | " + " | ".join(
        "%s: req/s | p50 ms | server CPU µs/req (nginx + fcgi + push)" % s for s in sets) + " |")
    print("|---|---|" + "---|---|---|" * len(sets))
    for kind in ("create", "delete", "patch", "action", "list", "dashboard"):
        for clients in (1, 4):
            cells = []
            for s in sets:
                m = [r for r in rows if r["section"] == "throughput" and r["data"] == s
                     and r["kind"] == kind and r["clients"] == clients]
                if not m:
                    cells += ["-", "-", "-"]
                    continue
                r = m[0]
                c = r["cpu_us"]
                err = " (%d errors)" % r["errors"] if r["errors"] else ""
                cells += [fmt(r["per_s"], 0) + err, fmt(r["p50_ms"]),
                          "%s (%s + %s + %s)" % (fmt(c["total"], 0), fmt(c["nginx"], 0),
                                                 fmt(c["flowpush.fcgi"], 0),
                                                 fmt(c["flowpushd"], 0))]
            print("| %s | %d | %s |" % (NAMES[kind], clients, " | ".join(cells)))
    for r in load:
        print()
        print("Loading: %s campaigns created through the API by 4 clients in %.1f s "
              "(%s/s, server CPU %s µs each); the table then held %s campaigns."
              % (fmt(r["requests"]), r["load_seconds"], fmt(r["per_s"], 0),
                 fmt(r["cpu_us"]["total"], 0), fmt(r["campaigns"])))
    sizes = {}
    for r in rows:
        if r["section"] == "throughput":
            sizes[r["data"]] = r["campaigns"]
    print()
    print("Campaigns in the table: " + ", ".join("%s = %s" % (k, fmt(v)) for k, v in sizes.items()))


def table_pages(rows):
    by = {r["page"]: r for r in rows if r["section"] == "pages"}
    base = by.get("none")
    if not base:
        return
    w = base["window_s"]
    base_cpu = base["cpu_s"]["total"]
    print("| page (idle, %d s window, %d polling pages, %d push pages) | requests / minute / page "
          "| bytes / minute / page | server CPU ms / minute / page (above the idle stack) "
          "| nginx | flowpush.fcgi | flowpushd |" % (w, by.get("polling", base)["pages"],
                                                   by.get("push", base)["pages"]))
    print("|---|---|---|---|---|---|---|")
    print("| none (the stack by itself, per minute) | - | - | %s | %s | %s | %s |" % (
        fmt(base_cpu * 1e3 * 60 / w), fmt(base["cpu_s"]["nginx"] * 1e3 * 60 / w),
        fmt(base["cpu_s"]["flowpush.fcgi"] * 1e3 * 60 / w),
        fmt(base["cpu_s"]["flowpushd"] * 1e3 * 60 / w)))
    for name in ("polling", "push"):
        r = by.get(name)
        if not r:
            continue
        k = r["pages"]
        per = 60.0 / r["window_s"] / k

        def above(g):
            return (r["cpu_s"][g] - base["cpu_s"][g] * r["window_s"] / w) * 1e3 * per
        label = ("polling its 4 lists every %.2f s" % r["interval_s"] if name == "polling"
                 else "push: lists loaded once, then one WebSocket or SSE stream")
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            label, fmt(r["requests"] * per), fmt(r.get("bytes", 0) * per),
            fmt(above("total"), 3), fmt(above("nginx"), 3), fmt(above("flowpush.fcgi"), 3),
            fmt(above("flowpushd"), 3)))
    r = by.get("push")
    if r:
        print()
        print("Opening one push page (once): %.1f requests, %s ms of server CPU; "
              "idle: %d pings/heartbeats received, %d requests logged by nginx, "
              "%d streams dropped." % (
                  r["open_requests"] / r["pages"], fmt(r["open_cpu_s"]["total"] * 1e3 / r["pages"]),
                  r["pings"], r["logged"], r["dropped"]))


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("FLOWPUSH_BUILD",
                                                      os.path.join(SRC, "run", "build")))
    ap.add_argument("--quick", action="store_true", help="small numbers: a smoke run")
    ap.add_argument("--sections", default="1,2,3")
    ap.add_argument("--writes", type=int, default=500, help="writes per latency run")
    ap.add_argument("--rate", type=float, default=50.0, help="writes per second")
    ap.add_argument("--subscribers", type=int, default=100, help="the large latency run")
    ap.add_argument("--campaigns", type=int, default=5000, help="campaigns to load")
    ap.add_argument("--load-seconds", type=float, default=90.0, help="most time to load them")
    ap.add_argument("--seconds", type=float, default=3.0, help="per throughput figure")
    ap.add_argument("--max-requests", type=int, default=20000, help="per throughput figure")
    ap.add_argument("--max-creates", type=int, default=600, help="per create figure")
    ap.add_argument("--window", type=float, default=30.0, help="idle-page window, seconds")
    ap.add_argument("--pages", type=int, default=20, help="idle polling pages")
    ap.add_argument("--push-pages", type=int, default=200,
                    help="idle push pages (half WebSocket, half SSE): many, as one costs little")
    ap.add_argument("--poll-per-minute", type=float, default=108.0,
                    help="requests a minute of a polling page")
    a = ap.parse_args()
    if a.quick:
        a.writes, a.subscribers, a.campaigns = 100, 20, 500
        a.seconds, a.max_creates, a.window, a.pages, a.push_pages = 1.0, 200, 5.0, 4, 20
    a.build = os.path.abspath(a.build)
    sections = set(a.sections.split(","))
    t_all = now()
    e2e, thr, pages = [], [], []
    if "1" in sections:
        for n_ws, n_sse, label in ((1, 1, "1 + 1"),
                                   (a.subscribers // 2, a.subscribers - a.subscribers // 2,
                                    "%d + %d" % (a.subscribers // 2,
                                                 a.subscribers - a.subscribers // 2))):
            rows = end_to_end(a, n_ws, n_sse, label)
            for r in rows:
                print(json.dumps(r), flush=True)
            e2e += rows
    if "2" in sections:
        thr = throughput(a)
    if "3" in sections:
        pages = idle_pages(a)
    print()
    print("Run: %s, %d writes at %g/s, %.0f s in all; build %s." % (
        time.strftime("%Y-%m-%d %H:%M"), a.writes, a.rate, now() - t_all, a.build))
    if e2e:
        print()
        table_end_to_end(e2e)
    if thr:
        print()
        table_throughput(thr)
    if pages:
        print()
        table_pages(pages)
    incomplete = [r for r in e2e if "expected" in r and r["deliveries"] != r["expected"]]
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
