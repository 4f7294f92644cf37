"""Session tokens no one can forge, session ids no one can guess (issue 13 item 3).

Before: the HMAC secret was sha256 of the seed (0 by default) and session ids came from the
seeded id stream, so anyone could mint a token for any session, and a holder of one session token
could mint tokens for other sessions or revive a superseded one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import jwt

from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from tests.helpers import serve
from tests.sessions.helpers import mint


def seed_secret(seed: int = 0) -> str:
    """The secret the emulator used to derive from its seed."""
    return hashlib.sha256(f"meshes-emulator:session-secret:{seed}".encode()).hexdigest()


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def status_with(server: MeshesServer, token: str) -> int:
    response = httpx.get(f"{server.api_url}/workspaces/{server.workspace_id}",
                         headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_a_token_forged_with_the_seed_derived_secret_is_401(
        meshes_server: MeshesServer, api: httpx.Client, ws: str) -> None:
    session = mint(api, ws, role="owner")
    assert status_with(meshes_server, session["access_token"]) == 200
    forged = jwt.encode(claims_of(session["access_token"]), seed_secret(0), algorithm="HS256",
                        headers={"typ": "JWT"})
    assert status_with(meshes_server, forged) == 401
    created = httpx.post(meshes_server.api_url + "/connections", headers={
        "Authorization": f"Bearer {forged}"}, json={
        "workspace": ws, "type": "webhook", "name": "exfiltrate",
        "metadata": {"url": "http://127.0.0.1:9/hook"}})
    assert created.status_code == 401
    assert api.get(f"/workspaces/{ws}/connections").json()["records"] == []


def test_a_session_token_holder_cannot_mint_a_token_for_another_session(
        meshes_server: MeshesServer, api: httpx.Client, ws: str) -> None:
    mine = mint(api, ws, role="member")
    other = mint(api, ws, role="owner", session_type="workspace")
    claims = {**claims_of(mine["access_token"]), "sid": other["session_id"], "role": "owner"}
    header, _, signature = mine["access_token"].split(".")
    body = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"typ": "JWT"}).split(".")[1]
    candidates = [
        jwt.encode(claims, seed_secret(0), algorithm="HS256", headers={"typ": "JWT"}),
        jwt.encode(claims, mine["access_token"], algorithm="HS256", headers={"typ": "JWT"}),
        f"{header}.{body}.{signature}",  # my signature on the other session's claims
    ]
    assert [status_with(meshes_server, token) for token in candidates] == [401, 401, 401]


def test_a_superseded_token_cannot_be_revived(meshes_server: MeshesServer, api: httpx.Client,
                                              ws: str) -> None:
    session = mint(api, ws)
    refreshed = api.post(f"/sessions/{session['session_id']}/refresh")
    assert refreshed.status_code == 200, refreshed.text
    old = claims_of(session["access_token"])
    revived = jwt.encode({**old, "ver": old["ver"] + 1}, seed_secret(0), algorithm="HS256",
                         headers={"typ": "JWT"})
    assert status_with(meshes_server, session["access_token"]) == 401
    assert status_with(meshes_server, revived) == 401
    assert status_with(meshes_server, refreshed.json()["access_token"]) == 200


def test_session_ids_and_launch_tokens_are_unguessable_under_a_fixed_seed(
        meshes_server: MeshesServer, api: httpx.Client, ws: str) -> None:
    """Same seed, same calls: the sessions differ (ids, launch tokens, signing key); the ids the
    determinism promise covers (a workspace created after the session) stay the same."""
    runs = []
    for _ in range(2):
        meshes_server.reset(seed=0)
        with meshes_server.client() as client:
            session = mint(client, ws)
            workspace = client.post("/workspaces", json={"name": "After"}).json()["workspace"]
        runs.append((session, workspace["id"]))
    (first, ws_1), (second, ws_2) = runs
    assert first["session_id"] != second["session_id"]
    assert first["launch_token"] != second["launch_token"]
    assert first["access_token"] != second["access_token"]
    assert ws_1 == ws_2
    assert status_with(meshes_server, first["access_token"]) == 401  # the reset drew a new key


def test_a_restart_keeps_sessions_valid(tmp_path: Path) -> None:
    """The signing key lives in the database: a restarted `serve` accepts the old tokens."""
    db = str(tmp_path / "sessions.db")
    with serve("--db", db) as info:
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth, timeout=30) as client:
            session = mint(client, info["workspaces"][0]["id"])
    with serve("--db", db) as info:
        response = httpx.get(f"{info['api_url']}/workspaces/{session['workspace_id']}",
                             headers={"Authorization": f"Bearer {session['access_token']}"},
                             timeout=30)
    assert response.status_code == 200, response.text
