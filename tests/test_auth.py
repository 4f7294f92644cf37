"""Machine JWTs and publishable keys (reference §2, behavior §1): every refusal is a 401."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Mapping

import httpx
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth

WRONG_SECRET = "W" * 48


def _get(meshes_server: MeshesServer, token: str) -> httpx.Response:
    return httpx.get(meshes_server.api_url + "/workspaces",
                     headers={"Authorization": f"Bearer {token}"})


def _assert_401(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["message"] == "Unauthorized"
    assert body["error"]["name"] == "Unauthorized"
    assert reason.lower() in body["error"]["message"].lower()


def _b64(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_official_token_shape_is_accepted(meshes_server: MeshesServer) -> None:
    assert _get(meshes_server, meshes_server.token()).status_code == 200


def test_sixty_second_lifetime_is_the_maximum(meshes_server: MeshesServer) -> None:
    assert _get(meshes_server, meshes_server.token(lifetime=60)).status_code == 200
    _assert_401(_get(meshes_server, meshes_server.token(lifetime=61)), "lifetime")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"secret": WRONG_SECRET}, "signature"),
        ({"iat": -100, "exp": -70}, "expired"),
        ({"aud": "someone-else"}, "aud"),
        ({"iss": "urn:meshes:m2m:mk_somebodyElseEntirely000000"}, "iss"),
        ({"org": "123e4567-e89b-42d3-a456-426614174000"}, "org"),
        ({"iat": 120, "exp": 150}, "future"),
        ({"exp": None}, "exp"),
        ({"org": None}, "org"),
        ({"headers": {"kid": "mk_unknownAccessKey000000000000"}}, "access key"),
    ],
)
def test_bad_tokens_are_refused(meshes_server: MeshesServer, overrides: dict[str, object],
                                reason: str) -> None:
    """iat/exp given here are offsets from now, applied when the test runs (not at collection)."""
    now = int(time.time())
    overrides = {key: now + value if key in ("iat", "exp") and isinstance(value, int) else value
                 for key, value in overrides.items()}
    _assert_401(_get(meshes_server, meshes_server.token(**overrides)), reason)  # type: ignore[arg-type]


def _unsigned(meshes_server: MeshesServer, alg: str, signature: str) -> str:
    """A token with the official claims and header `alg`, its signature part as given."""
    now = int(time.time())
    header = {"alg": alg, "typ": "JWT", "kid": meshes_server.access_key}
    claims = {"iss": f"urn:meshes:m2m:{meshes_server.access_key}", "aud": "meshes-api",
              "org": meshes_server.org_id, "iat": now, "exp": now + 30}
    return f"{_b64(header)}.{_b64(claims)}.{signature}"


def test_alg_none_is_refused(meshes_server: MeshesServer) -> None:
    _assert_401(_get(meshes_server, _unsigned(meshes_server, "none", "")), "HS256")


def test_hs512_is_refused(meshes_server: MeshesServer) -> None:
    now = int(time.time())
    with warnings.catch_warnings():  # PyJWT finds the (real) secret short for SHA-512
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = jwt.encode(
            {"iss": f"urn:meshes:m2m:{meshes_server.access_key}", "aud": "meshes-api",
             "org": meshes_server.org_id, "iat": now, "exp": now + 30},
            meshes_server.secret_key, algorithm="HS512",
            headers={"kid": meshes_server.access_key})
    _assert_401(_get(meshes_server, token), "HS256")


def test_tampered_claims_are_refused(meshes_server: MeshesServer) -> None:
    head, claims, signature = meshes_server.token().split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=="))
    decoded["org"] = "123e4567-e89b-42d3-a456-426614174000"
    _assert_401(_get(meshes_server, f"{head}.{_b64(decoded)}.{signature}"), "signature")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "bearer"),
        ({"Authorization": "Bearer"}, "bearer"),
        ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
    ],
)
def test_missing_or_malformed_credentials(meshes_server: MeshesServer, headers: dict[str, str],
                                          reason: str) -> None:
    _assert_401(httpx.get(meshes_server.api_url + "/workspaces", headers=headers), reason)


def test_publishable_key_is_refused_on_management_routes(meshes_server: MeshesServer) -> None:
    assert meshes_server.publishable_key
    response = httpx.get(meshes_server.api_url + "/workspaces",
                         headers={"X-Meshes-Publishable-Key": meshes_server.publishable_key})
    _assert_401(response, "publishable")


def test_key_of_another_org_cannot_claim_this_org(meshes_server: MeshesServer) -> None:
    other = meshes_server.create_org("Intruder")
    token = jwt.encode(
        {"iss": f"urn:meshes:m2m:{other['access_key']}", "aud": "meshes-api",
         "org": meshes_server.org_id, "iat": int(time.time()), "exp": int(time.time()) + 30},
        other["secret_key"], algorithm="HS256", headers={"kid": other["access_key"]})
    _assert_401(_get(meshes_server, token), "org")


def test_each_org_sees_only_its_own_workspaces(meshes_server: MeshesServer) -> None:
    other = meshes_server.create_org("Neighbour")
    auth = MachineAuth(other["access_key"], other["secret_key"], other["org_id"])
    with httpx.Client(base_url=meshes_server.api_url, auth=auth) as client:
        ids = [w["id"] for w in client.get("/workspaces").json()["records"]]
        assert ids == [other["workspaces"][0]["id"]]
        assert client.get(f"/workspaces/{meshes_server.workspace_id}").status_code == 404


def test_minted_credentials_have_official_shapes(meshes_server: MeshesServer) -> None:
    import re

    other = meshes_server.create_org()
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                    other["org_id"])
    assert re.match(r"^mk_[A-Za-z0-9_-]{22,}$", other["access_key"])
    assert re.match(r"^[A-Za-z0-9_-]{43,}$", other["secret_key"])
    assert re.match(r"^mesh_pub_([A-Za-z0-9\-.]+)_([A-Za-z0-9\-.]+)_([^_]+)$",
                    other["workspaces"][0]["publishable_key"])


def test_rs256_header_is_refused(meshes_server: MeshesServer) -> None:
    _assert_401(_get(meshes_server, _unsigned(meshes_server, "RS256", "c2ln")), "HS256")


def test_publishable_key_unknown_on_ingest_is_401(meshes_server: MeshesServer) -> None:
    response = httpx.post(meshes_server.api_url + "/events", json={"event": "x", "payload": {}},
                          headers={"X-Meshes-Publishable-Key": "mesh_pub_no_such_key"})
    _assert_401(response, "publishable")
