"""Snapshots: a restore is indistinguishable from the moment the snapshot was taken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from meshes_emulator.store import Store
from meshes_emulator.store.lru import Cache
from pytest_meshes import MeshesServer
from tests.api.event_helpers import create_connection, create_rule, emit


def script(server: MeshesServer, api: httpx.Client, ingest: httpx.Client) -> list[Any]:
    """What a test would do after the restore: every id and timestamp it sees."""
    workspace = api.post("/workspaces", json={"name": "After"}).json()["workspace"]
    event = emit(ingest)
    server.advance(5)
    server.fail(status=503, first=1)
    fault = server.faults()[-1]
    second = emit(ingest)
    server.advance(2)
    detail = api.get(f"/events/{second['id']}").json()
    return [workspace["id"], workspace["created_at"], event["id"], event["created_at"],
            fault["id"], fault["created_at"], second["id"], second["created_at"],
            [(r["status"], r["attempt_count"], r["completed_at"]) for r in detail["rule_events"]]]


def test_restore_replays_the_same_ids_and_timestamps(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client, admin: httpx.Client
) -> None:
    ws = meshes_server.workspace_id or ""
    hubspot = create_connection(api, ws, "hubspot", name="HubSpot")
    create_rule(api, ws, hubspot["id"], action="add_to_list", metadata={"id": "42"})
    emit(ingest)
    meshes_server.advance(1)
    taken = admin.post("/snapshots", json={"name": "shop"})
    assert taken.status_code == 201
    assert taken.json()["clock"] == {"mode": "manual", "now": "2026-01-01T00:00:01.000Z"}
    # the reference run: the script straight after the snapshot
    expected = script(meshes_server, api, ingest)
    # mutate a lot (ids drawn, clock moved, faults, tables), then restore
    admin.post("/snapshots/shop/restore")
    api.post("/workspaces", json={"name": "Noise"})
    for _ in range(3):
        emit(ingest)
    meshes_server.fail(status=500)
    meshes_server.advance(3600)
    restored = admin.post("/snapshots/shop/restore")
    assert restored.status_code == 200 and restored.json()["name"] == "shop"
    assert meshes_server.now() == "2026-01-01T00:00:01.000Z"
    assert api.get("/events").json()["count"] == 1
    assert api.get("/workspaces").json()["count"] == 1
    assert meshes_server.faults() == []
    assert script(meshes_server, api, ingest) == expected
    meshes_server.delete_snapshot("shop")  # snapshots outlive resets


def test_list_delete_and_errors(meshes_server: MeshesServer, admin: httpx.Client) -> None:
    before = {s["name"] for s in meshes_server.snapshots()}  # snapshots outlive resets
    admin.post("/snapshots", json={"name": "a"})
    meshes_server.advance(10)
    second = admin.post("/snapshots", json={"name": "b.2"}).json()
    assert second["clock"]["now"] == "2026-01-01T00:00:10.000Z" and second["size_bytes"] > 0
    admin.post("/snapshots", json={"name": "a"})  # replaced
    listed = admin.get("/snapshots").json()
    assert [s["name"] for s in listed["records"] if s["name"] not in before] == ["a", "b.2"]
    assert listed["count"] == len(before) + 2
    assert admin.delete("/snapshots/a").json()["name"] == "a"
    missing = admin.post("/snapshots/a/restore")
    assert missing.status_code == 404 and missing.json()["message"] == "Snapshot not found"
    assert admin.delete("/snapshots/a").status_code == 404
    for bad in ({}, {"name": ""}, {"name": "a/b"}, {"name": 3}, {"name": "x" * 65}):
        refused = admin.post("/snapshots", json=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["data"][0]["param"] == "name"
    assert admin.post("/snapshots", content=b"[1]",
                      headers={"content-type": "application/json"}).status_code == 400
    admin.delete("/snapshots/b.2")


def test_snapshots_survive_reset_and_bring_the_clock_mode_back(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    meshes_server.advance(30)
    meshes_server.save_snapshot("manual")
    meshes_server.admin("POST", "/reset", {"clock": "system"})
    assert meshes_server.admin("GET", "/clock")["mode"] == "system"
    meshes_server.restore_snapshot("manual")
    assert meshes_server.admin("GET", "/clock") == {"mode": "manual",
                                                    "now": "2026-01-01T00:00:30.000Z"}
    meshes_server.delete_snapshot("manual")


def test_context_manager_undoes_the_block(meshes_server: MeshesServer, api: httpx.Client) -> None:
    with meshes_server.snapshot("scratch") as taken:
        assert taken["name"] == "scratch"
        api.post("/workspaces", json={"name": "Temporary"})
        meshes_server.advance(60)
    assert api.get("/workspaces").json()["count"] == 1
    assert meshes_server.now() == "2026-01-01T00:00:00.000Z"
    # the block's snapshot is gone (snapshots survive resets: other tests' may be listed)
    assert "scratch" not in [snapshot["name"] for snapshot in meshes_server.snapshots()]


@pytest.fixture(scope="module")
def shop(meshes_server_process: MeshesServer) -> str:
    """An expensive world built once and kept as a snapshot."""
    server = meshes_server_process
    server.reset()
    with server.client() as api:
        workspace = api.post("/workspaces", json={"name": "Shop"}).json()["workspace"]
    server.save_snapshot("shop-world")
    return str(workspace["id"])


@pytest.mark.meshes(snapshot="shop-world")
def test_marker_restores_the_snapshot(meshes_server: MeshesServer, api: httpx.Client,
                                      shop: str) -> None:
    assert api.get(f"/workspaces/{shop}").status_code == 200
    api.delete(f"/workspaces/{shop}")


@pytest.mark.meshes(snapshot="shop-world")
def test_marker_restores_it_again(meshes_server: MeshesServer, api: httpx.Client,
                                  shop: str) -> None:
    assert api.get(f"/workspaces/{shop}").status_code == 200
    assert api.get("/workspaces").json()["count"] == 2


@pytest.mark.parametrize("where", ["memory", "file"])
def test_store_image_round_trip(where: str, tmp_path: Path) -> None:
    store = Store(":memory:" if where == "memory" else str(tmp_path / "s.db"))
    with store.transaction():
        store.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
    image = store.image()
    with store.transaction():
        store.execute("INSERT INTO meta (key, value) VALUES ('b', '2')")
    store.cached(Cache[dict[str, int]]("x", dict))["k"] = 1
    store.replace_with(image)
    assert store.tuples("SELECT key FROM meta WHERE key IN ('a', 'b')") == [("a",)]
    assert store.cache == {}
    with store.transaction():  # still writable, foreign keys still on
        store.execute("INSERT INTO meta (key, value) VALUES ('c', '3')")
    assert store.tuples("PRAGMA foreign_keys") == [(1,)]
    mode = store.tuples("PRAGMA journal_mode")[0][0]
    assert mode == ("wal" if where == "file" else "memory")
    store.close()
