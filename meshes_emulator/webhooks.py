"""Helpers for the receiving side of webhook deliveries: check the signature the emulator sends.

A webhook connection with `signing_algorithm: sha256` (or `sha512`) and a `signing_secret` sends
`X-Meshes-Signature: sha256=<hex>` (the header name is `signature_header` when set): an HMAC of
the exact body bytes with the secret, plus `X-Meshes-Timestamp` (the send time, epoch seconds;
not signed). See docs/testing.md, "Receiving webhooks".

    from meshes_emulator.webhooks import verify_signature

    def meshes_webhook(request):               # in your app
        body = request.body                    # the raw bytes, before any JSON parsing
        if not verify_signature(body, request.headers.get("X-Meshes-Signature"), SECRET):
            return 401
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Meshes-Signature"
TIMESTAMP_HEADER = "X-Meshes-Timestamp"
ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def sign(body: bytes, secret: str, algorithm: str = "sha256") -> str:
    """The signature header value the emulator sends for `body`: `sha256=<hex>`."""
    digest = ALGORITHMS[algorithm]
    return f"{algorithm}=" + hmac.new(secret.encode("utf-8"), body, digest).hexdigest()


def verify_signature(body: bytes | str, signature: str | None, secret: str) -> bool:
    """True when `signature` (the header's value, `sha256=<hex>` or `sha512=<hex>`) is the HMAC
    of `body` (the exact bytes received) with `secret`; compared in constant time.

    False for a missing or malformed header, an unknown algorithm or another secret or body.
    """
    if not signature or not secret:
        return False
    algorithm, _, _ = signature.strip().partition("=")
    if algorithm not in ALGORITHMS:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return hmac.compare_digest(sign(raw, secret, algorithm), signature.strip())
