"""A small BookSpace client for the deployment tests: HTTP over http.client and a minimal
WebSocket client (RFC 6455, text frames), standard library only. Every wait is bounded."""
import base64
import http.client
import json
import os
import socket
import ssl
import struct
import time
import urllib.parse


class Failure(Exception):
    pass


def tls_context():
    """For https:// and wss:// bases: the system's CAs, or BOOKSPACE_TEST_CA (a test's own CA)."""
    return ssl.create_default_context(cafile=os.environ.get("BOOKSPACE_TEST_CA"))


def check(condition, message):
    if not condition:
        raise Failure(message)


class Api:
    """One base URL (http://host:port). A new connection per request, so a proxy's round-robin
    spreads consecutive requests over its instances."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.tls = u.scheme == "https"
        self.host, self.port = u.hostname, u.port or (443 if self.tls else 80)
        self.base = base

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        h = dict(headers or {})
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        if self.tls:
            c = http.client.HTTPSConnection(self.host, self.port, timeout=30, context=tls_context())
        else:
            c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            full = path if path.startswith(("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                                            "/.well-known/", "/internal/")) else "/api/v1" + path
            c.request(method, full, body=data, headers=h)
            r = c.getresponse()
            payload = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
        finally:
            c.close()

    def register(self, email, password="correct horse battery"):
        r = self.call("POST", "/auth/register", {"email": email, "password": password})
        check(r.status == 201, f"register {email}: {r.status} {r.text()}")
        return r.json()


    def export(self, token, document_ids):
        """POST /jobs documents.export; the job's id."""
        job = self.call("POST", "/jobs", {"type": "documents.export", "payload": {"document_ids": document_ids}},
                        token=token)
        check(job.status == 202, f"export: {job.status} {job.text()}")
        return job.json()["id"]

    def finished_job(self, token, job_id, timeout=60):
        """The job once it has ended (succeeded, failed or cancelled)."""
        def ended():
            j = self.call("GET", f"/jobs/{job_id}", token=token).json()
            return j if j["status"] in ("succeeded", "failed", "cancelled") else None
        return poll(f"job {job_id}", ended, timeout=timeout, interval=0.1)[0]


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def text(self):
        return self.body.decode(errors="replace")[:300]


def unique(prefix):
    return f"{prefix}-{os.getpid()}-{int(time.time() * 1000) % 10**9}@example.com"


def poll(what, condition, timeout=10.0, interval=0.02):
    """Waits for condition() to return something truthy; returns it and the seconds it took."""
    start = time.monotonic()
    while True:
        value = condition()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise Failure(f"{what}: not within {timeout} s")
        time.sleep(interval)


class Ws:
    """A WebSocket client for /api/v1/realtime."""

    def __init__(self, base, path="/api/v1/realtime", timeout=10.0):
        u = urllib.parse.urlsplit(base)
        tls = u.scheme in ("https", "wss")
        self.sock = socket.create_connection((u.hostname, u.port or (443 if tls else 80)), timeout=timeout)
        if tls:
            self.sock = tls_context().wrap_socket(self.sock, server_hostname=u.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.hostname}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            check(chunk, "websocket: connection closed during the handshake")
            head += chunk
        head, self.pending = head.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 101"), f"websocket: {head[:80]!r}")
        self.closed = None

    def send(self, message):
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, n, deadline):
        while len(self.pending) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.pending += chunk
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def next(self, timeout=5.0):
        """The next message (a dict), or None on timeout or close (then self.closed is the code)."""
        if self.closed is not None:
            return None
        deadline = time.monotonic() + timeout
        try:
            while True:
                b0, b1 = self._read(2, deadline)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read(2, deadline))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8, deadline))[0]
                payload = self._read(n, deadline)
                opcode = b0 & 0x0F
                if opcode == 0x9:  # ping → pong
                    mask = os.urandom(4)
                    self.sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(payload)) + mask +
                                      bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
                    continue
                if opcode == 0x8:
                    self.closed = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    return None
                if opcode == 0x1:
                    return json.loads(payload)
        except TimeoutError:
            return None
        except (ConnectionError, OSError):
            self.closed = 1006
            return None

    def next_of(self, kind, timeout=5.0, event=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.next(deadline - time.monotonic())
            if m is None:
                return None
            if m.get("type") == kind and (event is None or m.get("event") == event):
                return m
        return None

    def answer(self, message, timeout=5.0):
        """Sends `message`; the next message that is not an event."""
        self.send(message)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.next(deadline - time.monotonic())
            if m is None or m.get("type") != "event":
                return m
        return None

    def wait_closed(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while self.closed is None and time.monotonic() < deadline:
            self.next(deadline - time.monotonic())
        return self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
