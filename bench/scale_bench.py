#!/usr/bin/python3
"""scale_bench.py - what the PostgreSQL store costs beside SQLite, and what a second push daemon buys.

Usage: bench/scale_bench.py [--build DIR] [--parts creates,daemons]
                            [--writers 1,8,32] [--seconds S] [--repeat N]
                            [--subscribers 2000,10000] [--events N]
                            [--rate R] [--json FILE]

creates: journaled creates per second through nginx. For each number of
  writers W, the real stack (tests/integration/stack.py: nginx,
  spawn-fcgi + flowpush.fcgi with its 16 threads, flowpushd) on an SQLite
  file, on a PostgreSQL server of its own (Debian's, fsync on, as a site
  runs it) and on the same with synchronous_commit = off (the durability
  of SQLite's WAL at synchronous = NORMAL, which flowpush sets) in turn,
  the order turned round from one repetition to the next. W client threads, each on its own kept-alive connection, POST
  personas for S seconds, each write sent when its last was answered;
  reported: creates a second (all writers) and the latency of one create
  (p50, p99), and that the journal holds exactly the creates answered.

daemons: deliveries with one flowpushd and with two behind nginx (an
  upstream of both, as ./quickstart cluster makes), the store PostgreSQL.
  bench/push_load.c opens the subscribers through nginx (half SSE, half
  WebSocket; nginx with two workers so that 10,000 streams fit in the
  descriptor limit), then PATCHes one keyword set N times at R a second
  through nginx, once paced at R a second (latency) and once each write
  sent when the last was answered (a burst: throughput); reported:
  deliveries a second, the p50 and p99 from write to receipt, the time to
  the last subscriber, and the CPU of the daemons per delivery.

failover: two daemons behind nginx, --failover-subscribers SSE streams
  through nginx that come back at once when their stream ends (the
  console's pages wait 0.25-0.5 s after a first drop, www/js/live.js, a
  bare EventSource its retry: 3 s: this measures the rest), a writer PATCHing
  at 50 a second; the first daemon is killed with SIGKILL. Reported, over
  the streams it cut: the time from the kill to the first event that
  reaches them again (from the other daemon), and that every stream got
  exactly the journal's events, none lost, none twice, in order.

Results go to stdout as Markdown tables (and every run as JSON lines to
--json). Machines are shared and noisy: the figures to read are the ratios
within one run.
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "bench"))
from stack import Stack  # noqa: E402
from peer_bench import BenchStack, children, fd_limit  # noqa: E402


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class FsyncStack(Stack):
    """The tests' stack; its PostgreSQL with fsync on, as in production
    (the tests' servers run with fsync off). async: commits do not wait
    for their WAL flush (synchronous_commit = off), the durability of
    SQLite's WAL with synchronous = NORMAL, which flowpush uses: a power
    cut may lose the last commits, never the order or the database."""

    def __init__(self, async_commit=False, **kw):
        super().__init__(**kw)
        self.async_commit = async_commit

    def _init_db(self):
        if self.pg is not None:
            self.pg.psql("ALTER SYSTEM SET fsync = on", database="postgres")
            self.pg.psql("ALTER SYSTEM SET full_page_writes = on", database="postgres")
            self.pg.psql("SELECT pg_reload_conf()", database="postgres")
            if self.async_commit:
                self.pg.psql("ALTER DATABASE flowpush SET synchronous_commit = off",
                             database="postgres")
        super()._init_db()


def journal_creates(st):
    if st.pg is not None:
        return int(st.pg.psql("SELECT count(*) FROM journal WHERE topic = 'personas' "
                              "AND action = 'created'").strip())
    return int(st.query("SELECT count(*) FROM journal WHERE topic = 'personas' "
                        "AND action = 'created'")[0][0])


def run_creates(build, store, writers, seconds):
    st = FsyncStack(build=build, store="sqlite" if store == "sqlite" else "postgresql",
                    async_commit=store == "postgresql-async",
                    env={"FLOWPUSH_LOG_LEVEL": "warn"}).start()
    try:
        lat, errors = [], []
        lock = threading.Lock()
        stop_at = [0.0]
        tag = "%d" % (time.time() * 1000)

        def writer(w):
            conn = st.connection(timeout=60)
            mine, k = [], 0
            try:
                while time.monotonic() < stop_at[0]:
                    body = json.dumps({"name": "c%s-%d-%d" % (tag, w, k), "personaType": "dns",
                                       "configDetails": {"resolvers": ["192.0.2.1"]}})
                    t0 = time.perf_counter()
                    conn.request("POST", "/api/personas", body,
                                 {"Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    dt = (time.perf_counter() - t0) * 1000
                    if r.status == 201:
                        mine.append(dt)
                    else:
                        errors.append(r.status)
                    k += 1
            except (OSError, http.client.HTTPException) as e:
                errors.append(str(e))
            finally:
                conn.close()
            with lock:
                lat.extend(mine)

        before = journal_creates(st)
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        t0 = time.monotonic()
        stop_at[0] = t0 + seconds
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - t0
        journaled = journal_creates(st) - before
        return {"part": "creates", "store": store, "writers": writers, "creates": len(lat),
                "seconds": took, "per_s": len(lat) / took, "p50_ms": pct(lat, 50),
                "p99_ms": pct(lat, 99), "errors": len(errors), "journaled": journaled,
                "exact": journaled == len(lat)}
    finally:
        st.stop()


class TwoDaemonStack(BenchStack):
    """The bench stack on PostgreSQL with `daemons` flowpushd (1 or 2),
    nginx spreading /push/ over them, two nginx workers."""

    def __init__(self, daemons, **kw):
        super().__init__(workers=2, store="postgresql", **kw)
        self.daemons = daemons

    def second_socket(self):
        return os.path.join(self.state, "push-2.sock")

    def _render_nginx(self):
        if self.daemons == 2:
            self.nginx_values["PUSH_MORE"] = "unix:" + self.second_socket()
        super()._render_nginx()

    def start_push(self):
        super().start_push()
        if self.daemons == 2:
            env = self.env()
            env["FLOWPUSH_PUSH_LISTEN"] = "unix:" + self.second_socket()
            # The first daemon holds the doorbell; this one learns of
            # commits from PostgreSQL's NOTIFY, as every daemon of a
            # cluster does.
            env["FLOWPUSH_DOORBELL"] = ""
            log = os.path.join(self.state, "logs", "flowpushd-2.log")
            self.logs["flowpushd-2"] = log
            with open(log, "ab") as f:
                self.procs["flowpushd-2"] = subprocess.Popen(
                    [os.path.join(self.build, "flowpushd")], stdin=subprocess.DEVNULL,
                    stdout=f, stderr=subprocess.STDOUT, env=env)
            deadline = time.monotonic() + 20
            while not os.path.exists(self.second_socket()):
                if time.monotonic() > deadline or self.procs["flowpushd-2"].poll() is not None:
                    raise RuntimeError("the second flowpushd did not start: "
                                       + self.log_tail("flowpushd-2"))
                time.sleep(0.05)


def run_daemons(build, loader, daemons, subscribers, events, rate):
    st = TwoDaemonStack(daemons, build=build, env={
        "FLOWPUSH_SECRET": "", "FLOWPUSH_PUSH_MAX_CONNECTIONS": "12000",
        "FLOWPUSH_LOG_LEVEL": "warn"}).start()
    try:
        status, _, rec = st.json("POST", "/api/keyword-sets", {"name": "load-%d" % time.time()})
        if status != 201:
            raise RuntimeError("cannot create the record: %s" % rec)
        q = "?topics=keyword-sets/" + rec["id"]
        pids = [st.procs["flowpushd"].pid]
        if daemons == 2:
            pids.append(st.procs["flowpushd-2"].pid)
        pids += children(st.procs["nginx"].pid)
        seconds = int(max(30, events / max(rate, 0.1) + 30))
        cmd = [loader, "--sub", str(st.port), "--events", str(events), "--rate", str(rate),
               "--seconds", str(seconds), "--http",
               "127.0.0.1:%d,PATCH,/api/keyword-sets/%s,%s" % (
                   st.port, rec["id"], json.dumps({"description": "bench-%ld"})),
               "--sse-path", "/push/events" + q, "--ws-path", "/push/ws" + q,
               "--sse", str(subscribers // 2), "--ws", str(subscribers - subscribers // 2)]
        for pid in pids[:8]:
            cmd += ["--pid", str(pid)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
        lines = out.stdout.strip().splitlines()
        if not lines:
            raise RuntimeError("push_load printed nothing: %s" % out.stderr[-800:])
        r = json.loads(lines[-1])
        n = max(1, r["deliveries"])
        push_cpu = sum(r["cpu_s_by_pid"][:daemons])
        return {"part": "daemons", "daemons": daemons, "subscribers": subscribers,
                "events": events, "rate": rate, "deliveries": r["deliveries"], "expected": r["expected"],
                "per_s": r["deliveries"] / max(r["seconds"], 1e-9),
                "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                "last_max_ms": r.get("last_max_ms"), "push_us": push_cpu * 1e6 / n,
                "nginx_us": sum(r["cpu_s_by_pid"][daemons:]) * 1e6 / n,
                "connect_errors": r.get("connect_errors", 0)}
    finally:
        st.stop()


def run_failover(build, subscribers, rate):
    """Two daemons behind nginx, subscribers through nginx coming back at
    once when their stream ends, a writer at rate; daemon 1 killed with
    SIGKILL: for each stream it cut, the time from the kill to the first
    event after it (from the other daemon)."""
    sys.path.insert(0, os.path.join(SRC, "tests", "pg"))
    from pgpush import Stream, assert_exactly  # noqa: F401
    st = TwoDaemonStack(2, build=build, env={"FLOWPUSH_SECRET": "",
                                             "FLOWPUSH_LOG_LEVEL": "warn"}).start()
    streams = []
    try:
        status, _, rec = st.json("POST", "/api/keyword-sets", {"name": "fo-%d" % time.time()})
        if status != 201:
            raise RuntimeError("cannot create the record: %s" % rec)
        status, _, page = st.json("GET", "/api/keyword-sets?limit=1")
        path = "/push/events?topics=keyword-sets/" + rec["id"]
        streams = [Stream("127.0.0.1", st.port, path, page["seq"], delay=0)
                   for _ in range(subscribers)]
        for s in streams:
            s.start()
        stop = threading.Event()
        sent = [0]

        def writer():
            conn = st.connection()
            i = 0
            while not stop.is_set():
                body = json.dumps({"description": "fo-%d" % i})
                conn.request("PATCH", "/api/keyword-sets/" + rec["id"], body,
                             {"Content-Type": "application/json"})
                conn.getresponse().read()
                i += 1
                sent[0] = i
                time.sleep(1.0 / rate)
            conn.close()

        w = threading.Thread(target=writer)
        w.start()
        time.sleep(2)                 # every stream connected and hearing
        cut_before = [s.reconnects for s in streams]
        killed_at = time.monotonic()
        st.procs["flowpushd"].kill()
        time.sleep(3)
        stop.set()
        w.join(10)
        time.sleep(1)
        back = []
        for s, before in zip(streams, cut_before):
            if s.reconnects > before:
                after = [t for t in s.times if t > killed_at]
                back.append((after[0] - killed_at) * 1000 if after else float("inf"))
        want, since = [], page["seq"]
        while True:
            status, _, got = st.json("GET", "/api/changes?since=%d&limit=1000&topics="
                                     "keyword-sets/%s" % (since, rec["id"]))
            if status != 200 or not got["events"]:
                break
            want += [e["seq"] for e in got["events"]]
            since = want[-1]
        lost = sum(1 for s in streams if s.seqs != want)
        return {"part": "failover", "subscribers": subscribers, "rate": rate,
                "cut": len(back), "back_p50_ms": pct(back, 50), "back_p99_ms": pct(back, 99),
                "back_max_ms": max(back) if back else float("nan"),
                "never_back": sum(1 for b in back if b == float("inf")),
                "not_exact": lost, "events": len(want), "writes": sent[0]}
    finally:
        for s in streams:
            s.close()
        st.stop()


def fmt(x, nd=1):
    return "—" if x is None or x != x else ("%.*f" % (nd, x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("FLOWPUSH_BUILD")
                    or os.path.join(SRC, "run", "build"))
    ap.add_argument("--parts", default="creates,daemons,failover")
    ap.add_argument("--failover-subscribers", type=int, default=200)
    ap.add_argument("--writers", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--subscribers", default="2000,10000")
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    parts = a.parts.split(",")
    runs = []

    def keep(r):
        runs.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps(r) + "\n")

    if "creates" in parts:
        for w in [int(x) for x in a.writers.split(",")]:
            for i in range(a.repeat):
                stores = ["sqlite", "postgresql", "postgresql-async"]
                for store in stores if i % 2 == 0 else reversed(stores):
                    keep(run_creates(a.build, store, w, a.seconds))
    if "daemons" in parts:
        work = tempfile.mkdtemp(prefix="fp-scale-")
        loader = os.path.join(work, "push_load")
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", loader,
                        os.path.join(SRC, "bench", "push_load.c"), "-lsqlite3", "-lpthread"],
                       check=True)
        try:
            for n in [int(x) for x in a.subscribers.split(",")]:
                if 2 * n + 200 > 2 * fd_limit():
                    print("skipping %d subscribers: over the descriptor limit" % n,
                          file=sys.stderr)
                    continue
                for rate in (a.rate, 0):
                    for i in range(a.repeat):
                        for d in ((1, 2) if i % 2 == 0 else (2, 1)):
                            keep(run_daemons(a.build, loader, d, n, a.events, rate))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    if "failover" in parts:
        for i in range(a.repeat):
            keep(run_failover(a.build, a.failover_subscribers, 50.0))

    print("## Journaled creates through nginx\n")
    print("| writers | store | creates/s | p50 ms | p99 ms | journal exact |")
    print("|---|---|---|---|---|---|")
    for r in runs:
        if r["part"] == "creates":
            print("| %d | %s | %s | %s | %s | %s |" % (
                r["writers"], r["store"], fmt(r["per_s"], 0), fmt(r["p50_ms"], 2),
                fmt(r["p99_ms"], 2), "yes" if r["exact"] and not r["errors"] else
                "NO (%d errors)" % r["errors"]))
    ratios = {}
    for r in runs:
        if r["part"] == "creates":
            ratios.setdefault(r["writers"], {}).setdefault(r["store"], []).append(r["per_s"])
    if ratios:
        print("\n| writers | PostgreSQL ÷ SQLite | PostgreSQL, commits not waiting "
              "for their flush ÷ SQLite | (creates/s, medians) |")
        print("|---|---|---|---|")
        for w, by in sorted(ratios.items()):
            if "sqlite" in by:
                base = statistics.median(by["sqlite"])
                print("| %d | %s | %s | |" % (w, *[
                    "%.2f" % (statistics.median(by[k]) / base) if k in by else "—"
                    for k in ("postgresql", "postgresql-async")]))
    print("\n## Deliveries with one and two daemons behind nginx (PostgreSQL)\n")
    print("| subscribers | writes | daemons | delivered | deliveries/s | p50 ms | p99 ms | "
          "last subscriber, max ms | daemons' CPU µs/delivery |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        if r["part"] == "daemons":
            print("| %d | %s | %d | %d of %d | %s | %s | %s | %s | %s |" % (
                r["subscribers"], "%d at %g/s" % (r["events"], r["rate"]) if r["rate"]
                else "%d at once" % r["events"], r["daemons"], r["deliveries"], r["expected"],
                fmt(r["per_s"], 0), fmt(r["p50_ms"]), fmt(r["p99_ms"]),
                fmt(r["last_max_ms"]), fmt(r["push_us"], 2)))

    print("\n## Fail-over: a daemon killed under its subscribers\n")
    print("| subscribers | its streams cut | back after the kill: p50 / p99 / max ms | "
          "never back | streams without exactly the journal's events |")
    print("|---|---|---|---|---|")
    for r in runs:
        if r["part"] == "failover":
            print("| %d | %d | %s / %s / %s | %d | %d |" % (
                r["subscribers"], r["cut"], fmt(r["back_p50_ms"]), fmt(r["back_p99_ms"]),
                fmt(r["back_max_ms"]), r["never_back"], r["not_exact"]))


if __name__ == "__main__":
    main()

