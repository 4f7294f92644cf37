"""The emulator's own OpenAPI document: the Meshes API plus the admin API (tag `emulator`).

`meshes.yaml` describes the public API and is held against the reference contract by a test;
`emulator.yaml` describes `/_emulator/*`. Both are package data, merged and served as JSON.
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
    spec = _load("meshes.yaml")
    admin = _load("emulator.yaml")
    spec.setdefault("tags", []).extend(admin.get("tags", []))
    spec["paths"].update(admin.get("paths", {}))
    for section, items in admin.get("components", {}).items():
        spec["components"].setdefault(section, {}).update(items)
    return spec


@functools.cache
def document_bytes() -> bytes:
    return orjson.dumps(document())


async def serve_openapi(request: Request) -> Response:
    return Response(document_bytes(), media_type="application/json")
