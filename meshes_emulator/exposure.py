"""Who may reach the admin API and the local dashboard when the emulator is exposed.

Bound to a loopback address, the admin API (/_emulator/*) and the dashboard stay open: only this
machine can reach them. Bound beyond loopback (0.0.0.0, a container's address, a CI host),
`serve` draws an admin token (ids.system_random_token: deliberately not seeded) and prints it; every
request outside the public surface must then carry it, as `Authorization: Bearer <token>`,
`X-Meshes-Emulator-Token: <token>`, or the cookie the dashboard sets after `/?admin_token=<token>`.
`--no-admin` switches the admin API and the dashboard off entirely (404).

The public surface never needs the admin token (it has its own credentials): /api/v1/*,
/openapi.json, /embed/* (launch pages carry one-time launch tokens) and /_emulator/health (a
readiness probe that reveals nothing).

Before all that, on every route, sitecheck.py refuses what a browser on another site can send:
a `Host` outside the allow-list (421), and on the admin API and dashboard a cross-site request
(403) or an admin write whose body is not declared JSON (415).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope, Send

from meshes_emulator.errors import error_body
from meshes_emulator.http import json_response
from meshes_emulator.sitecheck import HostPolicy, content_type_problem, cross_site_problem, header

TOKEN_HEADER = "x-meshes-emulator-token"
COOKIE_NAME = "meshes_emulator_admin"
QUERY_NAME = "admin_token"
ADMIN_TOKEN_ENV = "MESHES_EMULATOR_ADMIN_TOKEN"  # where clients (the fixture, `exec`) read it
PUBLIC_PREFIXES = ("/api/v1/", "/embed/")
PUBLIC_PATHS = frozenset({"/api/v1", "/embed", "/openapi.json", "/_emulator/health"})
TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/=-]{8,}")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    """True when `host` (a bind address or name) is reachable from this machine only.

    0.0.0.0 and :: listen on every interface, so they count as beyond loopback; so does any
    name other than localhost (it may resolve anywhere).
    """
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_public(path: str) -> bool:
    """Paths that keep their own authentication and never need the admin token."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def presented_token(scope: Scope) -> str | None:
    """The admin token a request carries (header, bearer, dashboard cookie or ?admin_token=)."""
    headers = Headers(scope=scope)
    token = headers.get(TOKEN_HEADER)
    if token:
        return token.strip()
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = headers.get("cookie")
    if cookie:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie)
        except Exception:  # a malformed cookie header is simply no token
            jar = SimpleCookie()
        if COOKIE_NAME in jar:
            return jar[COOKIE_NAME].value
    return _query_token(scope)


def _query_token(scope: Scope) -> str | None:
    """`?admin_token=` on GET / only: how a browser opens the dashboard of an exposed emulator."""
    if scope.get("path") != "/" or scope.get("method") != "GET":
        return None
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query).get(QUERY_NAME)
    return values[-1] if values else None


def token_matches(presented: str | None, expected: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


class Exposure:
    """Refuse other sites' requests (sitecheck.py), then admin and dashboard requests without
    the admin token, or hide them (--no-admin). Applied by app.EdgeMiddleware to every request,
    inside the CORS headers, the request journal and the catch-all."""

    def __init__(self) -> None:
        self.hosts: HostPolicy | None = None

    def answer(self, scope: Scope, send: Send) -> tuple[Response | None, Send]:
        """(the answer refusing this request or None, the `send` the app answers through: the
        admin token passed as `?admin_token=` is remembered in a cookie)."""
        refusal = self._refusal(scope)
        if refusal is not None:
            return refusal, send
        token: str | None = scope["app"].state.emulator.settings.admin_token
        if token is not None and _query_token(scope) is not None:  # passed: remember it
            return None, _with_cookie(send, token)
        return None, send

    def _host_policy(self, scope: Scope) -> HostPolicy:
        if self.hosts is None:
            emulator = scope["app"].state.emulator
            self.hosts = HostPolicy(_bound_name(emulator.settings.base_url),
                                    emulator.settings.allowed_hosts)
        return self.hosts

    def _refusal(self, scope: Scope) -> Response | None:
        """The answer refusing this request, or None to let it through."""
        if not self._host_policy(scope).allows(header(scope, b"host")):
            return _misdirected(scope)
        path, method = scope.get("path", ""), scope.get("method", "")
        if is_public(path):
            return None
        settings = scope["app"].state.emulator.settings
        if not settings.admin_enabled:
            body = error_body(404, "Not Found", f"No route for {method} {path} "
                              "(the admin API and dashboard are switched off: --no-admin)")
            return json_response(body, status=404)
        problem = cross_site_problem(scope)
        if problem is not None:
            return json_response(error_body(403, "Forbidden", problem), status=403)
        expected: str | None = settings.admin_token
        if expected is not None:
            presented = presented_token(scope)
            if not token_matches(presented, expected):
                detail = ("The admin token is missing: send 'X-Meshes-Emulator-Token: <token>' "
                          "(printed by meshes-emulator serve)" if presented is None
                          else "The admin token is not valid")
                return json_response(error_body(401, "Unauthorized", detail), status=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="meshes-emulator"'})
        problem = content_type_problem(scope)
        if problem is not None:
            return json_response(error_body(415, "Unsupported Media Type", problem), status=415)
        return None


def _bound_name(base_url: str) -> str:
    return urlsplit(base_url).hostname or "127.0.0.1"


def _misdirected(scope: Scope) -> Response:
    raw = header(scope, b"host") or b""
    shown = raw.decode("latin-1")[:200]
    detail = (f"Host '{shown}' is not a name of this emulator (DNS rebinding protection): use "
              "localhost or an IP address, or start it with --allowed-host NAME")
    return json_response(error_body(421, "Misdirected Request", detail), status=421)


def _with_cookie(send: Send, token: str) -> Send:
    """Remember the token for the dashboard's own requests (same site only, not for scripts)."""
    cookie = f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict"

    async def wrapped(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]
            message = {**message, "headers": headers}
        await send(dict(message))

    return wrapped


def admin_token_for(host: str, requested: str | None, *, enabled: bool = True) -> str | None:
    """The token `serve` requires: the one asked for, a fresh one ('auto' or beyond loopback), or
    None (loopback, nothing asked: open). Raises ValueError for an unusable token."""
    from meshes_emulator.ids import system_random_token

    if not enabled:
        return None
    if requested == "auto" or (requested is None and not is_loopback(host)):
        return system_random_token(32)
    if requested is not None and not TOKEN_RE.fullmatch(requested):
        raise ValueError("the admin token must be at least 8 characters from A-Z a-z 0-9 . _ ~ + / = -")
    return requested
