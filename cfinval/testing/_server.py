"""The fake served over real HTTP (or HTTPS) on loopback (stdlib ``http.server`` in a thread).

Connection-level faults are acted out here: ``reset`` closes the socket with an RST, ``cut``
sends half the body then closes, ``stall`` waits before answering, ``drip`` sends the body a
byte at a time. Waits end early when the server stops, so stopping never hangs: it closes every
connection, then waits (briefly) for the connection handlers to end.

It may run on a shared host (``cfinval fake-server --host``), so what a client sends is not
trusted: a request body must come with one ``Content-Length`` of digits, at most
:data:`MAX_REQUEST_BODY` bytes (the API's XML bodies are a few hundred KiB at most); anything
else (a negative or non-numeric length, ``Transfer-Encoding``, a longer body) is answered with
400 or 413 and the connection closed, without reading the body.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol

from ._faults import FakeReply

__all__ = ["MAX_REQUEST_BODY", "FakeServer", "Responder", "is_loopback"]

#: The largest request body the server reads (larger ones are answered 413 unread).
MAX_REQUEST_BODY = 1024 * 1024

#: How long a client may take over the TLS handshake before the server gives up on it.
_HANDSHAKE_TIMEOUT = 10.0
#: How long a connection may stay silent (between requests, or inside one: a body shorter than
#: its Content-Length) before the server closes it: a slow or stuck client holds a handler
#: thread for this long at most.
IDLE_TIMEOUT = 60.0
#: How long stopping waits, in all, for the connection handlers to end once their connections
#: are closed (they end at once; only a responder that ignores the stop holds one up).
_HANDLER_JOIN_TIMEOUT = 2.0


class Responder(Protocol):
    """What the server serves: :class:`~cfinval.testing.FakeCloudFront` is one."""

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> FakeReply: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body then waits
    # for the client's delayed ACK (~40 ms per request on Linux loopback).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        # TLS: the handshake happens here, in this connection's thread, so that a client that
        # never completes it holds up nobody else (and fails alone: an OSError, not logged).
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(_HANDSHAKE_TIMEOUT)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()
        self.connection.settimeout(IDLE_TIMEOUT)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` once the request was refused (400: a length that is
        not one number, or a transfer coding; 413: more than :data:`MAX_REQUEST_BODY`)."""
        if self.headers.get("transfer-encoding") is not None:
            self._refuse(400, "Transfer-Encoding is not supported: send a Content-Length")
            return None
        values = {value.strip() for value in self.headers.get_all("content-length") or ()}
        if not values:
            return b""
        text = values.pop()
        if values or not (text.isascii() and text.isdigit()):
            self._refuse(400, "Content-Length must be one non-negative whole number")
            return None
        length = int(text)
        if length > MAX_REQUEST_BODY:
            self._refuse(413, f"a request body may hold at most {MAX_REQUEST_BODY} bytes")
            return None
        return self.rfile.read(length) if length else b""

    def _refuse(self, status: int, reason: str) -> None:
        """Answer ``status`` with ``reason`` and close the connection (its body is unread)."""
        body = (reason + "\n").encode("ascii")
        self.close_connection = True
        self.send_response_only(status)
        self.send_header("Server", "cfinval-fake")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        reply = self.server.fake.respond(
            self.command, self.path, {k: v for k, v in self.headers.items()}, body
        )
        fault = reply.fault
        kind = None if fault is None else fault.kind
        stopping = self.server.stopping
        if kind == "reset":
            self._reset()
            return
        if kind == "stall" and fault is not None and stopping.wait(fault.seconds):
            self._reset()
            return
        # Not send_response(): it adds its own Date, from the real clock, next to the fake's.
        self.log_request(reply.status)
        self.send_response_only(reply.status)
        self.send_header("Server", "cfinval-fake")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if kind == "cut":
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif kind == "drip" and fault is not None:
            for index in range(len(reply.body)):
                self.wfile.write(reply.body[index : index + 1])
                if stopping.wait(fault.seconds):
                    self._reset()
                    return
        else:
            self.wfile.write(reply.body)

    def _reset(self) -> None:
        """Abort the connection: with SO_LINGER 0 the close sends RST, not FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests and demos print what matters themselves."""


class _Server(ThreadingHTTPServer):
    # Handler threads are daemons (one held up never keeps the process alive), so
    # socketserver's server_close() does not wait for them: stop() joins them itself.
    daemon_threads = True
    #: socketserver listens with a backlog of 5: a burst of concurrent connections beyond it
    #: waits for the client's SYN retransmission (1 s, then 3 s).
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], fake: Responder, tls: ssl.SSLContext | None
    ) -> None:
        self.fake = fake
        self.tls = tls
        self.stopping = threading.Event()
        # Open connections (keep-alive ones included), so that stopping can close them all.
        self._connections: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own (as ``ThreadingMixIn`` does), noted so
        that :meth:`join_handlers` can wait for it."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="cfinval-fake-connection",
            daemon=True,
        )
        with self._connections_lock:
            self._connections.add(request)
            self._handlers = {t for t in self._handlers if t.is_alive()}
            self._handlers.add(thread)
        thread.start()

    def join_handlers(self, timeout: float) -> None:
        """Wait until every connection handler has ended, or ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        with self._connections_lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection: a handler waiting for the next request on a keep-alive
        connection reads end-of-file and returns; the client sees the connection closed."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # (one already closed by its handler or by the client raises OSError)
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (after a timeout, a reset we caused) are routine here."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # pragma: no cover


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a ``--host`` value) listens on this machine only: ``localhost`` or a
    loopback address. ``0.0.0.0``, ``::`` and every other address or name are reachable from
    other machines."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class FakeServer:
    """Runs a :class:`~cfinval.testing.FakeCloudFront` on ``host:port`` (port 0: any free port).

    Use as a context manager; ``endpoint_url`` is where clients should point. With
    ``ssl_certfile`` (PEM: the certificate chain, and the private key unless ``ssl_keyfile``
    holds it; uvicorn's names) it serves HTTPS and ``endpoint_url`` is ``https://...``; a file
    that cannot be loaded raises ``OSError`` (``ssl.SSLError``) here, before anything listens.
    """

    def __init__(
        self,
        fake: Responder,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_certfile: str | os.PathLike[str] | None = None,
        ssl_keyfile: str | os.PathLike[str] | None = None,
    ) -> None:
        self.fake = fake
        self._address = (host, port)
        self._tls: ssl.SSLContext | None = None
        if ssl_certfile is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(ssl_certfile, ssl_keyfile)
        elif ssl_keyfile is not None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake server is not running")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode("ascii")
        shown = f"[{host}]" if ":" in host else host
        scheme = "http" if self._tls is None else "https"
        return f"{scheme}://{shown}:{port}"

    def start(self) -> FakeServer:
        if self._server is None:
            self._server = _Server(self._address, self.fake, self._tls)
            self._thread = threading.Thread(
                # a short poll interval: stop() waits for it, and tests stop servers often
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name="cfinval-fake",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection, keep-alive ones included: a client that
        called before gets connection errors, not answers from a stopped fake. Returns once
        the connection handlers have ended (or after a couple of seconds, if a responder
        ignores the stop)."""
        if self._server is not None:
            self._server.stopping.set()
            self._server.shutdown()  # no new connection is accepted after this
            self._server.close_connections()
            self._server.server_close()  # the listening socket (handler threads: see below)
            self._server.join_handlers(_HANDLER_JOIN_TIMEOUT)  # they end promptly now
            if self._thread is not None:
                self._thread.join()
            self._server = None
            self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
