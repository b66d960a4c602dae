#!/usr/bin/python3
"""peer_bench.py - flowpush beside nchan and beside a polling page: the same load client, the same payload size, the same machine, the systems run one after the other in an order that alternates from one repetition to the next.

    bench/peer_bench.py [--build DIR] [--full] [--scenarios NAME,...]
                        [--systems NAME,...] [--repeat N]
                        [--poll-interval S] [--out DIR] [--from FILE]

Systems:
  flowpush-nginx   the default deployment: pages reach flowpushd through
                   nginx (one worker) and its Unix socket; a write is a
                   PATCH of one keyword set through nginx and flowpush.fcgi
  flowpush-direct  the same stack, subscribers connect to flowpushd's Unix
                   socket directly (the write still goes through the API)
  flowpush-tcp     the same stack with flowpushd on a loopback TCP port,
                   subscribers connect to that port directly
  nchan            nginx (one worker) with Debian's nchan module: pub/sub
                   with WebSocket and EventSource subscribers, a write is a
                   POST of 600 bytes to its publisher
  polling          the console before push: the same stack without
                   flowpushd; every page asks GET /api/keyword-sets?limit=50
                   through nginx every --poll-interval seconds (5) on a
                   kept-alive connection, and the writes are the same PATCHes.
                   Runs in the poll-* scenarios only; its figures (requests,
                   bytes and server CPU per minute, time from a write to the
                   first answer that shows it) get their own table.

Every flowpush database holds 50 keyword sets (49 seeded, one written), so
a polled list is a full page of 50 (about 37 KB). A write is visible to a
page in the first answer that carries its marker "bench-N" or a later one
(the list shows the record as that write or a later one left it).

Scenarios (the default runs the first three, --full all of them):
  latency-500      400 WebSocket + 100 SSE subscribers, 50 events at 50/s
  latency-2000     2,000 WebSocket, 20 events at 50/s
  poll-500         500 pages polling beside 400 WebSocket + 100 SSE
                   subscribers, 12 events at 1/s (flowpush-nginx, nchan,
                   polling)
  latency-10000    10,000 WebSocket, 10 events 1 s apart: last delivery and
                   fairness at size
  burst-500        400 WebSocket + 100 SSE, 200 events as fast as the
                   writer goes
  memory-5000-ws, memory-5000-sse, memory-10000-ws, memory-10000-sse
                   idle memory: that many connections of one transport,
                   3 events at 10/s

Latency is from the write request being sent to the event received
(bench/push_load.c matches each message to its write by a marker in the
payload): over every delivery (p50, p99, max), and per event to its last
subscriber (the median and worst event). Fairness: the largest share of
events for which one subscriber was among the last tenth served, beside
the same figure were the last tenth drawn at random. CPU and RSS are read
from /proc for each process of the system: flowpushd, nginx's worker and
flowpush.fcgi; nchan's worker; "push process" is flowpushd alone, or
nchan's worker. The client's own CPU is reported beside.

Every run is bounded in subscribers, events and seconds and stops by
itself; every process is stopped by PID. A system whose busiest process
would need more file descriptors than the hard limit (ulimit -Hn) is left
out of that scenario, and the tables say so: one nginx worker holds two
per proxied connection.

Prints one JSON line per run as it ends, then Markdown tables of medians
with each figure's ratio to nchan's. --out DIR also writes runs.jsonl (the
raw runs), tables.md, and PNG plots made by gnuplot (latency.png:
p50, p99 and last delivery against subscribers; memory.png: KB per
connection against connections, one line per system). --from FILE makes
the tables (and with --out the plots) again from a runs.jsonl.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from stack import Stack, free_port, _tcp_open  # noqa: E402

NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
PAYLOAD = 600   # bytes of a message: about a keyword set's event
POLL_PATH = "/api/keyword-sets?limit=50"
SEEDS = 49      # keyword sets besides the written one: a full list page
FD_SPARE = 100  # descriptors a server needs besides its connections

PUSH_SYSTEMS = ["flowpush-nginx", "flowpush-direct", "flowpush-tcp", "nchan"]
ALL_SYSTEMS = PUSH_SYSTEMS + ["polling"]


class Scenario:
    """One load: subscribers (WebSocket + SSE), events at a rate (0: as
    fast as the writer goes), a bound in seconds, and the systems it
    runs on (pages: the polling system's pages, one per subscriber)."""

    def __init__(self, name, ws, sse, events, rate, seconds,
                 systems=PUSH_SYSTEMS, what=""):
        self.name, self.ws, self.sse = name, ws, sse
        self.events, self.rate, self.seconds = events, rate, seconds
        self.systems, self.what = list(systems), what

    @property
    def subscribers(self):
        return self.ws + self.sse

    @property
    def polls(self):
        return "polling" in self.systems

    def describe(self):
        subs = []
        if self.ws:
            subs.append("%s WebSocket" % fmt_int(self.ws))
        if self.sse:
            subs.append("%s SSE" % fmt_int(self.sse))
        rate = "as fast as they go" if self.rate == 0 else "at %g/s" % self.rate
        return "%s subscribers, %d events %s" % (" + ".join(subs), self.events, rate)


QUICK = [
    Scenario("latency-500", 400, 100, 50, 50, 60, what="latency"),
    Scenario("latency-2000", 2000, 0, 20, 50, 90, what="latency"),
    Scenario("poll-500", 400, 100, 12, 1, 60,
             systems=["flowpush-nginx", "nchan", "polling"], what="poll"),
]
FULL = QUICK + [
    Scenario("latency-10000", 10000, 0, 10, 1, 180, what="latency"),
    Scenario("burst-500", 400, 100, 200, 0, 90, what="burst"),
    Scenario("memory-5000-ws", 5000, 0, 3, 10, 120, what="memory"),
    Scenario("memory-5000-sse", 0, 5000, 3, 10, 120, what="memory"),
    Scenario("memory-10000-ws", 10000, 0, 3, 10, 180, what="memory"),
    Scenario("memory-10000-sse", 0, 10000, 3, 10, 180, what="memory"),
]

# Figures of the push systems: key in a run, label, decimals (None: by
# size). Every one gets a ratio to nchan's.
PUSH_FIGURES = [
    ("p50_ms", "delivery p50 ms", None),
    ("p99_ms", "delivery p99 ms", None),
    ("max_ms", "delivery max ms", None),
    ("last_p50_ms", "last delivery ms, median over events", None),
    ("last_max_ms", "last delivery ms, worst event", None),
    ("fanout_mean_ms", "daemon: commit to last socket write, mean ms", None),
    ("fanout_max_le_ms", "daemon: commit to last socket write, worst within ms", None),
    ("last_decile_max_share", "most often among the last 10 %, share of events", 2),
    ("write_p50_ms", "write request p50 ms", None),
    ("write_p99_ms", "write request p99 ms", None),
    ("server_us", "CPU µs/delivery, every process of the system", None),
    ("push_us", "CPU µs/delivery, push process (flowpushd; nchan's worker)", None),
    ("kb_per_subscriber", "RSS KB/subscriber, every process", None),
    ("push_kb", "RSS KB/subscriber, push process", None),
    ("client_us", "client CPU µs/delivery", None),
    ("delivered_pct", "delivered %", 1),
]

# Figures of the poll scenarios, for every system of it: key, label.
POLL_FIGURES = [
    ("requests_per_min", "requests per minute (all pages)"),
    ("bytes_per_min", "bytes received per minute (all pages)"),
    ("server_cpu_pct", "server CPU, % of one core"),
    ("vis_p50_ms", "write to visible p50 ms"),
    ("vis_p99_ms", "write to visible p99 ms"),
    ("write_p50_ms", "write request p50 ms"),
    ("client_cpu_pct", "client CPU, % of one core"),
    ("visible_pct", "(page, write) pairs seen, %"),
]


def fmt_int(n):
    return "{:,}".format(int(n))


def fmt(v, decimals=None):
    if v is None:
        return "–"
    if decimals is None:
        decimals = 2 if abs(v) < 10 else 1 if abs(v) < 1000 else 0
    if decimals == 0:
        return fmt_int(round(v))
    return "%.*f" % (decimals, v)


def children(pid):
    """PIDs whose parent is pid (nginx's workers)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def fd_limit():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


class BenchStack(Stack):
    """The tests' stack, its nginx allowed as many connections as the
    descriptor limit holds (the rendered default is 8,192)."""

    def _render_nginx(self):
        super()._render_nginx()
        conf = os.path.join(self.state, "nginx.conf")
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        limit = fd_limit()
        text = re.sub(r"worker_rlimit_nofile \d+;", "worker_rlimit_nofile %d;" % limit, text)
        text = re.sub(r"worker_connections \d+;",
                      "worker_connections %d;" % (limit - FD_SPARE), text)
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text)


class Flowpush:
    """The quickstart stack (nginx with one worker, spawn-fcgi, flowpushd),
    tokens off, 50 keyword sets of which the last made is written.
    via: "nginx" (subscribers through nginx), "unix" (on flowpushd's Unix
    socket), "tcp" (flowpushd on a TCP port), "poll" (no flowpushd)."""

    def __init__(self, build, via):
        self.build, self.via = build, via
        self.st = None

    def fds_needed(self, connections):
        """Descriptors of the busiest server process at this size."""
        per = 2 if self.via == "nginx" else 1
        return per * connections + FD_SPARE

    def start(self):
        self.st = BenchStack(build=self.build, workers=1, push=self.via != "poll",
                             push_unix=self.via != "tcp", env={
                                 "FLOWPUSH_SECRET": "",
                                 "FLOWPUSH_PUSH_MAX_CONNECTIONS": "12000",
                                 "FLOWPUSH_LOG_LEVEL": "warn"}).start()
        self.id = self.seed()
        q = "?topics=keyword-sets/" + self.id
        self.sse_path, self.ws_path = "/push/events" + q, "/push/ws" + q
        if self.via == "unix":
            self.sub = "unix:" + self.st.push_socket
        elif self.via == "tcp":
            self.sub = str(self.st.push_port)
        else:
            self.sub = str(self.st.port)
        self.write = "127.0.0.1:%d,PATCH,/api/keyword-sets/%s,%s" % (
            self.st.port, self.id, json.dumps({"description": "bench-%ld"}))
        workers = children(self.st.procs["nginx"].pid)
        fcgi = [self.st.procs["flowpush.fcgi"].pid]
        if self.via == "poll":
            self.pids, self.push_pids = workers + fcgi, 0
        else:
            # The first is the push server: flowpushd.
            self.pids = [self.st.procs["flowpushd"].pid] + workers + fcgi
            self.push_pids = 1

    def seed(self):
        """Makes the 49 other keyword sets, then the one written (the
        newest, so first in the list); returns its id."""
        stamp = int(time.time() * 1000)
        conn = self.st.connection()
        try:
            for i in range(SEEDS):
                status, _, rec = self.st.json("POST", "/api/keyword-sets", {
                    "name": "seed-%d-%02d" % (stamp, i),
                    "description": "Terms watched on the %02d list. " % i * 8,
                    "rules": [{"pattern": "term-%d-%d" % (i, k), "ruleType": "string"}
                              for k in range(2)]}, conn=conn)
                if status != 201:
                    raise RuntimeError("cannot seed keyword set %d: %s" % (i, rec))
            status, _, rec = self.st.json("POST", "/api/keyword-sets",
                                          {"name": "load-%d" % stamp}, conn=conn)
        finally:
            conn.close()
        if status != 201:
            raise RuntimeError("cannot create the record: %s" % rec)
        return rec["id"]

    def fanout(self):
        """flowpushd's flowpush_fanout_ms histogram now: {le: count},
        with "sum" and "count"; None without a daemon."""
        if self.via == "poll":
            return None
        status, _, body = self.st.request("GET", "/push/metrics")
        if status != 200:
            return None
        out = {}
        for line in body.decode().splitlines():
            if line.startswith("flowpush_fanout_ms_bucket{le="):
                le = line.split('"')[1]
                out[float("inf") if le == "+Inf" else float(le)] = int(line.split()[-1])
            elif line.startswith("flowpush_fanout_ms_sum "):
                out["sum"] = int(line.split()[-1])
            elif line.startswith("flowpush_fanout_ms_count "):
                out["count"] = int(line.split()[-1])
        return out

    def stop(self):
        if self.st is not None:
            self.st.stop()
            self.st = None


def fanout_figures(r, before, after):
    """The daemon's own commit-to-last-write figures over the run: the mean,
    and the bucket bound that holds every fan-out of the run."""
    if not before or not after or after["count"] <= before["count"]:
        return
    n = after["count"] - before["count"]
    r["fanout_mean_ms"] = (after["sum"] - before["sum"]) / n
    bounds = sorted(k for k in after if not isinstance(k, str))
    r["fanout_max_le_ms"] = next(b for b in bounds if after[b] - before[b] == n)


class Nchan:
    """nginx with one worker and the nchan module: one channel."""

    CONF = """load_module %(module)s;
worker_processes 1;
worker_rlimit_nofile %(nofile)d;
pid %(state)s/nginx.pid;
error_log %(state)s/error.log warn;
events { worker_connections %(connections)d; }
http {
    access_log off;
    client_body_temp_path %(state)s/tmp;
    proxy_temp_path %(state)s/tmp;
    fastcgi_temp_path %(state)s/tmp;
    uwsgi_temp_path %(state)s/tmp;
    scgi_temp_path %(state)s/tmp;
    server {
        listen 127.0.0.1:%(port)d;
        location = /nchan/pub {
            nchan_publisher;
            nchan_channel_id bench;
            nchan_message_buffer_length 64;
        }
        location = /nchan/sub {
            nchan_subscriber;
            nchan_channel_id bench;
            nchan_subscriber_first_message newest;
        }
    }
}
"""

    def __init__(self):
        self.proc, self.state = None, None

    def fds_needed(self, connections):
        return connections + FD_SPARE

    def start(self):
        self.state = tempfile.mkdtemp(prefix="fp-nchan-")
        os.makedirs(os.path.join(self.state, "tmp"))
        self.port = free_port()
        conf = os.path.join(self.state, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.CONF % {"module": NCHAN_MODULE, "state": self.state,
                                 "port": self.port, "nofile": fd_limit(),
                                 "connections": fd_limit() - FD_SPARE})
        self.proc = subprocess.Popen(["nginx", "-p", self.state, "-c", conf, "-e",
                                      os.path.join(self.state, "error.log"),
                                      "-g", "daemon off;"])
        deadline = time.monotonic() + 10
        while not _tcp_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx with nchan did not start")
            time.sleep(0.05)
        self.sse_path = self.ws_path = "/nchan/sub"
        self.sub = str(self.port)
        body = json.dumps({"description": "bench-%ld", "pad": ""})
        body = body.replace('"pad": ""', '"pad": "%s"' % ("x" * max(0, PAYLOAD - len(body))))
        self.write = "127.0.0.1:%d,POST,/nchan/pub,%s" % (self.port, body)
        self.pids = children(self.proc.pid)
        self.push_pids = len(self.pids)

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.state:
            shutil.rmtree(self.state, ignore_errors=True)


VIA = {"flowpush-nginx": "nginx", "flowpush-direct": "unix",
       "flowpush-tcp": "tcp", "polling": "poll"}


def make(name, build):
    if name == "nchan":
        return Nchan()
    return Flowpush(build, VIA[name])


def feasible(name, build, sc):
    """None when the system can run the scenario within the descriptor
    limit, else why not."""
    need, limit = make(name, build).fds_needed(sc.subscribers), fd_limit()
    if need <= limit:
        return None
    why = ("%s is not run at %s connections: its busiest process would need "
           "about %s descriptors, over the hard limit of %s per process"
           % (name, fmt_int(sc.subscribers), fmt_int(need), fmt_int(limit)))
    if VIA.get(name) == "nginx":
        why += (" (its one nginx worker holds two per proxied connection; more "
                "workers would no longer compare with nchan's one)")
    return why


def loader_cmd(loader, system, sc, poll_interval):
    cmd = [loader, "--sub", system.sub, "--events", str(sc.events),
           "--rate", str(sc.rate), "--seconds", str(sc.seconds), "--http", system.write]
    if isinstance(system, Flowpush) and system.via == "poll":
        cmd += ["--poll", "%s,%d" % (POLL_PATH, poll_interval * 1000),
                "--pages", str(sc.subscribers)]
    else:
        cmd += ["--sse-path", system.sse_path, "--ws-path", system.ws_path,
                "--sse", str(sc.sse), "--ws", str(sc.ws)]
    for pid in system.pids:
        cmd += ["--pid", str(pid)]
    return cmd


def derive(r, push_pids):
    """Adds the per-delivery and per-minute figures to a run's JSON."""
    secs = max(r["seconds"], 1e-9)
    r["server_cpu_pct"] = r["cpu_s"] * 100 / secs
    r["client_cpu_pct"] = r["client_cpu_s"] * 100 / secs
    if r["mode"] == "pages":
        r["vis_p50_ms"], r["vis_p99_ms"] = r["visible_p50_ms"], r["visible_p99_ms"]
        r["visible_pct"] = 100.0 * r["visible"] / max(1, r["expected"])
        r["complete"] = r["visible"] == r["expected"] and r["write_errors"] == 0 \
            and r["poll_errors"] == 0
        return r
    n = max(1, r["deliveries"])
    subs = max(1, r["subscribers"])
    r["server_us"] = r["cpu_s"] * 1e6 / n
    r["push_us"] = sum(r["cpu_s_by_pid"][:push_pids]) * 1e6 / n
    r["push_kb"] = sum(r["rss_kb_by_pid"][:push_pids]) / subs
    r["client_us"] = r["client_cpu_s"] * 1e6 / n
    r["delivered_pct"] = 100.0 * r["deliveries"] / max(1, r["expected"])
    r["bytes_per_min"] = r["bytes"] * 60 / secs
    r["requests_per_min"] = None
    r["vis_p50_ms"], r["vis_p99_ms"] = r["p50_ms"], r["p99_ms"]
    r["visible_pct"] = r["delivered_pct"]
    r["complete"] = r["deliveries"] == r["expected"] and r["write_errors"] == 0
    return r


def run_one(loader, name, build, sc, poll_interval):
    system = make(name, build)
    before = after = None
    try:
        system.start()
        cmd = loader_cmd(loader, system, sc, poll_interval)
        if hasattr(system, "fanout"):
            before = system.fanout()
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=sc.seconds + 60)
        if before is not None:
            after = system.fanout()
    finally:
        system.stop()
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("push_load printed nothing: %s" % out.stderr[-500:])
    r = derive(json.loads(lines[-1]), system.push_pids)
    fanout_figures(r, before, after)
    r["complete"] = r["complete"] and out.returncode == 0
    return r


