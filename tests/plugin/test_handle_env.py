"""The handle's `env` carries the variables `meshes-emulator exec` gives its command, and
`admin()` reads a path with or without its leading slash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import meshes_emulator
from meshes_emulator.cli_exec import client_env
from pytest_meshes import MeshesServer


@pytest.fixture
def emulator() -> Iterator[MeshesServer]:
    with meshes_emulator.running() as running:
        yield running


def test_env_has_every_variable_exec_sets(emulator: MeshesServer) -> None:
    exec_env = client_env({"base_url": emulator.url, "org_id": emulator.org_id,
                           "access_key": emulator.access_key, "secret_key": emulator.secret_key,
                           "workspaces": [{"id": emulator.workspace_id,
                                           "publishable_key": emulator.publishable_key}]})
    assert emulator.env == exec_env
    assert emulator.env["MESHES_EVENTS_URL"] == emulator.env["MESHES_EMULATOR_URL"] == emulator.url


def test_admin_path_without_its_leading_slash(emulator: MeshesServer) -> None:
    assert emulator.admin("GET", "health") == emulator.admin("GET", "/health") == {"status": "ok"}
