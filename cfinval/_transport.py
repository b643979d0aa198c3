"""The httpx clients cfinval creates for itself (when no ``http_client=`` is given).

httpx builds a verified TLS context, loading a CA bundle, whenever it creates a transport: about
20 ms and 2 MiB of a cold start, even when every request goes to an ``http://`` endpoint (a fake,
a local emulator, a sidecar) and no TLS context is ever used. For such an endpoint the client gets
a plain-HTTP transport instead; an ``https://`` endpoint keeps httpx's own transport, so its
TLS context is built, as before, when the first request creates the client.

When a proxy variable is set in the environment the default transport is kept whatever the
scheme: httpx honours ``*_PROXY`` variables only for clients created without a transport.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

__all__ = ["new_async_client", "new_sync_client"]


def _env_may_set_proxies() -> bool:
    # A superset of what urllib's getproxies_environment() (which httpx uses) would pick up.
    return any(value and name.lower().endswith("_proxy") for name, value in os.environ.items())


def _plain(scheme: str) -> bool:
    return scheme == "http" and not _env_may_set_proxies()


def _refuse_tls(request: httpx.Request) -> None:
    if request.url.scheme != "http":
        raise httpx.UnsupportedProtocol(
            f"this client serves http:// only; got a {request.url.scheme}:// URL"
        )


class _PlainHTTPTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` for ``http://`` requests only.

    httpx wants a TLS context for every transport; an unverified one loads no CA bundle, and it is
    never used, because anything but an ``http://`` request is refused before it is sent.
    """

    def __init__(self) -> None:
        super().__init__(verify=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return super().handle_request(request)


class _AsyncPlainHTTPTransport(httpx.AsyncHTTPTransport):
    """The asynchronous twin of :class:`_PlainHTTPTransport`."""

    def __init__(self) -> None:
        super().__init__(verify=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return await super().handle_async_request(request)


def new_sync_client(scheme: str, timeout: httpx.Timeout) -> httpx.Client:
    """An ``httpx.Client`` for requests to an endpoint with this ``scheme``."""
    kwargs: dict[str, Any] = {"transport": _PlainHTTPTransport()} if _plain(scheme) else {}
    return httpx.Client(timeout=timeout, **kwargs)


def new_async_client(scheme: str, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for requests to an endpoint with this ``scheme``."""
    kwargs: dict[str, Any] = {"transport": _AsyncPlainHTTPTransport()} if _plain(scheme) else {}
    return httpx.AsyncClient(timeout=timeout, **kwargs)