def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "–"


# ---------------------------------------------------------------- tables


def medians(runs, keys):
    return {k: median([r.get(k) for r in runs]) for k in keys}


def table_rows(systems, figures, vals, bases):
    """Markdown rows: a figure's median per system, then each listed
    (numerator, denominator) ratio."""
    out = []
    for key, label, decimals in figures:
        row = [fmt(vals[s][key], decimals) for s in systems]
        row += [ratio(vals[a][key], vals[b][key]) for a, b in bases]
        out.append("| %s | %s |" % (label, " | ".join(row)))
    return out


def ratio_pairs(systems, first=None):
    pairs = [(first, s) for s in systems if first and s != first]
    if "nchan" in systems:
        pairs += [(s, "nchan") for s in systems if s != "nchan"
                  and (s, "nchan") not in pairs]
    return pairs


def push_table(sc, by_system, skipped):
    systems = [s for s in PUSH_SYSTEMS if by_system.get(s)]
    vals = {s: medians(by_system[s], [k for k, _, _ in PUSH_FIGURES]) for s in systems}
    pairs = ratio_pairs(systems)
    reps = max(len(v) for v in by_system.values())
    out = ["#### %s: %s (median of %d)" % (sc.name, sc.describe(), reps), ""]
    out.append("| figure | %s | %s |" % (" | ".join(systems), " | ".join(
        "%s ÷ %s" % p for p in pairs)))
    out.append("|---|" + "---|" * (len(systems) + len(pairs)))
    out += table_rows(systems, PUSH_FIGURES, vals, pairs)
    rnd = median([r.get("last_decile_random_share") for s in systems
                  for r in by_system[s]])
    out.append("")
    out.append("At random (a server that serves in no fixed order) the 'last "
               "10 %%' figure would be %s at these sizes." % fmt(rnd, 2))
    return out + notes(sc, by_system, skipped)


