"""The httpx clients cfinval creates for itself (when no ``http_client=`` is given).

httpx builds a verified TLS context, loading a CA bundle, whenever it creates a transport: about
15 ms and 2 MiB of a cold start, parsing some 140 roots to use one. Two things avoid that here:

- for an ``http://`` endpoint (a fake, a local emulator, a sidecar) the client gets a plain-HTTP
  transport that holds no TLS context at all;
- for ``https://`` the client gets :func:`tls_context`: the same trust anchors httpx (and
  botocore) would use, handed to OpenSSL as a hashed directory (:mod:`.trust`) so that it reads
  only the roots a handshake asks for. The context is built when the first request creates the
  client.

When a proxy variable is set in the environment the default transport is kept whatever the
scheme: httpx honours ``*_PROXY`` variables only for clients created without a transport.

The asynchronous client also works around a cost in httpcore 1.0 (encode/httpcore#1103), see
:func:`_note_missing_sniffio`.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import httpx

from .._errors import ConfigError

if TYPE_CHECKING:
    import ssl

__all__ = ["new_async_client", "new_sync_client", "tls_context"]


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """The verified TLS context for ``https://`` requests, trusting what httpx would trust.

    ``ca_bundle`` (``AWS_CA_BUNDLE`` or the profile's ``ca_bundle``: a PEM file or a hashed
    directory) if given, else ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` as httpx reads them, else
    certifi's bundle (which botocore uses too when certifi is installed). Hostname checks and
    certificate verification are on, as ``ssl.create_default_context`` sets them. A bundle file
    becomes a hashed directory in a private cache (:func:`.trust.hashed_directory`) so that
    OpenSSL loads roots on demand; when that cannot be done, the file is loaded as before.

    Raises :class:`ConfigError` when the bundle cannot be loaded.
    """
    import ssl

    directory: str | None = None
    if ca_bundle is not None:
        name, bundle = "the CA bundle", ca_bundle
        if os.path.isdir(bundle):
            directory = bundle
    elif os.environ.get("SSL_CERT_FILE"):
        name, bundle = "SSL_CERT_FILE", os.environ["SSL_CERT_FILE"]
    elif os.environ.get("SSL_CERT_DIR"):
        name, bundle = "SSL_CERT_DIR", os.environ["SSL_CERT_DIR"]
        directory = bundle
    else:
        import certifi

        name, bundle = "certifi's CA bundle", certifi.where()
    try:
        if directory is None:
            from .trust import hashed_directory

            directory = hashed_directory(bundle)
        if directory is not None:
            return ssl.create_default_context(capath=directory)
        return ssl.create_default_context(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load {name} {bundle}: {exc}") from None


#: httpx keeps 20 idle connections of its 100: with more requests in flight than that, every
#: request past the twentieth opens (and for https, handshakes) a connection and closes it
#: afterwards. Everything here goes to one endpoint, so keep as many as may be open; idle ones
#: still close after httpx's five seconds.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


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

    def __init__(self, limits: httpx.Limits = _LIMITS) -> None:
        super().__init__(verify=_NO_TLS_CONTEXT, limits=limits)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return super().handle_request(request)


class _AsyncPlainHTTPTransport(httpx.AsyncHTTPTransport):
    """The asynchronous twin of :class:`_PlainHTTPTransport`."""

    def __init__(self, limits: httpx.Limits = _LIMITS) -> None:
        super().__init__(verify=_NO_TLS_CONTEXT, limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return await super().handle_async_request(request)


def _with_transport(scheme: str, options: dict[str, Any], plain: Any) -> dict[str, Any]:
    options = {"limits": _LIMITS, **options}
    if _plain(scheme, options):
        return {**options, "transport": plain(options["limits"])}
    if "verify" not in options:
        return {**options, "verify": tls_context()}
    return options


def new_sync_client(scheme: str, options: dict[str, Any]) -> httpx.Client:
    """``httpx.Client(**options)`` for requests to an endpoint with this ``scheme``: a plain
    transport for ``http://``, else :func:`tls_context` unless ``options`` has ``verify``."""
    return httpx.Client(**_with_transport(scheme, options, _PlainHTTPTransport))


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
    return httpx.AsyncClient(**_with_transport(scheme, options, _AsyncPlainHTTPTransport))
