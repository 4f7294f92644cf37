"""Embed sessions: mint, list, refresh, revoke, and the session access token (behavior §5).

The access token is an HS256 JWT signed with a secret drawn from the system's random source on
first use and kept in the database (meta `session_signing_key`: a restart keeps sessions valid; a
reset draws a new one). Never from the seed: with the seed known (0 by default), anyone could
forge tokens. Session ids and launch tokens are system-random too (issue 13). Its header has no
`kid`, so auth.py hands it to `verify_token`. Validity is decided by the database on the
emulator clock: the session must exist, be active, not be past `expires_at`, and the token's
`ver` must be the session's current `token_version` (a refresh supersedes the previous token).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

from meshes_emulator.auth import Principal
from meshes_emulator.clock import isoformat, parse_instant
from meshes_emulator.context import Emulator
from meshes_emulator.errors import BadRequest, Conflict, Forbidden, Unauthorized, ValidationFailed, not_found
from meshes_emulator.ids import system_random_token, system_random_uuid
from meshes_emulator.leniency import Check
from meshes_emulator.paging import PageRequest
from meshes_emulator.schemas import sessions as wire
from meshes_emulator.schemas.common import UUID_PATTERN
from meshes_emulator.schemas.sessions import SessionCreate
from meshes_emulator.services import workspaces
from meshes_emulator.store import orgs as org_store
from meshes_emulator.store import sessions as store
from meshes_emulator.store.db import Row, encode_json

SECRET_META_KEY = "session_signing_key"  # (was `session_secret`, derived from the seed: ignored)
SECRET_LENGTH = 64
TOKEN_ISSUER = "urn:meshes:embed"
TOKEN_AUDIENCE = "meshes-embed"
LAUNCH_PATH = re.compile(r"^/workspace/([a-z]+)/?$")
UUID_RE = re.compile(UUID_PATTERN)


# -- the signing secret -----------------------------------------------------------------------


def signing_secret(emulator: Emulator, *, create: bool = False) -> str | None:
    """The session secret from the meta table; drawn (inside a transaction) on first use."""
    secret = org_store.get_meta(emulator.store, SECRET_META_KEY)
    if secret is None and create:
        secret = system_random_token(SECRET_LENGTH)
        org_store.set_meta(emulator.store, SECRET_META_KEY, secret)
    return secret


def _epoch(text: str) -> int:
    return int(parse_instant(text).timestamp())


def mint_access_token(emulator: Emulator, row: Row, issued_at: datetime) -> str:
    """The HS256 runtime token of a session at its current token version."""
    secret = signing_secret(emulator, create=True)
    assert secret is not None
    claims: dict[str, Any] = {
        "iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sid": row["session_id"], "org": row["org_id"],
        "ws": row["workspace_id"], "role": row["role"], "stype": row["session_type"],
        "ver": row["token_version"], "iat": int(issued_at.timestamp()),
        "exp": _epoch(row["expires_at"]),
    }
    if row.get("external_user_id") is not None:
        claims["sub"] = row["external_user_id"]
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})


# -- verification (`emulator.verify_session`, set by app.build_parts) --------------------------


def verify_token(emulator: Emulator, token: str) -> Principal:
    """A session principal for a live token; 401 naming the reason otherwise."""
    claims = _decode(emulator, token)
    sid, version = claims.get("sid"), claims.get("ver")
    if not isinstance(sid, str) or not isinstance(version, int):
        raise Unauthorized("Session token is missing its session claims")
    row = store.get_any_org(emulator.store, sid)
    if row is None or row["org_id"] != claims.get("org"):
        raise Unauthorized("Unknown session")
    if row["status"] == "revoked":
        raise Unauthorized("Session has been revoked")
    if isoformat(emulator.clock.now()) >= row["expires_at"]:
        raise Unauthorized("Session token has expired")
    if version != row["token_version"]:
        raise Unauthorized("Session token was superseded by a refresh; use the newest token")
    return principal_for(row)


def _decode(emulator: Emulator, token: str) -> dict[str, Any]:
    secret = signing_secret(emulator)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("Malformed bearer token") from None
    if header.get("alg") != "HS256" or secret is None:
        raise Unauthorized("Bearer token is neither a machine token nor a session token")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                     "require": ["sid", "org", "ver", "exp"]})
    except jwt.InvalidSignatureError:
        raise Unauthorized("Session token signature is invalid") from None
    except jwt.PyJWTError:
        raise Unauthorized("Bearer token is neither a machine token nor a session token") from None
    return claims


def principal_for(row: Row) -> Principal:
    session = {
        "session_id": row["session_id"], "workspace_id": row["workspace_id"], "role": row["role"],
        "session_type": row["session_type"], "resource": row["resource"],
        "resource_id": row["resource_id"], "scopes": wire.scopes_of(row),
        "allowed_origins": wire.origins_of(row), "launch_page": row["launch_page"],
        "external_user_id": row["external_user_id"], "expires_at": row["expires_at"],
    }
    return Principal(kind="session", org_id=row["org_id"], created_by=row["session_id"],
                     workspace_id=row["workspace_id"], session=session)


# -- create ----------------------------------------------------------------------------------


def _invalid(param: str, msg: str) -> BadRequest:
    return BadRequest(f"invalid {param}", detail=f"{param}: {msg}", data=[{"param": param, "msg": msg}])


def _launch_page(body: SessionCreate) -> str:
    if body.launch_page is not None:
        return body.launch_page
    if body.launch_path is None:
        return "dashboard"
    match = LAUNCH_PATH.match(body.launch_path)
    if match is None or match.group(1) not in wire.LAUNCH_PAGES:
        raise _invalid("launch_path", "must be /workspace/<dashboard|connections|rules|events>")
    return match.group(1)


def _check_type(body: SessionCreate, page: str) -> None:
    """Cross-field rules of §11.2: resource scope, pages per session type."""
    if body.session_type == "resource":
        missing = [name for name in ("resource", "resource_id") if getattr(body, name) is None]
        if missing:
            raise BadRequest("invalid session_type",
                             detail="resource sessions need both resource and resource_id",
                             data=[{"param": name, "msg": "is required for resource sessions"}
                                   for name in missing])
    if page not in wire.PAGES_BY_TYPE[body.session_type]:
        allowed = ", ".join(wire.PAGES_BY_TYPE[body.session_type])
        raise _invalid("launch_page", f"{body.session_type} sessions may launch on: {allowed}")


_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


def normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL as a browser serializes it (an international
    name in its ASCII form), or None when it is not one: the origin goes into the launch page's
    `Content-Security-Policy` header, so `https://a.com; script-src *` must not pass."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = _ascii_host(parts.hostname)
    if host is None:
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _ascii_host(name: str) -> str | None:
    """An IP literal (IPv6 in brackets) or a host name in ASCII (IDNA), else None."""
    if ":" in name:
        try:
            return f"[{ipaddress.IPv6Address(name.split('%')[0]).compressed}]"
        except ValueError:
            return None
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return ascii_name if _HOST_NAME.fullmatch(ascii_name) else None


def _origins(body: SessionCreate) -> list[str] | None:
    if body.allowed_origins is None:
        return None
    result: list[str] = []
    for index, value in enumerate(body.allowed_origins):
        origin = normalize_origin(value)
        if origin is None:
            raise _invalid("allowed_origins", f"item {index} must be an http(s) origin URL")
        if origin not in result:
            result.append(origin)
    return result


def new_session_id() -> str:
    """`sess_` + a version 4 UUID from the system's random source (not the seeded stream: a
    session id names the session inside its token, and must not be guessable)."""
    return f"sess_{system_random_uuid()}"


def launch_url(emulator: Emulator, page: str, launch_token: str) -> str:
    return f"{emulator.base_url}/embed/workspace/{page}?launch={launch_token}"


def _without_stray_scope(emulator: Emulator, body: SessionCreate) -> SessionCreate:
    """`resource`/`resource_id` on a workspace or dashboard session: the changelog says to send
    them only for resource sessions; refusing them is inferred (leniency.py). Strict mode: 400
    `invalid session_type`; otherwise a warning and they are ignored."""
    if body.session_type == "resource":
        return body
    given = [name for name in ("resource", "resource_id") if getattr(body, name) is not None]
    if not given:
        return body
    problems = [{"param": name, "msg": "is only allowed for resource sessions"} for name in given]
    if emulator.leniency.strict:
        raise BadRequest("invalid session_type",
                         detail="resource and resource_id are only for resource sessions",
                         data=problems)
    emulator.leniency.warn([(Check.SESSION_RESOURCE, problem) for problem in problems])
    return body.model_copy(update={"resource": None, "resource_id": None})


def create(emulator: Emulator, who: Principal, body: SessionCreate) -> dict[str, Any]:
    """Mint a session (200 body of createSession)."""
    body = _without_stray_scope(emulator, body)
    page = _launch_page(body)
    _check_type(body, page)
    origins = _origins(body)
    with emulator.store.transaction():
        workspaces.get(emulator, who.org_id, body.workspace_id)
        now = emulator.clock.now()
        row: Row = {
            "session_id": new_session_id(), "org_id": who.org_id,
            "workspace_id": body.workspace_id, "role": body.role,
            "session_type": body.session_type, "external_user_id": body.external_user_id,
            "resource": body.resource, "resource_id": body.resource_id, "launch_page": page,
            "allowed_origins": encode_json(origins), "scopes": encode_json(body.scopes),
            "status": "active", "token_version": 1,
            "launch_token": "lt_" + system_random_token(40), "launch_used": 0,
            "created_at": isoformat(now),
            "expires_at": isoformat(now + timedelta(seconds=body.ttl_seconds)),
            "launch_expires_at": isoformat(now + timedelta(seconds=body.launch_ttl_seconds)),
            "revoked_at": None, "ttl_seconds": body.ttl_seconds,
        }
        store.insert(emulator.store, row)
        token = mint_access_token(emulator, row, now)
    return wire.created(row, token, body.ttl_seconds,
                        launch_url(emulator, page, row["launch_token"]))


# -- list / refresh / revoke ------------------------------------------------------------------


def list_filters(query: Any) -> tuple[str, dict[str, str]]:
    """workspace_id (required) and the exact-match filters of listSessions; 400 when malformed."""
    problems = []
    workspace_id = query.get("workspace_id")
    if not workspace_id:
        problems.append({"param": "workspace_id", "msg": "is required"})
    elif not UUID_RE.match(workspace_id):
        problems.append({"param": "workspace_id", "msg": "must be a UUID"})
    filters: dict[str, str] = {}
    for name in ("status", "resource", "resource_id"):
        value = query.get(name)
        if value is None:
            continue
        if value == "":
            problems.append({"param": name, "msg": "must not be empty"})
        filters[name] = value
    if filters.get("status") and filters["status"] not in wire.STATUSES:
        problems.append({"param": "status", "msg": "must be one of active, revoked"})
    if problems:
        raise ValidationFailed(problems)
    return workspace_id.lower(), filters


def list_page(emulator: Emulator, who: Principal, workspace_id: str, filters: dict[str, str],
              req: PageRequest) -> list[Row]:
    workspaces.get(emulator, who.org_id, workspace_id)
    return store.list_page(emulator.store, workspace_id, filters, req)


def get(emulator: Emulator, org_id: str, session_id: str) -> Row:
    row = store.get(emulator.store, org_id, session_id)
    if row is None:
        raise not_found("Session")
    return row


def refresh(emulator: Emulator, who: Principal, session_id: str) -> dict[str, Any]:
    """A new access token for the same session; the previous token stops working."""
    with emulator.store.transaction():
        row = get(emulator, who.org_id, session_id)
        now = emulator.clock.now()
        if row["status"] == "revoked":
            raise Conflict("Session revoked", detail="A revoked session cannot be refreshed; "
                           "create a new session")
        if isoformat(now) >= row["expires_at"]:
            raise Conflict("Session expired", detail="An expired session cannot be refreshed; "
                           "create a new session")
        changes = {"token_version": row["token_version"] + 1,
                   "expires_at": isoformat(now + timedelta(seconds=row["ttl_seconds"]))}
        store.update(emulator.store, session_id, changes)
        row = {**row, **changes}
        token = mint_access_token(emulator, row, now)
    return wire.refreshed(row, token, row["ttl_seconds"])


def revoke(emulator: Emulator, who: Principal, session_id: str) -> dict[str, Any]:
    """Revoke (idempotent): every token of the session stops working."""
    with emulator.store.transaction():
        row = get(emulator, who.org_id, session_id)
        if row["status"] != "revoked":
            store.update(emulator.store, session_id,
                         {"status": "revoked", "revoked_at": isoformat(emulator.clock.now())})
    return {"revoked": True}


# -- launch (the iframe's first document load) ------------------------------------------------


def open_launch(emulator: Emulator, launch_token: str | None, page: str) -> Row:
    """Consume a launch token for `page` (single use, emulator-clock expiry); 401/403 otherwise."""
    if not launch_token:
        raise Unauthorized("Missing launch token: open the launch_url of a fresh session")
    with emulator.store.transaction():
        row = store.by_launch_token(emulator.store, launch_token)
        if row is None:
            raise Unauthorized("Invalid launch token")
        now = isoformat(emulator.clock.now())
        if row["launch_used"]:
            raise Unauthorized("Launch token already used: mint a new session for a new iframe")
        if row["launch_expires_at"] is None or now >= row["launch_expires_at"]:
            raise Unauthorized("Launch token has expired: mint a new session")
        if row["status"] == "revoked":
            raise Unauthorized("Session has been revoked")
        if now >= row["expires_at"]:
            raise Unauthorized("Session has expired")
        if page not in wire.PAGES_BY_TYPE[row["session_type"]]:
            raise Forbidden("Forbidden", detail=f"{row['session_type']} sessions cannot open the "
                            f"{page} page")
        store.mark_launch_used(emulator.store, row["session_id"])
    return row
