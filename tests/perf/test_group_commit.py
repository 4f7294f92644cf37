"""Group commit: concurrent POST /events requests share one transaction, each gets its own answer."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshes_emulator import Settings, create_app
from meshes_emulator.context import Emulator
from meshes_emulator.defaults import DEFAULT_PUBLISHABLE_KEY, DEFAULT_WORKSPACE_ID
from meshes_emulator.services import events
from meshes_emulator.store import events as event_store
from pytest_meshes.server import ServerThread
from tests.engine.aio import run_async

KEY = {"X-Meshes-Publishable-Key": DEFAULT_PUBLISHABLE_KEY}
OTHER_WORKSPACE = "00000000-0000-4000-8000-000000000001"


def _app(tmp_path: Path, in_flight: int | None) -> Any:
    app = create_app(Settings(db_path=str(tmp_path / "group.db"), clock="manual",
                              background_dispatcher=False))
    if in_flight is not None:  # as serving.FastServer reports it under concurrent load
        app.state.emulator.requests_in_flight = lambda: in_flight
    return app


def _groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every group `create_group` writes."""
    sizes: list[int] = []
    original = events.create_group

    def spy(emulator: Any, batch: list[Any]) -> list[Any]:
        sizes.append(len(batch))
        return original(emulator, batch)

    monkeypatch.setattr(events, "create_group", spy)
    return sizes


async def _post_all(app: Any, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost/api/v1") as client:
        return list(await asyncio.gather(*[client.post("/events", headers=KEY, json=body)
                                           for body in bodies]))


def _stored(app: Any) -> list[dict[str, Any]]:
    emulator: Emulator = app.state.emulator
    return emulator.store.all("SELECT id, event, payload FROM events ORDER BY rowid")


def test_concurrent_events_share_a_transaction_and_keep_their_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _groups(monkeypatch)
    app = _app(tmp_path, in_flight=8)
    bodies = [{"event": "user.signup", "payload": {"n": n}} for n in range(8)]
    answers = run_async(_post_all(app, bodies))
    assert [a.status_code for a in answers] == [201] * 8
    assert max(sizes) > 1 and sum(sizes) == 8
    created = [a.json()["event"] for a in answers]
    stored = _stored(app)
    assert [row["id"] for row in stored] == [event["id"] for event in created]
    assert [row["payload"] for row in stored] == [f'{{"n":{n}}}' for n in range(8)]
    assert sorted(event["id"] for event in created) == [event["id"] for event in created]


def test_a_refused_event_is_refused_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = _groups(monkeypatch)
    app = _app(tmp_path, in_flight=8)
    bodies: list[dict[str, Any]] = [{"event": "user.signup", "payload": {"n": n}} for n in range(5)]
    bodies[2]["workspace"] = OTHER_WORKSPACE  # another workspace than the key's: 403
    answers = run_async(_post_all(app, bodies))
    assert [a.status_code for a in answers] == [201, 201, 403, 201, 201]
    assert answers[2].json()["message"] == "Forbidden"
    assert max(sizes) > 1
    stored = _stored(app)
    assert [row["payload"] for row in stored] == ['{"n":0}', '{"n":1}', '{"n":3}', '{"n":4}']


def test_a_failing_group_writes_nothing_and_answers_500_to_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(tmp_path, in_flight=8)
    calls: list[int] = []

    def broken(store: Any, rows: list[Any]) -> None:
        calls.append(len(rows))
        event_store.insert_rule_events(store, [])  # something ran inside the transaction...
        store.execute("INSERT INTO meta (key, value) VALUES ('half', 'written')")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(event_store, "insert_events", broken)
    bodies = [{"event": "user.signup", "payload": {"n": n}} for n in range(4)]
    answers = run_async(_post_all(app, bodies))
    assert [a.status_code for a in answers] == [500] * 4
    assert all(a.json()["message"] == "Internal Server Error" for a in answers)
    assert "RuntimeError" in answers[0].json()["error"]["message"]
    assert max(calls) > 1
    assert _stored(app) == []
    assert app.state.emulator.store.one("SELECT count(*) AS n FROM meta WHERE key = 'half'") == {"n": 0}
    assert len(app.state.emulator.errors) == 4  # each request's failure is captured
    monkeypatch.undo()
    later = run_async(_post_all(app, [{"event": "user.signup", "payload": {"n": 1}}]))
    assert later[0].status_code == 201


def test_a_request_alone_is_committed_without_waiting_for_a_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _groups(monkeypatch)
    for in_flight in (None, 1):  # another server than FastServer, or FastServer with one request
        (tmp_path / str(in_flight)).mkdir()
        app = _app(tmp_path / str(in_flight), in_flight=in_flight)
        answers = run_async(_post_all(app, [{"event": "user.signup", "payload": {"n": 1}} for _ in range(3)]))
        assert [a.status_code for a in answers] == [201] * 3
    assert sizes == [1] * 6


def test_the_fast_server_reports_its_requests_to_the_emulator(tmp_path: Path) -> None:
    app = create_app(Settings(db_path=str(tmp_path / "served.db"), clock="manual"))
    emulator = app.state.emulator
    thread = ServerThread(app)
    thread.start()
    try:
        assert emulator.requests_in_flight is not None and emulator.requests_received is not None
        assert emulator.requests_in_flight() == 0
        before = emulator.requests_received()
        results: list[int] = []

        def post(n: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{thread.port}", trust_env=False) as client:
                for m in range(10):
                    response = client.post("/api/v1/events", headers=KEY,
                                           json={"event": "load", "payload": {"n": n, "m": m}})
                    results.append(response.status_code)

        workers = [threading.Thread(target=post, args=(n,)) for n in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert results == [201] * 60
        assert emulator.requests_received() - before == 60
        rows = emulator.store.all("SELECT payload FROM events WHERE workspace_id = ?",
                                  [DEFAULT_WORKSPACE_ID])
        assert sorted(rows, key=lambda r: r["payload"]) == sorted(
            ({"payload": f'{{"n":{n},"m":{m}}}'} for n in range(6) for m in range(10)),
            key=lambda r: r["payload"])
    finally:
        thread.stop()
