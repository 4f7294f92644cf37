"""Helpers for the issue-5 tests: routes (a connection with a rule), rule_events, attempts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Route:
    """A connection with one rule on `user.signup`."""

    connection: dict[str, Any]
    rule: dict[str, Any]

    @property
    def connection_id(self) -> str:
        return str(self.connection["id"])

    @property
    def rule_id(self) -> str:
        return str(self.rule["id"])


def rule_event(api: httpx.Client, event_id: str, rule_id: str) -> dict[str, Any]:
    body = api.get(f"/events/{event_id}").json()
    found: dict[str, Any] = next(r for r in body["rule_events"] if r["rule"] == rule_id)
    return found


def attempts(api: httpx.Client, event_id: str, rule_id: str) -> list[dict[str, Any]]:
    """Attempts oldest first."""
    records: list[dict[str, Any]] = api.get(f"/events/{event_id}/rules/{rule_id}/attempts").json()["records"]
    return records[::-1]