def poll_table(sc, by_system, skipped, poll_interval):
    systems = [s for s in ["polling"] + PUSH_SYSTEMS if by_system.get(s)]
    keys = [k for k, _ in POLL_FIGURES]
    vals = {s: medians(by_system[s], keys) for s in systems}
    pairs = ratio_pairs(systems, "polling" if "polling" in systems else None)
    reps = max(len(v) for v in by_system.values())
    out = ["#### %s: %s pages polling `GET %s` every %g s, beside %s "
           "(median of %d)" % (sc.name, fmt_int(sc.subscribers), POLL_PATH,
                               poll_interval, sc.describe(), reps), ""]
    out.append("| figure | %s | %s |" % (" | ".join(systems), " | ".join(
        "%s ÷ %s" % p for p in pairs)))
    out.append("|---|" + "---|" * (len(systems) + len(pairs)))
    out += table_rows(systems, [(k, l, None) for k, l in POLL_FIGURES], vals, pairs)
    out.append("")
    out.append("For the push systems a page is a subscriber: bytes are what "
               "the subscribers read, visible is delivered, and the server "
               "CPU counts every process of the system; for polling it is "
               "nginx's worker and flowpush.fcgi. Per minute over the "
               "measured window: from the first write (push) or the first "
               "poll (polling) to the last receipt.")
    return out + notes(sc, by_system, skipped)


