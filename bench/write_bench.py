#!/usr/bin/python3
"""write_bench.py - API write latency at a fixed rate on a large database, beside the WAL's checkpoints.

Usage: bench/write_bench.py [--build DIR] [--records N] [--database PATH]
                            [--rate R] [--seconds S] [--warmup S]
                            [--connections C] [--creates F] [--no-push]
                            [--set KEY=VALUE ...] [--reload] [--json FILE]

Loads a database of N records in all (default 1,000,000: N/5 in each of
the five collections, made with `flowpush demo --scale N/5`), or takes
one made before (--database; its config, PATH.conf when present, gives
the data key). The made database is kept as run/bench-writes-N.db and
used again by the next run (--reload makes it again: about four minutes
at a million). Runs write to it in place; a run adds R x S records, a
few thousandths of a million.

Then it starts the real stack on it with tests/integration/stack.py
(nginx, spawn-fcgi + flowpush.fcgi, flowpushd unless --no-push) and sends
API writes through nginx open-loop: write i leaves at start + i/R
whatever the earlier ones are doing, on C keep-alive connections (default
16), so one slow write does not hold back the next. After --warmup
seconds of unmeasured writes (each of the server's threads prepares its
statements once) it measures for --seconds. The writes are a mix of
PATCHes of existing records (search text, a health report that may move
a dashboard counter, a pool switched on or off) and POST creates
(fraction --creates) across the collections.

While it runs, a sampler reads the WAL's shared-memory header every
2 ms: mxFrame (frames in the WAL), nBackfill (frames copied into the
database by a checkpoint), nBackfillAttempted (set when a checkpoint
starts copying) and the salt (changed when the WAL restarts from its
beginning), and the WAL file's size. A checkpoint is the span from the
sample where nBackfillAttempted moves to the one where nBackfill reaches
it. CPU of flowpush.fcgi, flowpushd and nginx comes from
/proc/PID/task/*/schedstat, once a second.

Prints p50/p90/p99/p99.9/max of the measured writes as this client saw
them (send to answer; and schedule to answer, which adds any wait for a
free connection), the writes over 5 ms, the same writes as nginx timed
them ($request_time and $upstream_response_time, logged to a file of
their own: the API without this Python client, whose threads share the
two cores), how many slow writes overlap a checkpoint against how many of
all writes do, the checkpoints and the WAL's size, and CPU. --json FILE
writes every number and every sample (times relative to t0_monotonic,
CLOCK_MONOTONIC, to match server-side logs).

Everything is bounded: a made database is loaded within an hour (four
minutes for a million here), the run stops after warm-up + seconds + 15 s
at most, and Stack stops by PID only the processes it started.

    bench/write_bench.py --build build                      # a million records, 60 s
    bench/write_bench.py --build build --records 20000 --seconds 15   # quick
    bench/write_bench.py --build build --set wal_checkpoint_pages=0   # checkpoints in the commit
"""

import argparse
import http.client
import json
import os
import queue
import random
import struct
import subprocess
import sys
import threading
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

from stack import Stack  # noqa: E402
sys.path.insert(0, os.path.join(SRC, "bench"))
from api_bench import _task_ns  # noqa: E402

COLLECTIONS = ["keyword-sets", "personas", "proxies", "proxy-pools", "campaigns"]
SLOW_MS = 5.0
SAMPLE_S = 0.002
IDS_PER_COLLECTION = 2000


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


# ---------------------------------------------------------------- the database

