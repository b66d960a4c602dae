#!/usr/bin/python3
"""write_stall.py - does one heavy write stall the others? One client sends
keyword sets whose regular expressions take long to compile (valid ones,
and ones past the budget), in a loop; another sends small writes and
records their latency and status. Prints p50/p99/max latency and the count
of non-2xx answers of the small writes. Bounded: --seconds (default 20).

    bench/write_stall.py [--build DIR] [--seconds N] [--busy-ms N]
"""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
from stack import Stack  # noqa: E402


def heavy_body(i, n):
    return {"name": "heavy-%d-%f" % (i, time.time()),
            "rules": [{"pattern": "(a{0,40}){0,40}", "ruleType": "regex"}] * n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--busy-ms", type=int, default=1000,
                    help="the API's busy_timeout_ms for this run")
    a = ap.parse_args()
    st = Stack(build=a.build, push=False, workers=2,
               env={"FLOWPUSH_BUSY_TIMEOUT_MS": str(a.busy_ms)}).start()
    stop = time.monotonic() + a.seconds
    heavy = {"sent": 0, "status": {}}
    small = {"lat": [], "status": {}}

    def heavy_loop():
        i = 0
        while time.monotonic() < stop:
            # 29 patterns: just inside the budget; 1,000: the attack.
            n = 29 if i % 2 == 0 else 1000
            s, _, _ = st.json("POST", "/api/keyword-sets", heavy_body(i, n))
            heavy["status"][s] = heavy["status"].get(s, 0) + 1
            i += 1

    def small_loop():
        i = 0
        while time.monotonic() < stop:
            t0 = time.monotonic()
            s, _, _ = st.json("POST", "/api/keyword-sets",
                              {"name": "small-%d-%f" % (i, time.time())})
            small["lat"].append((time.monotonic() - t0) * 1000)
            small["status"][s] = small["status"].get(s, 0) + 1
            i += 1
            time.sleep(0.01)

    try:
        threads = [threading.Thread(target=heavy_loop),
                   threading.Thread(target=small_loop)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        st.stop()
    lat = sorted(small["lat"])

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] if lat else 0
    print(json.dumps({
        "build": st.build, "busy_timeout_ms": a.busy_ms,
        "heavy_writes": heavy["status"],
        "small_writes": small["status"], "small_n": len(lat),
        "small_ms": {"p50": round(pct(0.5), 1), "p99": round(pct(0.99), 1),
                     "max": round(lat[-1], 1) if lat else 0}}))


if __name__ == "__main__":
    main()
