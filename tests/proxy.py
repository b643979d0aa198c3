"""A loopback HTTP proxy for tests: forwards absolute-form requests and tunnels CONNECT.

It records what it was asked (``("GET", "http://127.0.0.1:PORT/...")``,
``("CONNECT", "127.0.0.1:PORT")``), so a test can tell that a request really went through it.
Every request goes to the origin on a fresh connection with ``Connection: close``.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["LoopbackProxy"]


def _read_head(sock: socket.socket, buffered: bytes) -> tuple[bytes, bytes] | None:
    """``(head, rest)``: the bytes up to the blank line and those after; None at EOF."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [a, b]
    while True:
        readable, _, _ = select.select(sockets, [], [], 5.0)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        client: socket.socket = self.request
        buffered = b""
        while True:
            parsed = _read_head(client, buffered)
            if parsed is None:
                return
            head, buffered = parsed
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _version = request_line.split(" ", 2)
            self.server.seen.append((method, target))
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                with socket.create_connection((host, int(port)), timeout=5) as upstream:
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    if buffered:
                        upstream.sendall(buffered)
                    _relay(client, upstream)
                return
            length = 0
            headers = []
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
                if name.strip().lower() not in ("connection", "proxy-connection"):
                    headers.append(line)
            while len(buffered) < length:
                buffered += client.recv(65536)
            body, buffered = buffered[:length], buffered[length:]
            url = urlsplit(target)
            path = url.path + (f"?{url.query}" if url.query else "")
            upstream_head = "\r\n".join(
                [f"{method} {path} HTTP/1.1", *headers, "Connection: close", "", ""]
            )
            assert url.hostname is not None
            assert url.port is not None
            with socket.create_connection((url.hostname, url.port), timeout=5) as upstream:
                upstream.sendall(upstream_head.encode("latin-1") + body)
                response = b""
                while chunk := upstream.recv(65536):
                    response += chunk
            client.sendall(response)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class LoopbackProxy:
    """``with LoopbackProxy() as proxy: ... proxy.url ... proxy.seen``"""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def seen(self) -> list[tuple[str, str]]:
        return self._server.seen

    def __enter__(self) -> LoopbackProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
