"""API faults: the public API itself answers an error status, in the Meshes error body.

Every response goes through the contract-checking clients (`api`, `ingest`, `raw`), so a fault's
body is held to the reference's Error schema.
"""

from __future__ import annotations

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import emit

EVENT = {"event": "user.signup", "payload": {"email": "ada@example.com"}}


def test_429_with_retry_after_then_accepted(ingest: httpx.Client, api: httpx.Client,
                                            meshes_server: MeshesServer) -> None:
    fault = meshes_server.fail_api(429, method="POST", path="/events", retry_after=7, times=2)
    for _ in range(2):
        refused = ingest.post("/events", json=EVENT)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "7"
        assert refused.headers["X-Meshes-Emulator-Fault"] == fault["id"]
        assert refused.json() == {"message": "Too Many Requests", "error": {
            "name": "TooManyRequests",
            "message": f"Too Many Requests (injected by emulator fault {fault['id']})"}}
    assert api.get("/events").json()["count"] == 0  # nothing was written
    assert ingest.post("/events", json=EVENT).status_code == 201
    assert meshes_server.faults()[0]["hits"] == 2


def test_default_retry_after_only_on_429(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    meshes_server.fail_api(429, path="/events", times=1)
    assert ingest.post("/events", json=EVENT).headers["Retry-After"] == "1"
    meshes_server.fail_api(503, path="/events", times=1)
    assert "Retry-After" not in ingest.post("/events", json=EVENT).headers
    meshes_server.fail_api(503, path="/events", times=1, retry_after=120)
    assert ingest.post("/events", json=EVENT).headers["Retry-After"] == "120"


@pytest.mark.parametrize(("status", "name"), [(503, "ServiceUnavailable"),
                                              (500, "InternalServerError"),
                                              (502, "Error")])
def test_server_errors(api: httpx.Client, meshes_server: MeshesServer, status: int, name: str) -> None:
    meshes_server.fail_api(status, method="GET", path="/workspaces", message="Down for maintenance")
    response = api.get("/workspaces")
    assert response.status_code == status
    assert response.json()["error"] == {"name": name, "message": "Down for maintenance"}
    assert api.get(f"/workspaces/{meshes_server.workspace_id}").status_code == 200  # another route


def test_method_and_path_patterns(api: httpx.Client, ingest: httpx.Client,
                                  meshes_server: MeshesServer) -> None:
    created = emit(ingest)
    meshes_server.fail_api(503, method=["GET"], path="/events/{event_id}")
    assert api.get(f"/events/{created['id']}").status_code == 503
    assert api.get(f"/events/{created['id']}/payload").status_code == 200  # one segment only
    assert api.get("/events").status_code == 200
    assert ingest.post("/events", json=EVENT).status_code == 201
    meshes_server.clear_faults()
    meshes_server.fail_api(500, path="/api/v1/events/*")  # the prefix is optional; * spans segments
    assert api.get(f"/events/{created['id']}/payload").status_code == 500
    assert ingest.post("/events/bulk", json=[EVENT]).status_code == 500
    assert ingest.post("/events", json=EVENT).status_code == 201


def test_every_route_and_before_authentication(raw: httpx.Client, meshes_server: MeshesServer) -> None:
    meshes_server.fail_api(503, times=1)  # any method, any path
    response = raw.get("/api/v1/workspaces")  # no credentials at all
    assert response.status_code == 503
    assert raw.get("/api/v1/workspaces").status_code == 401
    assert raw.get("/_emulator/health").status_code == 200  # the admin API is never affected


def test_schedules(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    meshes_server.fail_api(503, path="/events", every=2)
    statuses = [ingest.post("/events", json=EVENT).status_code for _ in range(4)]
    assert statuses == [201, 503, 201, 503]
    meshes_server.clear_faults()
    meshes_server.fail_api(503, path="/events", attempts=[1, 3], budget=1)
    statuses = [ingest.post("/events", json=EVENT).status_code for _ in range(4)]
    assert statuses == [503, 201, 201, 201]  # the budget ran out before request 3


def test_probability_is_seeded(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    def run(seed: int) -> list[int]:
        meshes_server.reset(seed=seed)
        meshes_server.fail_api(503, path="/events", probability=0.5)
        return [ingest.post("/events", json=EVENT).status_code for _ in range(30)]

    first = run(3)
    assert first == run(3)
    assert 5 <= first.count(503) <= 25
    assert first != run(4)


def test_deleting_the_fault_restores_the_route(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    fault = meshes_server.fail_api(503)
    assert ingest.post("/events", json=EVENT).status_code == 503
    meshes_server.remove_fault(fault)
    assert ingest.post("/events", json=EVENT).status_code == 201


def test_custom_body(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    meshes_server.admin("POST", "/faults", {"kind": "api", "status": 429, "path": "/events",
                                            "body": {"message": "Too Many Requests"}})
    response = ingest.post("/events", json=EVENT)
    assert response.json() == {"message": "Too Many Requests"}  # reference §4.3's bare body
