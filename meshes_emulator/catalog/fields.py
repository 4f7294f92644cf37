"""Destination field catalogs per integration type (reference §7.7, §12.4; behavior §4.4).

`fields.json` holds, per type, the list of ConnectionFieldDefinition objects
(`key`, `type`, `label`, `description?`, `constraints?`, `provider_meta?`) a connection of that
type exposes as mapping destinations: HubSpot contact properties, Mailchimp `email`/`ip_signup`
and merge fields, Intercom `email`/`external_id`/`name`/`phone`, Slack and Discord template
variables... The webhook type forwards the event envelope and has no fields.

`catalog_version(fields)` is the first 16 hex digits of the SHA-256 of the normalized list
(canonical JSON, keys sorted), so equal catalogs share a version and any change bumps it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["catalog_version", "catalog_version_of", "field_catalog"]


@cache
def _catalogs() -> dict[str, list[dict[str, Any]]]:
    text = resources.files(__package__).joinpath("fields.json").read_text("utf-8")
    data: dict[str, list[dict[str, Any]]] = json.loads(text)
    return data


def field_catalog(integration_type: str) -> list[dict[str, Any]]:
    """The field definitions of `integration_type` (a copy); [] for an unknown type."""
    return copy.deepcopy(_catalogs().get(integration_type, []))


def catalog_version_of(fields: Sequence[dict[str, Any]]) -> str:
    """Stable version of a field list: SHA-256 (16 hex) of its canonical JSON."""
    canonical = json.dumps(list(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def catalog_version(integration_type: str) -> str:
    """`catalog_version_of(field_catalog(integration_type))`."""
    return catalog_version_of(field_catalog(integration_type))
