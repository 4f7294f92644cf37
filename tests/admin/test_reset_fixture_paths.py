"""`POST /_emulator/reset {"fixtures": [PATH]}` loads allowed seed files only (issue 13 item 2).

Before: any file of the host, with no size limit (`/dev/zero` ran the process out of memory, a FIFO
froze the event loop), and a reset whose seed file failed answered 400 after wiping the data.
Allowed now: the `--fixture` files and files under a `--fixture-dir` (the pytest plugin's own
server allows the test rootdir and pytest's temporary directory); regular files only, at most
`MAX_FIXTURE_BYTES`; a failed reset leaves the state it found.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshes_emulator.services.fixtures import MAX_FIXTURE_BYTES
from pytest_meshes import MeshesServer
from tests.helpers import assert_error, serve

SEED = "workspaces:\n  - name: Seeded\n"
BROKEN = ("workspaces:\n  - name: Broken\n    connections:\n"
          "      - {name: Chat, type: slack, ref: chat, metadata: {}}\n"
          "    rules:\n      - {connection: nope, event: a, metadata: {action: send_message}}\n")


def reset(url: str, paths: list[str], timeout: float = 30) -> httpx.Response:
    return httpx.post(url + "/_emulator/reset", json={"fixtures": paths}, timeout=timeout)


def state(server: MeshesServer) -> dict[str, Any]:
    org = server.admin("GET", "/credentials")["organizations"]
    return {"orgs": [o["org_id"] for o in org],
            "workspaces": sorted(w["name"] for w in org[0]["workspaces"]),
            "faults": server.admin("GET", "/faults")["count"],
            "clock": server.admin("GET", "/clock"), "seed": server.admin("GET", "/info")["seed"]}


@pytest.fixture
def busy(meshes_server: MeshesServer) -> MeshesServer:
    """Some state a failed or refused reset must leave alone."""
    meshes_server.create_workspace("Keep me")
    meshes_server.fail(status=503)
    meshes_server.advance(90)
    return meshes_server


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/../etc/hostname", "/proc/self/environ"])
def test_a_path_the_operator_did_not_allow_is_400_and_changes_nothing(
        busy: MeshesServer, path: str) -> None:
    before = state(busy)
    response = reset(busy.url, [path])
    body = assert_error(response, 400, "BadRequest")
    assert "not allowed" in str(body["error"]), body
    assert "root:" not in response.text
    assert state(busy) == before


def test_a_link_or_dots_out_of_an_allowed_directory_are_refused(
        busy: MeshesServer, tmp_path: Path, pytestconfig: pytest.Config) -> None:
    link = tmp_path / "innocent.yaml"
    link.symlink_to("/etc/passwd")
    escape = str(pytestconfig.rootpath / ".." / ".." / ".." / "etc" / "passwd")
    for path in (str(link), escape):
        assert "not allowed" in reset(busy.url, [path]).text


def test_files_in_the_allowed_directories_load(busy: MeshesServer, tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    assert reset(busy.url, [str(seed)]).status_code == 200
    assert state(busy)["workspaces"] == ["Default Workspace", "Seeded"]


def test_a_seed_file_over_the_size_limit_is_400_before_reading(busy: MeshesServer,
                                                               tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as file:
        file.truncate(MAX_FIXTURE_BYTES + 1)  # sparse: nothing written
    before = state(busy)
    response = reset(busy.url, [str(big)])
    assert_error(response, 400, "BadRequest")
    assert f"larger than {MAX_FIXTURE_BYTES} bytes" in response.text
    assert state(busy) == before


@pytest.mark.parametrize("second", ["broken", "not yaml", "missing", "list"])
def test_a_failed_reset_leaves_the_state_it_found(busy: MeshesServer, tmp_path: Path,
                                                  second: str) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(SEED)
    bad = tmp_path / "bad.yaml"
    if second != "missing":
        bad.write_text({"broken": BROKEN, "not yaml": "workspaces: [unclosed",
                        "list": "- a\n- b\n"}[second])
    before = state(busy)
    response = reset(busy.url, [str(good), str(bad)])
    assert_error(response, 400, "BadRequest")
    assert state(busy) == before
    with busy.client() as api:  # the data and the id stream go on as before
        created = api.post("/workspaces", json={"name": "After"})
    assert created.status_code == 201, created.text


def test_devices_and_fifos_are_refused_at_once(tmp_path: Path) -> None:
    """A real `serve` allowed to load from /dev and from a directory holding a FIFO: both are
    400 without a byte read (a read of /dev/zero never ends; a FIFO blocks the event loop)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    fifo = seeds / "pipe.yaml"
    os.mkfifo(fifo)
    (seeds / "sub.yaml").mkdir()
    with serve("--db", ":memory:", "--fixture-dir", "/dev", "--fixture-dir", str(seeds)) as info:
        url = info["base_url"]
        for path in ("/dev/zero", "/dev/urandom", str(fifo), str(seeds / "sub.yaml")):
            response = reset(url, [path], timeout=10)
            assert response.status_code == 400, (path, response.text)
            assert "not a regular file" in response.json()["error"]["message"]
        assert httpx.get(url + "/_emulator/health", timeout=10).status_code == 200


def test_serve_allows_its_fixture_files_and_nothing_else(tmp_path: Path) -> None:
    chosen, other = tmp_path / "chosen.yaml", tmp_path / "other.yaml"
    chosen.write_text(SEED)
    other.write_text(SEED)
    with serve("--db", ":memory:", "--fixture", str(chosen)) as info:
        url = info["base_url"]
        assert reset(url, [str(chosen)]).status_code == 200
        assert "not allowed" in reset(url, [str(other)]).text
        assert httpx.post(url + "/_emulator/reset", json={}, timeout=30).status_code == 200
