#!/usr/bin/python3
"""peer_bench.py - flowpush beside nchan: the same load client, the same
payload size, the same machine, the systems run one after the other in an
order that alternates from one repetition to the next.

    bench/peer_bench.py [--build DIR] [--full] [--scenarios NAME,...]
                        [--repeat N] [--systems NAME,...]

Systems:
  flowpush-nginx   the default deployment: pages reach flowpushd through
                   nginx (one worker) and its Unix socket; a write is a
                   PATCH through nginx and flowpush.fcgi
  flowpush-direct  the same stack, subscribers connect to flowpushd's Unix
                   socket directly (the write still goes through the API)
  nchan            nginx (one worker) with Debian's nchan module: pub/sub
                   with WebSocket and EventSource subscribers, a write is a
                   POST to its publisher

Latency is from the write request being sent to the event received
(bench/push_load.c matches each message to its write by a marker in the
payload). CPU is read from /proc for each process of the system: flowpushd,
nginx's worker and flowpush.fcgi; nchan's worker. The client's own CPU is
reported beside. Every run is bounded in subscribers, events and seconds
and stops by itself; every process is stopped by PID.

Prints one JSON line per run, then a Markdown table of medians with the
ratio of each flowpush figure to nchan's.
"""

import argparse
import json
import os
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

