"""The fixture's per-test reset does nothing when nothing happened since the last one with the
same options (issue 18), and runs in full whenever anything may have changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import meshes_emulator
from meshes_emulator.clock import ManualClock
from meshes_emulator.services import admin
from pytest_meshes import MeshesServer


@pytest.fixture
def emulator() -> Iterator[MeshesServer]:
    with meshes_emulator.running() as running:
        yield running


@pytest.fixture
def resets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real resets (admin.reset calls)."""
    calls: list[int] = []
    real = admin.reset

    def counting(*args: object, **kwargs: object) -> None:
        calls.append(1)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(admin, "reset", counting)
    return calls


def events(emulator: MeshesServer) -> int:
    with emulator.client() as api:
        count: int = api.get("/events").json()["count"]
    return count


def test_a_reset_after_nothing_happened_is_skipped(emulator: MeshesServer, resets: list[int]) -> None:
    emulator.reset()
    key = emulator.publishable_key
    emulator.reset()
    emulator.reset()
    assert len(resets) == 1
    assert emulator.publishable_key == key  # the same credentials as after the real one


def test_a_request_makes_the_next_reset_run(emulator: MeshesServer, resets: list[int]) -> None:
    emulator.reset()
    with emulator.ingest_client() as ingest:
        assert ingest.post("/events", json={"event": "user.signup", "payload": {}}).status_code == 201
    assert events(emulator) == 1
    emulator.reset()
    assert events(emulator) == 0
    assert len(resets) == 2


def test_a_read_only_admin_call_also_counts(emulator: MeshesServer, resets: list[int]) -> None:
    emulator.reset()
    emulator.idle()  # conservative: any request may have changed something
    emulator.reset()
    assert len(resets) == 2


def test_rows_changed_without_a_request_make_it_run(emulator: MeshesServer, resets: list[int]) -> None:
    emulator.reset()
    door = emulator.door
    assert door is not None
    # a change no request made (as a background delivery would): straight into the store
    door.thread.run(lambda: door.emulator.store.execute("UPDATE workspaces SET name = 'changed'"))
    emulator.reset()
    assert len(resets) == 2
    with emulator.client() as api:
        assert api.get("/workspaces").json()["records"][0]["name"] != "changed"


def test_reaching_into_the_emulator_makes_it_run(emulator: MeshesServer, resets: list[int]) -> None:
    emulator.reset()
    door = emulator.door
    assert door is not None
    start = door.emulator.clock.now()
    running = emulator.emulator  # whoever holds the Emulator may change anything...
    assert running is not None and isinstance(running.clock, ManualClock)
    clock = running.clock
    door.thread.run(lambda: clock.advance(60))  # ...without a request or a row changed
    emulator.reset()
    assert len(resets) == 2
    assert door.emulator.clock.now() == start


def test_reaching_in_alone_is_enough(emulator: MeshesServer, resets: list[int]) -> None:
    emulator.reset()
    assert emulator.app is not None
    emulator.reset()
    emulator.reset()
    assert len(resets) == 2  # the reach-in counted once


def test_other_options_make_it_run(emulator: MeshesServer, resets: list[int]) -> None:
    emulator.reset(seed=1)
    emulator.reset(seed=2)
    assert len(resets) == 2
    assert emulator.emulator is not None and emulator.emulator.ids.seed == 2


def test_a_captured_error_makes_it_run(emulator: MeshesServer, resets: list[int],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.reset()
    door = emulator.door
    assert door is not None
    door.emulator.capture("GET", "/x", RuntimeError("boom"))
    emulator.reset()
    assert len(resets) == 2
    emulator.check()  # the reset forgot it