def conf_value(path, key):
    """The value of key in the config file at path, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, sep, v = line.partition("=")
                if sep and k.strip() == key:
                    return v.strip().strip('"')
    except OSError:
        pass
    return None


def prepare(a):
    """The database to write to: --database, or run/bench-writes-N.db made
    (once) with demo --scale. Returns (path, data_key or None)."""
    if a.database:
        db = os.path.abspath(a.database)
        if not os.path.exists(db):
            sys.exit("no database at %s" % db)
        return db, conf_value(db + ".conf", "data_key")
    db = os.path.join(SRC, "run", "bench-writes-%d.db" % a.records)
    conf, done = db + ".conf", db + ".loaded"
    if a.reload or not os.path.exists(done):
        os.makedirs(os.path.dirname(db), exist_ok=True)
        for path in (db, db + "-wal", db + "-shm", conf, done):
            if os.path.exists(path):
                os.unlink(path)
        run = lambda *args: subprocess.run(
            [os.path.join(a.build, "flowpush"), "--config", conf] + list(args),
            check=True, stdout=subprocess.PIPE, text=True, timeout=3600)
        run("init", "--database", db)
        t0 = time.monotonic()
        r = run("demo", "--scale", str(max(1, a.records // len(COLLECTIONS))))
        print(json.dumps({"load": r.stdout.strip().splitlines()[-1:],
                          "seconds": round(time.monotonic() - t0, 1)}), flush=True)
        with open(done, "w", encoding="utf-8") as f:
            f.write("%d\n" % a.records)
    return db, conf_value(conf, "data_key")


# ---------------------------------------------------------------- the WAL

# The wal-index header at the start of the -shm file (native byte order):
# two copies of WalIndexHdr (48 bytes each), then WalCkptInfo.
SHM_LEN = 136
OFF_MXFRAME, OFF_SALT, OFF_BACKFILL, OFF_ATTEMPTED = 16, 32, 96, 128


class WalSampler(threading.Thread):
    """Reads the WAL's header and size every SAMPLE_S until stopped; keeps a
    sample only when something changed (and one a second regardless)."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db = db
        self.samples = []   # (t, mxFrame, nBackfill, attempted, salt, wal bytes)
        self.halt = threading.Event()

    def read(self, fd):
        raw = os.pread(fd, SHM_LEN, 0)
        if len(raw) < SHM_LEN:
            return None
        mx = struct.unpack_from("=I", raw, OFF_MXFRAME)[0]
        salt = struct.unpack_from("=I", raw, OFF_SALT)[0]
        backfill = struct.unpack_from("=I", raw, OFF_BACKFILL)[0]
        attempted = struct.unpack_from("=I", raw, OFF_ATTEMPTED)[0]
        try:
            size = os.stat(self.db + "-wal").st_size
        except OSError:
            size = 0
        return mx, backfill, attempted, salt, size

    def run(self):
        fd = None
        last, last_t = None, 0.0
        while not self.halt.wait(SAMPLE_S):
            if fd is None:
                try:
                    fd = os.open(self.db + "-shm", os.O_RDONLY)
                except OSError:
                    continue
            v = self.read(fd)
            t = time.perf_counter()
            if v is not None and (v != last or t - last_t > 1.0):
                self.samples.append((t,) + v)
                last, last_t = v, t
        if fd is not None:
            os.close(fd)

    def checkpoints(self):
        """[(start, end, frames copied)]: from the sample before
        nBackfillAttempted moved to the first with nBackfill at it."""
        out, start, prev = [], None, None
        for s in self.samples:
            t, mx, backfill, attempted = s[0], s[1], s[2], s[3]
            if prev is not None:
                if start is None and (attempted != prev[3] or backfill > prev[2]):
                    start = (prev[0], prev[2])
                if start is not None and (backfill >= attempted or mx < prev[1]):
                    copied = backfill - start[1] if backfill >= start[1] else backfill
                    out.append((start[0], t, copied))
                    start = None
            prev = s
        return out

    def restarts(self):
        """Times at which the WAL started again from its first frame."""
        return [b[0] for a, b in zip(self.samples, self.samples[1:]) if b[4] != a[4]]


# ---------------------------------------------------------------- nginx's own times

NGINX_LOG_FORMAT = "log_format wbtimes '$msec $request_method $status $request_time $upstream_response_time';"