def notes(sc, by_system, skipped):
    out = []
    for s, why in skipped:
        out.append("")
        out.append("Not run: %s." % why)
    bad = [s for s, runs in by_system.items() if not all(r["complete"] for r in runs)]
    if bad:
        out.append("")
        out.append("INCOMPLETE in %s: %s (some events were not delivered or "
                   "some requests failed; see runs.jsonl)." % (sc.name, ", ".join(bad)))
    return out


def tables(results, poll_interval):
    """The Markdown of every scenario: a push table, and for poll-*
    scenarios the polling table beside."""
    out = []
    for sc, by_system, skipped in results:
        if any(by_system.get(s) for s in PUSH_SYSTEMS):
            push_only = {s: r for s, r in by_system.items() if s != "polling"}
            out += push_table(sc, push_only, skipped if not sc.polls else []) + [""]
        if by_system.get("polling"):
            out += poll_table(sc, by_system, skipped, poll_interval) + [""]
    return "\n".join(out)


# ----------------------------------------------------------------- plots


def series(results, pick, key):
    """{system: [(subscribers, median of key)]} over the scenarios pick
    accepts."""
    out = {}
    for sc, by_system, _ in results:
        if not pick(sc):
            continue
        for s in PUSH_SYSTEMS:
            v = median([r.get(key) for r in by_system.get(s, [])])
            if v is not None:
                out.setdefault(s, []).append((sc.subscribers, v))
    return {s: sorted(p) for s, p in out.items()}


