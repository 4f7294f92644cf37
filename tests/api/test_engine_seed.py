"""Seed-file sections of the engine: `rules` and `events` inside a workspace."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import deliveries, settle

SEED = """
workspaces:
  - name: Seeded
    event_types: [user.signup]
    connections:
      - {name: Team Slack, type: slack, ref: chat, metadata: {access_token: t}}
    rules:
      - {connection: chat, event: user.signup, ref: greet, id: 0f000001-0000-4000-8000-000000000001,
         metadata: {action: send_message, id: C1, template: "Hi {{first_name}}"}}
      - {connection: Team Slack, event: order.paid, resource: orders, active: false,
         metadata: {action: send_message, id: C2, template: "paid"}}
    events:
      - {event: user.signup, id: 0e000001-0000-4000-8000-000000000001,
         payload: {email: ada@example.com, first_name: Ada}}
"""


def test_seeded_rules_and_events_are_delivered(
    api: httpx.Client, meshes_server: MeshesServer, tmp_path: Path
) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED)
    meshes_server.reset(fixtures=[str(path)])
    rules = api.get("/rules").json()["records"]
    assert {r["event"] for r in rules} == {"user.signup", "order.paid"}
    greet = api.get("/rules/0f000001-0000-4000-8000-000000000001").json()
    assert greet["created_by"] == "fixture" and greet["metadata"]["template"] == "Hi {{first_name}}"
    inactive = next(r for r in rules if r["event"] == "order.paid")
    assert inactive["active"] is False and inactive["resource"] == "orders"
    settle(meshes_server)
    event = api.get("/events/0e000001-0000-4000-8000-000000000001").json()
    assert event["status"] == "completed" and event["created_by"] == "fixture"
    (sink,) = deliveries(meshes_server, rule=greet["id"])
    assert sink["request"]["requests"][0]["body"] == {"channel": "C1", "text": "Hi Ada"}


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ("rules:\n      - {connection: nope, event: a, metadata: {action: send_message}}",
         "rules[0]: connection"),
        pytest.param("rules:\n      - {connection: chat, event: a, metadata: {action: explode}}",
                     "rules[0]: metadata.action", marks=pytest.mark.meshes(strict=True)),
        ("rules:\n      - plain text", "rules[0]: must be a mapping"),
        ("events:\n      - {event: a, payload: [1]}", "events[0]: payload"),
        ("events:\n      - {event: a, payload: {x: 1}, id: 12}", "events[0]: id"),
    ],
)
def test_bad_seed_entries_name_themselves(
    meshes_server: MeshesServer, tmp_path: Path, section: str, needle: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "workspaces:\n  - name: Broken\n    connections:\n"
        "      - {name: Chat, type: slack, ref: chat, metadata: {}}\n    " + section + "\n"
    )
    with httpx.Client(base_url=meshes_server.url) as raw:
        response = raw.post("/_emulator/reset", json={"fixtures": [str(path)]})
    assert response.status_code == 400
    assert needle in response.json()["error"]["message"], response.text