class BenchStack(Stack):
    """The test stack, with nginx also logging each request's $request_time
    (first byte read to last byte sent) and $upstream_response_time (the
    FastCGI exchange) to logs/nginx-times.log: the API's latency without
    this client's own (Python threads on the same two cores)."""

    def _render_nginx(self):
        super()._render_nginx()
        path = os.path.join(self.state, "nginx.conf")
        with open(path, encoding="utf-8") as f:
            conf = f.read()
        line = "\taccess_log %s/logs/nginx-access.log;" % self.state
        if line not in conf:
            return
        conf = conf.replace(line, "\t%s\n\taccess_log %s wbtimes;" % (NGINX_LOG_FORMAT, self.times_log))
        with open(path, "w", encoding="utf-8") as f:
            f.write(conf)

    @property
    def times_log(self):
        return os.path.join(self.state, "logs", "nginx-times.log")

    def times(self, wall0, wall1):
        """[(request ms, upstream ms)] of the PATCH and POST answers logged
        between the wall-clock times wall0 and wall1 (nginx's $msec has
        millisecond resolution, as have its times)."""
        out = []
        try:
            with open(self.times_log, encoding="utf-8") as f:
                for line in f:
                    p = line.split()
                    if len(p) < 5 or p[1] not in ("PATCH", "POST") or not wall0 <= float(p[0]) <= wall1:
                        continue
                    up = p[4].split(",")[-1]
                    out.append((float(p[3]) * 1000, float(up) * 1000 if up != "-" else float("nan")))
        except OSError:
            pass
        return out


# ---------------------------------------------------------------- CPU

def task_ns(pid):
    """On-CPU nanoseconds of every thread of pid, 0 when it is gone."""
    return _task_ns(pid) or 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Cpu:
    def __init__(self, st):
        self.pids = {}
        for name in ("flowpush.fcgi", "flowpushd", "nginx"):
            p = st.procs.get(name)
            if p is not None:
                self.pids[name] = [p.pid] + (children(p.pid) if name == "nginx" else [])
        self.samples = []   # (t, {name: ns})

    def sample(self):
        self.samples.append((time.perf_counter(),
                             {n: sum(task_ns(p) for p in ps) for n, ps in self.pids.items()}))

    def between(self, t0, t1):
        """{name: (mean cores, busiest second's cores)} over [t0, t1]."""
        s = [x for x in self.samples if t0 - 0.5 <= x[0] <= t1 + 0.5]
        out = {}
        for n in self.pids:
            if len(s) < 2:
                out[n] = (0.0, 0.0)
                continue
            mean = (s[-1][1][n] - s[0][1][n]) / 1e9 / (s[-1][0] - s[0][0])
            peak = max((b[1][n] - a[1][n]) / 1e9 / (b[0] - a[0]) for a, b in zip(s, s[1:]))
            out[n] = (mean, peak)
        return out


# ---------------------------------------------------------------- the writes

def fetch_ids(st):
    """Ids spread over each collection: pages in name order from both ends
    and in creation order, so PATCHes land all over the B-trees."""
    out = {}
    conn = st.connection(timeout=60)
    per = IDS_PER_COLLECTION // 4
    for coll in COLLECTIONS:
        ids = set()
        for q in ("sort=name", "sort=-name", "", "sort=-updatedAt"):
            status, _, doc = st.json("GET", "/api/%s?limit=%d&%s" % (coll, per, q), conn=conn)
            if status != 200:
                raise RuntimeError("GET %s answered %d" % (coll, status))
            ids.update(r["id"] for r in doc["items"])
        out[coll] = sorted(ids)
    conn.close()
    return out


