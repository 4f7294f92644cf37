"""Fixtures for the issue-16 tests (snapshots, export/import, exec, latency faults)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.contract import validating_hooks


@pytest.fixture
def admin(meshes_server: MeshesServer) -> Iterator[httpx.Client]:
    """An httpx client on /_emulator, every answer checked against emulator.yaml."""
    with httpx.Client(base_url=meshes_server.url + "/_emulator", timeout=30,
                      event_hooks=validating_hooks()) as client:
        yield client
