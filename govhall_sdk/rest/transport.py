"""Where an adapter may send its credentials: the configured origin, over TLS unless it is loopback.

Three rules, checked before a byte leaves the process:

- ``[adapter] url`` is ``https://``; ``http://`` only for a loopback host
  (``localhost``, ``127.0.0.0/8``, ``::1``) or with ``allow_http = true``,
  which warns at every run, as ``verify_tls = false`` does. A URL carrying a
  user or password, whitespace or control characters is refused.
- Every request goes to that origin (scheme, host and port): an absolute URL
  from a response (a pagination link, a ``Location``) that names another is
  refused, with both hosts named, so no header, query parameter or basic
  credential reaches it.
- A redirect is never followed by a write: a 3xx to a POST, PUT, PATCH or
  DELETE is a failed write. A read follows a redirect only within the origin.
"""
from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from ..config import ConfigError

#: The methods that may follow a (same-origin) redirect.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: How many redirects one read follows.
MAX_REDIRECTS = 5
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


class Origin(NamedTuple):
    """The scheme, host and port of a URL (the default port filled in)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def origin_of(url: str) -> Origin:
    """The origin of an absolute http(s) URL; ValueError for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url[:80]!r}")
    return Origin(scheme, parts.hostname.lower(), parts.port or (443 if scheme == "https" else 80))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and the loopback addresses (127.0.0.0/8, ::1)."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, allow_http: bool) -> str:
    """``[adapter] url`` if it may carry credentials, without a trailing slash; else ConfigError."""
    if _UNSAFE.search(url):
        raise ConfigError("adapter.url: contains whitespace or a control character")
    try:
        origin = origin_of(url)
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(f"adapter.url: expected an http(s) URL, got {url[:80]!r}") from None
    if parts.username is not None or parts.password is not None:
        raise ConfigError("adapter.url: must not carry a user or password (the credentials go in their own "
                          "settings, ideally as <name>_env)")
    if parts.query or parts.fragment:
        raise ConfigError("adapter.url: must not carry a query or fragment")
    if origin.scheme == "http" and not allow_http and not is_loopback(origin.host):
        raise ConfigError(f"adapter.url: http:// sends the credentials in clear text to {origin.host}; "
                          "use https://, or set adapter.allow_http = true if the network is trusted")
    return url.rstrip("/")


def cross_origin(url: str, home: Origin) -> str | None:
    """Why ``url`` may not be sent to (another origin than ``home``, or not a URL), or None when it may."""
    try:
        there = origin_of(url)
    except ValueError as exc:
        return str(exc)
    if there != home:
        return f"{there} is not the configured helpdesk {home}: nothing is sent there"
    return None
