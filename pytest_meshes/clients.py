"""httpx clients for tests: signed with a fresh machine JWT per request, or with a publishable key.

Apart from `handle.py` so that starting the emulator does not import httpx (~50 ms with what it
pulls in): a test that never asks for a client never pays for it.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Generator
from typing import Any

import httpx

from pytest_meshes.tokens import mint_token


class MachineAuth(httpx.Auth):
    """httpx auth that mints a fresh 30-second JWT for every request."""

    def __init__(self, access_key: str, secret_key: str, org_id: str) -> None:
        self.access_key, self.secret_key, self.org_id = access_key, secret_key, org_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = mint_token(self.access_key, self.secret_key, self.org_id)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once: building one costs ~20 ms (CA bundle), and
    every `httpx.Client()` builds one unless given a context."""
    return httpx.create_ssl_context()


def http_client(**kwargs: Any) -> httpx.Client:
    """An httpx client sharing one TLS context."""
    kwargs.setdefault("verify", _tls_context())
    return httpx.Client(**kwargs)
