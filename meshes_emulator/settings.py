"""Settings for one emulator, built from CLI flags, the fixture's options or defaults. No logic."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` needs to know."""

    db_path: str = ":memory:"
    seed: int = 0
    clock: str = "system"  # "system" or "manual"
    clock_start: datetime | None = None
    fixtures: tuple[str, ...] = ()
    fixture_dirs: tuple[str, ...] = ()  # reset may load files under these too (--fixture-dir)
    org_id: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    retry_delays: tuple[float, ...] | None = None
    faults: tuple[str, ...] = ()  # `serve --fault` values (JSON or compact), re-added at reset
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    base_url: str = "http://127.0.0.1:8787"
    admin_token: str | None = None
    admin_enabled: bool = True  # False: /_emulator/* and the dashboard answer 404 (--no-admin)
    allowed_hosts: tuple[str, ...] = ()  # Host names answered besides localhost and IPs (sitecheck)
    background_dispatcher: bool = True
    strict: bool = False  # inferred checks refuse (400) instead of warning (leniency.py)
    request_journal: int = 1000  # requests kept for GET /_emulator/requests (0: off)
    allow_http_webhooks: tuple[str, ...] = ()  # hosts a webhook may reach over plain http
    # Webhook deliveries (system clock): in flight at once, at most per connection, the deadline
    # of one attempt (connect + send + the whole answer, seconds) and the answer bytes read.
    delivery_concurrency: int = 64
    delivery_connection_limit: int = 48
    webhook_timeout: float = 10.0
    webhook_answer_limit: int = 64 * 1024

    @classmethod
    def credentials_from_env(cls, environ: dict[str, str] | None = None) -> dict[str, str | None]:
        """The MESHES_* variables the official clients use, when set."""
        env = os.environ if environ is None else environ
        return {
            "org_id": env.get("MESHES_ORG_ID") or env.get("MESHES_ORGANIZATION_ID") or None,
            "access_key": env.get("MESHES_ACCESS_KEY") or None,
            "secret_key": env.get("MESHES_SECRET_KEY") or None,
        }
