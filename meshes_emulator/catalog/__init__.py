"""The integrations catalog (reference §8, §12.9; behavior §4.1-4.2), kept as package data.

`integrations.json` holds one Integration record per type, exactly as `GET /api/v1/integrations`
serves it, sorted by `type`. This module loads it once and answers the questions the rest of the
emulator asks: which types exist, which actions a type offers, which metadata keys a connection
carries and which of them are secrets that must never be echoed.

Secrets: every credential field of type `password`, plus (for every type, and in particular for
OAuth types whose tokens the emulator accepts in `metadata`) any key that looks like a credential
(`access_token`, `refresh_token`, `client_secret`, `password`, `*api_key*`, `*token*`,
`*secret*`...). See `is_secret_key`.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "INTEGRATION_TYPES",
    "MASK",
    "OAUTH_TOKEN_KEYS",
    "action_keys",
    "connection_actions",
    "credential_fields",
    "get_integration",
    "integrations",
    "is_secret_key",
    "secret_keys",
]

MASK = "********"
"""What a secret metadata value is replaced with in every response."""

OAUTH_TOKEN_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "bot_token",
        "token",
        "password",
        "api_key",
        "secret",
    }
)
"""Metadata keys treated as secrets for every type (OAuth tokens supplied through the API)."""

_SECRET_LIKE = re.compile(r"(secret|token|passw|api_?key|private_?key|credential)", re.IGNORECASE)


@cache
def _records() -> tuple[dict[str, Any], ...]:
    text = resources.files(__package__).joinpath("integrations.json").read_text("utf-8")
    records: list[dict[str, Any]] = json.loads(text)
    return tuple(sorted(records, key=lambda rec: str(rec["type"])))


@cache
def _by_type() -> dict[str, dict[str, Any]]:
    return {str(rec["type"]): rec for rec in _records()}


def integrations() -> list[dict[str, Any]]:
    """Every Integration record, alphabetical by type (a fresh copy the caller may mutate)."""
    return copy.deepcopy(list(_records()))


def get_integration(integration_type: str) -> dict[str, Any] | None:
    """The Integration record of `integration_type` (a copy), or None for an unknown type."""
    record = _by_type().get(integration_type)
    return copy.deepcopy(record) if record is not None else None


INTEGRATION_TYPES: tuple[str, ...] = tuple(str(rec["type"]) for rec in _records())


def action_keys(integration_type: str) -> list[str]:
    """The action keys (`metadata.action` values) of a type, in catalog order; [] if unknown."""
    record = _by_type().get(integration_type)
    return list(record["actions"]) if record else []


LIVE_DATA_KINDS = frozenset({"simple", "advanced"})
"""Action inputs that pick an item of the connection's live data (`field` inputs are typed in)."""


def live_data_keys(action: dict[str, Any]) -> list[str]:
    """The live-data lists an action picks from (`lists`, `properties`...), in catalog order."""
    keys = [str(item["key"]) for item in action.get("data", []) if item["kind"] in LIVE_DATA_KINDS]
    return list(dict.fromkeys(keys))


def connection_actions(integration_type: str, live: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """GET /connections/{id}/actions: each catalog action of the type, keyed by action key, with
    its catalog metadata (key, label, noun, fields, display) and as `data` the connection's live
    items for that action's inputs (`{"lists": [...]}`; `{}` for action-only actions)."""
    record = _by_type().get(integration_type)
    if record is None:
        return {}
    actions: dict[str, dict[str, Any]] = {}
    for key, action in record["actions"].items():
        entry = copy.deepcopy({name: value for name, value in action.items() if name != "data"})
        entry["data"] = {name: copy.deepcopy(live.get(name, [])) for name in live_data_keys(action)}
        actions[key] = entry
    return actions


def credential_fields(integration_type: str) -> list[dict[str, Any]]:
    """The `authentication.fields` of a type (copies); [] for OAuth or unknown types."""
    record = _by_type().get(integration_type)
    if record is None:
        return []
    return copy.deepcopy(list(record["authentication"].get("fields", [])))


def auth_type(integration_type: str) -> str | None:
    """`api_key`, `oauth`, `none` or `basic`; None for an unknown type."""
    record = _by_type().get(integration_type)
    return str(record["authentication"]["type"]) if record else None


def secret_keys(integration_type: str) -> set[str]:
    """Declared secret metadata keys: the `password` credential fields plus OAUTH_TOKEN_KEYS."""
    declared = {
        str(f["key"]) for f in credential_fields(integration_type) if f.get("type") == "password"
    }
    return declared | set(OAUTH_TOKEN_KEYS)


def is_secret_key(integration_type: str, key: str) -> bool:
    """True when metadata `key` must never be echoed (declared or credential-looking)."""
    return key in secret_keys(integration_type) or bool(_SECRET_LIKE.search(key))
