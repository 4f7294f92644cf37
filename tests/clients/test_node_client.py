"""A Node client with the official clients' wire behaviour works against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_meshes import MeshesServer

SCRIPT = Path(__file__).with_name("meshes_node_client.mjs")
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run(meshes_server: MeshesServer, scenario: str) -> dict[str, Any]:
    result = subprocess.run(["node", str(SCRIPT), scenario], capture_output=True, text=True,
                            env={**os.environ, **meshes_server.env}, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_management_client_round_trip(meshes_server: MeshesServer) -> None:
    out = run(meshes_server, "workspaces")
    assert out["created"]["status"] == 201
    workspace = out["created"]["data"]["workspace"]
    assert out["list"]["data"]["count"] == 2
    assert out["get"]["data"]["publishable_key"]["public_key"].startswith("mesh_pub_")
    assert out["update"]["data"] == {**workspace, "name": "From Node 2", "description": None,
                                     "updated_at": out["update"]["data"]["updated_at"]}
    assert out["missing"]["status"] == 404
    assert out["missing"]["data"]["message"] == "Workspace not found"


def test_events_client_single_and_bulk(meshes_server: MeshesServer) -> None:
    out = run(meshes_server, "events")
    assert out["single"]["status"] == 201
    assert out["single"]["data"]["event"]["workspace"] == meshes_server.workspace_id
    assert out["bulk"]["status"] == 201
    assert out["bulk"]["data"]["count"] == 2
    assert [r["event"] for r in out["bulk"]["data"]["records"]] == ["user.signup", "user.login"]