def write_dat(path, points):
    with open(path, "w") as f:
        for x, y in points:
            f.write("%d %.4f\n" % (x, y))


def panel(out_dir, tag, lines, title, ylabel, logy):
    """gnuplot lines drawing one panel from lines: [(label or None for
    no key entry, points, colour index, dash)], writing a .dat file per
    line."""
    cmds = ['set title "%s"' % title, "set ylabel '%s'" % ylabel,
            "set logscale y" if logy else "unset logscale y"]
    plots = []
    for i, (label, points, colour, dash) in enumerate(lines):
        dat = "%s-%d.dat" % (tag, i)
        write_dat(os.path.join(out_dir, dat), points)
        plots.append("'%s' using 1:2 with linespoints lw 2 pt 7 lc %d dt %d %s"
                     % (dat, colour, dash, "title '%s'" % label if label else "notitle"))
    if not plots:
        return cmds + ["set label 1 'no scenario of this kind in the run' at graph 0.2,0.5",
                       "unset logscale y", "plot [][0:1] -1 notitle", "unset label 1"]
    return cmds + ["plot " + ", \\\n     ".join(plots)]


COLOUR = {s: i + 1 for i, s in enumerate(PUSH_SYSTEMS)}
LATENCY = [("p50_ms", "delivery p50"), ("p99_ms", "delivery p99"),
           ("last_p50_ms", "last delivery (median over events)")]


