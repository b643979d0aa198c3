"""Which proxy a request goes through, decided as botocore decides it.

* ``HTTP_PROXY`` serves ``http://`` requests, ``HTTPS_PROXY`` ``https://`` requests (lowercase
  names win over uppercase ones; an empty value unsets; under CGI, where ``REQUEST_METHOD`` is
  set, only lowercase ``http_proxy`` counts): Python's ``urllib.request.getproxies()``, which is
  what botocore reads.
* ``NO_PROXY``: comma-separated host names or domain suffixes (``example.com`` also covers
  ``api.example.com``; ``host:port`` entries match that port only; ``*`` means every host),
  checked with ``urllib.request.proxy_bypass()`` as botocore does. IP ranges (CIDR) are not
  understood, as in botocore.
* ``ALL_PROXY`` is ignored, as botocore ignores it (httpx on its own would honour it).
* A proxy value without a scheme (``proxy.local:3128``) means ``http://``, as in botocore.

botocore hands any value to urllib3 and fails at send time with an ``HTTPClientError``; httpx
fails when the client is built, for every request, even those ``NO_PROXY`` exempts. Here a
proxy is checked only when a request would go through it, and a value that cannot work (a
``socks5://`` or other scheme, no host, a bad port, spaces or control characters) is a
:class:`~cfinval.ConfigError` that names the variable. Messages never show a proxy's user
name or password.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping

import httpx

from .._errors import ConfigError

__all__ = ["proxy_for"]

#: The proxy schemes the AWS SDKs support (and httpx serves without extra packages).
_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"^([^:/?#@]*)://")
# What a host name or address may contain (IPv6 in brackets); anything else is a typo.
_HOST = re.compile(r"^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])$")


def proxy_for(scheme: str, netloc: str) -> str | None:
    """The proxy URL for a request to ``scheme://netloc``; ``None`` to connect directly.

    Raises :class:`ConfigError` when the proxy that applies cannot be used.
    """
    from urllib.request import getproxies, proxy_bypass  # loaded with httpx already

    try:
        if proxy_bypass(netloc):
            return None
    except (TypeError, socket.gaierror):  # as botocore: a failing check means "do not bypass"
        pass
    value = getproxies().get(scheme)
    if not value:
        return None
    return usable_proxy(value, _variable_for(scheme, value, os.environ))


def _variable_for(scheme: str, value: str, environ: Mapping[str, str]) -> str:
    """The environment variable ``value`` came from (lowercase wins, as in urllib)."""
    wanted = f"{scheme}_proxy"
    names = [name for name, v in environ.items() if name.lower() == wanted and v == value]
    if wanted in names:
        return wanted
    return names[0] if names else "the system proxy settings"


def _shown(url: httpx.URL) -> str:
    """The proxy's scheme, host and port only: never its user name, password or path."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.raw_host.decode('ascii', 'replace')}{port}"


def usable_proxy(value: str, source: str) -> str:
    """``value`` as a proxy URL httpx can use, or :class:`ConfigError` naming ``source``."""
    match = _SCHEME.match(value)
    if match is not None:
        scheme = match.group(1)
        if scheme.lower() not in _SCHEMES:
            shown = repr(scheme) if scheme.isprintable() and len(scheme) <= 20 else "this"
            raise ConfigError(
                f"{source}: cannot use a proxy with the {shown} scheme; only http:// and "
                "https:// proxies are supported (as in the AWS SDKs)"
            )
        fixed = value
    elif value.startswith("//"):
        fixed = "http:" + value
    else:
        fixed = "http://" + value
    scheme_part, _, rest = fixed.partition("://")
    userinfo = None
    if "@" in rest:  # the user info ends at the last "@" (a password may hold one)
        userinfo, _, rest = rest.rpartition("@")
    if userinfo is not None and any(c in userinfo for c in "/?#"):
        raise ConfigError(
            f"{source} is not a usable proxy URL: its user name or password holds a '/', '?' "
            "or '#', which must be percent-encoded (%2F, %3F, %23); the value is not shown"
        )
    # The address is parsed without the user info, and the parser's own text (which quotes
    # what it refused) is never shown: it could be part of a password.
    url = _parsed(f"{scheme_part}://{rest}", source)
    if userinfo is not None:
        _parsed(fixed, source, "its user name or password cannot be read")
    port = url.port
    host = url.raw_host.decode("ascii", "replace")
    if not host or not _HOST.match(host):
        raise ConfigError(
            f"{source} is not a usable proxy URL: "
            + ("it has no host" if not host else "its host is not a valid host name")
        )
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{source} is not a usable proxy URL: port {port} is out of range")
    return fixed


def _parsed(value: str, source: str, problem: str | None = None) -> httpx.URL:
    """``httpx.URL(value)``, or :class:`ConfigError` saying what is wrong in our own words."""
    try:
        return httpx.URL(value)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        if problem is None:
            text = str(exc)
            if not value.isprintable():
                problem = "it has control (non-printable) characters"
            elif text.startswith("Invalid port"):
                problem = "its port is not a number"
            elif text.startswith("URL too long"):
                problem = "it is too long"
            else:
                problem = "it is not a URL of the form http://host:port"
        raise ConfigError(f"{source} is not a usable proxy URL: {problem}") from None


def describe(proxy: str) -> str:
    """A proxy URL for messages and logs, without credentials."""
    return _shown(httpx.URL(proxy))
