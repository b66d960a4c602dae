#!/usr/bin/python3
"""push_bench.py - flowpushd benchmarks on loopback: memory per subscriber, COMMIT-to-receipt latency, CPU per delivery, fan-out rate.

Usage: bench/push_bench.py [--build DIR] [--before DIR] [--quick]
                           [--scenarios NAME,...] [--repeat N]
                           [--transport tcp|unix] [--before-transport tcp|unix]

Builds bench/push_load.c, starts a fresh flowpushd per scenario on a free
port with its own database (flowpush init), runs the load client against it
and prints one JSON line per scenario plus a Markdown table. Every scenario
is bounded in subscribers, events and seconds and stops by itself.

With --before DIR (another build of flowpushd, e.g. of the previous commit)
every scenario runs on both daemons back to back, the order alternating
from one repetition to the next, so that both columns share the machine's
load of the moment; the table then gives before, after and after/before.
With --repeat N each figure is the median of N runs.

--transport unix puts the daemon of --build on a Unix stream socket
(push_listen = unix:PATH) and the load client connects there, as nginx
would; --before-transport does the same for --before. Both default to tcp
(a loopback port). --before may name the same build as --build to compare
the two transports alone.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests"))
from freeport import free_port  # noqa: E402

# name, SSE, WS, events, rate (events/s, 0 = as fast as possible), max seconds
SCENARIOS = [
    ("memory-10k", 5000, 5000, 5, 10, 90),
    ("latency-500", 250, 250, 200, 100, 60),
    ("latency-2000", 1000, 1000, 200, 100, 60),
    ("fanout-2000", 1000, 1000, 300, 0, 60),
]
QUICK = [
    ("memory-1k", 500, 500, 5, 10, 30),
    ("latency-500", 250, 250, 50, 100, 30),
    ("fanout-500", 250, 250, 100, 0, 30),
]
# One transport at a time: what a delivery and a subscriber cost on each.
# Asked for by name with --scenarios.
EXTRA = [
    ("trickle-sse-1000", 1000, 0, 200, 100, 60),
    ("trickle-ws-1000", 0, 1000, 200, 100, 60),
    ("memory-sse-2000", 2000, 0, 5, 10, 60),
    ("memory-ws-2000", 0, 2000, 5, 10, 60),
]
METRICS = ["kb_per_subscriber", "p50_ms", "p99_ms", "cpu_us_per_delivery",
           "deliveries_per_s"]


def wait_port(addr, proc, timeout=10):
    """Waits until proc accepts connections at addr: a port or a path."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("flowpushd exited")
        try:
            if isinstance(addr, str):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(0.2)
                    s.connect(addr)
            else:
                socket.create_connection(("127.0.0.1", addr), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("flowpushd did not listen")


def run_one(build, transport, work, loader, name, sse, ws, events, rate, max_s):
    """One scenario against a fresh daemon of build listening on transport
    (tcp or unix): the loader's figures."""
    state = tempfile.mkdtemp(prefix="fp-bench-", dir=work)
    db = os.path.join(state, "bench.db")
    bell = os.path.join(state, "bell")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWPUSH_")}
    if transport == "unix":
        addr = os.path.join(state, "push.sock")
        where = "unix:" + addr
        env["FLOWPUSH_PUSH_LISTEN"] = where
    else:
        addr = free_port()
        where = str(addr)
        env.update({"FLOWPUSH_PUSH_LISTEN": "127.0.0.1", "FLOWPUSH_PUSH_PORT": where})
    env.update({"FLOWPUSH_DATABASE": db, "FLOWPUSH_DOORBELL": bell, "FLOWPUSH_SECRET": "",
                "FLOWPUSH_PUSH_MAX_CONNECTIONS": "12000",
                "FLOWPUSH_LOG_LEVEL": "warn"})
    r = subprocess.run([os.path.join(build, "flowpush"), "init", "--database", db],
                       env=env, cwd=state, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("flowpush init: " + r.stderr)
    log = open(os.path.join(state, "flowpushd.log"), "wb")
    d = subprocess.Popen([os.path.join(build, "flowpushd")], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(addr, d)
        out = subprocess.run([loader, "--sub", where, "--sse", str(sse), "--ws", str(ws),
                              "--events", str(events), "--rate", str(rate),
                              "--seconds", str(max_s), "--pid", str(d.pid),
                              "--sqlite", db + "," + bell],
                             capture_output=True, text=True, timeout=max_s + 30)
        line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
        res = json.loads(line)
        res["scenario"] = name
        res["transport"] = transport
        res["complete"] = out.returncode == 0
        return res
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(5)
        except subprocess.TimeoutExpired:
            d.kill()
            d.wait()
        log.close()
        shutil.rmtree(state, ignore_errors=True)


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def merge(runs):
    """The median of each figure over repeated runs of one scenario."""
    out = dict(runs[0])
    for k in METRICS:
        out[k] = median([r.get(k, 0) for r in runs])
    out["deliveries"] = min(r["deliveries"] for r in runs)
    out["complete"] = all(r["complete"] for r in runs)
    return out


def pick(names, quick):
    # A name in both lists means the list --quick chose.
    table = {sc[0]: sc for sc in (SCENARIOS + EXTRA + QUICK if quick
                                  else QUICK + EXTRA + SCENARIOS)}
    if not names:
        return QUICK if quick else SCENARIOS
    out = []
    for n in names.split(","):
        if n not in table:
            raise SystemExit("unknown scenario %s (known: %s)" % (n, ", ".join(table)))
        out.append(table[n])
    return out


def print_table(results):
    print("| scenario | subscribers | events | deliveries | KB/subscriber | p50 ms | p99 ms "
          "| CPU µs/delivery | deliveries/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print("| %s | %d | %d | %d/%d | %.2f | %.3f | %.3f | %.2f | %.0f |" % (
            r["scenario"], r["subscribers"], r["events"], r["deliveries"], r["expected"],
            r["kb_per_subscriber"], r["p50_ms"], r["p99_ms"], r["cpu_us_per_delivery"],
            r["deliveries_per_s"]))


def print_compare(pairs):
    print("| scenario | figure | before | after | after/before |")
    print("|---|---|---|---|---|")
    for before, after in pairs:
        for k in METRICS:
            b, a = before.get(k, 0), after.get(k, 0)
            print("| %s | %s | %.3f | %.3f | %s |" % (
                after["scenario"], k, b, a, "%.2f" % (a / b) if b else "-"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("FLOWPUSH_BUILD",
                                                      os.path.join(SRC, "run", "build")))
    ap.add_argument("--before", help="a second build to compare against")
    ap.add_argument("--quick", action="store_true", help="small scenarios only")
    ap.add_argument("--scenarios", help="comma-separated scenario names")
    ap.add_argument("--repeat", type=int, default=1, help="runs per figure (median)")
    ap.add_argument("--transport", choices=("tcp", "unix"), default="tcp",
                    help="where the daemon of --build listens")
    ap.add_argument("--before-transport", choices=("tcp", "unix"), default="tcp",
                    help="where the daemon of --before listens")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="fp-bench-")
    loader = os.path.join(work, "push_load")
    subprocess.run(["cc", "-O2", "-o", loader, os.path.join(SRC, "bench", "push_load.c"),
                    "-lsqlite3", "-lpthread"], check=True)
    results, pairs = [], []
    try:
        for sc in pick(a.scenarios, a.quick):
            runs = {"before": [], "after": []}
            for i in range(max(1, a.repeat)):
                order = [("before", a.before, a.before_transport),
                         ("after", a.build, a.transport)] if a.before else \
                    [("after", a.build, a.transport)]
                if i % 2:
                    order.reverse()
                for tag, build, transport in order:
                    res = run_one(build, transport, work, loader, *sc)
                    res["build"] = tag
                    print(json.dumps(res), flush=True)
                    runs[tag].append(res)
            after = merge(runs["after"])
            results.append(after)
            if a.before:
                pairs.append((merge(runs["before"]), after))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(results)
    if pairs:
        print()
        print_compare(pairs)
    return 0 if all(r["complete"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
