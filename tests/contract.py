"""Validate emulator responses against the project's own OpenAPI document.

`check_response(response)` finds the operation for the request's method and path, then the
declared response for its status (an undeclared error status is held to the Error schema), and
validates the JSON body with JSON Schema 2020-12.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from meshes_emulator.openapi import document

SPEC_ID = "urn:meshes-emulator:openapi"


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(SPEC_ID, resource)
    return registry


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str, int]]:
    result = []
    for path in document()["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"
        result.append((re.compile(pattern), path, path.count("{")))
    # literal segments win over parameters (/events/bulk before /events/{event_id})
    result.sort(key=lambda item: item[2])
    return result


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for pattern, template, _ in _templates():
        if pattern.match(path):
            operation = document()["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
    return None


def schema_for(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The JSON schema the body must satisfy, or None when the status has no JSON body."""
    found = find_operation(method, path)
    if found is None and status in (404, 405):  # unknown route or method: the error shape
        return {"$ref": f"{SPEC_ID}#/components/schemas/Error"}
    if found is None:
        raise AssertionError(f"{method} {path} is not in the emulator's OpenAPI document")
    _, operation = found
    responses = operation.get("responses", {})
    declared = responses.get(str(status)) or responses.get("default")
    if declared is None:
        if status >= 400:
            return {"$ref": f"{SPEC_ID}#/components/schemas/Error"}
        raise AssertionError(f"{method} {path}: status {status} is not declared")
    if "$ref" in declared:
        name = declared["$ref"].rsplit("/", 1)[-1]
        declared = document()["components"]["responses"][name]
    content = declared.get("content", {}).get("application/json")
    if content is None:
        return None
    schema: dict[str, Any] = _absolute(content.get("schema", {}))
    return schema


def _absolute(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: (SPEC_ID + v if k == "$ref" and v.startswith("#") else _absolute(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [_absolute(v) for v in schema]
    return schema


def check_response(response: httpx.Response) -> None:
    """Raise AssertionError when the response breaks the document."""
    request = response.request
    path = request.url.path
    schema = schema_for(request.method, path, response.status_code)
    if schema is None:
        return
    assert "json" in response.headers.get("content-type", ""), (
        f"{request.method} {path}: content-type {response.headers.get('content-type')}")
    body = response.json()
    validator = jsonschema.Draft202012Validator(
        schema, registry=_registry(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        details = "\n".join(f"  at {list(e.path)}: {e.message[:300]}" for e in errors[:5])
        raise AssertionError(f"{request.method} {path} -> {response.status_code} breaks the "
                             f"OpenAPI document:\n{details}")


def validating_hooks() -> dict[str, list[Any]]:
    """httpx event hooks that check every response (read the body first)."""

    def hook(response: httpx.Response) -> None:
        response.read()
        check_response(response)

    return {"response": [hook]}