# name, WebSocket subscribers, SSE subscribers, events, events/s, seconds
QUICK = [
    ("latency-500", 400, 100, 50, 50, 60),
    ("latency-2000", 2000, 0, 20, 50, 90),
]
FULL = QUICK + [
    ("memory-5000-ws", 5000, 0, 3, 10, 120),
    ("memory-5000-sse", 0, 5000, 3, 10, 120),
]
SYSTEMS = ["flowpush-nginx", "flowpush-direct", "nchan"]
FIGURES = [("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("max_ms", "max ms"),
           ("server_us", "server CPU µs/delivery"),
           ("push_us", "push process CPU µs/delivery"),
           ("kb_per_subscriber", "KB/subscriber (server RSS)"),
           ("client_us", "client CPU µs/delivery")]


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


class Flowpush:
    """The quickstart stack (nginx with one worker, spawn-fcgi,
    flowpushd on a Unix socket), tokens off, one keyword set to write."""

    def __init__(self, build, direct):
        self.build, self.direct = build, direct
        self.st = None

    def start(self):
        self.st = Stack(build=self.build, workers=1, env={
            "FLOWPUSH_SECRET": "", "FLOWPUSH_PUSH_MAX_CONNECTIONS": "12000",
            "FLOWPUSH_LOG_LEVEL": "warn"}).start()
        status, _, rec = self.st.json("POST", "/api/keyword-sets",
                                      {"name": "load-%d" % time.time()})
        if status != 201:
            raise RuntimeError("cannot create the record: %s" % rec)
        self.id = rec["id"]
        q = "?topics=keyword-sets/" + self.id
        self.sse_path, self.ws_path = "/push/events" + q, "/push/ws" + q
        self.sub = ("unix:" + self.st.push_socket) if self.direct else str(self.st.port)
        self.write = "127.0.0.1:%d,PATCH,/api/keyword-sets/%s,%s" % (
            self.st.port, self.id, json.dumps({"description": "bench-%ld"}))
        workers = children(self.st.procs["nginx"].pid)
        # The first is the push server: flowpushd.
        self.pids = [self.st.procs["flowpushd"].pid] + workers + \
            [self.st.procs["flowpush.fcgi"].pid]
        self.push_pids = 1

    def stop(self):
        if self.st is not None:
            self.st.stop()


class Nchan:
    """nginx with one worker and the nchan module: one channel."""

    CONF = """load_module %(module)s;
worker_processes 1;
worker_rlimit_nofile 30000;
pid %(state)s/nginx.pid;
error_log %(state)s/error.log warn;
events { worker_connections 25000; }
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

    def start(self):
        self.state = tempfile.mkdtemp(prefix="fp-nchan-")
        os.makedirs(os.path.join(self.state, "tmp"))
        self.port = free_port()
        conf = os.path.join(self.state, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.CONF % {"module": NCHAN_MODULE, "state": self.state,
                                 "port": self.port})
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
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.state, ignore_errors=True)


def make(name, build):
    if name == "nchan":
        return Nchan()
    return Flowpush(build, direct=name == "flowpush-direct")


def run_one(loader, system, scenario):
    name, ws, sse, events, rate, seconds = scenario
    system.start()
    try:
        cmd = [loader, "--sub", system.sub, "--sse-path", system.sse_path,
               "--ws-path", system.ws_path, "--sse", str(sse), "--ws", str(ws),
               "--events", str(events), "--rate", str(rate), "--seconds", str(seconds),
               "--http", system.write]
        for pid in system.pids:
            cmd += ["--pid", str(pid)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        system.stop()
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("push_load printed nothing: %s" % out.stderr[-500:])
    r = json.loads(lines[-1])
    n = max(1, r["deliveries"])
    by_pid = r.pop("cpu_s_by_pid")
    r["server_us"] = r["cpu_s"] * 1e6 / n
    r["push_us"] = sum(by_pid[:system.push_pids]) * 1e6 / n
    r["client_us"] = r["client_cpu_s"] * 1e6 / n
    r["complete"] = out.returncode == 0 and r["write_errors"] == 0
    r["scenario"] = name
    return r


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def print_table(results, systems):
    print("| scenario | figure | " + " | ".join(systems) + " | " +
          " | ".join("%s ÷ nchan" % s for s in systems if s != "nchan") + " |")
    print("|---|---|" + "---|" * (2 * len(systems) - 1))
    for scenario, by_system in results:
        for key, label in FIGURES:
            vals = {s: median([r[key] for r in by_system[s]]) for s in systems}
            row = ["%.2f" % vals[s] for s in systems]
            base = vals.get("nchan")
            ratios = ["%.2f" % (vals[s] / base) if base else "-"
                      for s in systems if s != "nchan"]
            print("| %s | %s | %s | %s |" % (scenario, label, " | ".join(row),
                                            " | ".join(ratios)))
        done = all(r["complete"] for s in systems for r in by_system[s])
        if not done:
            print("| %s | INCOMPLETE: some events were not delivered or some writes "
                  "failed (see the JSON lines) | |" % scenario)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("FLOWPUSH_BUILD",
                                                      os.path.join(SRC, "run", "build")))
    ap.add_argument("--full", action="store_true", help="the full sizes")
    ap.add_argument("--scenarios", help="comma-separated scenario names")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    a = ap.parse_args()
    if not os.path.exists(NCHAN_MODULE):
        raise SystemExit("%s is missing: apt-get install libnginx-mod-nchan "
                         "(./quickstart bench installs it)" % NCHAN_MODULE)
    table = {sc[0]: sc for sc in FULL}
    scenarios = [table[n] for n in a.scenarios.split(",")] if a.scenarios else \
        (FULL if a.full else QUICK)
    systems = a.systems.split(",")
    work = tempfile.mkdtemp(prefix="fp-peer-")
    loader = os.path.join(work, "push_load")
    subprocess.run(["cc", "-O2", "-o", loader, os.path.join(SRC, "bench", "push_load.c"),
                    "-lsqlite3", "-lpthread"], check=True)
    results = []
    try:
        for sc in scenarios:
            by_system = {s: [] for s in systems}
            for i in range(max(1, a.repeat)):
                k = i % len(systems)
                for s in systems[k:] + systems[:k]:
                    r = run_one(loader, make(s, a.build), sc)
                    r["system"] = s
                    print(json.dumps(r), flush=True)
                    by_system[s].append(r)
            results.append((sc[0], by_system))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(results, systems)
    return 0


if __name__ == "__main__":
    sys.exit(main())
