"""Who is calling: machine JWTs, publishable keys and embed-session tokens (reference §2).

Machine JWT checks (behavior §1.1): HS256 only; `kid` a known access key; signature with its
secret; `iss` = urn:meshes:m2m:<kid>; `aud` = meshes-api; `org` = the key's organization; `exp` in
the future; `exp - iat` <= 60 s; `iat` not in the future; LEEWAY seconds of skew. Checked on the
wall clock, never the emulator's virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import jwt

from meshes_emulator.clock import wall_clock
from meshes_emulator.errors import Forbidden, Unauthorized
from meshes_emulator.store import orgs as org_store
from meshes_emulator.store.lru import LRU, Cache

if TYPE_CHECKING:
    from meshes_emulator.context import Emulator

LEEWAY_SECONDS = 5
MAX_LIFETIME_SECONDS = 60
AUDIENCE = "meshes-api"
ISSUER_PREFIX = "urn:meshes:m2m:"
PUBLISHABLE_HEADER = "x-meshes-publishable-key"

MACHINE = frozenset({"machine"})
PUBLISHABLE = frozenset({"publishable"})
SESSION = frozenset({"session"})
INGEST = MACHINE | PUBLISHABLE
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    kind: str  # "machine" | "publishable" | "session"
    org_id: str
    created_by: str
    workspace_id: str | None = None
    access_key: str | None = None
    session: dict[str, Any] | None = None


def authenticate(emulator: Emulator, headers: Any, accepts: frozenset[str]) -> Principal:
    """Return the caller allowed on a route accepting `accepts`, or raise 401."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        who = _bearer(emulator, token.strip(), accepts)
        if who.kind == "machine" and "publishable" in accepts:
            return _with_key_workspace(emulator, who, headers.get(PUBLISHABLE_HEADER))
        return who
    key = headers.get(PUBLISHABLE_HEADER)
    if key is not None:
        if "publishable" not in accepts:
            raise Unauthorized(
                "Publishable keys are accepted only by POST /api/v1/events and "
                "POST /api/v1/events/bulk; use a machine JWT"
            )
        return _publishable(emulator, key.strip())
    if "publishable" in accepts:
        raise Unauthorized("Missing credentials: send 'X-Meshes-Publishable-Key: <key>' or "
                           "'Authorization: Bearer <jwt>'")
    raise Unauthorized("Missing credentials: send 'Authorization: Bearer <jwt>'")


MAX_CACHED_TOKENS = 4096
# token -> (Principal, exp) of verified machine tokens
TOKEN_CACHE: Cache[LRU[str, tuple[Principal, float]]] = Cache(
    "machine_tokens", lambda: LRU(MAX_CACHED_TOKENS))


def _bearer(emulator: Emulator, token: str, accepts: frozenset[str]) -> Principal:
    if "machine" in accepts:  # a machine token verified before: valid until it expires
        known = emulator.store.held(TOKEN_CACHE)
        hit = known.get(token) if known else None
        if hit is not None and hit[1] > wall_clock() - LEEWAY_SECONDS:
            principal: Principal = hit[0]
            return principal
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("Malformed bearer token") from None
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith("mk_"):
        if "machine" not in accepts:
            raise Unauthorized("Machine tokens are not accepted here")
        return verify_machine_token(emulator, token, header)
    principal = emulator.verify_session(token)  # services/sessions.py: 401 unless a live session
    if "session" not in accepts:
        raise Forbidden("Forbidden", detail="Embed session tokens cannot call this operation")
    return principal


def verify_machine_token(emulator: Emulator, token: str, header: dict[str, Any]) -> Principal:
    """Check a machine JWT completely; every failure is a 401 naming the reason."""
    if header.get("alg") != "HS256":
        raise Unauthorized("Token algorithm must be HS256")
    kid = header["kid"]
    key = org_store.get_machine_key(emulator.store, kid)
    if key is None:
        raise Unauthorized("Unknown access key (kid)")
    try:
        claims = jwt.decode(
            token,
            key["secret_key"],
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER_PREFIX + kid,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "org"], "strict_aud": True},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token has expired") from None
    except jwt.ImmatureSignatureError as exc:
        raise Unauthorized(_immature(exc)) from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("Token aud must be 'meshes-api'") from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("Token iss must be 'urn:meshes:m2m:<access key>'") from None
    except jwt.InvalidSignatureError:
        raise Unauthorized("Token signature does not match the access key's secret") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"Token is missing the '{exc.claim}' claim") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Invalid token: {exc}") from None
    principal = _machine_principal(claims, key)
    # Remember the verified token (clients reuse one for its lifetime): the signature, claims and
    # key are then not checked again; expiry is (`_bearer`). Reset or a rollback forgets them.
    emulator.store.cached(TOKEN_CACHE).put(token, (principal, claims["exp"]))
    return principal


def _immature(exc: jwt.ImmatureSignatureError) -> str:
    """Which claim lies in the future: PyJWT names it in its message ("... (nbf)")."""
    claim = "nbf" if "nbf" in str(exc) else "iat"
    return f"Token {claim} is in the future"


def _machine_principal(claims: dict[str, Any], key: dict[str, Any]) -> Principal:
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        raise Unauthorized("Token iat and exp must be numbers")
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise Unauthorized("Token lifetime (exp - iat) must be at most 60 seconds")
    if iat > wall_clock() + LEEWAY_SECONDS:
        raise Unauthorized("Token iat is in the future")
    if str(claims["org"]).lower() != key["org_id"].lower():  # a UUID, in either case
        raise Unauthorized("Token org is not the organization of this access key")
    return Principal(kind="machine", org_id=key["org_id"], created_by=key["access_key"],
                     access_key=key["access_key"])


# publishable key -> Principal (keys are never changed or deleted, only emptied by reset; a
# rollback empties the cache too)
PUBLISHABLE_CACHE: Cache[LRU[str, Principal]] = Cache(
    "publishable_keys", lambda: LRU(MAX_CACHED_TOKENS))


def _with_key_workspace(emulator: Emulator, who: Principal, key: str | None) -> Principal:
    """A machine caller that also sends its organization's publishable key (a Go client built
    with both editors): on ingestion the key implies the workspace an event without one goes to.
    A key that is unknown or of another organization is ignored (the token decides)."""
    if not key:
        return who
    found = org_store.get_publishable_key(emulator.store, key.strip())
    if found is None or found["org_id"] != who.org_id:
        return who
    return replace(who, workspace_id=found["workspace_id"])


def _publishable(emulator: Emulator, key: str) -> Principal:
    known = emulator.store.cached(PUBLISHABLE_CACHE)
    principal = known.get(key)
    if principal is not None:
        return principal
    row = org_store.get_publishable_key(emulator.store, key)
    if row is None:
        raise Unauthorized("Unknown publishable key")
    return known.put(key, Principal(kind="publishable", org_id=row["org_id"],
                                    created_by=row["name"], workspace_id=row["workspace_id"]))
