#!/usr/bin/python3
"""test_push.py - flowpushd through real nginx: delivery, order, resume across restarts, resets, tokens, bad frames, slow consumers, fan-out to 1,000 subscribers."""

import asyncio
import base64
import contextlib
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

import websockets
import websockets.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import ON_SQLITE, Stack, UnixHTTPConnection, free_port, run_unittest_main  # noqa: E402
from push_headers import PushHeaderChecks  # noqa: E402

ST = None
EVENT_KEYS = ["seq", "topic", "action", "id", "version", "ts", "actor", "data"]


def setUpModule():
    global ST
    # 1,000 subscribers through nginx need more than the usual 1,024 fds.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    ST = Stack().start()
    if not ST.push:
        raise unittest.SkipTest("flowpushd is not built")


def tearDownModule():
    if ST is not None:
        ST.stop()


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def create_persona(conn=None):
    body = {"name": unique("p"), "personaType": "dns",
            "configDetails": {"resolvers": ["192.0.2.1"]}}
    status, _, rec = ST.json("POST", "/api/personas", body, conn=conn)
    assert status == 201, rec
    return rec


def create_keyword_set(conn=None):
    status, _, rec = ST.json("POST", "/api/keyword-sets", {"name": unique("k")},
                             conn=conn)
    assert status == 201, rec
    return rec


def current_seq():
    status, _, body = ST.json("GET", "/api/personas?limit=1")
    assert status == 200, body
    return body["seq"]


def token(topics="*", st=None):
    status, _, body = (st or ST).json("GET", "/api/token?" + urllib.parse.urlencode({"topics": topics}))
    assert status == 200, body
    return body["token"]


def query(**kw):
    return urllib.parse.urlencode({k: v for k, v in kw.items() if v is not None})


def changes(since, topics=None):
    """The API's view of the journal after since: the reference the push
    events must equal."""
    q = {"since": since, "limit": 1000}
    if topics:
        q["topics"] = topics
    status, _, body = ST.json("GET", "/api/changes?" + urllib.parse.urlencode(q))
    assert status == 200, body
    return body["events"]


# --------------------------------------------------------------- clients

class SSEClient:
    """A blocking Server-Sent Events reader: through nginx by default,
    straight to the stack's daemon with direct=True, or to a port."""

    def __init__(self, path, headers=None, port=None, timeout=10, direct=False):
        if direct:
            self.conn = ST.push_connection(timeout=timeout)
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", port or ST.port,
                                                   timeout=timeout)
        self.conn.request("GET", path, headers=headers or {})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.retry = None

    def next(self):
        """The next dispatched message: dict with event, id, data (None at
        the end of the stream). Comments and retry: are noted, not returned."""
        msg = {"event": "message", "id": None, "data": []}
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if msg["data"]:
                    msg["data"] = "\n".join(msg["data"])
                    return msg
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                msg["data"].append(value)
            elif field in ("event", "id"):
                msg[field] = value
            elif field == "retry":
                self.retry = int(value)

    def events(self, n):
        out = []
        while len(out) < n:
            m = self.next()
            assert m is not None, "stream ended after %d events" % len(out)
            out.append(m)
        return out

    def close(self):
        # The response holds its own reference to the socket.
        self.resp.close()
        self.conn.close()


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def ws_url(**kw):
    return "ws://127.0.0.1:%d/push/ws?%s" % (ST.port, query(**kw))


async def ws_collect(url, n, origin=None):
    headers = {"Origin": origin} if origin else None
    async with websockets.connect(url, extra_headers=headers, max_size=2 ** 22) as ws:
        return [json.loads(await ws.recv()) for _ in range(n)]


async def ws_collect_headers(url, headers):
    async with websockets.connect(url, extra_headers=headers) as ws:
        return json.loads(await ws.recv())


def raw_handshake_status(origin, host, proto, st=None):
    """The status of a WebSocket handshake sent straight to the daemon of
    st (default: the module's stack) with the given Origin, Host and
    X-Forwarded-Proto (None: not sent)."""
    s = (st or ST).push_connect(10)
    extra = "X-Forwarded-Proto: %s\r\n" % proto if proto else ""
    s.sendall(("GET /push/ws?token=%s HTTP/1.1\r\nHost: %s\r\n"
               "Origin: %s\r\n%sUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n"
               % (token(st=st), host, origin, extra)).encode())
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    s.close()
    return int(head.split(b" ", 2)[1])


class RawWS:
    """A WebSocket client that sends exactly the bytes a test asks for,
    straight to the daemon (nginx would pass them on unchanged anyway), or
    to a TCP port."""

    def __init__(self, port=None, path=None, rcvbuf=None, timeout=10):
        if port is None:
            self.s = ST.push_connect(timeout, rcvbuf)
        else:
            self.s = socket.socket()
            if rcvbuf:
                self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.s.settimeout(timeout)
            self.s.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"
                        % (path or "/push/ws?" + query(token=token()), key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            assert chunk, "closed during the handshake"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])

    def send_frame(self, b0, payload, masked=True, length=None):
        n = len(payload) if length is None else length
        hdr = bytes([b0])
        mbit = 0x80 if masked else 0
        if n < 126:
            hdr += bytes([mbit | n])
        elif n < 65536:
            hdr += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([mbit | 127]) + struct.pack(">Q", n)
        if masked:
            mask = os.urandom(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            hdr += mask
        self.s.sendall(hdr + payload)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def recv_frame(self):
        """(opcode, payload) of the next server frame."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "server frames must not be masked"
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x0F, payload

    def recv_close(self):
        """The close code the server sends, skipping other frames."""
        while True:
            op, payload = self.recv_frame()
            if op == 8:
                return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None

    def closed_by_peer(self):
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.s.close()


def metrics():
    status, _, body = ST.request("GET", "/push/metrics")
    assert status == 200
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = int(value)
    return out


def wait_for(cond, what, timeout=10):
    """Polls cond until it holds: for states with no signal of their own
    (a file written, a counter moved)."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


@contextlib.contextmanager
def push_env(**env):
    """flowpushd restarted with FLOWPUSH_ overrides, and as before after."""
    ST.stop_process("flowpushd")
    ST.extra_env.update(env)
    try:
        ST.start_push()
        yield ST.procs["flowpushd"]
    finally:
        for k in env:
            ST.extra_env.pop(k, None)
        restart_push()


def restart_push(kill=False):
    proc = ST.procs.get("flowpushd")
    if kill:
        proc.kill()
        proc.wait()
        ST.procs.pop("flowpushd")
    else:
        ST.stop_process("flowpushd")
    ST.start_push()


# --------------------------------------------------------------- tests

class SSETest(unittest.TestCase):

    def test_stream_opens_with_headers_and_retry_before_any_event(self):
        c = SSEClient("/push/events?" + query(token=token()))
        try:
            self.assertEqual(c.status, 200)
            self.assertTrue(c.headers["content-type"].startswith("text/event-stream"))
            self.assertEqual(c.headers["cache-control"], "no-store")
            self.assertEqual(c.resp.readline(), b"retry: 3000\n")
        finally:
            c.close()

    def test_events_arrive_in_order_as_the_journal_has_them(self):
        since = current_seq()
        c = SSEClient("/push/events?" + query(since=since, token=token("personas"), topics="personas"))
        try:
            recs = [create_persona() for _ in range(3)]
            got = c.events(3)
        finally:
            c.close()
        self.assertEqual([json.loads(m["data"])["id"] for m in got], [r["id"] for r in recs])
        self.assertEqual([int(m["id"]) for m in got], [json.loads(m["data"])["seq"] for m in got])
        self.assertEqual([json.loads(m["data"]) for m in got], changes(since, "personas"))
        self.assertEqual(list(json.loads(got[0]["data"]).keys()), EVENT_KEYS)

    def test_last_event_id_wins_over_since(self):
        first = create_persona()
        seq_after_first = current_seq()
        second = create_persona()
        c = SSEClient("/push/events?" + query(since=0, token=token("personas"), topics="personas"),
                      headers={"Last-Event-ID": str(seq_after_first)})
        try:
            got = json.loads(c.events(1)[0]["data"])
        finally:
            c.close()
        self.assertEqual(got["id"], second["id"])
        self.assertNotEqual(got["id"], first["id"])

    def test_bad_since_is_400(self):
        status, _, body = ST.json("GET", "/push/events?" + query(since="12x", token=token()))
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "bad_since")

    def test_bad_topics_is_400(self):
        status, _, body = ST.json("GET", "/push/events?" + query(topics="nope", token=token()))
        self.assertEqual(status, 400)