class Mix:
    """The i-th write of the run, drawn from a seeded generator."""

    def __init__(self, ids, creates, tag, seed=1):
        self.ids = ids
        self.creates = creates
        self.tag = tag
        self.rnd = random.Random(seed)

    def create(self, coll, i):
        name = "Bench %s %d" % (self.tag, i)
        if coll == "keyword-sets":
            return {"name": name, "description": "written by write_bench",
                    "rules": [{"pattern": "bench%d" % i, "ruleType": "string"}]}
        if coll == "personas":
            return {"name": name, "personaType": "http",
                    "configDetails": {"userAgent": "write_bench/%d" % i}}
        if coll == "proxies":
            return {"name": name, "address": "wb%d-%s.example.net:%d" % (i, self.tag, 1024 + i % 60000),
                    "protocol": "socks5", "countryCode": "NL"}
        return {"name": name, "campaignType": "domain_generation", "totalItems": 1000 + i,
                "domainGenerationParams": {"patternType": "prefix", "variableLength": 4,
                                           "characterSet": "abcdefghij", "tld": ".com"}}

    def patch(self, coll, i):
        if coll == "proxies":
            # What a health checker reports; isHealthy is counted.
            return {"isHealthy": self.rnd.random() < 0.8, "latencyMs": self.rnd.randrange(20, 900),
                    "lastStatus": "200 OK", "lastCheckedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if coll == "proxy-pools" and i % 2:
            return {"isEnabled": self.rnd.random() < 0.5}
        return {"description": "note %d of %s: %s" % (i, self.tag, "harbor summit meadow"[: 6 + i % 14])}

    def next(self, i):
        """(kind, method, path, body)."""
        if self.rnd.random() < self.creates:
            coll = self.rnd.choice(["keyword-sets", "personas", "proxies", "campaigns"])
            return "POST " + coll, "POST", "/api/" + coll, self.create(coll, i)
        coll = self.rnd.choice(COLLECTIONS)
        rid = self.rnd.choice(self.ids[coll])
        return "PATCH " + coll, "PATCH", "/api/%s/%s" % (coll, rid), self.patch(coll, i)


class Sender:
    """C worker threads, each with its own keep-alive connection, taking
    writes off one queue as they fall due."""

    def __init__(self, port, conns):
        self.port = port
        self.jobs = queue.Queue()
        self.done = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(conns)]
        for t in self.threads:
            t.start()

    def work(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while True:
            job = self.jobs.get()
            if job is None:
                break
            due, measured, kind, method, path, body = job
            data = json.dumps(body).encode()
            sent = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status = 0
            end = time.perf_counter()
            with self.lock:
                self.done.append({"due": due, "sent": sent, "end": end, "status": status,
                                  "kind": kind, "measured": measured})
        conn.close()

    def stop(self, timeout):
        for _ in self.threads:
            self.jobs.put(None)
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))


def drive(st, mix, cpu, a):
    """Sends writes on schedule for warmup + seconds; returns (the writes,
    measure start, measure end)."""
    sender = Sender(st.port, a.connections)
    start = time.perf_counter() + 0.2
    t_measure = start + a.warmup
    t_end = t_measure + a.seconds
    # The same moments on the wall clock, for nginx's log.
    skew = time.time() - time.perf_counter()
    a.wall = (t_measure + skew, t_end + skew)
    i, next_cpu = 0, start
    while True:
        due = start + i / a.rate
        if due >= t_end:
            break
        now = time.perf_counter()
        if now >= next_cpu:
            cpu.sample()
            next_cpu += 1.0
        if due > now:
            time.sleep(min(due, next_cpu) - now)
            continue
        kind, method, path, body = mix.next(i)
        sender.jobs.put((due, due >= t_measure, kind, method, path, body))
        i += 1
    sender.stop(timeout=15.0)
    cpu.sample()
    return sender.done, t_measure, t_end


# ---------------------------------------------------------------- the report

def summary(ws):
    lat = [(w["end"] - w["sent"]) * 1000 for w in ws]
    late = [(w["end"] - w["due"]) * 1000 for w in ws]
    return {"writes": len(ws),
            "p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99), "p999": pct(lat, 99.9),
            "max": max(lat) if lat else float("nan"),
            "over_5ms": sum(1 for x in lat if x > SLOW_MS),
            "from_schedule_p99": pct(late, 99), "from_schedule_max": max(late) if late else float("nan")}


def overlaps(w, spans, slack):
    return any(s - slack <= w["end"] and w["sent"] <= e + slack for s, e, _ in spans)


