"""freeport.py - TCP ports on 127.0.0.1 for the tests' servers.

A port is one the kernel gave to a bind to port 0 a moment ago. The kernel
may give the same port to two such binds in a row once the first socket is
closed, and a test that then starts flowpushd and the web server on one port
talks to whichever bound first. So a process never gets the same port twice
from free_port().
"""

import socket

_given = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago and
    that this process has not been given before."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port
    raise OSError("no free TCP port on 127.0.0.1 that was not handed out before")
