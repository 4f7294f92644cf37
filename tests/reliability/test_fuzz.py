"""Schemathesis against the live emulator, driven by the emulator's own /openapi.json.

Every operation of the document (the 38 reference operations and the admin API) gets generated
requests, valid and invalid, signed with a fresh machine JWT each (the official clients' way).
Path parameters are drawn from generated values and from ids that exist (a small world built per
operation), so requests reach past the 404s. Checks: no 5xx (501 aside, for operations another
helper has not built), bodies that match the document, statuses the document declares (errors
held to the Error schema), and no request left hanging (a timeout per request).

Bounded for CI (MESHES_FUZZ_EXAMPLES, default 12 per operation, derandomized so a run is
reproducible); `scripts/fuzz` runs the long version for release checks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, TypeAlias

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from meshes_emulator import defaults
from meshes_emulator.openapi import document
from pytest_meshes import MeshesServer
from pytest_meshes.handle import mint_token
from tests.helpers import emulator_of
from tests.reliability.world import build

Case: TypeAlias = schemathesis.Case[Any]

EXAMPLES = int(os.environ.get("MESHES_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("MESHES_FUZZ_SEED")  # unset: derandomized (the same cases every run)
TALLY = os.environ.get("MESHES_FUZZ_TALLY")  # a file: one line per request sent (for figures)
REQUEST_TIMEOUT = 10.0
# POST /_emulator/reset would reset the whole emulator (credentials included) under the fuzzer.
schema = schemathesis.openapi.from_dict(document()).exclude(method="POST", path="/_emulator/reset")
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                allow_x00=True, deterministic=SEED is None, database="none")

# The running test's server and world (set by the fixture; read by the hooks below).
CURRENT: dict[str, Any] = {}


def fresh_token() -> str:
    """A machine JWT for the running server (the defaults before a server is known)."""
    server: MeshesServer | None = CURRENT.get("server")
    if server is None:
        return mint_token(defaults.DEFAULT_ACCESS_KEY, defaults.DEFAULT_SECRET_KEY,
                          defaults.DEFAULT_ORG_ID)
    return mint_token(server.access_key, server.secret_key, server.org_id)


@schema.auth(refresh_interval=None)
class FreshMachineToken:
    """A new 30-second JWT for every request, exactly as the official clients do."""

    def get(self, case: Case, ctx: schemathesis.AuthContext) -> str:
        return fresh_token()

    def set(self, case: Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = CaseInsensitiveDict({**case.headers, "Authorization": f"Bearer {data}"})


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext,
                            path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Half the time, ids that exist (so the operation does more than answer 404)."""
    world: dict[str, str] = CURRENT.get("world", {})
    real = {name: world.get(name, value) for name, value in (path_parameters or {}).items()}
    return st.sampled_from([path_parameters, real])


@pytest.fixture
def fuzz_target(meshes_server: MeshesServer, api: httpx.Client) -> Iterator[MeshesServer]:
    CURRENT["server"] = meshes_server
    CURRENT["world"] = build(meshes_server, api)
    yield meshes_server
    CURRENT.clear()


# Any operation may answer these (http.py, auth.py, the router). The document mirrors the statuses
# the reference declares (those the Go client decodes), which leave out malformed-input 400s.
GLOBAL_STATUSES = {400, 401, 404, 405, 413}


def assert_declared_status(case: Case, status: int) -> None:
    """The status is declared for the operation (or is one of the global error statuses)."""
    responses = case.operation.definition.raw.get("responses", {})
    assert str(status) in responses or "default" in responses or status in GLOBAL_STATUSES, (
        f"{case.method} {case.formatted_path} ({case.operation.label}) answered {status}, which the "
        "document does not declare")


CORS_PATHS = ("/api/v1/events", "/api/v1/events/bulk")  # browsers' preflights (routes.py)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@schema.parametrize()
@seed(int(SEED or 0))
@settings(max_examples=EXAMPLES, derandomize=SEED is None, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_fuzz_every_operation(case: Case, fuzz_target: MeshesServer) -> None:
    if "Authorization" in (case.headers or {}) and str(case.headers["Authorization"]).count(".") == 2:
        case.headers["Authorization"] = f"Bearer {fresh_token()}"  # never stale at send time
    response = case.call(base_url=fuzz_target.url, timeout=REQUEST_TIMEOUT)
    if TALLY:
        with open(TALLY, "a") as tally:
            tally.write(f"{case.operation.label} {response.status_code}\n")
    if response.status_code == 501:
        return  # not built (yet): the lead re-runs this suite once every helper has landed
    if case.method.upper() != case.operation.method.upper():  # a negative case: another method
        # 405, a preflight's 204, or 404 when the path matches another route's parameter
        # (GET /events/bulk is GET /events/{event_id} with the id "bulk")
        cors = case.method.upper() == "OPTIONS" and case.path in CORS_PATHS
        assert response.status_code in ((204,) if cors else (404, 405)), (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text}")
    else:
        case.validate_response(response, checks=CHECKS)
        assert_declared_status(case, response.status_code)
    errors = emulator_of(fuzz_target).errors
    assert errors == [], [e.error for e in errors]
