#!/usr/bin/python3
"""list_bench.py - list answers at size: search, sort, filters and paging through nginx, p50/p99.

Usage: bench/list_bench.py [--build DIR] [--scale N] [--only COLLECTION]
                           [--database PATH] [--requests R] [--keep]
                           [--set KEY=VALUE]...

Makes a database with `flowpush demo --scale N` (N records in every
collection, or only in --only), or takes an existing one (--database, as
left by an earlier --keep run), starts the real stack on it with
tests/integration/stack.py (nginx, spawn-fcgi + flowpush.fcgi, flowpushd)
on free loopback ports, and times list requests through nginx with one
keep-alive client: the first page in the default order, sorted by name,
by a sort with a filter, searches that match one record, a few hundred and
most records (alone, and with a filter and a sort), deep pages reached
through next cursors, a page back through prev, and ids=. Each kind runs
R times (default 200), over a spread
of arguments so that no single answer is measured from a warm cache only.
Each kind first runs 50 unmeasured requests: the server's 16 threads
each prepare their statements and map the file on first use.

Prints one JSON line per kind, then a Markdown table. Every loop is bounded
in count and the run stops by itself. The machine is shared and small:
compare figures within one run.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

from stack import Stack  # noqa: E402

# What the scale load writes (cli/scale.c): names are "<Kind> <word>
# <word> <n> <tag>", the words from this list.
WORDS = ["harbor", "summit", "meadow", "cobalt", "falcon", "granite",
         "lantern", "marble", "nectar", "orchid", "pepper", "quartz"]
KIND = ["keyword-sets", "personas", "proxies", "proxy-pools", "campaigns"]
FILTER = {"keyword-sets": "isEnabled=false", "personas": "personaType=http",
          "proxies": "protocol=socks5", "proxy-pools": "poolStrategy=random",
          "campaigns": "status=running"}
SORT = {"keyword-sets": "-ruleCount", "personas": "name", "proxies": "latencyMs",
        "proxy-pools": "-updatedAt", "campaigns": "-progressPercentage"}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path):
        t0 = time.perf_counter()
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000.0
        if r.status != 200:
            raise RuntimeError("%s answered %d: %s" % (path, r.status, body[:200]))
        return ms, json.loads(body)


WARM = 50


def measure(client, name, paths, n):
    """Times n requests cycling through paths, after WARM unmeasured ones:
    flowpush.fcgi answers from 16 threads, each with its own connection,
    statements and memory map, and a thread's first requests of a kind
    pay for preparing and for first touches (8-13 ms against 2)."""
    for i in range(WARM):
        client.get(paths[i % len(paths)])
    times, totals = [], []
    for i in range(n):
        ms, doc = client.get(paths[i % len(paths)])
        times.append(ms)
        totals.append(doc.get("total"))
    row = {"kind": name, "requests": n, "p50_ms": round(pct(times, 50), 2),
           "p90_ms": round(pct(times, 90), 2), "p99_ms": round(pct(times, 99), 2), "max_ms": round(max(times), 2),
           "items": len(doc.get("items", [])), "total": doc.get("total"),
           "lower_bound": doc.get("totalIsLowerBound")}
    print(json.dumps(row), flush=True)
    return row


def cursors(client, base, pages):
    """Follows next from base for up to pages pages; returns the cursors."""
    out, path = [], base
    for _ in range(pages):
        _, doc = client.get(path)
        if not doc.get("next"):
            break
        out.append(doc["next"])
        path = base + "&after=" + urllib.parse.quote(doc["next"])
    return out


def kinds(client, coll, n):
    """The request kinds for one collection: (name, [paths])."""
    api = "/api/%s?limit=50" % coll
    # " 1234 " is in one name; "234 " ends about n/1000 numbers.
    ones = [" %d " % i for i in range(7, n, max(1, n // 40))]
    mids = ["%d " % i for i in range(100, 1000, 37)]
    q = urllib.parse.quote
    out = [
        ("first page, newest first", [api]),
        ("sort=name", [api + "&sort=name"]),
        ("sort=%s&%s" % (SORT[coll], FILTER[coll]), [api + "&sort=%s&%s" % (SORT[coll], FILTER[coll])]),
        ("q matching one record", [api + "&q=" + q(s) for s in ones]),
        ("q matching about n/1000", [api + "&q=" + q(s) for s in mids]),
        ("q matching most records", [api + "&q=" + q(w) for w in WORDS]),
        ("q about n/1000 + filter + sort=name", [api + "&q=%s&%s&sort=name" % (q(s), FILTER[coll]) for s in mids]),
        ("q most + filter + sort=-updatedAt", [api + "&q=%s&%s&sort=-updatedAt" % (q(w), FILTER[coll]) for w in WORDS]),
    ]
    deep = cursors(client, api + "&sort=name", 40)
    if deep:
        out.append(("pages 2-41 by next cursor, sort=name", [api + "&sort=name&after=" + q(c) for c in deep]))
        _, doc = client.get(api + "&sort=name&after=" + q(deep[-1]))
        if doc.get("prev"):
            out.append(("a page back by prev cursor", [api + "&sort=name&before=" + q(doc["prev"])]))
    _, doc = client.get(api)
    ids = ",".join(r["id"] for r in doc["items"])
    out.append(("ids= of 50 records", ["/api/%s?ids=%s&limit=50" % (coll, ids)]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("FLOWPUSH_BUILD") or os.path.join(SRC, "run", "build"))
    ap.add_argument("--scale", type=int, default=10000)
    ap.add_argument("--only", default=None)
    ap.add_argument("--database", default=None)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the database made here (its path is printed)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a config key for the servers, e.g. mmap_mb=0 (repeatable)")
    a = ap.parse_args()

    db = a.database
    made = None
    if db is None:
        made = os.path.join(SRC, "run", "bench-lists-%d.db" % a.scale)
        os.makedirs(os.path.dirname(made), exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(made + suffix):
                os.unlink(made + suffix)
        conf = made + ".conf"
        run = lambda *args: subprocess.run([os.path.join(a.build, "flowpush"), "--config", conf] + list(args),
                                           check=True, stdout=subprocess.PIPE, text=True)
        run("init", "--database", made)
        t0 = time.time()
        r = run("demo", "--scale", str(a.scale), *([a.only] if a.only else []))
        secs = time.time() - t0
        print(json.dumps({"load": r.stdout.strip().splitlines()[-1], "seconds": round(secs, 1)}), flush=True)
        db = made

    env = {"FLOWPUSH_DATABASE": os.path.abspath(db)}
    for kv in a.set:
        key, _, value = kv.partition("=")
        env["FLOWPUSH_" + key.upper()] = value
    st = Stack(build=a.build, env=env).start()
    rows = []
    try:
        client = Client(st.port)
        for coll in ([a.only] if a.only else list(KIND)):
            _, doc = client.get("/api/%s?limit=1" % coll)
            n = doc["total"]
            for name, paths in kinds(client, coll, n):
                row = measure(client, "%s: %s" % (coll, name), paths, a.requests)
                row["records"] = n
                rows.append(row)
    finally:
        st.stop()
        if made and not a.keep:
            for suffix in ("", "-wal", "-shm", ".conf"):
                if os.path.exists(made + suffix):
                    os.unlink(made + suffix)
        elif made:
            print("kept %s" % made, flush=True)

    print("\n| collection: request (50 rows) | records | p50 ms | p90 ms | p99 ms | max ms | total |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        total = "%s%s" % (r["total"], "+" if r["lower_bound"] else "")
        print("| %s | %d | %.2f | %.2f | %.2f | %.2f | %s |" % (r["kind"], r["records"], r["p50_ms"], r["p90_ms"],
                                                          r["p99_ms"], r["max_ms"], total))


if __name__ == "__main__":
    main()
