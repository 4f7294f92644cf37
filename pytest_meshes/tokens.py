"""Machine JWTs minted exactly as the official clients mint them."""

from __future__ import annotations

import time
from typing import Any

import jwt


def mint_token(access_key: str, secret_key: str, org_id: str, *, lifetime: int = 30,
               headers: dict[str, Any] | None = None, secret: str | None = None,
               **claims: Any) -> str:
    """A machine JWT exactly as the official clients mint it (reference §2.2).

    Override any claim (`iat=`, `exp=`, `aud=`...), header field (`headers={"alg": ...}`) or the
    signing secret for negative tests. A claim set to None is left out.
    """
    now = int(time.time())
    body: dict[str, Any] = {"iss": f"urn:meshes:m2m:{access_key}", "aud": "meshes-api",
                            "org": org_id, "iat": now, "exp": now + lifetime}
    body.update(claims)
    body = {key: value for key, value in body.items() if value is not None}
    head = {"alg": "HS256", "typ": "JWT", "kid": access_key}
    head.update(headers or {})
    return jwt.encode(body, secret or secret_key, algorithm="HS256", headers=head)