def plot_script(results, out_dir):
    head = ["# plots.gp - the plots of one run of bench/peer_bench.py",
            "set terminal pngcairo size 1500,520 font ',10'",
            "set key outside below horizontal", "set grid", "set logscale x",
            "set xrange [300:15000]", "set xtics (500, 1000, 2000, 5000, 10000)",
            "set xlabel 'connections (log scale)' offset 0,0.5", "set bmargin 7",
            "set style data linespoints"]
    cmds = head + ["set output 'latency.png'", "set yrange [*:*]",
                   "set multiplot layout 1,3"]
    for key, title in LATENCY:
        pts = series(results, lambda sc: sc.what == "latency", key)
        lines = [(s, pts[s], COLOUR[s], 1) for s in PUSH_SYSTEMS if s in pts]
        cmds += panel(out_dir, "latency-" + key, lines, title + ", ms", "ms", True)
    cmds += ["unset multiplot", "set output 'memory.png'",
             "set terminal pngcairo size 1200,560 font ',10'",
             "set yrange [0:*]",
             "set multiplot layout 1,2"]
    for transport in ("ws", "sse"):
        only = lambda sc, t=transport: (sc.what in ("latency", "memory") and
                                        getattr(sc, t) == sc.subscribers)
        whole = series(results, only, "kb_per_subscriber")
        push = series(results, only, "push_kb")
        lines = []
        for s in PUSH_SYSTEMS:
            if s in whole:
                lines.append((s, whole[s], COLOUR[s], 1))
                lines.append((None, push[s], COLOUR[s], 2))
        cmds += panel(out_dir, "memory-" + transport, lines,
                      ("WebSocket" if transport == "ws" else "SSE") +
                      " only: RSS KB per connection\\n(solid: every process of "
                      "the system; dashed: the push process)", "KB", False)
    cmds += ["unset multiplot", "set output"]
    return "\n".join(cmds) + "\n"