class AuthTest(unittest.TestCase):

    def test_missing_token_is_401(self):
        status, _, body = ST.json("GET", "/push/events")
        self.assertEqual(status, 401)
        self.assertIn("error", body)

    def test_forged_token_is_401(self):
        t = token("personas")
        payload, mac = t.split(".")
        forged = base64.urlsafe_b64encode(
            base64.urlsafe_b64decode(payload + "==").replace(b"personas", b"*")).decode().rstrip("=")
        status, _, _ = ST.json("GET", "/push/events?" + query(token=forged + "." + mac))
        self.assertEqual(status, 401)

    def test_topics_outside_the_grant_are_403(self):
        status, _, body = ST.json("GET", "/push/events?" + query(token=token("personas"), topics="campaigns"))
        self.assertEqual(status, 403)

    def test_no_topics_means_the_tokens_topics(self):
        since = current_seq()
        c = SSEClient("/push/events?" + query(since=since, token=token("keyword-sets")))
        try:
            create_persona()
            ks = create_keyword_set()
            got = json.loads(c.events(1)[0]["data"])
        finally:
            c.close()
        self.assertEqual(got["topic"], "keyword-sets")
        self.assertEqual(got["id"], ks["id"])

    def test_websocket_without_token_is_refused(self):
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            run(ws_collect(ws_url(), 1))
        self.assertEqual(cm.exception.status_code, 401)


class WebSocketTest(unittest.TestCase):

    def test_event_is_one_text_frame_equal_to_the_journal_event(self):
        since = current_seq()

        async def go():
            async with websockets.connect(ws_url(since=since, token=token("personas"))) as ws:
                rec = create_persona()
                msg = await ws.recv()
                self.assertIsInstance(msg, str)
                return rec, json.loads(msg)
        rec, ev = run(go())
        self.assertEqual(ev["id"], rec["id"])
        self.assertEqual([ev], changes(since, "personas"))

    def test_record_topic_gets_only_that_record(self):
        a = create_persona()
        create_persona()
        since = current_seq()

        async def go():
            async with websockets.connect(ws_url(since=since, token=token(), topics="personas/" + a["id"])) as ws:
                create_persona()
                ST.json("PATCH", "/api/personas/" + a["id"], {"description": "changed"})
                return json.loads(await ws.recv())
        ev = run(go())
        self.assertEqual((ev["id"], ev["action"]), (a["id"], "updated"))

    def test_other_versions_get_426_naming_13(self):
        r = RawWS.__new__(RawWS)
        s = socket.create_connection(("127.0.0.1", ST.port), timeout=10)
        s.sendall(("GET /push/ws?token=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 8\r\n\r\n" % token()).encode())
        head = s.recv(4096).decode()
        s.close()
        del r
        self.assertTrue(head.startswith("HTTP/1.1 426"), head)
        self.assertIn("sec-websocket-version: 13", head.lower())

    def test_foreign_origin_is_403(self):
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            run(ws_collect(ws_url(token=token()), 1, origin="http://evil.example"))
        self.assertEqual(cm.exception.status_code, 403)

    def test_another_scheme_or_port_is_403(self):
        # nginx says the page came over http: an https Origin is another
        # origin, as is another port.
        for origin in ("https://127.0.0.1:%d" % ST.port,
                       "http://127.0.0.1:%d" % (ST.port + 1)):
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
                run(ws_collect(ws_url(token=token()), 1, origin=origin))
            self.assertEqual(cm.exception.status_code, 403, origin)

    def test_a_clients_forwarded_host_is_not_believed(self):
        # nginx passes a client's X-Forwarded-Host on unchanged.
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            run(ws_collect_headers(ws_url(token=token()), {
                "Origin": "http://evil.example",
                "X-Forwarded-Host": "evil.example"}))
        self.assertEqual(cm.exception.status_code, 403)

    def test_a_trusted_proxys_forwarded_proto_decides_the_scheme(self):
        # Straight to the daemon, from loopback or its Unix socket: the
        # peers push_trusted_proxies trusts by default.
        origin = "https://console.example"
        self.assertEqual(raw_handshake_status(origin, "console.example",
                                              "https"), 101)
        self.assertEqual(raw_handshake_status(origin, "console.example",
                                              None), 403)
        self.assertEqual(raw_handshake_status("http://console.example",
                                              "console.example", "https"),
                         403)

    def test_own_origin_is_accepted(self):
        since = current_seq()
        create_persona()
        got = run(ws_collect(ws_url(since=since, token=token("personas")), 1,
                             origin="http://127.0.0.1:%d" % ST.port))
        self.assertEqual(got[0]["topic"], "personas")


