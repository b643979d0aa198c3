"""Local stand-ins for the AWS endpoints the credential chain talks to, served over real HTTP on
127.0.0.1 by the tests themselves: the EC2 instance metadata service, a container credentials
endpoint, and STS (whose SigV4 signatures are checked with botocore, an independent signer).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import cfinval
from cfinval.testing import FakeCloudFront


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK of the headers (40 ms on Linux) on every reused connection.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Req(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.lock:
            self.server.stub.requests.append(req)
        status, headers, payload = self.server.stub.handler(req)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    #: socketserver listens with a backlog of 5: a burst of concurrent connections beyond it
    #: waits for the client's SYN retransmission (1 s, then 3 s).
    request_queue_size = 128

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class Stub:
    """An HTTP server on 127.0.0.1 answering with ``handler(request)``; records requests."""

    def __init__(self, handler: Callable[[Req], Answer], *, tls: Any = None) -> None:
        self.handler = handler
        self.requests: list[Req] = []
        self._tls = tls  # an ssl.SSLContext for a server side HTTPS endpoint
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Stub:
        self._server = _Server(self)
        if self._tls is not None:
            self._server.socket = self._tls.wrap_socket(self._server.socket, server_side=True)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(self._server,), daemon=True)
        self._thread.start()
        return self

    def _serve(self, server: _Server) -> None:
        # Not serve_forever(): its shutdown() waits out a poll interval, every time.
        while not self._stopping.is_set():
            server.handle_request()  # blocks until a connection comes

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._stopping.set()
        with contextlib.suppress(OSError):  # wake the accept() up
            socket.create_connection(self._server.server_address[:2], timeout=1).close()
        self._thread.join()
        self._server.server_close()


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_an_hour() -> str:
    return iso(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))


def creds_json(creds: cfinval.Credentials, expiration: str | None = None) -> dict[str, str]:
    return {
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "Token": creds.session_token or "",
        "Expiration": expiration or in_an_hour(),
    }


# --- the instance metadata service ---------------------------------------------------------------

IMDS_TOKEN = "imds-session-token-AQAEAPHn0"


class FakeIMDS:
    """IMDS answering like EC2: ``token_status`` for the token PUT (200 gives a token);
    ``v1`` allows GETs without a token."""

    def __init__(
        self,
        creds: cfinval.Credentials,
        *,
        role: str = "cfinval-test-role",
        token_status: int = 200,
        v1: bool = False,
        expiration: Callable[[], str] = in_an_hour,
    ) -> None:
        self.creds = creds
        self.role = role
        self.token_status = token_status
        self.v1 = v1
        self.expiration = expiration

    def __call__(self, req: Req) -> Answer:
        if req.path == "/latest/api/token":
            if req.method != "PUT":
                return 405, {}, b""
            if self.token_status != 200:
                return self.token_status, {}, b""
            if req.headers.get("x-aws-ec2-metadata-token-ttl-seconds") != "21600":
                return 400, {}, b"missing or bad TTL"
            return 200, {}, IMDS_TOKEN.encode()
        token = req.headers.get("x-aws-ec2-metadata-token")
        if token != IMDS_TOKEN and not (token is None and self.v1):
            return 401, {}, b""
        base = "/latest/meta-data/iam/security-credentials/"
        if req.path == base:
            return 200, {}, self.role.encode()
        if req.path == base + self.role:
            body = creds_json(self.creds, self.expiration())
            body |= {"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": iso(dt.datetime.now())}
            return 200, {"Content-Type": "text/plain"}, __import__("json").dumps(body).encode()
        return 404, {}, b""


@contextmanager
def closed_port() -> Iterator[str]:
    """A loopback URL where nothing listens (connections are refused at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    yield f"http://127.0.0.1:{port}/"


@contextmanager
def black_hole() -> Iterator[str]:
    """A loopback URL that accepts connections and never answers (a hung metadata service)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


# --- STS ----------------------------------------------------------------------------------------

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def botocore_signature(req: Req, url: str, creds: cfinval.Credentials, region: str) -> str:
    """Recompute a request's SigV4 signature with botocore (the oracle), over the headers the
    request says it signed."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    auth = req.headers["authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    scope = auth.split("Credential=")[1].split(",")[0].split("/")
    service = scope[3]
    aws_req = AWSRequest(
        method=req.method,
        url=url + req.path,
        data=req.body,
        headers={name: req.headers[name] for name in signed},
    )
    aws_req.context["timestamp"] = req.headers["x-amz-date"]
    signer = SigV4Auth(
        BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token),
        service,
        region,
    )
    canonical = signer.canonical_request(aws_req)
    return str(signer.signature(signer.string_to_sign(aws_req, canonical), aws_req))