def write_plots(results, out_dir):
    """Draws latency.png and memory.png into out_dir. The gnuplot script
    and its data are made in a temporary folder, so that out_dir holds
    only what is meant to be kept: --from remakes them from runs.jsonl."""
    if shutil.which("gnuplot") is None:
        print("peer_bench: gnuplot is missing (apt-get install gnuplot-nox): "
              "no plots", file=sys.stderr)
        return
    work = tempfile.mkdtemp(prefix="fp-plot-")
    try:
        with open(os.path.join(work, "plots.gp"), "w") as f:
            f.write(plot_script(results, work))
        subprocess.run(["gnuplot", "plots.gp"], cwd=work, check=True, timeout=60)
        for png in ("latency.png", "memory.png"):
            shutil.copy(os.path.join(work, png), os.path.join(out_dir, png))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------ main


def pick_scenarios(a):
    table = {sc.name: sc for sc in FULL}
    if not a.scenarios:
        return FULL if a.full else QUICK
    out = []
    for n in a.scenarios.split(","):
        if n not in table:
            raise SystemExit("unknown scenario %s (known: %s)" % (n, ", ".join(table)))
        out.append(table[n])
    return out


def run_all(a, scenarios, systems, out_file):
    work = tempfile.mkdtemp(prefix="fp-peer-")
    loader = os.path.join(work, "push_load")
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", loader,
                    os.path.join(SRC, "bench", "push_load.c"),
                    "-lsqlite3", "-lpthread"], check=True)
    results = []
    try:
        for sc in scenarios:
            names = [s for s in sc.systems if s in systems]
            skipped = [(s, feasible(s, a.build, sc)) for s in names]
            skipped = [(s, why) for s, why in skipped if why]
            names = [s for s in names if s not in dict(skipped)]
            by_system = {s: [] for s in names}
            for i in range(a.repeat):
                k = i % max(1, len(names))
                for pos, s in enumerate(names[k:] + names[:k]):
                    print("peer_bench: %s, %s, run %d of %d" % (sc.name, s, i + 1, a.repeat),
                          file=sys.stderr, flush=True)
                    r = run_one(loader, s, a.build, sc, a.poll_interval)
                    r.update(system=s, scenario=sc.name, repetition=i, position=pos,
                             poll_interval_s=a.poll_interval)
                    line = json.dumps(r)
                    print(line, flush=True)
                    if out_file:
                        out_file.write(line + "\n")
                        out_file.flush()
                    by_system[s].append(r)
            for s, why in skipped:
                line = json.dumps({"scenario": sc.name, "system": s, "skipped": why})
                print(line, flush=True)
                if out_file:
                    out_file.write(line + "\n")
            results.append((sc, by_system, skipped))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def load_runs(path):
    """Results as run_all gives them, from a runs.jsonl."""
    table = {sc.name: sc for sc in FULL}
    by_sc = {}
    interval = 5
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            by_system, skipped = by_sc.setdefault(r["scenario"], ({}, []))
            if "skipped" in r:
                skipped.append((r["system"], r["skipped"]))
            else:
                by_system.setdefault(r["system"], []).append(r)
                interval = r.get("poll_interval_s", interval)
    return [(table[n], b, s) for n, (b, s) in by_sc.items() if n in table], interval


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", metavar="DIR",
                    default=os.environ.get("FLOWPUSH_BUILD",
                                           os.path.join(SRC, "run", "build")),
                    help="flowpush build folder ($FLOWPUSH_BUILD, else run/build)")
    ap.add_argument("--full", action="store_true",
                    help="the full set: 10,000 subscribers, a burst, idle memory")
    ap.add_argument("--scenarios", metavar="NAME,...",
                    help="these scenarios only, of: %s" % ", ".join(sc.name for sc in FULL))
    ap.add_argument("--systems", metavar="NAME,...", default=",".join(ALL_SYSTEMS),
                    help="these systems only (all: %s)" % ",".join(ALL_SYSTEMS))
    ap.add_argument("--repeat", metavar="N", type=int,
                    help="runs per figure, the median is reported (3; 5 with --full)")
    ap.add_argument("--poll-interval", metavar="S", type=float, default=5,
                    help="seconds between a polling page's requests (5)")
    ap.add_argument("--out", metavar="DIR",
                    help="write runs.jsonl, tables.md and the plots here")
    ap.add_argument("--from", metavar="FILE", dest="source",
                    help="make the tables (and plots, with --out) from this runs.jsonl")
    a = ap.parse_args()
    if a.repeat is None:
        a.repeat = 5 if a.full else 3
    a.repeat = max(1, a.repeat)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    if a.source:
        results, a.poll_interval = load_runs(a.source)
    else:
        if not os.path.exists(NCHAN_MODULE):
            raise SystemExit("%s is missing: apt-get install libnginx-mod-nchan "
                             "(./quickstart bench installs it)" % NCHAN_MODULE)
        systems = a.systems.split(",")
        unknown = [s for s in systems if s not in ALL_SYSTEMS]
        if unknown:
            raise SystemExit("unknown system %s (known: %s)"
                             % (", ".join(unknown), ", ".join(ALL_SYSTEMS)))
        out_file = open(os.path.join(a.out, "runs.jsonl"), "w") if a.out else None
        try:
            results = run_all(a, pick_scenarios(a), systems, out_file)
        finally:
            if out_file:
                out_file.close()
    md = tables(results, a.poll_interval)
    print()
    print(md)
    if a.out:
        with open(os.path.join(a.out, "tables.md"), "w") as f:
            f.write(md)
        write_plots(results, a.out)
    complete = all(r["complete"] for _, b, _ in results for runs in b.values() for r in runs)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
