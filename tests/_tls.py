"""TLS on loopback for the tests: a test CA made with ``openssl``, the fake CloudFront served
over HTTPS with a certificate it signed, and an HTTP CONNECT proxy."""

from __future__ import annotations

import select
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest

from cfinval.testing import FakeCloudFront


@dataclass
class Pki:
    ca: Path  # the test CA's certificate
    cert: Path  # 127.0.0.1 and localhost, signed by the CA
    key: Path
    wrong_name: Path  # a certificate for another host, signed by the CA (same key)
    bundle: Path  # certifi's bundle with the test CA appended

    def openssl(self, *args: str, cwd: Path | None = None) -> str:
        return openssl(*args, cwd=cwd or self.ca.parent)


def openssl(*args: str, cwd: Path) -> str:
    command = shutil.which("openssl")
    if command is None:
        pytest.skip("the openssl command is needed to make test certificates")
    done = subprocess.run([command, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def make_pki(where: Path) -> Pki:
    where.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", "ca.key",
            "-out", "ca.pem", "-subj", "/CN=cfinval test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=where)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=localhost", cwd=where)  # fmt: skip
    for name, hosts in (("server", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:other.test")):
        (where / f"{name}.ext").write_text(
            f"subjectAltName={hosts}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        )
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{name}.pem",
                "-extfile", f"{name}.ext", cwd=where)  # fmt: skip
    bundle = where / "bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + (where / "ca.pem").read_bytes())
    return Pki(where / "ca.pem", where / "server.pem", where / "server.key",
               where / "wrong.pem", bundle)  # fmt: skip


@contextmanager
def https_fake(fake: FakeCloudFront, pki: Pki, cert: Path | None = None) -> Iterator[str]:
    """``fake`` served over HTTPS on 127.0.0.1; yields its ``https://`` URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert or pki.cert, pki.key)
    with fake.serve() as server:
        listening = server._server  # wrapped before any client knows the address
        listening.socket = context.wrap_socket(listening.socket, server_side=True)
        yield server.endpoint_url.replace("http://", "https://", 1)


class ConnectProxy:
    """An HTTP proxy on 127.0.0.1 that only tunnels (``CONNECT``); records the targets."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> ConnectProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._listener.close()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._spawn(self._tunnel, client)

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(target)
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._pipe(client, upstream)

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stop.is_set():
            readable, _, _ = select.select(list(peers), [], [], 0.05)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                    if data:
                        peers[sock].sendall(data)
                except OSError:  # a client giving up on a certificate resets the tunnel
                    data = b""
                if not data:
                    return
