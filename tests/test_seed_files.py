"""Seed files catch typos (unknown keys, unknown names); the shipped demo seed delivers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from pytest_meshes import MeshesServer
from tests.helpers import clean_env, serve


def _refused(meshes_server: MeshesServer, tmp_path: Path, document: object) -> str:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(document))
    with httpx.Client(base_url=meshes_server.url) as raw:
        response = raw.post("/_emulator/reset", json={"fixtures": [str(path)]})
    assert response.status_code == 400, response.text
    message: str = response.json()["error"]["message"]
    return message


@pytest.mark.parametrize(("document", "expected"), [
    ({"workspace": [{"name": "Shop"}]},
     "workspace: unknown key; did you mean 'workspaces'?"),
    ({"workspaces": [{"name": "Shop", "conections": []}]},
     "workspaces[0].conections: unknown key; did you mean 'connections'?"),
    ({"workspaces": [{"name": "Shop", "connections": [
        {"name": "Hook", "type": "webhook", "metdata": {"url": "https://x.example"}}]}]},
     "workspaces[0].connections[0].metdata: unknown key; did you mean 'metadata'?"),
    ({"organizations": [{"name": "Other", "workspaces": [{"name": "W", "rulez": []}]}]},
     "organizations[0].workspaces[0].rulez: unknown key; did you mean 'rules'?"),
    ({"faults": [{"statsu": 503}]}, "faults[0].statsu: unknown key; did you mean 'status'?"),
    ({"workspaces": [{"name": "Shop", "event_types": [{"key": "a.b", "lable": "A"}]}]},
     "workspaces[0].event_types[0].lable: unknown key; did you mean 'label'?"),
])
def test_unknown_keys_name_the_path_and_the_closest_key(
        meshes_server: MeshesServer, tmp_path: Path, document: object, expected: str) -> None:
    assert _refused(meshes_server, tmp_path, document).endswith(expected)
    assert [w["name"] for w in meshes_server.admin("GET", "/credentials")["organizations"][0]
            ["workspaces"]] == ["Default Workspace"]  # nothing of the file was loaded


def test_a_rule_naming_a_missing_connection_says_which(meshes_server: MeshesServer,
                                                       tmp_path: Path) -> None:
    document = {"workspaces": [{"name": "Shop", "connections": [
        {"name": "CRM", "type": "hubspot", "metadata": {"access_token": "t"}}],
        "rules": [{"event": "user.signup", "connection": "Nope",
                   "metadata": {"action": "add_to_list", "id": "5"}}]}]}
    message = _refused(meshes_server, tmp_path, document)
    assert "rules[0]: connection: no connection named 'Nope' in this file or in workspace " \
           "'Shop' (this file's: CRM)" in message


@pytest.mark.meshes(fixture="demo")
def test_the_shipped_demo_seed_delivers_its_events(meshes_server: MeshesServer) -> None:
    done = meshes_server.rule_events(workspace="5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6")
    assert sorted((r["event"], r["integration_type"], r["status"]) for r in done) == [
        ("payment.failed", "slack", "completed"),
        ("user.signup", "hubspot", "completed"),
        ("user.signup", "mailchimp", "completed"),
    ]


def test_serve_loads_the_demo_by_name_and_refuses_a_typo_in_one_line(tmp_path: Path) -> None:
    with serve("--db", ":memory:", "--fixture", "demo") as info:
        assert "Demo" in [w["name"] for w in info["workspaces"]]
    bad = tmp_path / "typo.yaml"
    bad.write_text("workspaces:\n  - name: Shop\n    conections: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", ":memory:",
         "--fixture", str(bad)], capture_output=True, text=True, env=clean_env(), timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"meshes-emulator: --fixture: {bad}: workspaces[0]."
                                     "conections: unknown key; did you mean 'connections'?")