def report(st, ws, wal, cpu, t0, t1, a, out):
    measured = [w for w in ws if w["measured"]]
    ok = [w for w in measured if 200 <= w["status"] < 300]
    bad = {}
    for w in measured:
        if not 200 <= w["status"] < 300:
            bad[(w["kind"], w["status"])] = bad.get((w["kind"], w["status"]), 0) + 1
    cks = [c for c in wal.checkpoints() if t0 - 1 <= c[1] and c[0] <= t1 + 1]
    restarts = [t for t in wal.restarts() if t0 <= t <= t1]
    sizes = [s[5] for s in wal.samples if t0 <= s[0] <= t1]
    frames = [s[1] for s in wal.samples if t0 <= s[0] <= t1]
    slow = [w for w in ok if (w["end"] - w["sent"]) * 1000 > SLOW_MS]
    slack = SAMPLE_S * 2
    slow_ck = sum(1 for w in slow if overlaps(w, cks, slack))
    all_ck = sum(1 for w in ok if overlaps(w, cks, slack))
    warm = summary([w for w in ws if not w["measured"] and 200 <= w["status"] < 300])
    # Answers written up to a second after the window still belong to it.
    nt = st.times(a.wall[0], a.wall[1] + 1.0)
    nreq = [x[0] for x in nt]
    nup = [x[1] for x in nt if x[1] == x[1]]
    ngx = {"writes": len(nt), "request_p50": pct(nreq, 50), "request_p99": pct(nreq, 99),
           "request_p999": pct(nreq, 99.9), "request_max": max(nreq or [float("nan")]),
           "request_over_5ms": sum(1 for x in nreq if x > SLOW_MS),
           "upstream_p50": pct(nup, 50), "upstream_p99": pct(nup, 99),
           "upstream_p999": pct(nup, 99.9), "upstream_max": max(nup or [float("nan")])}
    res = {
        "records": a.records if not a.database else None, "database": st.database_used,
        "push": st.push, "rate": a.rate, "seconds": a.seconds, "connections": a.connections,
        "set": a.set, "all": summary(ok), "nginx": ngx, "warmup": warm,
        "kinds": {k: summary([w for w in ok if w["kind"] == k]) for k in sorted({w["kind"] for w in ok})},
        "errors": {"%s %d" % k: n for k, n in bad.items()},
        "sent_late_p99_ms": pct([(w["sent"] - w["due"]) * 1000 for w in measured], 99),
        "checkpoints": len(cks),
        "checkpoint_ms": {"p50": pct([(e - s) * 1000 for s, e, _ in cks], 50),
                          "max": max([(e - s) * 1000 for s, e, _ in cks] or [0])},
        "checkpoint_frames_p50": pct([f for _, _, f in cks], 50),
        "wal_restarts": len(restarts),
        "wal_bytes_max": max(sizes or [0]), "wal_frames_max": max(frames or [0]),
        "slow": len(slow), "slow_overlapping_checkpoint": slow_ck,
        "all_overlapping_checkpoint": all_ck,
        "cpu": {n: {"mean": round(m, 3), "peak_second": round(p, 3)}
                for n, (m, p) in cpu.between(t0, t1).items()},
    }
    A = res["all"]
    print("\n%d writes measured over %.0f s at %s/s on %s (%s), %d connections%s" % (
        A["writes"], a.seconds, a.rate, res["database"],
        "%s records" % format(a.records, ",") if res["records"] else "given",
        a.connections, "" if st.push else ", no flowpushd"))
    if a.set:
        print("config overrides: %s" % ", ".join(a.set))
    print("\n| writes | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | over 5 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, s in [("all", A)] + sorted(res["kinds"].items()):
        print("| %s (%d) | %.2f | %.2f | %.2f | %.2f | %.1f | %d |" % (
            name, s["writes"], s["p50"], s["p90"], s["p99"], s["p999"], s["max"], s["over_5ms"]))
    print("\nnginx's own times for the same writes (%d logged, millisecond resolution): $request_time "
          "p50 %.0f / p99 %.0f / p99.9 %.0f / max %.0f ms, over 5 ms %d; $upstream_response_time (flowpush.fcgi) "
          "p50 %.0f / p99 %.0f / p99.9 %.0f / max %.0f ms" % (
              ngx["writes"], ngx["request_p50"], ngx["request_p99"], ngx["request_p999"], ngx["request_max"],
              ngx["request_over_5ms"], ngx["upstream_p50"], ngx["upstream_p99"], ngx["upstream_p999"],
              ngx["upstream_max"]))
    print("from schedule (open loop, includes waiting for a free connection): p99 %.2f ms, max %.1f ms"
          % (A["from_schedule_p99"], A["from_schedule_max"]))
    print("warm-up (%d writes, not in the table): p99 %.2f ms, max %.1f ms" % (
        warm["writes"], warm["p99"], warm["max"]))
    if res["errors"]:
        print("answers that were not 2xx: %s" % res["errors"])
    print("\ncheckpoints seen: %d (%.1f/s), duration p50 %.1f ms, max %.1f ms, frames copied p50 %s;"
          " WAL restarts %d; WAL at most %.1f MB, %d frames" % (
              len(cks), len(cks) / max(a.seconds, 1e-9), res["checkpoint_ms"]["p50"],
              res["checkpoint_ms"]["max"], res["checkpoint_frames_p50"], len(restarts),
              res["wal_bytes_max"] / 1e6, res["wal_frames_max"]))
    print("writes over 5 ms overlapping a checkpoint: %d of %d; all writes overlapping one: %d of %d (%.1f %%)" % (
        slow_ck, len(slow), all_ck, len(ok), 100.0 * all_ck / max(1, len(ok))))
    print("CPU (cores, mean / busiest second): " + ", ".join(
        "%s %.3f / %.3f" % (n, v["mean"], v["peak_second"]) for n, v in res["cpu"].items()))
    if out:
        res["t0_monotonic"] = t0  # time.perf_counter(): CLOCK_MONOTONIC on Linux
        res["writes_raw"] = [dict(w, sent=w["sent"] - t0, end=w["end"] - t0, due=w["due"] - t0) for w in ws]
        res["wal_samples"] = [(s[0] - t0,) + tuple(s[1:]) for s in wal.samples]
        res["checkpoint_spans"] = [(s - t0, e - t0, f) for s, e, f in cks]
        with open(out, "w", encoding="utf-8") as f:
            json.dump(res, f)
        print("wrote %s" % out)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("FLOWPUSH_BUILD") or os.path.join(SRC, "run", "build"))
    ap.add_argument("--records", type=int, default=1000000, help="records in all (N/5 per collection)")
    ap.add_argument("--database", default=None, help="a database made before, used in place")
    ap.add_argument("--reload", action="store_true", help="make run/bench-writes-N.db again")
    ap.add_argument("--rate", type=float, default=100.0, help="writes a second")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured seconds (at most 120)")
    ap.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--creates", type=float, default=0.3, help="share of POST creates")
    ap.add_argument("--no-push", action="store_true", help="run without flowpushd")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a config key for every program of the stack (FLOWPUSH_KEY)")
    ap.add_argument("--json", default=None, metavar="FILE", help="write every number and sample here")
    a = ap.parse_args()
    a.seconds = min(a.seconds, 120.0)
    # A thread whose answer has come waits for the GIL at most this long
    # (the default, 5 ms, is the very budget being measured).
    sys.setswitchinterval(0.0005)
    a.build = os.path.abspath(a.build)

    db, key = prepare(a)
    env = {"FLOWPUSH_DATABASE": db}
    if key:
        env["FLOWPUSH_DATA_KEY"] = key
    for kv in a.set:
        k, _, v = kv.partition("=")
        env["FLOWPUSH_" + k.strip().upper()] = v.strip()
    st = BenchStack(build=a.build, push=not a.no_push, env=env)
    if not a.no_push and not st.push:
        print("no flowpushd in %s: running without it" % a.build, file=sys.stderr)
    st.database_used = db
    wal = WalSampler(db)
    st.start()
    try:
        ids = fetch_ids(st)
        empty = [c for c in COLLECTIONS if not ids.get(c)]
        if empty:
            raise SystemExit("write_bench.py: the database has no %s to PATCH; give one made by "
                             "`flowpush demo --scale N` (every collection)" % ", ".join(empty))
        mix = Mix(ids, a.creates, "%x" % (int(time.time()) & 0xffffff))
        cpu = Cpu(st)
        wal.start()
        ws, t0, t1 = drive(st, mix, cpu, a)
        wal.halt.set()
        wal.join(2.0)
        report(st, ws, wal, cpu, t0, t1, a, a.json)
    finally:
        wal.halt.set()
        st.stop()


if __name__ == "__main__":
    main()
