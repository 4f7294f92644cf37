"""Auth abuse beyond tests/test_auth.py: every route, every organization boundary, odd claims.

* a publishable key on every management route -> 401 (behavior §1.2);
* another organization's machine token on every by-id route -> 404, nothing written;
* ids of another organization inside request bodies -> 404; lists never mix organizations;
* a publishable key naming another workspace (same or other org) -> 403, nothing written;
* hostile JWT claims and headers (NaN/Infinity, far-future exp, arrays, odd kids) -> 401;
* session tokens against another organization's ids -> refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from tests.helpers import assert_error
from tests.reliability.world import (
    Operation,
    build,
    digest,
    error_shape_problem,
    fill,
    operations,
)

MANAGEMENT_OPS = [op for op in operations() if "publishable" not in op.auth]
INGEST_OPS = [op for op in operations() if "publishable" in op.auth]
BY_ID_OPS = [op for op in operations() if op.params]


@pytest.fixture
def world(meshes_server: MeshesServer, api: httpx.Client) -> dict[str, str]:
    return build(meshes_server, api)


@pytest.fixture
def intruder(meshes_server: MeshesServer) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    """A machine client of a second organization (not contract-checked: checks are explicit)."""
    other = meshes_server.create_org("Intruder Inc")
    auth = MachineAuth(other["access_key"], other["secret_key"], other["org_id"])
    with httpx.Client(base_url=meshes_server.api_url, auth=auth, timeout=30) as client:
        yield client, other


JSONBody = dict[str, Any] | list[dict[str, Any]]  # an object, or an array for /events/bulk


def _body_for(op: Operation, world: dict[str, str] | None = None) -> JSONBody | None:
    """A body that passes validation, so the answer is decided by who owns the ids."""
    ws = (world or {}).get("workspace_id", "00000000-0000-4000-8000-000000000000")
    connection = (world or {}).get("connection_id", "00000000-0000-4000-8000-000000000000")
    hubspot = {"access_token": "t", "portal_id": "1"}
    valid: dict[tuple[str, str], JSONBody] = {
        ("PUT", "/workspaces/{workspace_id}"): {"name": "Renamed By Intruder"},
        ("POST", "/workspaces"): {"name": "Made By Intruder"},
        ("PUT", "/connections/{connection_id}"): {"name": "taken", "metadata": hubspot},
        ("PUT", "/connections/{connection_id}/mappings/default"):
            {"schema": {"schema_version": 1, "fields": []}},
        ("POST", "/connections"): {"workspace": ws, "type": "hubspot", "name": "x",
                                   "metadata": hubspot},
        ("POST", "/rules"): {"workspace": ws, "connection": connection, "event": "x",
                             "metadata": {"action": "add_to_list", "id": "1"}},
        ("POST", "/events"): {"workspace": ws, "event": "x", "payload": {"a": 1}},
        ("POST", "/events/bulk"): [{"workspace": ws, "event": "x", "payload": {"a": 1}}],
        ("POST", "/sessions"): {"workspace_id": ws},
    }
    if (op.method, op.path) in valid:
        return valid[(op.method, op.path)]
    return {} if op.writes else None


@pytest.mark.parametrize("op", MANAGEMENT_OPS, ids=str)
def test_publishable_key_is_refused_on_every_management_route(
    op: Operation, meshes_server: MeshesServer, world: dict[str, str]
) -> None:
    other = meshes_server.create_org("Key Holder")
    keys = [meshes_server.publishable_key, other["workspaces"][0]["publishable_key"]]
    state = digest(meshes_server)
    for key in keys:
        with meshes_server.ingest_client(key) as client:
            response = client.request(op.method, fill(op.path, world), json=_body_for(op))
        body = assert_error(response, 401, "Unauthorized")
        assert "publishable" in str(body["error"]).lower()
        # ... and a publishable key passed off as a bearer token
        bearer = httpx.request(op.method, meshes_server.api_url + fill(op.path, world),
                               json=_body_for(op), headers={"Authorization": f"Bearer {key}"})
        assert_error(bearer, 401, "Unauthorized")
    assert digest(meshes_server) == state


@pytest.mark.parametrize("op", INGEST_OPS, ids=str)
def test_ingest_routes_take_the_key_but_not_other_credentials_kinds(
    op: Operation, meshes_server: MeshesServer
) -> None:
    with meshes_server.ingest_client("mesh_pub_forged_forged_forged") as client:
        assert_error(client.post(op.path, json={"event": "x", "payload": {"a": 1}}), 401,
                     "Unauthorized")
    with meshes_server.ingest_client("' OR '1'='1") as client:
        assert_error(client.post(op.path, json={"event": "x", "payload": {"a": 1}}), 401,
                     "Unauthorized")


@pytest.mark.parametrize("op", BY_ID_OPS, ids=str)
def test_other_organization_gets_404_on_every_by_id_route(
    op: Operation, meshes_server: MeshesServer, world: dict[str, str],
    intruder: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, _ = intruder
    url = fill(op.path, world)
    state = digest(meshes_server)
    response = client.request(op.method, url, json=_body_for(op, world))
    if response.status_code != 501:
        assert response.status_code == 404, (str(op), response.text)
        assert error_shape_problem(response) is None
        assert world["workspace_id"] not in response.text
    assert digest(meshes_server) == state
    # the owner still reaches it: the 404 is about the organization, not the id
    with meshes_server.client() as owner:
        assert owner.request(op.method, url, json=_body_for(op, world)).status_code != 404


def test_ids_of_another_organization_inside_bodies_are_not_found(
    meshes_server: MeshesServer, world: dict[str, str],
    intruder: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, other = intruder
    theirs = other["workspaces"][0]["id"]
    mine = world["workspace_id"]
    state = digest(meshes_server)
    attempts = [
        client.post("/connections", json={"workspace": mine, "type": "hubspot", "name": "x",
                                          "metadata": {"access_token": "t", "portal_id": "1"}}),
        client.post("/rules", json={"workspace": theirs, "connection": world["connection_id"],
                                    "event": "x", "metadata": {"action": "add_to_list",
                                                               "id": "1"}}),
        client.post("/rules", json={"workspace": mine, "connection": world["connection_id"],
                                    "event": "x", "metadata": {"action": "add_to_list",
                                                               "id": "1"}}),
        client.post("/events", json={"workspace": mine, "event": "x", "payload": {"a": 1}}),
        client.post("/sessions", json={"workspace_id": mine}),
    ]
    for response in attempts:
        assert response.status_code == 404, (response.request.url, response.text)
    bulk = client.post("/events/bulk", json=[{"workspace": mine, "event": "x",
                                              "payload": {"a": 1}}])
    assert bulk.status_code == 207, bulk.text
    assert bulk.json()["records"][0]["error"]["name"] == "NotFound"
    assert digest(meshes_server) == state


def test_lists_never_mix_organizations(meshes_server: MeshesServer, world: dict[str, str],
                                       intruder: tuple[httpx.Client, dict[str, Any]]) -> None:
    client, other = intruder
    mine = set(world.values())
    for path in ("/workspaces", "/connections", "/rules", "/events"):
        response = client.get(path, params={"limit": 200})
        if response.status_code == 501:
            continue
        assert response.status_code == 200, response.text
        ids = {r.get("id") or r.get("session_id") for r in response.json()["records"]}
        assert not ids & mine, path
    theirs = other["workspaces"][0]["id"]
    sessions = client.get("/sessions", params={"workspace_id": world["workspace_id"]})
    assert sessions.status_code in (404, 501), sessions.text
    for path in ("connections", "rules", "events", "event-types", "resources"):
        assert client.get(f"/workspaces/{world['workspace_id']}/{path}").status_code == 404
        assert client.get(f"/workspaces/{theirs}/{path}").status_code == 200


def test_publishable_key_cannot_write_into_another_workspace(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    """behavior §1.2: a key plus a `workspace` naming another workspace -> 403 (events choice)."""
    sibling, _ = meshes_server.create_workspace("Sibling")
    foreign = meshes_server.create_org("Foreign")["workspaces"][0]["id"]
    state = digest(meshes_server)
    with meshes_server.ingest_client() as ingest:
        for target in (sibling, foreign, "00000000-0000-4000-8000-000000000000"):
            response = ingest.post("/events", json={"event": "x", "payload": {"a": 1},
                                                    "workspace": target})
            assert_error(response, 403, "Forbidden")
        bulk = ingest.post("/events/bulk", json=[
            {"event": "x", "payload": {"a": 1}, "workspace": sibling},
            {"event": "x", "payload": {"a": 1}, "workspace": foreign},
        ])
        assert bulk.status_code == 207
        assert [r["error"]["name"] for r in bulk.json()["records"]] == ["Forbidden", "Forbidden"]
    assert digest(meshes_server) == state
    for workspace in (sibling, meshes_server.workspace_id):
        assert api.get(f"/workspaces/{workspace}/events").json()["records"] == []


# -- hostile tokens ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signed(server: MeshesServer, header: Any, claims_text: str,
            secret: str | None = None) -> str:
    """A token signed with the real secret, claims given as raw JSON text (NaN allowed)."""
    head = _b64(json.dumps(header).encode())
    body = _b64(claims_text.encode())
    key = (secret or server.secret_key).encode()
    signature = _b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{signature}"


def _claims(server: MeshesServer, **raw: str) -> str:
    now = int(time.time())
    values = {"iss": json.dumps(f"urn:meshes:m2m:{server.access_key}"),
              "aud": '"meshes-api"', "org": json.dumps(server.org_id),
              "iat": str(now), "exp": str(now + 30)}
    values.update(raw)
    return "{" + ",".join(f'"{k}":{v}' for k, v in values.items() if v != "OMIT") + "}"


NOW = int(time.time())
CLAIM_ATTACKS: dict[str, dict[str, str]] = {
    "exp_infinity": {"exp": "Infinity"},
    "exp_nan": {"exp": "NaN"},
    "iat_nan": {"iat": "NaN"},
    "iat_minus_infinity": {"iat": "-Infinity"},
    "exp_1e20": {"exp": "1e20"},
    "exp_400_digits": {"exp": "9" * 400},
    "exp_5000_digits": {"exp": "9" * 5000},
    "exp_ten_years_ahead": {"exp": str(NOW + 10 * 365 * 86400)},
    "iat_far_past_exp_ahead": {"iat": str(NOW - 10**9)},
    "both_far_future": {"iat": str(NOW + 10**9), "exp": str(NOW + 10**9 + 30)},
    "exp_string": {"exp": f'"{NOW + 30}"'},
    "exp_true": {"exp": "true"},
    "exp_list": {"exp": "[1]"},
    "exp_null": {"exp": "null"},
    "aud_array": {"aud": '["meshes-api"]'},
    "aud_array_with_other": {"aud": '["elsewhere", "meshes-api"]'},
    "org_array": {"org": "[]"},
    "org_object": {"org": '{"id": 1}'},
    "iss_array": {"iss": "[]"},
    "nbf_future": {"nbf": str(NOW + 3600)},
    "missing_iat": {"iat": "OMIT"},
    "missing_aud": {"aud": "OMIT"},
    "missing_iss": {"iss": "OMIT"},
}


@pytest.mark.parametrize("attack", CLAIM_ATTACKS, ids=str)
def test_hostile_claims_are_401(attack: str, meshes_server: MeshesServer) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": meshes_server.access_key}
    token = _signed(meshes_server, header, _claims(meshes_server, **CLAIM_ATTACKS[attack]))
    for method, path in (("GET", "/workspaces"), ("POST", "/events")):
        response = httpx.request(method, meshes_server.api_url + path,
                                 json={"event": "x", "payload": {"a": 1}} if method == "POST" else None,
                                 headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "Unauthorized")


HEADER_ATTACKS: dict[str, dict[str, Any]] = {
    "kid_sql": {"kid": "mk_' OR '1'='1"},
    "kid_traversal": {"kid": "mk_../../etc/passwd"},
    "kid_number": {"kid": 5},
    "kid_list": {"kid": ["the access key"]},
    "kid_huge": {"kid": "mk_" + "a" * 20_000},
    "alg_lowercase": {"alg": "hs256"},
    "alg_list": {"alg": ["HS256"]},
    "alg_none": {"alg": "none"},
    "alg_HS384": {"alg": "HS384"},
    "crit_unknown": {"crit": ["exp"]},
}


@pytest.mark.parametrize("attack", HEADER_ATTACKS, ids=str)
def test_hostile_headers_are_401(attack: str, meshes_server: MeshesServer) -> None:
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT", "kid": meshes_server.access_key}
    header.update(HEADER_ATTACKS[attack])
    if attack == "kid_list":
        header["kid"] = [meshes_server.access_key]
    token = _signed(meshes_server, header, _claims(meshes_server))
    response = httpx.get(meshes_server.api_url + "/workspaces",
                         headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "Unauthorized")


@pytest.mark.parametrize("token", [
    "a.b", "a.b.c.d", "..", "x" * 100_000, "e30.e30.", "W10.e30.c2ln", "eyJhbGciOiJIUzI1NiJ9",
], ids=["two_parts", "four_parts", "empty_parts", "huge", "empty_objects", "header_array",
        "header_only"])
def test_malformed_tokens_are_401(token: str, meshes_server: MeshesServer) -> None:
    response = httpx.get(meshes_server.api_url + "/workspaces",
                         headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "Unauthorized")


def test_signed_with_the_wrong_kind_of_secret_is_401(meshes_server: MeshesServer) -> None:
    """The publishable key or the access key used as the HMAC secret, a kid of another org."""
    header = {"alg": "HS256", "typ": "JWT", "kid": meshes_server.access_key}
    for secret in (meshes_server.publishable_key or "", meshes_server.access_key, ""):
        token = _signed(meshes_server, header, _claims(meshes_server), secret=secret or "x")
        response = httpx.get(meshes_server.api_url + "/workspaces",
                             headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "Unauthorized")
    other = meshes_server.create_org("Kid Lender")
    borrowed = {"alg": "HS256", "typ": "JWT", "kid": other["access_key"]}
    token = _signed(meshes_server, borrowed, _claims(
        meshes_server, iss=json.dumps(f"urn:meshes:m2m:{other['access_key']}")))
    response = httpx.get(meshes_server.api_url + "/workspaces",
                         headers={"Authorization": f"Bearer {token}"})
    assert "signature" in str(assert_error(response, 401, "Unauthorized")["error"])


# -- session tokens across organizations ----------------------------------------------------


def test_session_token_cannot_reach_another_organization(
    meshes_server: MeshesServer, api: httpx.Client, world: dict[str, str],
    intruder: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, other = intruder
    theirs = other["workspaces"][0]["id"]
    minted = client.post("/sessions", json={"workspace_id": theirs, "role": "admin"})
    if minted.status_code == 501:
        pytest.skip("sessions are not built")
    assert minted.status_code == 200, minted.text
    token = minted.json()["access_token"]
    state = digest(meshes_server)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=meshes_server.api_url, headers=headers, timeout=30) as session:
        for op in operations():
            if "session" not in op.auth or (op.method == "GET" and not op.params):
                continue  # org-less reads (the integrations catalog) have nothing to leak
            body = _body_for(op, world)
            response = session.request(op.method, fill(op.path, world), json=body)
            if op.path == "/events/bulk":
                assert response.status_code in (207, 403, 404), response.text
                names = {r["error"]["name"] for r in response.json().get("records", [])}
                assert names <= {"Forbidden", "NotFound"}, response.text
                continue
            assert response.status_code in (403, 404), (str(op), response.text)
            assert error_shape_problem(response) is None
        event = session.post("/events", json={"event": "x", "payload": {"a": 1},
                                              "workspace": world["workspace_id"]})
        assert event.status_code in (403, 404)
    assert digest(meshes_server) == state
