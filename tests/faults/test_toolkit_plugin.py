"""The pytest toolkit as users run it: pytester in a subprocess, also under `-n 2`."""

from __future__ import annotations

import importlib.util

import pytest

from tests.helpers import run_pytester

pytest_plugins = ["pytester"]

TOOLKIT_TESTS = '''
import httpx
import pytest


def setup_hubspot(server):
    with server.client() as api:
        connection = api.post("/connections", json={
            "workspace": server.workspace_id, "type": "hubspot", "name": "HubSpot",
            "metadata": {"access_token": "t"}}).json()["connection"]
        api.post("/rules", json={"workspace": server.workspace_id, "connection": connection["id"],
                                 "event": "user.signup",
                                 "metadata": {"action": "add_to_list", "id": "42"}})
    return connection


def signup(server, n=0):
    with server.ingest_client() as ingest:
        response = ingest.post("/events", json={"event": "user.signup",
                                                "payload": {"email": f"u{n}@example.com"}})
    assert response.status_code == 201, response.text
    return response.json()["event"]


@pytest.mark.parametrize("n", range(4))
def test_recovers_after_two_503s(meshes_server, n):
    hubspot = setup_hubspot(meshes_server)
    meshes_server.fail(status=503, connection=hubspot, first=2)
    event = signup(meshes_server, n)
    meshes_server.advance(3)
    meshes_server.assert_delivered(event=event, connection=hubspot, attempts=3)
    (sink,) = meshes_server.deliveries(connection=hubspot)
    assert sink["request"]["requests"][0]["body"]["inputs"][0]["id"] == f"u{n}@example.com"
    assert [r["status"] for r in meshes_server.rule_events(event=event)] == ["completed"]


@pytest.mark.meshes(seed=11)
def test_api_fault(meshes_server):
    meshes_server.fail_api(429, method="POST", path="/events", times=1)
    with meshes_server.ingest_client() as ingest:
        first = ingest.post("/events", json={"event": "a", "payload": {"n": 1}})
        second = ingest.post("/events", json={"event": "a", "payload": {"n": 1}})
    assert (first.status_code, first.headers["Retry-After"], second.status_code) == (429, "1", 201)


def test_failure_message_has_the_timeline(meshes_server):
    hubspot = setup_hubspot(meshes_server)
    meshes_server.fail("timeout", connection=hubspot)
    event = signup(meshes_server)
    meshes_server.advance(60)
    with pytest.raises(AssertionError) as caught:
        meshes_server.assert_delivered(event=event, connection=hubspot)
    text = str(caught.value)
    assert "status 'failed', expected 'completed'" in text
    assert "timeline:" in text and "#4 2026-01-01T00:00:07.000Z timeout" in text
    assert meshes_server.timeline(event) in text


@pytest.mark.meshes(clock="system")
def test_system_clock(meshes_server):
    hubspot = setup_hubspot(meshes_server)
    meshes_server.fail("auth_failed", connection=hubspot, times=1)
    failed, delivered = signup(meshes_server, 1), signup(meshes_server, 2)
    meshes_server.assert_delivered(event=failed, connection=hubspot, status="failed", attempts=1)
    meshes_server.assert_delivered(event=delivered, connection=hubspot, attempts=1)
    assert meshes_server.now() > "2026-01-02"
'''


def test_toolkit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_toolkit=TOOLKIT_TESTS)
    run_pytester(pytester).assert_outcomes(passed=7)


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist missing")
def test_toolkit_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_toolkit=TOOLKIT_TESTS)
    run_pytester(pytester, "-n", "2").assert_outcomes(passed=7)


def test_assert_delivered_failure_reads_well(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_missing(meshes_server):
            with meshes_server.ingest_client() as ingest:
                event = ingest.post("/events", json={"event": "a", "payload": {"n": 1}}).json()
            meshes_server.assert_delivered(event=event, connection="nope", attempts=1)
        """
    )
    result = run_pytester(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*DeliveryAssertionError: delivery assertion failed:",
                                 "*no delivery of this event matches event=*, connection=nope",
                                 "*timeline:", "*event * 'a' resource=global: completed*",
                                 "*(the workspace has no rules)"])
    assert "def assert_delivered" not in result.stdout.str()  # the helper's frame is hidden
