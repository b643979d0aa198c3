"""``cfinval fake-server``: the embedded fake CloudFront as a standalone HTTP server.

``--fault SPEC`` (repeatable) adds a fault rule in :meth:`cfinval.testing.FaultRule.parse`'s
form, so any client can be tested against throttling, 5xx, resets, stalls or a skewed clock.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from .._models import Credentials
from .errors import Failure, UsageError

if TYPE_CHECKING:
    from ..testing import FakeCloudFront, FakeServer

__all__ = ["run_fake_server"]


def _build_fake(args: argparse.Namespace) -> tuple[FakeCloudFront, list[str], Credentials]:
    from ..testing import FAKE_CREDENTIALS, FakeCloudFront
    from ..testing._seed import SeedError, load_seed

    if (args.access_key is None) != (args.secret_key is None):
        raise UsageError("give both --access-key and --secret-key, or neither")
    credentials = (
        FAKE_CREDENTIALS
        if args.access_key is None
        else Credentials(args.access_key, args.secret_key)
    )
    if args.complete_after_gets is not None and args.complete_after_gets < 0:
        raise UsageError("--complete-after-gets must be 0 or more")
    fake = FakeCloudFront(
        credentials=credentials,
        region=args.region,
        verify_signatures=args.verify_signatures,
        complete_after=args.complete_after,
        complete_after_gets=args.complete_after_gets,
        max_paths_in_progress=args.max_paths_in_progress,
        max_wildcards_in_progress=args.max_wildcards_in_progress,
    )
    for spec in args.fault:
        try:
            fake.add_fault(spec)
        except ValueError as exc:
            raise UsageError(f"--fault: {exc}") from None
    if args.seed_file is not None:
        try:
            with open(args.seed_file, encoding="utf-8") as handle:
                data = json.load(handle)
            tenant_ids = load_seed(fake, data)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, SeedError) as exc:
            raise UsageError(f"--seed-file {args.seed_file}: {exc}") from None
        except RecursionError:
            raise UsageError(f"--seed-file {args.seed_file}: JSON nested too deeply") from None
    else:
        count = 3 if args.tenants is None else args.tenants
        if count < 0 or args.invalidations_per_tenant < 0:
            raise UsageError("--tenants and --invalidations-per-tenant must be 0 or more")
        if args.distribution_id is not None and not args.distribution_id:
            raise UsageError("--distribution-id must not be empty")
        tenant_ids = fake.seed_tenants(
            count, invalidations=args.invalidations_per_tenant, distribution_id=args.distribution_id
        )
    return fake, tenant_ids, credentials


def _instructions(
    url: str,
    tenant_ids: list[str],
    credentials: Credentials,
    args: argparse.Namespace,
    fake: FakeCloudFront,
) -> str:
    shown = ", ".join(tenant_ids[:5]) + (
        f", ... ({len(tenant_ids) - 5} more)" if len(tenant_ids) > 5 else ""
    )
    example = shlex.quote(tenant_ids[0]) if tenant_ids else "TENANT_ID"
    scope = f"region {args.region}" if args.region is not None else "any region"
    check = f"on ({scope})" if args.verify_signatures else "off"
    distributions = fake.distributions()
    gets = args.complete_after_gets
    schedule = f"after {args.complete_after:g} s" + (f" or {gets} Gets" if gets is not None else "")
    return "\n".join(
        [
            f"cfinval fake CloudFront listening on {url}",
            f"  tenants: {len(tenant_ids)}{': ' + shown if tenant_ids else ''}",
            f"  SigV4 verification: {check}",
            f"  distributions: {', '.join(distributions) or '-'}",
            f"  created invalidations complete {schedule}; in flight per distribution: "
            f"{args.max_paths_in_progress} paths, {args.max_wildcards_in_progress} wildcards",
            *(
                [
                    f"  TLS: {args.ssl_certfile}; clients must trust its CA "
                    "(--ca-bundle, AWS_CA_BUNDLE)"
                ]
                if args.ssl_certfile is not None
                else []
            ),
            *(f"  fault: {spec}" for spec in args.fault),
            "Credentials it accepts (test values, not secrets):",
            f"  export AWS_ACCESS_KEY_ID={shlex.quote(credentials.access_key_id)}",
            f"  export AWS_SECRET_ACCESS_KEY={shlex.quote(credentials.secret_access_key)}",
            "Try:",
            f"  cfinval list-invalidations-for-distribution-tenant --endpoint-url {url} "
            f"--id {example}",
            f"  aws cloudfront list-invalidations-for-distribution-tenant --endpoint-url {url} "
            f"--region {args.region or 'us-east-1'} --id {example}",
            f"  aws cloudfront create-invalidation-for-distribution-tenant --endpoint-url {url} "
            f"--region {args.region or 'us-east-1'} --id {example} --invalidation-batch "
            """'{"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "try-1"}'""",
            "Stop with Ctrl+C (or SIGTERM).",
            "",
        ]
    )


def _server(fake: FakeCloudFront, args: argparse.Namespace) -> FakeServer:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0 to 65535 (0: any free port), got {args.port}")
    if args.ssl_keyfile is not None and args.ssl_certfile is None:
        raise UsageError("--ssl-keyfile needs --ssl-certfile")
    try:
        return fake.serve(
            args.host, args.port, ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile
        )
    except OSError as exc:  # ssl.SSLError too: no such file, not PEM, key does not match
        tls = _tls_problem(args.ssl_certfile, args.ssl_keyfile, exc)
        if tls is not None:
            raise UsageError(tls) from None
        reason = exc.strerror or getattr(exc, "reason", None) or str(exc)
        files = " / ".join(
            f"{flag} {path}"
            for flag, path in (
                ("--ssl-certfile", args.ssl_certfile),
                ("--ssl-keyfile", args.ssl_keyfile),
            )
            if path is not None
        )
        raise UsageError(f"cannot load {files}: {reason}") from None


def _pem(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read(1 << 20)
    except OSError:
        return None


def _tls_problem(certfile: str | None, keyfile: str | None, exc: OSError) -> str | None:
    """What is wrong with the certificate and key files, in words (OpenSSL says "PEM lib"),
    or ``None`` to report ``exc`` as it is."""
    if certfile is None:
        return None
    cert = _pem(certfile)
    if cert is None:
        return None  # cannot be read: the error's own text says why
    if "-----BEGIN CERTIFICATE-----" not in cert:
        return f"--ssl-certfile {certfile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    if keyfile is None and "PRIVATE KEY-----" not in cert:
        return (
            f"--ssl-certfile {certfile} holds no private key: give the key file with "
            "--ssl-keyfile FILE (or append the key to the certificate file)"
        )
    key = cert if keyfile is None else _pem(keyfile)
    if key is None:
        return None
    if "ENCRYPTED" in key:
        return f"the private key in {keyfile or certfile} is encrypted: give an unencrypted key"
    if "PRIVATE KEY-----" not in key:
        return f"--ssl-keyfile {keyfile} holds no PEM private key (-----BEGIN PRIVATE KEY-----)"
    reason = str(getattr(exc, "reason", None) or exc)
    if "KEY_VALUES_MISMATCH" in reason or "key values mismatch" in reason:
        return (
            f"the private key in {keyfile or certfile} does not belong to the certificate "
            f"in {certfile}"
        )
    return None


def _warn_if_exposed(host: str) -> None:
    """A fake reachable from other machines serves anyone who can reach it (its credentials
    are public test values): say so, once, on standard error."""
    from ..testing._server import is_loopback

    if not is_loopback(host):
        sys.stderr.write(
            f"warning: --host {host} is not a loopback address: other machines can reach this "
            "fake and use it with its test credentials; use --host 127.0.0.1 unless that is "
            "what you want\n"
        )
        sys.stderr.flush()


def run_fake_server(args: argparse.Namespace, out: TextIO) -> int:
    fake, tenant_ids, credentials = _build_fake(args)
    server = _server(fake, args)
    if args.write_ids is not None:
        try:
            with open(args.write_ids, "w", encoding="utf-8") as handle:
                handle.write("".join(f"{tenant_id}\n" for tenant_id in tenant_ids))
        except OSError as exc:
            raise Failure(f"--write-ids {args.write_ids}: {exc}") from None
    try:
        server.start()
    except OSError as exc:
        raise Failure(f"cannot listen on {args.host}:{args.port}: {exc}") from None
    _warn_if_exposed(args.host)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        out.write(_instructions(server.endpoint_url, tenant_ids, credentials, args, fake))
        out.flush()
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out.write("stopped\n")
    out.flush()
    return 0
