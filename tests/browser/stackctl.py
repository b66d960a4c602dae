#!/usr/bin/python3
"""stackctl.py - runs one tests/integration/stack.py Stack for the browser tests and takes commands as JSON lines on stdin.

Prints {"ready":true,"url":..,"config":..} once the stack answers, then one
JSON answer line per command line {"id":N,"op":..}:
  stop-push            stop flowpushd (by the PID the harness started)
  start-push           start flowpushd again on the same port
  stop-fcgi            stop flowpush.fcgi (the API answers 502 meanwhile)
  start-fcgi           start flowpush.fcgi again on the same socket
  recreate-db          delete the database and run flowpush init --force on
                       the same path (a new, empty database and a new secret);
                       stop flowpush.fcgi and flowpushd first
  cli  {"args":[..], "input":".."}   run build/flowpush --config CONF ARGS
Options: --demo loads the demo data; --env KEY=VALUE (repeatable) adds to
the environment of every flowpush program, e.g. FLOWPUSH_TOKEN_TTL=5.
The stack stops when stdin closes (the test process ended) or on SIGTERM.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from stack import Stack  # noqa: E402


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def running(st, name):
    """Refuse to start name twice: the second would lose the first's PID."""
    proc = st.procs.get(name)
    if proc is not None and proc.poll() is None:
        raise RuntimeError("%s is already running" % name)


def recreate_db(st):
    """Replace the database by a new, empty one at the same path."""
    for name in ("flowpush.fcgi", "flowpushd"):
        if name in st.procs:
            raise RuntimeError("stop %s before recreating the database" % name)
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(st.database + suffix)
        except FileNotFoundError:
            pass
    r = st.cli("init", "--force", "--database", st.database)
    if r.returncode != 0:
        raise RuntimeError("flowpush init --force failed (%d): %s" % (r.returncode, r.stderr))


def parse_args(argv):
    demo, env = False, {}
    i = 0
    while i < len(argv):
        if argv[i] == "--demo":
            demo = True
        elif argv[i] == "--env" and i + 1 < len(argv) and "=" in argv[i + 1]:
            k, v = argv[i + 1].split("=", 1)
            env[k] = v
            i += 1
        else:
            raise SystemExit("stackctl.py: unknown argument %r" % argv[i])
        i += 1
    return demo, env


def main():
    demo, env = parse_args(sys.argv[1:])
    st = Stack(demo=demo, env=env)
    try:
        st.start()
        out({"ready": True, "url": st.url, "config": st.config, "build": st.build,
             "state": st.state, "push": st.push})
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            try:
                res = {}
                if cmd["op"] == "stop-push":
                    res["status"] = st.stop_process("flowpushd")
                elif cmd["op"] == "start-push":
                    running(st, "flowpushd")
                    st.start_push()
                elif cmd["op"] == "stop-fcgi":
                    res["status"] = st.stop_fcgi()
                elif cmd["op"] == "start-fcgi":
                    running(st, "flowpush.fcgi")
                    st.start_fcgi()
                elif cmd["op"] == "recreate-db":
                    recreate_db(st)
                elif cmd["op"] == "cli":
                    r = st.cli(*cmd["args"], input=cmd.get("input"))
                    res = {"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr}
                else:
                    raise ValueError("unknown op %r" % cmd["op"])
                out(dict(id=cmd["id"], ok=True, **res))
            except Exception as e:  # report, keep serving
                out({"id": cmd["id"], "ok": False, "error": str(e)})
    except Exception as e:
        out({"ready": False, "error": str(e)})
        raise
    finally:
        st.stop()


if __name__ == "__main__":
    main()
