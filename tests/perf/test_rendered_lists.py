"""Event list pages from records rendered once per event state: always what the database holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from meshes_emulator import Settings, create_app
from meshes_emulator.defaults import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_ORG_ID,
    DEFAULT_PUBLISHABLE_KEY,
    DEFAULT_SECRET_KEY,
    DEFAULT_WORKSPACE_ID,
)
from meshes_emulator.paging import PageRequest, envelope
from meshes_emulator.schemas import events as wire
from meshes_emulator.services import events
from meshes_emulator.store import events as event_store
from meshes_emulator.store.paging import scoped_page_query
from pytest_meshes.clients import MachineAuth
from tests.api.connection_helpers import VALID_METADATA
from tests.engine.aio import run_async

AUTH = MachineAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, DEFAULT_ORG_ID)
KEY = {"X-Meshes-Publishable-Key": DEFAULT_PUBLISHABLE_KEY}


def _app(tmp_path: Path) -> Any:
    return create_app(Settings(db_path=str(tmp_path / "lists.db"), clock="manual",
                               background_dispatcher=False))


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://localhost/api/v1")


async def _add_rule(client: httpx.AsyncClient) -> None:
    connection = (await client.post("/connections", auth=AUTH, json={
        "workspace": DEFAULT_WORKSPACE_ID, "type": "slack", "name": "slack",
        "metadata": VALID_METADATA["slack"]})).json()["connection"]
    rule = await client.post("/rules", auth=AUTH, json={
        "workspace": DEFAULT_WORKSPACE_ID, "event": "user.signup", "connection": connection["id"],
        "metadata": {"action": "send_message", "id": "C1", "template": "Hi"}})
    assert rule.status_code == 201, rule.text


def _from_scratch(app: Any, limit: int, after: int | None = None) -> bytes:
    """The page as the emulator rendered it before records were kept: every row, every time."""
    store = app.state.emulator.store
    req = PageRequest(limit=limit, after=after)
    where, params = scoped_page_query(DEFAULT_ORG_ID, req)
    rows = store.all(f"SELECT {event_store.EVENT_LIST_COLUMNS} FROM events{where}", params)
    return orjson.dumps(envelope(rows, req, wire.event))


async def _scenario(app: Any) -> list[tuple[bytes, bytes]]:
    """(answer, from scratch) pairs for pages read after each kind of change to events."""
    pairs: list[tuple[bytes, bytes]] = []

    async def compare(client: httpx.AsyncClient, limit: int = 5) -> dict[str, Any]:
        answer = await client.get("/events", params={"limit": limit}, auth=AUTH)
        assert answer.status_code == 200
        pairs.append((answer.content, _from_scratch(app, limit)))
        body: dict[str, Any] = answer.json()
        return body

    async with _client(app) as client:
        await _add_rule(client)
        ids = []
        for n in range(8):
            created = await client.post("/events", headers=KEY, json={
                "event": "user.signup" if n % 2 else "other.event",
                "payload": {"n": n}, "resource_id": f"r{n}"})
            ids.append(created.json()["event"]["id"])
        first = await compare(client)
        assert [r["status"] for r in first["records"]] == ["pending", "completed"] * 2 + ["pending"]
        await app.state.emulator.dispatcher.drain()  # deliveries complete the pending events
        after = await compare(client)
        assert [r["status"] for r in after["records"]] == ["completed"] * 5
        cursor = after["next_cursor"]
        second_page = await client.get("/events", params={"limit": 5, "cursor": cursor}, auth=AUTH)
        rowid = app.state.emulator.store.one("SELECT rowid AS r FROM events WHERE id = ?",
                                             [after["records"][-1]["id"]])["r"]
        pairs.append((second_page.content, _from_scratch(app, 5, rowid)))
        more = await client.post("/events", headers=KEY, json={
            "event": "user.signup", "payload": {"n": 9}})
        canceled = await client.post(f"/events/{more.json()['event']['id']}/cancel", auth=AUTH)
        assert canceled.status_code == 200, canceled.text
        latest = await compare(client)
        assert latest["records"][0]["status"] == "canceled"
        workspace_page = await client.get(f"/workspaces/{DEFAULT_WORKSPACE_ID}/events",
                                          params={"limit": 3, "status": "completed"}, auth=AUTH)
        assert [r["status"] for r in workspace_page.json()["records"]] == ["completed"] * 3
    return pairs


def test_pages_are_the_bytes_a_fresh_rendering_gives_after_every_change(tmp_path: Path) -> None:
    pairs = run_async(_scenario(_app(tmp_path)))
    assert len(pairs) == 4
    for answer, scratch in pairs:
        assert answer == scratch


def test_a_tiny_record_cache_gives_the_same_pages(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "MAX_RENDERED", 2)
    for answer, scratch in run_async(_scenario(_app(tmp_path))):
        assert answer == scratch


def test_a_rolled_back_update_leaves_no_rendered_record_behind(tmp_path: Path) -> None:
    app = _app(tmp_path)
    emulator = app.state.emulator

    async def run() -> tuple[bytes, bytes]:
        async with _client(app) as client:
            await client.post("/events", headers=KEY, json={"event": "e", "payload": {"n": 1}})
            event_id = (await client.get("/events", auth=AUTH)).json()["records"][0]["id"]
            with pytest.raises(RuntimeError), emulator.store.transaction():
                event_store.update_event(emulator.store, event_id, {"status": "failed"})
                # a page read inside the transaction renders the uncommitted state...
                events.list_page_json(emulator, DEFAULT_ORG_ID, PageRequest(limit=5, after=None))
                raise RuntimeError("rolled back")
            answer = await client.get("/events", params={"limit": 5}, auth=AUTH)
            return answer.content, _from_scratch(app, 5)

    answer, scratch = run_async(run())
    assert answer == scratch
    assert orjson.loads(answer)["records"][0]["status"] == "completed"


def test_kept_records_take_about_their_json_size(tmp_path: Path) -> None:
    """What the record cache allocates (tracemalloc: keys, values, the dict) stays within 1.5x
    the JSON it keeps (orjson's own bytes would keep its ~4 KiB working buffer each)."""
    import tracemalloc

    app = _app(tmp_path)
    emulator = app.state.emulator

    async def fill() -> None:
        async with _client(app) as client:
            batch = [{"event": "user.signup", "payload": {"email": f"user{n}@example.com", "n": n}}
                     for n in range(100)]
            created = await client.post("/events/bulk", headers=KEY, json=batch)
            assert created.status_code == 201, created.text

    run_async(fill())
    page = PageRequest(limit=100, after=None)
    events.list_page_json(emulator, DEFAULT_ORG_ID, page)  # statements prepared and cached
    emulator.store.cache.clear()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        events.list_page_json(emulator, DEFAULT_ORG_ID, page)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    kept = emulator.store.cache[event_store.RENDERED_CACHE]
    assert len(kept) == 100
    assert held <= 1.5 * sum(len(record) for record in kept.values())
