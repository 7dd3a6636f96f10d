"""The common machinery of every stand-in: a real HTTP server on loopback in a background thread
that can be taken down and brought back on the same port, plus the faults all of them can stage."""
from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulators.record_store import EffectsLog, Generator

log = logging.getLogger("simulators")


@dataclass
class Request:
    """One HTTP request as a stand-in sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any  # email.message.Message: case-insensitive get()
    body: bytes
    target: str = ""  # the path and query exactly as sent

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body parsed as JSON; ValueError if it is not JSON."""
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def form(self) -> dict[str, str]:
        """The body parsed as application/x-www-form-urlencoded (first value of each field)."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, headers=dict(headers or {}))


def html_reply(status: int, html: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, html.encode("utf-8"), "text/html; charset=utf-8", dict(headers or {}))


class RateLimiter:
    """Admits at most `rps` requests in any sliding second; `rps` None or 0 admits everything."""

    def __init__(self, rps: float | None):
        self.rps = rps
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """None if the request may pass, else the seconds after which it may be retried."""
        if not self.rps:
            return None
        now = time.monotonic()
        with self._lock:
            while self._admitted and now - self._admitted[0] >= 1.0:
                self._admitted.popleft()
            if len(self._admitted) >= self.rps:
                return max(0.0, 1.0 - (now - self._admitted[0]))
            self._admitted.append(now)
            return None


def retry_after_header(wait: float) -> dict[str, str]:
    # Retry-After carries whole seconds; round up so that a client which obeys it is admitted.
    return {"Retry-After": str(max(1, math.ceil(wait)))}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, stand_in: "StandInServer"):
        self.stand_in = stand_in
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):
        # A client that hangs up, or a connection cut by go_down(), is not news.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without NODELAY each answer waits for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.stand_in._track(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.stand_in._untrack(self.connection)

    def log_message(self, format, *args):  # noqa: A002 - the base class names it so
        log.debug("%s %s", self.address_string(), format % args)

    def _serve(self):
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=self._read_body(),
            target=self.path,
        )
        try:
            reply = self.server.stand_in._answer(request)
        except Exception:  # a bug in a stand-in must show as a 500, not a hung client
            log.exception("stand-in failed on %s %s", self.command, self.path)
            reply = json_reply(500, {"code": 50000, "msg": "stand-in error"})
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class StandInServer:
    """Base of the stand-ins: subclasses implement `handle(request) -> Reply`.

    `start()` listens on loopback (port 0 picks a free port) and returns the base URL; `go_down()`
    closes the listening socket and cuts open connections, so clients get "connection refused";
    `come_up()` listens again on the same port with all state kept. Every request waits `latency`
    seconds, and `fail_next(n, status)` makes the next n requests fail.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.base_url: str | None = None
        self.latency: float = 0.0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._failures: deque[tuple[int, dict[str, Any]]] = deque()
        self._failures_lock = threading.Lock()
        self._started = False
        self._generator = Generator(type(self).__name__)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving; returns the base URL, e.g. "http://127.0.0.1:54321"."""
        if self._started:
            return self.base_url
        self.on_start()
        self._listen()
        self._started = True
        return self.base_url

    def stop(self) -> None:
        """Stop serving and end the stand-in's background work."""
        if not self._started:
            return
        self._started = False
        self._generator.stop()
        self._close()
        self.on_stop()

    def go_down(self) -> None:
        """Stop listening and cut open connections; state is kept for `come_up()`."""
        self._close()

    def come_up(self) -> None:
        """Listen again on the same port after `go_down()`."""
        if self._server is None and self._started:
            self._listen()

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def on_start(self) -> None:
        """Hook: runs before the first listen (load state, start background threads)."""

    def on_stop(self) -> None:
        """Hook: runs after the server has closed (save state, end background threads)."""

    def _listen(self) -> None:
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    # -- records ----------------------------------------------------------------------------

    def generate_every(self, seconds: float, batch: int = 1) -> None:
        """Add `batch` new records every `seconds` in the background until stop()."""
        self._generator.start(seconds, batch, self.generate)

    def generate(self, batch: int) -> None:
        """Hook: add `batch` new realistic records (stand-ins of sources that hold records)."""
        raise NotImplementedError(f"{type(self).__name__} makes no records")

    # -- faults -----------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, **options: Any) -> None:
        """Make the next `n` requests fail with `status`."""
        with self._failures_lock:
            self._failures.extend([(status, options)] * n)

    def clear_faults(self) -> None:
        with self._failures_lock:
            self._failures.clear()
        self.latency = 0.0

    def _take_failure(self) -> tuple[int, dict[str, Any]] | None:
        with self._failures_lock:
            return self._failures.popleft() if self._failures else None

    # -- answering --------------------------------------------------------------------------

    def _answer(self, request: Request) -> Reply:
        if self.latency:
            time.sleep(self.latency)
        return self.handle(request)

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError
