#!/usr/bin/python3
"""ping_flood.py - what does a client that sends WebSocket pings as fast as
it can cost the daemon? One flooder per build connects straight to a
flowpushd of its own (TCP, fresh database), writes 1-byte pings in 7 KB
batches, reading only to throw away (a socket the daemon closes or stops
reading for 20 ms is replaced at once, handshake and all), and the daemon's CPU time is read from /proc.
Builds run one after the other, alternating, --rounds times each.
Bounded: --seconds per run (default 5).

    bench/ping_flood.py --build NEW [--before OLD] [--seconds N] [--rounds N]
"""

import argparse
import base64
import os
import socket
import subprocess
import sys
import tempfile
import shutil
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
from stack import free_port  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /push/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed during the handshake")
        buf += chunk
    s.setblocking(False)
    return s


def run(build, seconds):
    state = tempfile.mkdtemp(prefix="fp-flood-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWPUSH_")}
    env.update({"FLOWPUSH_DATABASE": os.path.join(state, "f.db"), "FLOWPUSH_DOORBELL": "",
                "FLOWPUSH_SECRET": "", "FLOWPUSH_PUSH_LISTEN": "127.0.0.1",
                "FLOWPUSH_PUSH_PORT": str(port), "FLOWPUSH_LOG_LEVEL": "warn"})
    subprocess.run([os.path.join(build, "flowpush"), "init", "--database",
                    env["FLOWPUSH_DATABASE"]], env=env, check=True, capture_output=True,
                   cwd=state)
    proc = subprocess.Popen([os.path.join(build, "flowpushd")], env=env, cwd=state,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        ping = b"".join(bytes([0x89, 0x81]) + b"\0\0\0\0" + b"p" for _ in range(1000))
        s, sent, reconnects, blocked = connect(port), 0, 0, None
        # What the daemon read, not what the kernel buffered: bytes sent
        # to a socket it stopped reading end up in no count here.
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        while time.monotonic() - t0 < seconds:
            try:
                n = s.send(ping)
                sent += n // 7
                try:
                    while s.recv(65536):
                        pass
                except BlockingIOError:
                    pass
                blocked = None
            except BlockingIOError:
                # A socket the daemon stopped reading: an attacker opens
                # another at once.
                now = time.monotonic()
                if blocked is None:
                    blocked = now
                elif now - blocked > 0.02:
                    s.close()
                    s, reconnects, blocked = connect(port), reconnects + 1, None
                time.sleep(0.0005)
            except OSError:
                s.close()
                s, reconnects = connect(port), reconnects + 1
        wall = time.monotonic() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
        s.close()
        return cpu / wall, sent / wall, reconnects
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(state, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--before")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    builds = [("now", a.build)] + ([("before", a.before)] if a.before else [])
    print("build   daemon CPU (cores)  pings written/s  reconnects")
    for r in range(a.rounds):
        order = builds if r % 2 == 0 else builds[::-1]
        for name, build in order:
            cpu, rate, rec = run(os.path.abspath(build), a.seconds)
            print("%-7s %18.3f %16.0f %11d" % (name, cpu, rate, rec), flush=True)


if __name__ == "__main__":
    main()
