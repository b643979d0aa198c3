"""The httpx clients cfinval creates for itself (when no ``http_client=`` is given).

Every request goes through a routing transport that picks, per origin (scheme, host, port),
one of a few transports built when first needed:

* a plain ``http://`` request with no proxy: a transport with no TLS context at all. httpx
  builds a verified TLS context, loading a CA bundle, whenever it creates a transport: about
  20 ms and 2 MiB of a cold start, for nothing when every request goes to an ``http://``
  endpoint (a fake, a local emulator, a sidecar). So a CA bundle (``AWS_CA_BUNDLE``,
  ``ca_bundle``) is loaded only once a request needs TLS, as botocore does: a bundle that
  cannot be loaded does not stop an ``http://`` endpoint from working;
* an ``https://`` request: httpx's transport, verified with the configured CA bundle (or
  httpx's default certificates), the TLS context shared by every route that needs one. A
  bundle file reaches OpenSSL as a hashed directory (:mod:`.trust`), so that a handshake reads
  the one root it needs instead of all ~140 being parsed when the context is made (~15 ms and
  ~2 MiB of a cold start); its transports retry a connection once, with the bundle itself
  loaded, if that directory is deleted under them;
* a request that a proxy serves (:mod:`.proxies`: ``HTTP(S)_PROXY`` and ``NO_PROXY``, read as
  botocore reads them): httpx's transport through that proxy.

What a request is for (``HttpRequest.purpose``, carried in the request's extensions) decides
its trust and proxy, as botocore decides them for the clients and fetchers it makes:

* ``service`` (CloudFront): the client's own settings, which the CLI's ``--ca-bundle`` and
  ``--no-verify-ssl`` replace (the AWS CLI passes them to the service client only);
* ``identity`` (STS, the IAM Identity Center portal and its OIDC service, AWS sign-in): the
  configured CA bundle (``AWS_CA_BUNDLE``, ``ca_bundle``) or the default certificates, and
  the environment's proxies, never the CLI's flags;
* ``metadata`` (the EC2 instance metadata service): the default certificates, and the
  environment's proxies (botocore's ``IMDSFetcher`` honours them);
* ``container`` (ECS/EKS container credentials): the default certificates and **no proxy**:
  botocore's ``ContainerMetadataFetcher`` connects directly, so a proxy never sees the
  container's authorization token nor answers with credentials.

An unusable proxy or CA bundle is a :class:`~cfinval.ConfigError` raised before anything is
sent; for the endpoint itself, when the client is built (the first call).

Every transport keeps as many idle connections as it may open (see :data:`_LIMITS`).

The asynchronous client also works around a cost in httpcore 1.0 (encode/httpcore#1103), see
:func:`_note_missing_sniffio`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from .._core.locks import ForkSafeLock
from .._errors import ConfigError
from .proxies import describe, proxy_for

if TYPE_CHECKING:
    import ssl

    from .._config import ClientConfig

__all__ = [
    "PURPOSE",
    "default_tls_context",
    "http_options",
    "load_ca_bundle",
    "new_async_client",
    "new_sync_client",
]

#: The warning the AWS CLI prints (through urllib3) for each host reached with --no-verify-ssl.
log = logging.getLogger("cfinval")

UNVERIFIED_WARNING = (
    "Unverified HTTPS request is being made to host '{host}'. Adding certificate verification "
    "is strongly advised. See: https://urllib3.readthedocs.io/en/latest/advanced-usage.html"
    "#tls-warnings"
)


#: The request extension that says what a request is for (see the module docstring).
PURPOSE = "cfinval.purpose"


def http_options(timeout: httpx.Timeout, config: ClientConfig) -> dict[str, Any]:
    """The options of the HTTP client a ``Client``/``AsyncClient`` with ``config`` creates."""
    endpoint = config.endpoint
    return {
        "timeout": timeout,
        "endpoint": f"{endpoint.scheme}://{endpoint.netloc}",
        "ca_bundle": config.ca_bundle,
        "ca_bundle_source": config.ca_bundle_source,
    }


def load_ca_bundle(path: str, source: str) -> ssl.SSLContext:
    """A verifying TLS context trusting the certificates in ``path`` (a PEM file, or a
    directory of hashed certificates as OpenSSL's ``capath``); :class:`ConfigError` naming
    ``source`` when it cannot be loaded."""
    import ssl

    from .trust import verifying_context

    where = f"the CA bundle {path} (from {source})"
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return verifying_context(path)  # through a cached hashed directory where that is safe
    except FileNotFoundError:
        raise ConfigError(f"{where} does not exist") from None
    except ssl.SSLError as exc:
        reason = exc.reason or exc.strerror or str(exc)
        raise ConfigError(f"{where} holds no usable PEM certificates ({reason})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {where}: {exc.strerror or exc}") from None


def default_tls_context() -> ssl.SSLContext:
    """What httpx trusts by default (``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's
    bundle, which botocore uses too when certifi is installed), with a bundle file read through
    a hashed directory as :func:`load_ca_bundle` reads one."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return load_ca_bundle(os.environ["SSL_CERT_FILE"], "SSL_CERT_FILE")
    if os.environ.get("SSL_CERT_DIR"):  # as httpx takes it: whatever is (or is not) there
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return load_ca_bundle(certifi.where(), "certifi")


class _Tls:
    """The TLS settings of one HTTP client: what ``verify`` its TLS transports get."""

    def __init__(
        self,
        ca_bundle: str | None,
        source: str,
        verify: bool,
        on_unverified: Callable[[str], None] | None,
    ) -> None:
        self._ca_bundle = ca_bundle
        self._source = source
        self._verify = verify
        self._on_unverified = on_unverified
        self._value: ssl.SSLContext | bool | None = None
        self._warned: set[str] = set()

    def verify(self) -> ssl.SSLContext | bool:
        """``False`` (no verification) or a verifying context (with the CA bundle, else
        httpx's default certificates), built on the first call and shared by every route."""
        if self._value is None:
            if not self._verify:
                self._value = False
            elif self._ca_bundle is not None:
                self._value = load_ca_bundle(self._ca_bundle, self._source)
            else:  # httpx's default: certifi, or SSL_CERT_FILE / SSL_CERT_DIR
                self._value = default_tls_context()
        return self._value

    def reached(self, host: str) -> None:
        """An ``https://`` origin on ``host`` is about to be used."""
        if not self._verify and self._on_unverified is not None and host not in self._warned:
            self._warned.add(host)
            self._on_unverified(UNVERIFIED_WARNING.format(host=host))


# ``verify=None`` gives httpcore no TLS context at all (httpx passes it through); httpcore would
# build its own default, verified one if a TLS connection were ever needed. Even an unverified
# context costs ~0.5 MiB and ~2 ms to create, and the transports built with it never need one:
# the plain ones refuse anything but ``http://``, the proxied ones serve only ``http://``
# requests through ``http://`` proxies. (httpx < 0.28 makes an unverified context of ``None``,
# equally unused.)
_NO_TLS_CONTEXT: Any = None

#: httpx keeps 20 idle connections of its 100, and httpcore 1.0 closes a connection that goes
#: idle whenever the pool holds more than 20 (it counts all of them, idle or not): with more
#: than 20 requests in flight nearly every request opened, and for https handshook, a
#: connection of its own. Everything here goes to one endpoint (or its proxy), so keep as many
#: as may be open; idle ones still close after httpx's five seconds.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)

TransportT = TypeVar("TransportT")


class _Routes(Generic[TransportT]):
    """Which transport serves a request, decided once per origin and purpose; thread-safe."""

    def __init__(
        self,
        tls: dict[str, _Tls],
        plain: Callable[[], TransportT],
        build: Callable[[Any, str | None], TransportT],
    ) -> None:
        self._tls = tls  # by purpose; purposes with the same settings share one _Tls
        self._plain = plain
        self._build = build  # (verify, proxy) -> transport
        self._lock = ForkSafeLock()
        self._by_origin: dict[tuple[str, str, bytes], TransportT] = {}
        #: The proxy (shown as botocore masks it) each origin's requests go through.
        self.proxies: dict[tuple[str, str, bytes], str] = {}
        self._transports: dict[tuple[str | None, _Tls | None], TransportT] = {}

    def for_request(self, request: httpx.Request) -> TransportT:
        return self.for_url(request.url, request.extensions.get(PURPOSE, "service"))

    def for_url(self, url: httpx.URL, purpose: str = "service") -> TransportT:
        origin = (purpose, url.scheme, url.netloc)
        transport = self._by_origin.get(origin)
        if transport is None:
            with self._lock:
                transport = self._by_origin.get(origin)
                if transport is None:
                    transport = self._by_origin[origin] = self._route(url, purpose)
        return transport

    def _route(self, url: httpx.URL, purpose: str) -> TransportT:
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"cannot send a {scheme}:// request")
        netloc = url.netloc.decode("ascii")
        # botocore's container fetcher never uses a proxy (the token would go through it)
        proxy = None if purpose == "container" else proxy_for(scheme, netloc)
        if proxy is not None:
            log.debug("%s://%s: through the proxy %s", scheme, netloc, describe(proxy))
            self.proxies[(purpose, scheme, url.netloc)] = _masked(proxy)
        settings = self._tls.get(purpose, self._tls["default"])
        tls = scheme == "https" or (proxy is not None and proxy.lower().startswith("https:"))
        key = (proxy, settings if tls else None)
        transport = self._transports.get(key)
        if transport is None:
            if proxy is None and not tls:
                transport = self._plain()
            else:
                transport = self._build(settings.verify() if tls else _NO_TLS_CONTEXT, proxy)
            self._transports[key] = transport
        if scheme == "https":
            settings.reached(url.host)
        return transport

    def built(self) -> list[TransportT]:
        with self._lock:
            return list(self._transports.values())


def _refuse_tls(request: httpx.Request) -> None:
    if request.url.scheme != "http":
        raise httpx.UnsupportedProtocol(
            f"this client serves http:// only; got a {request.url.scheme}:// URL"
        )


class _PlainHTTPTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` for ``http://`` requests only, built without a TLS context."""

    def __init__(self) -> None:
        super().__init__(verify=_NO_TLS_CONTEXT, limits=_LIMITS)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return super().handle_request(request)


class _AsyncPlainHTTPTransport(httpx.AsyncHTTPTransport):
    """The asynchronous twin of :class:`_PlainHTTPTransport`."""

    def __init__(self) -> None:
        super().__init__(verify=_NO_TLS_CONTEXT, limits=_LIMITS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_tls(request)
        return await super().handle_async_request(request)


def _masked(proxy: str) -> str:
    """A proxy URL as botocore shows it in errors: a user name and password as ``***``."""
    url = httpx.URL(proxy)
    shown = describe(proxy)
    if not url.userinfo:
        return shown
    scheme, _, rest = shown.partition("://")
    return f"{scheme}://{'***:***' if url.password else '***'}@{rest}"


class ProxyUnreachable(httpx.ConnectError):
    """The proxy a request goes through could not be reached, or refused to connect to the
    endpoint; ``proxy`` is its URL without user information."""

    def __init__(self, proxy: str, cause: httpx.TransportError, request: httpx.Request) -> None:
        super().__init__(str(cause), request=request)
        self.proxy = proxy


_PROXY_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)


def _proxy_failure(
    routes: _Routes[Any], request: httpx.Request, exc: httpx.TransportError
) -> ProxyUnreachable | None:
    from .responses import is_tls_failure

    purpose = request.extensions.get(PURPOSE, "service")
    proxy = routes.proxies.get((purpose, request.url.scheme, request.url.netloc))
    if proxy is None or is_tls_failure(exc):  # a TLS failure is the endpoint's (tunnelled)
        return None
    return ProxyUnreachable(proxy, exc, request)


class _RoutingTransport(httpx.BaseTransport):
    def __init__(self, routes: _Routes[httpx.BaseTransport]) -> None:
        self._routes = routes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._routes.for_request(request).handle_request(request)
        except _PROXY_FAILURES as exc:
            through = _proxy_failure(self._routes, request, exc)
            if through is None:
                raise
            raise through from exc

    def close(self) -> None:
        for transport in self._routes.built():
            transport.close()


class _AsyncRoutingTransport(httpx.AsyncBaseTransport):
    def __init__(self, routes: _Routes[httpx.AsyncBaseTransport]) -> None:
        self._routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._routes.for_request(request).handle_async_request(request)
        except _PROXY_FAILURES as exc:
            through = _proxy_failure(self._routes, request, exc)
            if through is None:
                raise
            raise through from exc

    async def aclose(self) -> None:
        for transport in self._routes.built():
            await transport.aclose()


def _split(
    scheme: str | None, options: dict[str, Any]
) -> tuple[dict[str, _Tls], str | None, dict[str, Any]]:
    """Our options (TLS per purpose, endpoint) apart from those httpx.Client takes."""
    rest = dict(options)
    bundle = rest.pop("ca_bundle", None)
    configured = _Tls(bundle, rest.pop("ca_bundle_source", None) or "ca_bundle", True, None)
    default = configured if bundle is None else _Tls(None, "", True, None)
    service = configured
    override = rest.pop("service_tls", None)  # the CLI's --ca-bundle / --no-verify-ssl
    if override is not None:
        service = _Tls(
            override.get("ca_bundle"),
            override.get("ca_bundle_source") or "ca_bundle",
            override.get("verify", True),
            override.get("on_unverified"),
        )
    tls = {"service": service, "identity": configured, "default": default}
    endpoint = rest.pop("endpoint", None)
    if scheme == "https":
        service.verify()  # TLS will be used: load the CA bundle now
    return tls, endpoint, rest


def new_sync_client(scheme: str | None, options: dict[str, Any]) -> httpx.Client:
    """``httpx.Client(**options)`` for requests to an endpoint with this ``scheme`` (``https``:
    the TLS context is built now; ``None``: not known, everything is built when first needed).

    Besides httpx's options: ``endpoint`` (its route is checked now), ``ca_bundle`` and
    ``ca_bundle_source`` (where it was configured, for messages), and ``service_tls``: for
    ``service`` requests only, a dict with another ``ca_bundle`` and ``ca_bundle_source``, or
    ``verify=False`` and ``on_unverified`` (called with the AWS CLI's warning for each
    unverified host). Each request goes where its :data:`PURPOSE` extension says.
    """
    from .deadline_backend import with_deadlines  # the attempt deadline, headers included

    tls, endpoint, rest = _split(scheme, options)

    def plain() -> httpx.BaseTransport:
        return with_deadlines(_PlainHTTPTransport())

    def build(verify: Any, proxy: str | None) -> httpx.BaseTransport:
        from .trust import recovering  # survives the CA cache being deleted under it

        transport = httpx.HTTPTransport(verify=verify, proxy=proxy, limits=_LIMITS)
        return recovering(with_deadlines(transport), verify)

    routes: _Routes[httpx.BaseTransport] = _Routes(tls, plain, build)
    if endpoint is not None:
        routes.for_url(httpx.URL(endpoint))
    return httpx.Client(transport=_RoutingTransport(routes), **rest)


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


def new_async_client(scheme: str | None, options: dict[str, Any]) -> httpx.AsyncClient:
    """``httpx.AsyncClient(**options)`` for requests to an endpoint with this ``scheme``
    (the same options as :func:`new_sync_client`)."""
    _note_missing_sniffio()
    tls, endpoint, rest = _split(scheme, options)

    def build(verify: Any, proxy: str | None) -> httpx.AsyncBaseTransport:
        from .trust import recovering_async

        transport = httpx.AsyncHTTPTransport(verify=verify, proxy=proxy, limits=_LIMITS)
        return recovering_async(transport, verify)

    routes: _Routes[httpx.AsyncBaseTransport] = _Routes(tls, _AsyncPlainHTTPTransport, build)
    if endpoint is not None:
        routes.for_url(httpx.URL(endpoint))
    return httpx.AsyncClient(transport=_AsyncRoutingTransport(routes), **rest)
