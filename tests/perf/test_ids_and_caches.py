"""Time-ordered ids and the in-memory caches of the hot path (issue 7): same answers as without."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx

from meshes_emulator import ids
from meshes_emulator.clock import isoformat
from meshes_emulator.ids import IdFactory
from pytest_meshes import MeshesServer
from tests.api.event_helpers import create_connection, create_rule, emit
from tests.helpers import emulator_of


def test_uuid7_ids_increase_when_the_clock_stands_still_or_steps_back() -> None:
    ids = IdFactory(0)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    instants = [start] * 50 + [start + timedelta(milliseconds=1)] * 5 + [start] * 5
    made = [ids.uuid7(moment) for moment in instants]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    assert uuid.UUID(made[0]).int >> 80 == int(start.timestamp() * 1000)


def test_uuid7_ids_are_reproducible_and_leave_other_ids_alone() -> None:
    first, second = IdFactory(3), IdFactory(3)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert [first.uuid7(moment) for _ in range(3)] == [second.uuid7(moment) for _ in range(3)]
    assert first.uuid() == second.uuid()  # drawing v7 ids did not shift the v4 stream
    assert uuid.UUID(first.uuid()).version == 4
    first.reseed()
    assert first.uuid7(moment) == IdFactory(3).uuid7(moment)


def test_event_and_rule_event_ids_sort_by_creation(meshes_server: MeshesServer, api: httpx.Client,
                                                   ingest: httpx.Client) -> None:
    workspace = meshes_server.workspace_id
    assert workspace is not None
    for kind in ("slack", "hubspot"):
        connection = create_connection(api, workspace, kind, name=kind)
        create_rule(api, workspace, connection["id"], action="send_message" if kind == "slack"
                    else "add_to_list", metadata={"id": "C1", "template": "hi"})
    created = [emit(ingest)["id"] for _ in range(5)]  # the manual clock stands still
    assert created == sorted(created)
    assert all(uuid.UUID(event_id).version == 7 for event_id in created)
    listed = [record["id"] for record in api.get("/events").json()["records"]]
    assert listed == sorted(created, reverse=True)
    rule_event_ids = [r["id"] for e in created for r in api.get(f"/events/{e}").json()["rule_events"]]
    assert rule_event_ids == sorted(rule_event_ids) and len(rule_event_ids) == 10
    assert uuid.UUID(meshes_server.org_id).version == 4


def test_rules_added_and_removed_between_events_apply_at_once(meshes_server: MeshesServer,
                                                              api: httpx.Client,
                                                              ingest: httpx.Client) -> None:
    workspace = meshes_server.workspace_id
    assert workspace is not None

    def rules_of(event_id: str) -> list[str]:
        return sorted(r["rule"] for r in api.get(f"/events/{event_id}").json()["rule_events"])

    assert rules_of(emit(ingest)["id"]) == []  # caches the (empty) rules of user.signup
    slack = create_connection(api, workspace, "slack", name="slack")
    first = create_rule(api, workspace, slack["id"], action="send_message",
                        metadata={"id": "C1", "template": "hi"})
    assert rules_of(emit(ingest)["id"]) == [first["id"]]
    hubspot = create_connection(api, workspace, "hubspot", name="hubspot")
    second = create_rule(api, workspace, hubspot["id"], action="add_to_list", metadata={"id": "7"})
    filtered = create_rule(api, workspace, hubspot["id"], action="add_to_list",
                           metadata={"id": "8"}, resource="order")
    assert rules_of(emit(ingest)["id"]) == sorted([first["id"], second["id"]])
    assert rules_of(emit(ingest, resource="order")["id"]) == sorted(
        [first["id"], second["id"], filtered["id"]])
    assert api.delete(f"/rules/{first['id']}").status_code == 200
    assert rules_of(emit(ingest)["id"]) == [second["id"]]
    assert api.delete(f"/connections/{hubspot['id']}?force_delete=true").status_code == 200
    assert rules_of(emit(ingest)["id"]) == []


def test_keys_and_tokens_remembered_before_a_reset_are_refused_after(
        meshes_server: MeshesServer) -> None:
    from pytest_meshes.handle import mint_token

    _, key = meshes_server.create_workspace("Second")
    other = meshes_server.create_org("Other")
    body = {"event": "user.signup", "payload": {"email": "ada@example.com"}}
    default = {"Authorization": f"Bearer {meshes_server.token(lifetime=60)}"}
    other_token = mint_token(other["access_key"], other["secret_key"], other["org_id"])
    with httpx.Client(base_url=meshes_server.api_url, timeout=30) as client:
        for _ in range(2):  # the second time from the caches
            assert client.post("/events", json=body,
                               headers={"X-Meshes-Publishable-Key": key}).status_code == 201
            assert client.get("/workspaces", headers=default).status_code == 200
            assert client.get("/workspaces", headers={
                "Authorization": f"Bearer {other_token}"}).status_code == 200
        meshes_server.reset()
        assert client.post("/events", json=body,
                           headers={"X-Meshes-Publishable-Key": key}).status_code == 401
        assert client.get("/workspaces", headers={
            "Authorization": f"Bearer {other_token}"}).status_code == 401
        assert client.get("/workspaces", headers=default).status_code == 200  # still a valid key


def test_a_remembered_token_still_expires(meshes_server: MeshesServer) -> None:
    """The token cache skips the signature check, never the expiry (checked on the wall clock)."""
    import pytest

    from meshes_emulator import auth
    from meshes_emulator.clock import wall_clock
    from meshes_emulator.errors import Unauthorized

    emulator = emulator_of(meshes_server)
    token = meshes_server.token(lifetime=30)
    headers = {"authorization": f"Bearer {token}"}
    principal = auth.authenticate(emulator, headers, auth.MACHINE)
    assert emulator.store.cache[auth.TOKEN_CACHE][token] == (principal, pytest.approx(
        wall_clock() + 30, abs=5))
    # A token remembered while it was valid, whose expiry has passed since:
    now = int(wall_clock())
    expired = meshes_server.token(iat=now - 60, exp=now - auth.LEEWAY_SECONDS - 1)
    emulator.store.cache[auth.TOKEN_CACHE][expired] = (principal, now - auth.LEEWAY_SECONDS - 1)
    with pytest.raises(Unauthorized, match="expired"):
        auth.authenticate(emulator, {"authorization": f"Bearer {expired}"}, auth.MACHINE)


def test_attempt_and_delivery_ids_are_the_uuid5_of_their_names() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        rule_event_id = str(uuid.UUID(int=rng.getrandbits(128)))
        number = rng.randint(1, 10_000)
        attempt = ids.attempt_id(rule_event_id, number)
        assert attempt == str(uuid.uuid5(ids.ENGINE_NAMESPACE, f"{rule_event_id}:attempt:{number}"))
        assert ids.delivery_id(attempt) == str(uuid.uuid5(ids.ENGINE_NAMESPACE, f"{attempt}:delivery"))
        assert ids.derived_id(rule_event_id, "x", number) == str(
            uuid.uuid5(ids.ENGINE_NAMESPACE, f"{rule_event_id}:x:{number}"))


def test_isoformat_keeps_the_text_of_a_second_without_changing_any_answer() -> None:
    rng = random.Random(9)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ordered = sorted(start + timedelta(microseconds=rng.randint(0, 5_000_000)) for _ in range(3000))
    scattered = [start + timedelta(microseconds=rng.randint(-10**14, 10**14)) for _ in range(3000)]
    elsewhere = timezone(timedelta(hours=-5, minutes=-30))
    edges = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
             start - timedelta(microseconds=1), start, start + timedelta(microseconds=999)]
    for n, instant in enumerate([*ordered, *scattered, *edges]):
        moment = instant.astimezone(elsewhere) if n % 3 == 0 and instant.year > 1 else instant
        expected = instant.isoformat(timespec="milliseconds")[:-6] + "Z"
        assert isoformat(moment) == expected
        assert isoformat(moment) == expected  # the cached instant answers the same
