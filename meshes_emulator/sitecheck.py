"""What another web site may not make a browser do to the emulator (issue 13, docs/reliability.md).

A local development server is reachable by every page the developer opens. Three checks, made by
`exposure.Exposure` (applied by app.EdgeMiddleware) before any route runs:

* **Host allow-list, every route** (DNS rebinding): the `Host` header must name this emulator:
  `localhost` (and `*.localhost`), any IP literal (`127.0.0.1`, `[::1]`, a container's address:
  an address cannot be rebound), the name it was bound to, or a name given with
  `--allowed-host` (`*` allows any). Any port. Otherwise 421 Misdirected Request.
* **Cross-site refusal, admin API and dashboard**: an `Origin` that is not this emulator's own
  (scheme aside: host and port as in `Host`), `Origin: null`, or `Sec-Fetch-Site: cross-site` /
  `same-site` is 403. One exception: a top-level navigation to the dashboard (`GET /` with
  `Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: document`), so a link to it still opens it.
  The public API (`/api/v1`, `/embed`, `/openapi.json`, `/_emulator/health`) keeps its own
  credentials and may be called cross-origin (ingestion from browsers, CORS).
* **JSON-only admin writes**: POST/PUT/PATCH/DELETE on `/_emulator/*` with a body must say
  `Content-Type: application/json` (or `+json`); otherwise 415. A page cannot send that type
  without a CORS preflight, which the admin API never answers.

curl, scripts and the pytest fixture send no `Origin` and no `Sec-Fetch-*`: unaffected.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

from meshes_emulator.http import JSON_TYPES

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_HOST = "*"
CACHE_LIMIT = 256  # distinct Host values remembered (a hostile client cannot grow it past this)


def host_name(value: str) -> str:
    """The host part of a `Host` value, lower case, without port, brackets or trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def host_port(value: str, scheme: str) -> tuple[str, int | None]:
    """(name, port) of a `Host` value; the scheme's default port when none is written."""
    name = host_name(value)
    rest = value.strip().rsplit("]", 1)[-1] if value.strip().startswith("[") else value.strip()
    port_text = rest.rsplit(":", 1)[1] if rest.count(":") == 1 else ""
    if port_text.isascii() and port_text.isdigit():
        return name, int(port_text)
    return name, DEFAULT_PORTS.get(scheme)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which `Host` names this emulator answers (see the module docstring)."""

    def __init__(self, bound: str, allowed: Iterable[str] = ()) -> None:
        extra = {host_name(name) for name in allowed if name.strip()}
        self.any = ANY_HOST in extra
        self.names = frozenset(LOOPBACK_NAMES | extra | {host_name(bound)})
        self._seen: dict[bytes, bool] = {}

    def allows_name(self, name: str) -> bool:
        return (self.any or name in self.names or name.endswith(".localhost") or _is_ip(name))

    def allows(self, raw: bytes | None) -> bool:
        """True for an allowed raw `Host` header value; a request without one is allowed
        (HTTP/1.0; browsers always send it)."""
        if raw is None:
            return True
        known = self._seen.get(raw)
        if known is None:
            known = self.allows_name(host_name(raw.decode("latin-1")))
            if len(self._seen) < CACHE_LIMIT:
                self._seen[raw] = known
        return known


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (names are lower case in ASGI)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def cross_site_problem(scope: Scope) -> str | None:
    """Why this admin/dashboard request comes from another site, or None when it does not."""
    origin = header(scope, b"origin")
    host = header(scope, b"host")
    if origin is not None and not (host and origin in (b"http://" + host, b"https://" + host)):
        problem = _origin_problem(origin.decode("latin-1"), scope)
        if problem:
            return problem
    site = header(scope, b"sec-fetch-site")
    if site in (b"cross-site", b"same-site") and not _dashboard_navigation(scope):
        return (f"Cross-site request refused (Sec-Fetch-Site: {site.decode('latin-1')}): the "
                "admin API and the dashboard answer their own pages, curl and scripts only")
    return None


def _origin_problem(origin: str, scope: Scope) -> str | None:
    refusal = (f"Cross-origin request refused (Origin: {origin[:200]}): the admin API and the "
               "dashboard answer their own pages, curl and scripts only")
    if origin.strip().lower() == "null":
        return refusal
    parts = urlsplit(origin.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return refusal
    host = header(scope, b"host")
    if not parts.hostname or host is None:
        return refusal if not parts.hostname else None
    name, own_port = host_port(host.decode("latin-1"), scope.get("scheme", "http"))
    if host_name(parts.hostname) != name or port != own_port:
        return refusal
    return None


def _dashboard_navigation(scope: Scope) -> bool:
    """A top-level navigation to the dashboard page (a link to it from another site)."""
    return (scope.get("path") == "/" and scope.get("method") in ("GET", "HEAD")
            and header(scope, b"sec-fetch-mode") == b"navigate"
            and header(scope, b"sec-fetch-dest") == b"document")


def content_type_problem(scope: Scope) -> str | None:
    """Why an admin write's body is not declared as JSON, or None."""
    if scope.get("method") not in WRITE_METHODS or not _has_body(scope):
        return None
    raw = header(scope, b"content-type")
    media = (raw or b"").decode("latin-1").split(";")[0].strip().lower()
    if media in JSON_TYPES or media.endswith("+json"):
        return None
    shown = f"'{media}'" if media else "none"
    return f"Admin API writes must send Content-Type: application/json (got {shown})"


def _has_body(scope: Scope) -> bool:
    length = header(scope, b"content-length")
    if length is not None:
        return length.strip() not in (b"0", b"")
    return header(scope, b"transfer-encoding") is not None
