"""Strict mode through the plugin: ini `meshes_strict` and `@pytest.mark.meshes(strict=...)`."""

from __future__ import annotations

import pytest

from tests.helpers import run_pytester

pytest_plugins = ["pytester"]

TESTS = """
import pytest

BODY = {"event": "a", "payload": {"id": 123}}

def _post(meshes_server):
    with meshes_server.ingest_client() as client:
        return client.post("/events", json=BODY)

def test_default(meshes_server):
    response = _post(meshes_server)
    assert response.status_code == EXPECTED, response.text
    if EXPECTED == 201:
        assert [w["param"] for w in meshes_server.warnings()] == ["payload.id"]
    else:
        assert meshes_server.warnings() == []

@pytest.mark.meshes(strict=True)
def test_marked_strict(meshes_server):
    assert _post(meshes_server).status_code == 400

@pytest.mark.meshes(strict=False)
def test_marked_lenient(meshes_server):
    assert _post(meshes_server).status_code == 201
    assert len(meshes_server.warnings()) == 1
"""


def _run(pytester: pytest.Pytester, expected: int) -> pytest.RunResult:
    pytester.makepyfile(TESTS.replace("EXPECTED", str(expected)))
    return run_pytester(pytester)


def test_lenient_by_default_marker_switches(pytester: pytest.Pytester) -> None:
    _run(pytester, 201).assert_outcomes(passed=3)


def test_ini_key_makes_every_test_strict(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmeshes_strict = true\n")
    _run(pytester, 400).assert_outcomes(passed=3)
