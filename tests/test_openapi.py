"""The emulator's own OpenAPI document: served, complete, and held against the reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.routing import Match, Mount, Route

from meshes_emulator import create_app
from meshes_emulator.openapi import document

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "meshes-openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if not REFERENCE.exists():
        pytest.skip("the reference contract (../shared/reference) is not beside this checkout")
    data: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    return data


def _operations(spec: dict[str, Any], prefix: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): item[method]
            for path, item in spec["paths"].items() if path.startswith(prefix)
            for method in METHODS if method in item}


def test_public_operations_match_the_reference(reference: dict[str, Any]) -> None:
    ours = _operations(document(), "/api/v1")
    theirs = _operations(reference, "/api/v1")
    assert sorted(ours) == sorted(theirs)
    for key, operation in theirs.items():
        mine = ours[key]
        assert mine.get("operationId") == operation.get("operationId"), key
        assert mine.get("parameters") == operation.get("parameters"), key
        assert mine.get("requestBody") == operation.get("requestBody"), key
        assert mine.get("responses") == operation.get("responses"), key


def test_path_level_parameters_match(reference: dict[str, Any]) -> None:
    for path, item in reference["paths"].items():
        assert document()["paths"][path].get("parameters") == item.get("parameters"), path


def test_shared_schemas_match_the_reference(reference: dict[str, Any]) -> None:
    ours = document()["components"]
    for section in ("schemas", "parameters", "responses", "securitySchemes"):
        for name, value in reference["components"].get(section, {}).items():
            assert ours[section][name] == value, f"components.{section}.{name}"


def test_admin_operations_are_tagged_and_outside_the_api() -> None:
    for (_, path), operation in _operations(document(), "/_emulator").items():
        assert operation["tags"] == ["emulator"], path
    assert not [p for p in document()["paths"] if not p.startswith(("/api/v1/", "/_emulator/"))]


def _routes(app: Any) -> list[tuple[str, Route]]:
    found = []
    for route in app.routes:
        if isinstance(route, Mount) and route.path in ("/api/v1", "/_emulator"):
            found += [(route.path + r.path, r) for r in route.routes if isinstance(r, Route)]
    return found


def test_every_documented_operation_is_routed() -> None:
    app = create_app()
    routes = list(app.routes)
    for method, path in _operations(document(), "/"):
        sample = path.replace("{", "").replace("}", "")
        scope = {"type": "http", "method": method, "path": sample, "root_path": "",
                 "query_string": b"", "headers": []}
        assert any(route.matches(scope)[0] == Match.FULL for route in routes), (method, path)


def test_every_route_is_documented() -> None:
    documented = _operations(document(), "/")
    for path, route in _routes(create_app()):
        for method in route.methods or ():
            if method in ("HEAD", "OPTIONS"):
                continue
            assert (method, path) in documented, (method, path)


def test_openapi_json_is_served(raw: httpx.Client) -> None:
    served = raw.get("/openapi.json").json()
    assert served["openapi"].startswith("3.1")
    assert "/api/v1/workspaces" in served["paths"]
    assert "/_emulator/reset" in served["paths"]