class FakeSTS:
    """STS ``AssumeRole`` (signature checked with botocore against ``callers``) and
    ``AssumeRoleWithWebIdentity`` (unsigned; the token must be in ``tokens``)."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.callers: dict[str, cfinval.Credentials] = {}
        self.roles: dict[str, cfinval.Credentials] = {}
        self.tokens: set[str] = set()
        self.expired_keys: set[str] = set()
        self.fail_next: list[tuple[int, str]] = []
        self.url = ""
        self.calls: list[dict[str, str]] = []

    def role(self, arn: str, creds: cfinval.Credentials) -> None:
        self.roles[arn] = creds

    def __call__(self, req: Req) -> Answer:
        if req.method != "POST" or req.path != "/":
            return 404, {}, b""
        form = dict(parse_qsl(req.body.decode()))
        self.calls.append(form)
        action = form.get("Action", "")
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            return self._error(status, code, f"injected {code}")
        if form.get("Version") != "2011-06-15":
            return self._error(400, "InvalidAction", "bad version")
        if action == "AssumeRole":
            problem = self._check_signature(req)
            if problem is not None:
                return problem
        elif action == "AssumeRoleWithWebIdentity":
            if "authorization" in req.headers:
                return self._error(400, "InvalidRequest", "must not be signed")
            if form.get("WebIdentityToken") not in self.tokens:
                return self._error(400, "InvalidIdentityTokenX", "token not accepted")
        else:
            return self._error(400, "InvalidAction", action)
        creds = self.roles.get(form.get("RoleArn", ""))
        if creds is None:
            return self._error(
                403, "AccessDenied", f"not authorized to assume {form.get('RoleArn')}"
            )
        if not form.get("RoleSessionName"):
            return self._error(400, "ValidationError", "RoleSessionName is required")
        body = (
            f'<{action}Response xmlns="{STS_NS}"><{action}Result><Credentials>'
            f"<AccessKeyId>{creds.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{escape(creds.secret_access_key)}</SecretAccessKey>"
            f"<SessionToken>{escape(creds.session_token or '')}</SessionToken>"
            f"<Expiration>{in_an_hour()}</Expiration></Credentials>"
            f"<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId>"
            f"<Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>"
            f"</{action}Result><ResponseMetadata><RequestId>req-1</RequestId>"
            f"</ResponseMetadata></{action}Response>"
        )
        return 200, {"Content-Type": "text/xml"}, body.encode()

    def _check_signature(self, req: Req) -> Answer | None:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 Credential="):
            return self._error(403, "MissingAuthenticationToken", "not signed")
        key_id = auth.split("Credential=")[1].split("/")[0]
        caller = self.callers.get(key_id)
        if caller is None:
            return self._error(403, "InvalidClientTokenId", "unknown key")
        if key_id in self.expired_keys:
            return self._error(
                403, "ExpiredToken", "The security token included in the request is expired"
            )
        if (
            caller.session_token is not None
            and req.headers.get("x-amz-security-token") != caller.session_token
        ):
            return self._error(403, "InvalidClientTokenId", "bad token")
        expected = botocore_signature(req, self.url, caller, self.region)
        if auth.split("Signature=")[1] != expected:
            return self._error(403, "SignatureDoesNotMatch", "signature mismatch")
        return None

    @staticmethod
    def _error(status: int, code: str, message: str) -> Answer:
        body = (
            f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>e-1</RequestId>"
            "</ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml"}, body.encode()


@contextmanager
def sts_server(region: str = "us-east-1") -> Iterator[tuple[FakeSTS, Stub]]:
    sts = FakeSTS(region)
    with Stub(sts) as stub:
        sts.url = stub.url
        yield sts, stub


# --- CloudFront, through the package's own fake --------------------------------------------------


@contextmanager
def cloudfront(
    *accepted: cfinval.Credentials, **kwargs: Any
) -> Iterator[tuple[FakeCloudFront, str]]:
    fake = FakeCloudFront(credentials=accepted, **kwargs)
    fake.add_tenant("dt_1")
    fake.add_invalidation("dt_1", "I1", status="Completed")
    with fake.serve() as server:
        yield fake, server.endpoint_url


def key_id_of(fake: FakeCloudFront, index: int = -1) -> str:
    auth = fake.requests[index].headers["authorization"]
    return auth.split("Credential=")[1].split("/")[0]


def list_once(kind: str, **client_kwargs: Any) -> cfinval.InvalidationList:
    """One listing of ``dt_1`` with ``Client`` (``kind="sync"``) or ``AsyncClient``."""
    if kind == "sync":
        with cfinval.Client(**client_kwargs) as client:
            return client.list_invalidations_for_distribution_tenant("dt_1")

    async def run() -> cfinval.InvalidationList:
        async with cfinval.AsyncClient(**client_kwargs) as client:
            return await client.list_invalidations_for_distribution_tenant("dt_1")

    return asyncio.run(run())


_LOADER: Any = None


def boto3_session(profile: str | None = None) -> Any:
    """A fresh boto3 session (it reads the environment and files now) that shares one botocore
    data loader with the others, so the oracle does not re-read its JSON models every time."""
    global _LOADER
    import boto3
    import botocore.loaders
    import botocore.session

    if _LOADER is None:
        _LOADER = botocore.loaders.create_loader()
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, profile_name=profile)


def elapsed(func: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    try:
        return func(), time.monotonic() - start
    except BaseException as exc:
        return exc, time.monotonic() - start
