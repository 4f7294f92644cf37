"""Fixtures for the catalog tests: validators for reference OpenAPI component schemas.

The reference contract (/work/shared/reference) is read here, in the tests only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

OPENAPI = Path("/work/shared/reference/meshes-openapi.yaml")
URI = "urn:meshes-openapi"


@pytest.fixture(scope="session")
def schema_errors() -> Callable[[str, Any], list[str]]:
    """`schema_errors(Component, instance)` -> readable validation errors (empty when valid)."""
    if OPENAPI.exists():
        document = yaml.safe_load(OPENAPI.read_text("utf-8"))
    else:  # away from the research machine: the project's copy, held against the reference
        from meshes_emulator.openapi import document as project_document

        document = project_document()
    registry: Registry[Any] = Registry().with_resource(
        URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validators: dict[str, Draft202012Validator] = {}

    def errors(component: str, instance: Any) -> list[str]:
        if component not in validators:
            ref = {"$ref": f"{URI}#/components/schemas/{component}"}
            validators[component] = Draft202012Validator(ref, registry=registry)
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validators[component].iter_errors(instance)
        ]

    return errors
