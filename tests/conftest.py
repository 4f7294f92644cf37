"""Shared fixtures: the project's own plugin (meshes_server) plus contract-checked clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.contract import validating_hooks


@pytest.fixture
def api(meshes_server: MeshesServer) -> Iterator[httpx.Client]:
    """A machine-JWT client on /api/v1 whose every response is checked against the OpenAPI."""
    with meshes_server.client(event_hooks=validating_hooks()) as client:
        yield client


@pytest.fixture
def ws(meshes_server: MeshesServer) -> str:
    """The default workspace's id."""
    return meshes_server.workspace_id or ""


@pytest.fixture
def ingest(meshes_server: MeshesServer) -> Iterator[httpx.Client]:
    """A publishable-key client on /api/v1 (default workspace), contract-checked."""
    with meshes_server.ingest_client(event_hooks=validating_hooks()) as client:
        yield client


@pytest.fixture
def raw(meshes_server: MeshesServer) -> Iterator[httpx.Client]:
    """An unauthenticated client on the server root, contract-checked where a route is known."""
    with httpx.Client(base_url=meshes_server.url, timeout=30) as client:
        yield client
