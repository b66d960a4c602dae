"""push_headers.py - checks shared by every web server recipe: a request to
/push/ with a large cookie jar still reaches flowpushd, and headers larger
than the daemon holds are answered with the JSON error shape, never the
HTML of libmicrohttpd.

A test class mixes in PushHeaderChecks and gives PORT() (the web server's
port) and stack() (its Stack); it may give its own assertJsonError.
"""

from stack import raw_request


def push_request(port, header, size):
    """GET /push/events through the server on port with one header of size
    bytes; returns (status, headers, body) as raw_request does."""
    return raw_request(port, (
        "GET /push/events?topics=keyword-sets HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        "%s: %s\r\nConnection: close\r\n\r\n" % (port, header, "c=" + "x" * size)).encode())


class PushHeaderChecks:

    def assertJsonError(self, status, headers, body, want):
        self.assertEqual(status, want, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        "a %d answer is %r, not JSON" % (status, headers.get("content-type")))
        self.assertEqual(body["error"]["status"], want)

    def test_a_large_cookie_jar_still_reaches_the_push_daemon(self):
        if not self.stack().push:
            self.skipTest("flowpushd is not built")
        # 6 KB of cookies: the daemon reads none, the recipe drops them;
        # the daemon's own answer (no token: 401) shows it got the request.
        status, headers, body = push_request(self.PORT(), "Cookie", 6000)
        self.assertJsonError(status, headers, body, 401)
        self.assertEqual(body["error"]["code"], "missing_token")

    def test_headers_past_what_the_daemon_holds_are_json_errors(self):
        if not self.stack().push:
            self.skipTest("flowpushd is not built")
        # Around the daemon's limit and the servers' own: every answer is
        # the JSON shape, whoever gives it. Just under its limit the
        # daemon's library closes without an answer, which a proxy
        # reports as 502.
        for size in (7000, 7600, 7900, 8150, 8600, 9500, 12000):
            status, headers, body = push_request(self.PORT(), "X-Padding", size)
            self.assertIn(status, (400, 401, 431, 502), (size, body))
            self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                            "%d bytes of header: a %d answer in %r: %r"
                            % (size, status, headers.get("content-type"), body))
            self.assertIsInstance(body, dict, size)
