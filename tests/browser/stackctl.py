#!/usr/bin/python3
"""stackctl.py - runs one tests/integration/stack.py Stack for the browser tests and takes commands as JSON lines on stdin.

Prints {"ready":true,"url":..,"config":..} once the stack answers, then one
JSON answer line per command line {"id":N,"op":..}:
  stop-push            stop flowpushd (by the PID the harness started)
  start-push           start flowpushd again on the same port
  cli  {"args":[..], "input":".."}   run build/flowpush --config CONF ARGS
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


def main():
    st = Stack(demo="--demo" in sys.argv[1:])
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
                    st.start_push()
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
