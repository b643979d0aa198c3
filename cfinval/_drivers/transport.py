"""The httpx clients cfinval creates for itself (when no ``http_client=`` is given).

httpx builds a verified TLS context, loading a CA bundle, whenever it creates a transport: about
20 ms and 2 MiB of a cold start, even when every request goes to an ``http://`` endpoint (a fake,
a local emulator, a sidecar) and no TLS context is ever used. For such an endpoint the client gets
a plain-HTTP transport instead; an ``https://`` endpoint keeps httpx's own transport, so its
TLS context is built, as before, when the first request creates the client. So does a client
configured with a CA bundle (``AWS_CA_BUNDLE``, ``ca_bundle``).

When a proxy variable is set in the environment the default transport is kept whatever the
scheme: httpx honours ``*_PROXY`` variables only for clients created without a transport.

The asynchronous client also works around a cost in httpcore 1.0 (encode/httpcore#1103), see
:func:`_note_missing_sniffio`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx

__all__ = ["new_async_client", "new_sync_client"]


def _env_may_set_proxies() -> bool:
    # A superset of what urllib's getproxies_environment() (which httpx uses) would pick up.
    return any(value and name.lower().endswith("_proxy") for name, value in os.environ.items())


def _plain(scheme: str, options: dict[str, Any]) -> bool:
    # A configured CA bundle (``verify=``) keeps httpx's transport too, so that a bad bundle is
    # reported the same way whatever the endpoint.
    return scheme == "http" and "verify" not in options and not _env_may_set_proxies()


def _refuse_tls(request: httpx.Request) -> None:
    if request.url.scheme != "http":
        raise httpx.UnsupportedProtocol(
            f"this client serves http:// only; got a {request.url.scheme}:// URL"
        )


# ``verify=None`` gives httpcore no TLS context at all (httpx passes it through); httpcore would
# build its own default, verified one if a TLS connection were ever needed. Even an unverified
# context costs ~0.5 MiB and ~2 ms to create, and these transports never need one: anything but
# an ``http://`` request is refused before it is sent. (httpx < 0.28 makes an unverified context
# of ``None``, equally unused.)
_NO_TLS_CONTEXT: Any = None


class _PlainHTTPTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` for ``http://`` requests only, built without a TLS context."""

    def __init__(self) -> None:
        super().__init__(verify=_NO_TLS_CONTEXT)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return super().handle_request(request)


class _AsyncPlainHTTPTransport(httpx.AsyncHTTPTransport):
    """The asynchronous twin of :class:`_PlainHTTPTransport`."""

    def __init__(self) -> None:
        super().__init__(verify=_NO_TLS_CONTEXT)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return await super().handle_async_request(request)


def new_sync_client(scheme: str, options: dict[str, Any]) -> httpx.Client:
    """``httpx.Client(**options)`` for requests to an endpoint with this ``scheme``."""
    if _plain(scheme, options):
        options = {**options, "transport": _PlainHTTPTransport()}
    from .deadline_backend import install_deadlines

    return install_deadlines(httpx.Client(**options))


def _note_missing_sniffio() -> None:
    """Make ``import sniffio`` fail at once when sniffio is not installed.

    httpcore's async connection pool runs ``import sniffio`` for every lock and event it sets up,
    about ten times per request, and falls back to asyncio when that fails; anyio no longer
    installs sniffio, and Python does not remember a failed import, so each attempt searches
    ``sys.path`` again: about a fifth of the client's CPU per request under load. A ``None`` in
    ``sys.modules`` is Python's way to record "not importable": the import raises
    ``ModuleNotFoundError`` as before, without the search. Nothing changes if sniffio is
    installed, or once httpcore caches the lookup itself.
    """
    import importlib.util

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def new_async_client(scheme: str, options: dict[str, Any]) -> httpx.AsyncClient:
    """``httpx.AsyncClient(**options)`` for requests to an endpoint with this ``scheme``."""
    _note_missing_sniffio()
    if _plain(scheme, options):
        options = {**options, "transport": _AsyncPlainHTTPTransport()}
    return httpx.AsyncClient(**options)
