"""The emulator's own OpenAPI document: the Meshes API plus the admin API (tag `emulator`).

`meshes.yaml` describes the public API and is held against the reference contract by a test;
`emulator.yaml` describes `/_emulator/*`. Both are package data, merged and served as JSON.
The `IntegrationType` enum comes from `catalog/integrations.json`, the one list of types.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


def _load(name: str) -> dict[str, Any]:
    import yaml  # on first use only: nothing parses YAML at start-up

    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@functools.cache
def document() -> dict[str, Any]:
    """The merged OpenAPI document (parsed once per process)."""
    from meshes_emulator.catalog import INTEGRATION_TYPES

    spec = _load("meshes.yaml")
    spec["components"]["schemas"]["IntegrationType"]["enum"] = list(INTEGRATION_TYPES)
    admin = _load("emulator.yaml")
    spec.setdefault("tags", []).extend(admin.get("tags", []))
    spec["paths"].update(_with_site_refusals(admin.get("paths", {})))
    for section, items in admin.get("components", {}).items():
        spec["components"].setdefault(section, {}).update(items)
    return spec


WRITE_METHODS = ("post", "put", "patch", "delete")


def _with_site_refusals(paths: dict[str, Any]) -> dict[str, Any]:
    """Every admin operation may answer 403 (a cross-site request) and every admin write 415 (a
    body not declared JSON): sitecheck.py, docs/emulator-api.md."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, item in paths.items():
        if path == "/_emulator/health":
            continue
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.setdefault("403", {"description": "Cross-site request refused", **error})
            if method in WRITE_METHODS:
                responses.setdefault("415", {"description": "Body not declared as JSON",
                                             **error})
    return paths


@functools.cache
def document_bytes() -> bytes:
    return orjson.dumps(document())


async def serve_openapi(request: Request) -> Response:
    return Response(document_bytes(), media_type="application/json")