class UntrustedProxyTest(unittest.TestCase):
    """A daemon whose push_trusted_proxies names none of its peers."""

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(env={"FLOWPUSH_PUSH_TRUSTED_PROXIES": "192.0.2.1"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_an_untrusted_peers_forwarded_proto_is_ignored(self):
        self.assertEqual(raw_handshake_status(
            "https://console.example", "console.example", "https",
            st=self.st), 403)
        self.assertEqual(raw_handshake_status(
            "http://console.example", "console.example", "https",
            st=self.st), 101)


class FrameTest(unittest.TestCase):
    """Malformed client frames, sent raw to the daemon."""

    def port(self):
        return None  # the daemon itself, wherever it listens

    def connect(self):
        return ST.push_connect()

    def raw(self):
        return RawWS(port=self.port())

    def close_code_after(self, b0, payload, **kw):
        ws = self.raw()
        try:
            self.assertEqual(ws.status, 101)
            ws.send_frame(b0, payload, **kw)
            return ws.recv_close()
        finally:
            ws.close()

    def test_unmasked_frame_closes_1002(self):
        self.assertEqual(self.close_code_after(0x81, b"hi", masked=False), 1002)

    def test_invalid_utf8_closes_1007(self):
        self.assertEqual(self.close_code_after(0x81, b"a\xffb"), 1007)

    def test_message_over_64k_closes_1009(self):
        self.assertEqual(self.close_code_after(0x82, b"x" * (65536 + 1)), 1009)

    def test_reserved_opcode_closes_1002(self):
        self.assertEqual(self.close_code_after(0x83, b""), 1002)

    def test_ping_is_answered_with_same_payload(self):
        ws = self.raw()
        try:
            ws.send_frame(0x89, b"abc")
            while True:
                op, payload = ws.recv_frame()
                if op == 0xA:
                    break
            self.assertEqual(payload, b"abc")
        finally:
            ws.close()

    def ping_frames(self, n):
        out = b""
        for _ in range(n):
            mask = os.urandom(4)
            out += bytes([0x89, 0x80 | 1]) + mask + bytes([ord("p") ^ mask[0]])
        return out

    def test_a_ping_flood_closes_1008_after_the_budget(self):
        # 20 frames a second, 200 at once: 50 pings are answered, 2,000
        # more at once are not.
        ws = self.raw()
        try:
            self.assertEqual(ws.status, 101)
            ws.s.sendall(self.ping_frames(50))
            pongs = 0
            while pongs < 50:
                op, _ = ws.recv_frame()
                self.assertNotEqual(op, 8, "closed within the budget")
                pongs += op == 0xA
            try:
                ws.s.sendall(self.ping_frames(2000))
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertEqual(ws.recv_close(), 1008)
        finally:
            ws.close()

    def test_fragments_with_a_ping_between_are_accepted(self):
        ws = self.raw()
        try:
            ws.send_frame(0x01, b"he")
            ws.send_frame(0x89, b"p")
            ws.send_frame(0x80, b"llo")
            ws.send_frame(0x88, struct.pack(">H", 1000))
            self.assertEqual(ws.recv_close(), 1000)
            self.assertTrue(ws.closed_by_peer())
        finally:
            ws.close()

    def test_client_close_is_echoed_then_tcp_closed(self):
        ws = self.raw()
        try:
            ws.send_frame(0x88, struct.pack(">H", 4001) + b"bye")
            self.assertEqual(ws.recv_close(), 4001)
            self.assertTrue(ws.closed_by_peer())
        finally:
            ws.close()

    def test_garbage_before_the_handshake_does_not_hurt(self):
        s = self.connect()
        half = self.connect()
        try:
            s.sendall(b"\x00\xff" * 5000 + b"\r\n\r\n")
            half.sendall(b"GET /push/events HTTP/1.1\r\nHost: x\r\n")
            status, _, _ = ST.request("GET", "/push/health")
            self.assertEqual(status, 200)
        finally:
            s.close()
            half.close()


class FrameThroughNginxTest(FrameTest):
    """The same frames through nginx, the way browsers reach the daemon:
    the proxy passes the raw bytes on and the close frame back."""

    def port(self):
        return ST.port

    def connect(self):
        return socket.create_connection(("127.0.0.1", ST.port), timeout=10)


class ResetTest(unittest.TestCase):

    def test_since_beyond_the_newest_seq_is_a_reset(self):
        now = current_seq()
        c = SSEClient("/push/events?" + query(since=now + 1000, token=token()))
        try:
            m = c.events(1)[0]
        finally:
            c.close()
        self.assertEqual(m["event"], "reset")
        self.assertGreaterEqual(json.loads(m["data"])["seq"], now)

    def test_a_stream_that_opens_with_a_reset_still_starts_with_retry(self):
        now = current_seq()
        c = SSEClient("/push/events?" + query(since=now + 1000, token=token()))
        try:
            first = c.resp.readline()
            m = c.events(1)[0]
        finally:
            c.close()
        self.assertEqual(first, b"retry: 3000\n")
        self.assertEqual(m["event"], "reset")

    def test_websocket_reset_is_an_action_message(self):
        now = current_seq()
        got = run(ws_collect(ws_url(since=now + 1000, token=token()), 1))
        self.assertEqual(got[0]["action"], "reset")
        self.assertGreaterEqual(got[0]["seq"], now)

    def test_since_older_than_the_kept_rows_is_a_reset(self):
        create_persona()
        create_persona()
        r = ST.cli("prune", "--keep-days", "0", "--keep-rows", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        c = SSEClient("/push/events?" + query(since=0, token=token()))
        try:
            m = c.events(1)[0]
        finally:
            c.close()
        self.assertEqual(m["event"], "reset")


class RestartTest(unittest.TestCase):

    def resume_across(self, kill):
        t = token("personas")
        since = current_seq()
        before = [create_persona() for _ in range(3)]
        c = SSEClient("/push/events?" + query(since=since, token=t, topics="personas"))
        seen = c.events(2)
        c.close()
        last = int(seen[-1]["id"])
        restart_push(kill=kill)
        during = [create_persona() for _ in range(2)]
        c = SSEClient("/push/events?" + query(token=t, topics="personas"),
                      headers={"Last-Event-ID": str(last)})
        try:
            rest = c.events(3)
        finally:
            c.close()
        ids = [json.loads(m["data"])["id"] for m in seen + rest]
        self.assertEqual(ids, [r["id"] for r in before + during])
        seqs = [int(m["id"]) for m in seen + rest]
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_resume_after_sigterm_restart_loses_nothing(self):
        self.resume_across(kill=False)

    def test_resume_after_kill_9_loses_nothing(self):
        self.resume_across(kill=True)

    def test_sigterm_closes_websockets_with_1001_and_ends_streams(self):
        ws = RawWS()
        sse = SSEClient("/push/events?" + query(token=token()), direct=True)
        self.assertEqual(sse.resp.readline(), b"retry: 3000\n")
        proc = ST.procs["flowpushd"]
        proc.send_signal(signal.SIGTERM)
        try:
            self.assertEqual(ws.recv_close(), 1001)
            while sse.resp.readline():
                pass
            proc.wait(5)
        finally:
            ws.close()
            sse.close()
            ST.procs.pop("flowpushd", None)
            ST.start_push()
        self.assertEqual(proc.returncode, 0)


class OwnDaemon:
    """A flowpushd of its own on a free TCP port, over a fresh database
    whose journal holds rows written straight into it (no token, no
    doorbell); env adds FLOWPUSH_ overrides. rows: (topic, id, data)."""

    def __init__(self, rows, **env):
        self.state = tempfile.mkdtemp(prefix="fp-own-")
        self.port = free_port()
        self.proc = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWPUSH_")}
        self.env.update({"FLOWPUSH_DATABASE": os.path.join(self.state, "own.db"),
                         "FLOWPUSH_DOORBELL": "", "FLOWPUSH_SECRET": "",
                         "FLOWPUSH_PUSH_LISTEN": "127.0.0.1",
                         "FLOWPUSH_PUSH_PORT": str(self.port)})
        self.env.update(env)
        self.rows = rows

    def __enter__(self):
        try:
            r = subprocess.run([os.path.join(ST.build, "flowpush"), "init", "--database",
                                self.env["FLOWPUSH_DATABASE"]], env=self.env, cwd=self.state,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            db = sqlite3.connect(self.env["FLOWPUSH_DATABASE"], timeout=10)
            with db:
                db.executemany("INSERT INTO journal(ts, topic, action, id, version, actor, data)"
                               " VALUES('2026-01-01T00:00:00.000Z', ?, 'created', ?, 1, NULL, ?)",
                               self.rows)
            db.close()
            with open(os.path.join(self.state, "d.log"), "wb") as log:
                self.proc = subprocess.Popen([os.path.join(ST.build, "flowpushd")], env=self.env,
                                             stdout=log, stderr=subprocess.STDOUT)
            wait_for(lambda: self.health().get("lastSeq") == len(self.rows),
                     "the daemon never read the journal", timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.state, ignore_errors=True)

    def health(self):
        """The daemon's /push/health body ({} while it does not answer)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/push/health")
            return json.loads(conn.getresponse().read())
        except (OSError, ValueError):
            return {}
        finally:
            conn.close()


def ws_texts(ws, n):
    """The next n text messages of a RawWS (pings skipped), as JSON."""
    out = []
    while len(out) < n:
        op, payload = ws.recv_frame()
        assert op in (1, 9), "frame %d after %d events: %r" % (op, len(out), payload[:40])
        if op == 1:
            out.append(json.loads(payload))
    return out


class CatchUpTest(unittest.TestCase):
    """Resumes older than the ring, read from the database."""

    def test_a_resume_older_than_a_small_ring_gets_every_event_once(self):
        # 85 events of ~300 bytes: far more than the 8 KiB cap, most of
        # them older than the 16 the ring keeps.
        rows = [("personas", str(uuid.uuid4()), json.dumps({"name": "p%d" % i, "pad": "x" * 200}))
                for i in range(85)]
        with OwnDaemon(rows, FLOWPUSH_PUSH_RING_SIZE="16",
                       FLOWPUSH_PUSH_OUTBOUND_CAP="8192") as d:
            c = SSEClient("/push/events?since=0", port=d.port)
            try:
                sse = [json.loads(m["data"]) for m in c.events(len(rows))]
            finally:
                c.close()
            ws = RawWS(port=d.port, path="/push/ws?since=0")
            try:
                self.assertEqual(ws.status, 101)
                wsev = ws_texts(ws, len(rows))
            finally:
                ws.close()
        for got in (sse, wsev):
            self.assertEqual([e["seq"] for e in got], list(range(1, len(rows) + 1)))
            self.assertEqual([e["id"] for e in got], [r[1] for r in rows])

    def test_a_long_catch_up_does_not_stall_the_loop(self):
        # 60,000 rows of record size, of which a few belong to the one
        # record a client follows: reading its backlog must leave room
        # for other requests.
        n, target, other = 60000, str(uuid.uuid4()), str(uuid.uuid4())
        mine = {1, 9000, 21000, 33000, 45000, 57000, 59990, n}
        body = json.dumps({"name": "c", "description": "x" * 300,
                           "settings": [{"k": "v%d" % j, "on": True} for j in range(20)]})
        rows = [("campaigns", target if i in mine else other, body)
                for i in range(1, n + 1)]
        with OwnDaemon(rows, FLOWPUSH_PUSH_RING_SIZE="256") as d:
            got, errors = [], []

            def read():
                try:
                    c = SSEClient("/push/events?" + query(since=0, topics="campaigns/" + target),
                                  port=d.port, timeout=60)
                    try:
                        got.extend(json.loads(m["data"])["seq"] for m in c.events(len(mine)))
                    finally:
                        c.close()
                except Exception as e:  # reported below, in this thread
                    errors.append(e)
            reader = threading.Thread(target=read)
            reader.start()
            worst, calls = 0.0, 0
            deadline = time.monotonic() + 60
            while (reader.is_alive() or calls < 5) and time.monotonic() < deadline:
                t0 = time.monotonic()
                self.assertEqual(d.health().get("status"), "ok")
                worst = max(worst, time.monotonic() - t0)
                calls += 1
            reader.join(10)
        self.assertEqual(errors, [])
        self.assertEqual(got, sorted(mine))
        # A behaviour bound, not a benchmark: reading the whole backlog in
        # one turn took seconds.
        self.assertLess(worst, 0.2, "/push/health took %.3f s during a catch-up" % worst)


def rss_kb(pid):
    """The resident memory of process pid, in KB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def metric_value(port, name):
    """One unlabelled value of a daemon's /push/metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/push/metrics")
        for line in conn.getresponse().read().decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
    finally:
        conn.close()
    raise AssertionError("%s not in the metrics" % name)


class MemoryBudgetTest(unittest.TestCase):
    """Events of a megabyte: the ring and its preload keep to
    push_ring_bytes, not to a count."""

    RING = 8 << 20

    def big_rows(self, n, first=0):
        return [("keyword-sets", str(uuid.uuid4()),
                 json.dumps({"name": "k%d" % (first + i), "pad": "x" * (1 << 20)}))
                for i in range(n)]

    def test_megabyte_events_keep_the_ring_and_the_daemon_within_the_budget(self):
        rows = self.big_rows(60)
        with OwnDaemon(rows, FLOWPUSH_PUSH_RING_BYTES=str(self.RING),
                       FLOWPUSH_PUSH_POLL_MS="50") as d:
            # After the preload (a restart over big rows).
            ring = metric_value(d.port, "flowpush_ring_bytes")
            self.assertLessEqual(ring, self.RING)
            self.assertGreater(ring, 4 << 20)
            preload_kb = rss_kb(d.proc.pid)
            # Live: 40 more while a subscriber follows them all.
            ws = RawWS(port=d.port, path="/push/ws?topics=keyword-sets")
            try:
                self.assertEqual(ws.status, 101)
                more = self.big_rows(40, first=60)
                db = sqlite3.connect(d.env["FLOWPUSH_DATABASE"], timeout=10)
                for row in more:
                    with db:
                        db.execute("INSERT INTO journal(ts, topic, action, id, version, actor,"
                                   " data) VALUES('2026-01-01T00:00:00.000Z', ?, 'created', ?,"
                                   " 1, NULL, ?)", row)
                db.close()
                got = ws_texts(ws, len(more))
            finally:
                ws.close()
            self.assertEqual([e["id"] for e in got], [r[1] for r in more])
            live_kb = rss_kb(d.proc.pid)
            self.assertLessEqual(metric_value(d.port, "flowpush_ring_bytes"), self.RING)
            # A resume from the start reads what the ring lost from the
            # database: all 100, once, in order.
            c = SSEClient("/push/events?since=0", port=d.port, timeout=60)
            try:
                seqs = [json.loads(m["data"])["seq"] for m in c.events(100)]
            finally:
                c.close()
            self.assertEqual(seqs, list(range(1, 101)))
        # 100 events of 1 MB held twice (both forms) would be 200 MB; the
        # budget is 8 MB, and the rest of the daemon a few more.
        for what, kb in (("after the preload", preload_kb), ("after 40 live events", live_kb)):
            self.assertLess(kb, 48 << 10, "flowpushd held %d KB %s" % (kb, what))


def raw_subscribe(port, path, ws, headers=""):
    """A subscriber on a plain socket: its handshake sent and its response
    head read; returns (socket, status, bytes after the head)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    if ws:
        key = base64.b64encode(os.urandom(16)).decode()
        head = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                "Sec-WebSocket-Version: 13\r\n" % (path, key))
    else:
        head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
    s.sendall((head + headers + "\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, "closed during the handshake"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return s, int(head.split(b" ")[1]), rest


def read_until(s, rest, needle):
    """Reads s until needle has arrived (rest: bytes already read)."""
    while needle not in rest:
        chunk = s.recv(65536)
        assert chunk, "closed before %r arrived" % needle
        rest += chunk
    return rest


class IdleSubscriberTest(unittest.TestCase):
    """What an open subscriber costs once its handshake is done: the
    daemon lets go of the HTTP request's memory (libmicrohttpd's pool),
    and still takes requests with big headers."""

    N = 1000

    def event_row(self, name):
        return ("personas", str(uuid.uuid4()), json.dumps({"name": name}))

    def append(self, d, row):
        db = sqlite3.connect(d.env["FLOWPUSH_DATABASE"], timeout=10)
        with db:
            db.execute("INSERT INTO journal(ts, topic, action, id, version, actor, data)"
                       " VALUES('2026-01-01T00:00:00.000Z', ?, 'created', ?, 1, NULL, ?)", row)
        db.close()

    def test_idle_subscribers_cost_under_4_kb_each_and_all_still_get_events(self):
        with OwnDaemon([], FLOWPUSH_PUSH_POLL_MS="50") as d:
            socks = []
            try:
                def open_some(n):
                    for i in range(n):
                        ws = i % 2 == 0
                        s, status, rest = raw_subscribe(
                            d.port, "/push/ws" if ws else "/push/events", ws)
                        self.assertEqual(status, 101 if ws else 200)
                        socks.append((s, rest))
                open_some(50)       # the allocator's first arenas
                before = rss_kb(d.proc.pid)
                open_some(self.N)
                time.sleep(0.3)
                per = (rss_kb(d.proc.pid) - before) * 1024 / self.N
                # Before the daemon let go of the request's memory: about
                # 10,000 bytes each (libmicrohttpd's 8 KiB pool).
                self.assertLess(per, 4096, "%.0f bytes per idle subscriber" % per)
                self.append(d, self.event_row("idle-check"))
                for s, rest in socks:
                    read_until(s, rest, b"idle-check")
            finally:
                for s, _ in socks:
                    s.close()

    def test_a_12_kb_cookie_jar_straight_to_the_daemon_still_subscribes(self):
        jar = "Cookie: " + "; ".join("c%d=%s" % (i, "v" * 300) for i in range(40)) + "\r\n"
        self.assertGreater(len(jar), 12000)
        with OwnDaemon([], FLOWPUSH_PUSH_POLL_MS="50") as d:
            ws, ws_status, ws_rest = raw_subscribe(d.port, "/push/ws", True, jar)
            sse, sse_status, sse_rest = raw_subscribe(d.port, "/push/events", False, jar)
            try:
                self.assertEqual((ws_status, sse_status), (101, 200))
                self.append(d, self.event_row("cookie-check"))
                read_until(ws, ws_rest, b"cookie-check")
                read_until(sse, sse_rest, b"cookie-check")
            finally:
                ws.close()
                sse.close()


class LimitTest(unittest.TestCase):

    def test_over_the_limit_new_clients_get_503_and_old_ones_stay(self):
        ST.stop_process("flowpushd")
        ST.extra_env["FLOWPUSH_PUSH_MAX_CONNECTIONS"] = "2"
        try:
            ST.start_push()
            t = token()
            a = SSEClient("/push/events?" + query(token=t))
            b = RawWS()
            status, hdrs, body = ST.json("GET", "/push/events?" + query(token=t))
            self.assertEqual(status, 503)
            self.assertIn("retry-after", hdrs)
            since = current_seq()
            create_persona()
            self.assertEqual(a.resp.readline(), b"retry: 3000\n")
            m = a.events(1)[0]
            self.assertGreater(int(m["id"]), since)
            a.close()
            b.close()
        finally:
            del ST.extra_env["FLOWPUSH_PUSH_MAX_CONNECTIONS"]
            restart_push()


class SlowConsumerTest(unittest.TestCase):

    def test_a_client_that_never_reads_delays_nobody_and_is_dropped(self):
        ST.stop_process("flowpushd")
        ST.extra_env["FLOWPUSH_PUSH_OUTBOUND_CAP"] = "65536"
        ST.extra_env["FLOWPUSH_PUSH_DISPATCH_TIMEOUT_MS"] = "1000"
        try:
            ST.start_push()
            drops = metrics().get("flowpush_slow_consumer_drops_total", 0)
            since = current_seq()
            slow = RawWS(rcvbuf=4096, path="/push/ws?" + query(token=token("keyword-sets"),
                                                              topics="keyword-sets"))
            fast = SSEClient("/push/events?" + query(since=since, token=token("keyword-sets"),
                                                     topics="keyword-sets"))
            conn = ST.connection()
            big = "x" * 16000
            made, got = [], []
            n = 150
            reader = threading.Thread(target=lambda: got.extend(
                json.loads(m["data"])["id"] for m in fast.events(n)))
            reader.start()
            for _ in range(n):
                st, _, rec = ST.json("POST", "/api/keyword-sets",
                                     {"name": unique("k"), "description": big}, conn=conn)
                self.assertEqual(st, 201, rec)
                made.append(rec["id"])
            reader.join(60)
            self.assertEqual(got, made)
            fast.close()
            deadline = time.monotonic() + 10
            while metrics().get("flowpush_slow_consumer_drops_total", 0) == drops:
                self.assertLess(time.monotonic(), deadline, "the slow client was never dropped")
                time.sleep(0.1)
            slow.close()
        finally:
            for k in ("FLOWPUSH_PUSH_OUTBOUND_CAP", "FLOWPUSH_PUSH_DISPATCH_TIMEOUT_MS"):
                ST.extra_env.pop(k, None)
            restart_push()


    def drop_close_code(self, n_events):
        """Opens a WebSocket that reads nothing, writes n_events records of
        16 KB, waits until the daemon drops it, then reads: the close
        frame the daemon queued behind the partly sent event comes out as
        the client drains its socket (within the 1 s close wait)."""
        drops = metrics().get("flowpush_slow_consumer_drops_total", 0)
        t = token("keyword-sets")
        ws = RawWS(rcvbuf=4096, path="/push/ws?" + query(token=t, topics="keyword-sets"))
        statuses = []

        def write():
            conn = ST.connection()
            big = "x" * 16000
            for _ in range(n_events):
                st, _, _ = ST.json("POST", "/api/keyword-sets",
                                   {"name": unique("k"), "description": big}, conn=conn)
                statuses.append(st)
            conn.close()

        writer = threading.Thread(target=write)
        try:
            self.assertEqual(ws.status, 101)
            writer.start()
            # The writes go on meanwhile: the drop may come before the
            # last of them, and the close frame waits only 1 s.
            wait_for(lambda: metrics().get("flowpush_slow_consumer_drops_total", 0) > drops,
                     "the client that reads nothing was never dropped", timeout=30)
            return ws.recv_close()
        finally:
            writer.join(60)
            ws.close()
            self.assertEqual(statuses, [201] * n_events)

    def test_a_burst_past_the_outbound_cap_reaches_a_reading_client_whole(self):
        # 30 events of 16 KB written as fast as the API takes them, to a
        # client with a small socket buffer and a 64 KiB cap: the queue
        # fills, the subscriber reads the rest from the ring as it drains,
        # and nobody is closed.
        with push_env(FLOWPUSH_PUSH_OUTBOUND_CAP="65536"):
            m0 = metrics()
            t = token("keyword-sets")
            ws = RawWS(rcvbuf=4096, path="/push/ws?" + query(token=t, topics="keyword-sets"))
            try:
                self.assertEqual(ws.status, 101)
                conn = ST.connection()
                made = []
                for _ in range(30):
                    st, _, rec = ST.json("POST", "/api/keyword-sets",
                                         {"name": unique("k"), "description": "x" * 16000},
                                         conn=conn)
                    self.assertEqual(st, 201, rec)
                    made.append(rec["id"])
                conn.close()
                got = [e["id"] for e in ws_texts(ws, 30)]
            finally:
                ws.close()
            m1 = metrics()
        self.assertEqual(got, made)
        self.assertEqual(m1.get("flowpush_slow_consumer_drops_total", 0),
                         m0.get("flowpush_slow_consumer_drops_total", 0))
        self.assertGreater(m1.get("flowpush_fell_behind_total", 0),
                           m0.get("flowpush_fell_behind_total", 0))

    def test_a_queue_that_stops_moving_closes_with_1013(self):
        # 30 events of 16 KB stay well under the 1 MiB cap, but the queue
        # behind the full socket cannot move for 500 ms.
        with push_env(FLOWPUSH_PUSH_DISPATCH_TIMEOUT_MS="500"):
            self.assertEqual(self.drop_close_code(30), 1013)

    def test_an_sse_stream_that_stops_moving_is_cut_and_uncounted(self):
        with push_env(FLOWPUSH_PUSH_OUTBOUND_CAP="65536",
                      FLOWPUSH_PUSH_DISPATCH_TIMEOUT_MS="500"):
            drops = metrics().get("flowpush_slow_consumer_drops_total", 0)
            s = ST.push_connect(10, rcvbuf=4096)
            s.sendall(("GET /push/events?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                       % query(token=token("keyword-sets"), topics="keyword-sets")).encode())
            try:
                conn = ST.connection()
                big = "x" * 16000
                for _ in range(30):
                    st, _, rec = ST.json("POST", "/api/keyword-sets",
                                         {"name": unique("k"), "description": big}, conn=conn)
                    self.assertEqual(st, 201, rec)
                conn.close()
                wait_for(lambda: metrics().get("flowpush_slow_consumer_drops_total", 0) > drops,
                         "the stream that reads nothing was never dropped")
                # What was in flight still arrives, then the connection ends.
                try:
                    while s.recv(65536):
                        pass
                except ConnectionResetError:
                    pass
                self.assertEqual(ST.json("GET", "/push/health")[2]["connections"]["sse"], 0)
            finally:
                s.close()


class LogTest(unittest.TestCase):

    def test_sighup_reopens_a_log_file_that_was_moved_away(self):
        log = os.path.join(ST.state, "logs", "flowpushd-file.log")
        moved = log + ".1"
        with push_env(FLOWPUSH_LOG_FILE=log, FLOWPUSH_LOG_LEVEL="info") as proc:
            wait_for(lambda: b"listening on" in read_file(log), "nothing logged to the file")
            os.rename(log, moved)
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: b"log reopened" in read_file(log),
                     "SIGHUP did not make a new log file")
            # Lines after the reopen go to the new file only.
            self.assertEqual(ST.stop_process("flowpushd"), 0)
        self.assertIn(b"stopped", read_file(log))
        self.assertNotIn(b"log reopened", read_file(moved))
        self.assertNotIn(b"stopped", read_file(moved))
        self.assertIn(b"listening on", read_file(moved))


class JournalTest(unittest.TestCase):

    def test_unparseable_row_is_skipped_and_counted(self):
        skipped = metrics().get("flowpush_skipped_rows_total", 0)
        since = current_seq()
        ST.append_journal_row("personas", "created", "x", "{not json")
        c = SSEClient("/push/events?" + query(since=since, token=token("personas"), topics="personas"))
        try:
            rec = create_persona()
            got = json.loads(c.events(1)[0]["data"])
        finally:
            c.close()
        self.assertEqual(got["id"], rec["id"])
        self.assertEqual(metrics()["flowpush_skipped_rows_total"], skipped + 1)

    @unittest.skipUnless(ON_SQLITE, "replaces the SQLite file under the daemon")
    def test_a_database_replaced_under_the_daemon_resets_its_subscribers(self):
        create_persona()
        old_seq = current_seq()
        t = token("personas")
        c = SSEClient("/push/events?" + query(token=t, topics="personas"))
        state = tempfile.mkdtemp(prefix="fp-new-")
        try:
            self.assertEqual(c.resp.readline(), b"retry: 3000\n")
            fresh = os.path.join(state, "fresh.db")
            env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWPUSH_")}
            r = subprocess.run([os.path.join(ST.build, "flowpush"), "init", "--database", fresh],
                               cwd=state, env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertFalse(os.path.exists(fresh + "-wal"))
            # The API would go on writing to the file it has open, and the
            # old and the new file share the -wal name: stop the API and
            # empty the log before the new file takes the name.
            ST.stop_fcgi()
            db = sqlite3.connect(ST.database, timeout=10)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()
            os.replace(fresh, ST.database)
            ST.start_fcgi()
            m = c.events(1)[0]
            self.assertEqual(m["event"], "reset")
            self.assertLess(json.loads(m["data"])["seq"], old_seq)
            # After the reset the stream follows the new journal.
            rec = create_persona()
            got = json.loads(c.events(1)[0]["data"])
            self.assertEqual(got["id"], rec["id"])
        finally:
            c.close()
            shutil.rmtree(state, ignore_errors=True)

    def test_writer_that_cannot_ring_is_seen_by_the_poll(self):
        since = current_seq()
        c = SSEClient("/push/events?" + query(since=since, token=token("personas"), topics="personas"))
        try:
            env = ST.env()
            env["FLOWPUSH_DOORBELL"] = ""
            body = json.dumps({"name": unique("p"), "personaType": "dns",
                               "configDetails": {"resolvers": ["192.0.2.1"]}})
            r = subprocess.run([os.path.join(ST.build, "flowpush"), "--config", ST.config,
                                "create", "personas"], input=body, capture_output=True,
                               text=True, env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = json.loads(c.events(1)[0]["data"])
        finally:
            c.close()
        self.assertEqual(got["id"], json.loads(r.stdout)["id"])

    def test_daemon_waits_for_a_database_that_does_not_exist_yet(self):
        state = tempfile.mkdtemp(prefix="fp-push-")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWPUSH_")}
        env.update({"FLOWPUSH_DATABASE": os.path.join(state, "later.db"),
                    "FLOWPUSH_DOORBELL": os.path.join(state, "bell"),
                    "FLOWPUSH_PUSH_PORT": str(port), "FLOWPUSH_PUSH_POLL_MS": "100"})
        log = open(os.path.join(state, "d.log"), "wb")
        proc = subprocess.Popen([os.path.join(ST.build, "flowpushd")], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            c = SSEClient("/push/events?since=0", port=port)
            self.assertEqual(c.resp.readline(), b"retry: 3000\n")
            r = subprocess.run([os.path.join(ST.build, "flowpush"), "init", "--database",
                                env["FLOWPUSH_DATABASE"]], env=env, capture_output=True,
                               text=True, cwd=state, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            env2 = dict(env, FLOWPUSH_SECRET="")
            body = json.dumps({"name": "late", "personaType": "dns",
                               "configDetails": {"resolvers": ["192.0.2.1"]}})
            r = subprocess.run([os.path.join(ST.build, "flowpush"), "create", "personas"],
                               input=body, env=env2, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            m = c.events(1)[0]
            self.assertEqual(json.loads(m["data"])["data"]["name"], "late")
            c.close()
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()


class HealthTest(unittest.TestCase):

    def test_health_reports_connections_seq_and_uptime(self):
        c = SSEClient("/push/events?" + query(token=token()))
        try:
            c.resp.readline()
            status, _, body = ST.json("GET", "/push/health")
        finally:
            c.close()
        self.assertEqual(status, 200)
        self.assertGreaterEqual(body["connections"]["sse"], 1)
        for k in ("websocket", "sse"):
            self.assertIn(k, body["connections"])
        for k in ("lastSeq", "lagSeq", "lagMs", "uptime"):
            self.assertIsInstance(body[k], int)

    def test_a_stream_the_client_closed_stops_being_counted(self):
        def sse_count():
            return ST.json("GET", "/push/health")[2]["connections"]["sse"]
        before = sse_count()
        c = SSEClient("/push/events?" + query(token=token()), direct=True)
        self.assertEqual(c.resp.readline(), b"retry: 3000\n")
        self.assertEqual(sse_count(), before + 1)
        c.close()
        # Seen at once, not at the next heartbeat.
        wait_for(lambda: sse_count() == before, "the closed stream is still counted", timeout=5)

    def test_metrics_name_every_counter(self):
        m = metrics()
        for name in ("flowpush_connections{transport=\"websocket\"}",
                     "flowpush_connections{transport=\"sse\"}",
                     "flowpush_events_in_total", "flowpush_events_out_total",
                     "flowpush_bytes_out_total", "flowpush_resumes_total",
                     "flowpush_resets_total", "flowpush_slow_consumer_drops_total",
                     "flowpush_journal_lag_seq", "flowpush_journal_lag_ms",
                     "flowpush_skipped_rows_total", "flowpush_fell_behind_total",
                     "flowpush_ring_bytes", "flowpush_queued_bytes"):
            self.assertIn(name, m)

    def test_a_live_event_is_timed_from_commit_to_its_writes(self):
        def count():
            return metrics()["flowpush_fanout_ms_count"]
        before = count()
        c = SSEClient("/push/events?" + query(token=token("personas"), topics="personas"))
        try:
            create_persona()
            c.events(1)
        finally:
            c.close()
        wait_for(lambda: count() > before, "the fan-out was not timed")
        self.assertIn('flowpush_fanout_ms_bucket{le="+Inf"}', metrics())

    def test_unknown_push_path_is_404(self):
        status, _, body = ST.json("GET", "/push/nope")
        self.assertEqual(status, 404)
        self.assertEqual(body["error"]["status"], 404)


class NginxPushHeaderTest(PushHeaderChecks, unittest.TestCase):
    """Large headers to /push/ through the nginx recipe."""

    def PORT(self):
        return ST.port

    def stack(self):
        return ST


class UnixSocketTest(unittest.TestCase):
    """flowpushd on a Unix stream socket (push_listen = unix:PATH), which
    nginx proxies /push/ to in the stack as in production."""

    def daemon(self, path, state):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWPUSH_")}
        env.update({"FLOWPUSH_DATABASE": ST.database, "FLOWPUSH_DOORBELL": "",
                    "FLOWPUSH_PUSH_LISTEN": "unix:" + path})
        log = open(os.path.join(state, "d.log"), "ab")
        try:
            return subprocess.Popen([os.path.join(ST.build, "flowpushd")], env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()

    def answers(self, path, proc):
        """Waits until proc serves /push/health on path; its status."""
        deadline = time.monotonic() + 20
        while True:
            self.assertIsNone(proc.poll(), "flowpushd exited while starting")
            self.assertLess(time.monotonic(), deadline, "flowpushd never listened")
            conn = UnixHTTPConnection(path, timeout=5)
            try:
                conn.request("GET", "/push/health")
                return conn.getresponse().status
            except OSError:
                time.sleep(0.05)
            finally:
                conn.close()

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise

    def test_nginx_proxies_push_to_the_daemons_unix_socket(self):
        self.assertIsNotNone(ST.push_socket, "the stack put flowpushd on TCP")
        st = os.stat(ST.push_socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        with open(os.path.join(ST.state, "nginx.conf"), encoding="utf-8") as f:
            conf = f.read()
        self.assertIn("server unix:%s;" % ST.push_socket, conf)
        self.assertIn("proxy_pass http://flowpush_push;", conf)
        status, _, body = ST.json("GET", "/push/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        # SSE and WebSocket through nginx, the Host and Origin checks
        # seeing the browser's headers although the peer is a socket file.
        since = current_seq()
        c = SSEClient("/push/events?" + query(since=since, token=token("personas"),
                                              topics="personas"))
        try:
            a = create_persona()
            got = json.loads(c.events(1)[0]["data"])
        finally:
            c.close()
        self.assertEqual(got["id"], a["id"])
        ws = run(ws_collect(ws_url(since=since, token=token("personas"), topics="personas"),
                            1, origin="http://127.0.0.1:%d" % ST.port))
        self.assertEqual(ws[0]["id"], a["id"])

    def test_a_stale_socket_file_is_replaced_and_removed_at_exit(self):
        state = tempfile.mkdtemp(prefix="fp-unix-")
        path = os.path.join(state, "push.sock")
        try:
            # What a daemon killed with SIGKILL leaves: a socket file
            # nobody listens on.
            dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            dead.bind(path)
            dead.close()
            self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
            proc = self.daemon(path, state)
            try:
                self.assertEqual(self.answers(path, proc), 200)
            finally:
                rc = self.stop(proc)
            self.assertEqual(rc, 0)
            self.assertFalse(os.path.exists(path), "the socket outlived a clean exit")
        finally:
            shutil.rmtree(state, ignore_errors=True)

    def test_a_live_socket_or_another_file_is_left_alone(self):
        state = tempfile.mkdtemp(prefix="fp-unix-")
        path = os.path.join(state, "push.sock")
        live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            live.bind(path)
            live.listen(1)
            proc = self.daemon(path, state)
            self.assertEqual(proc.wait(20), 1)
            # Still the first listener's socket.
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(5)
            c.connect(path)
            c.close()
            live.accept()[0].close()
            live.close()
            os.unlink(path)
            with open(path, "w") as f:
                f.write("not a socket\n")
            proc = self.daemon(path, state)
            self.assertEqual(proc.wait(20), 1)
            with open(path) as f:
                self.assertEqual(f.read(), "not a socket\n")
            with open(os.path.join(state, "d.log"), encoding="utf-8") as f:
                log = f.read()
            self.assertIn("in use by another process", log)
            self.assertIn("is not a socket", log)
        finally:
            live.close()
            shutil.rmtree(state, ignore_errors=True)


# --------------------------------------------------------------- fan-out

async def sse_async(path, n, ready):
    """Read n events from an SSE stream with asyncio (chunked through nginx)."""
    r, w = await asyncio.open_connection("127.0.0.1", ST.port)
    w.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0], head
    chunked = b"transfer-encoding: chunked" in head.lower()
    buf, out, signalled = b"", [], False
    while len(out) < n:
        if chunked:
            size = int((await r.readline()).strip(), 16)
            data = await r.readexactly(size + 2)
            buf += data[:-2]
        else:
            buf += await r.read(65536)
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            if block.startswith(b"retry:") and not signalled:
                ready.release()
                signalled = True
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    out.append(json.loads(line[6:])["seq"])
    w.close()
    return out


async def ws_async(url, n, ready):
    async with websockets.connect(url, max_queue=None, ping_interval=None) as ws:
        ready.release()
        return [json.loads(await ws.recv())["seq"] for _ in range(n)]


class FanOutTest(unittest.TestCase):

    def test_1000_subscribers_get_the_same_100_events_in_order(self):
        subscribers, events = 1000, 100
        t = token("personas")
        since = current_seq()

        async def go():
            ready = asyncio.Semaphore(0)
            path = "/push/events?" + query(since=since, token=t, topics="personas")
            url = ws_url(since=since, token=t, topics="personas")
            tasks = []
            for i in range(subscribers):
                if i % 2:
                    tasks.append(asyncio.create_task(sse_async(path, events, ready)))
                else:
                    tasks.append(asyncio.create_task(ws_async(url, events, ready)))
                if i % 100 == 99:
                    await asyncio.sleep(0.05)
            for _ in range(subscribers):
                await ready.acquire()
            loop = asyncio.get_running_loop()

            def write():
                conn = ST.connection()
                return [create_persona(conn)["id"] for _ in range(events)]
            await loop.run_in_executor(None, write)
            return await asyncio.gather(*tasks)
        results = run(go(), timeout=240)
        expected = [e["seq"] for e in changes(since, "personas")]
        self.assertEqual(len(expected), events)
        for got in results:
            self.assertEqual(got, expected)


if __name__ == "__main__":
    run_unittest_main()
