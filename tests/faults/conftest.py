"""Fixtures for the fault, clock, explain and toolkit tests (issue 5).

`admin` is an httpx client on /_emulator whose every response is checked against the project's
OpenAPI document (emulator.yaml), like `api` for the public API.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import create_connection, create_rule, webhook_connection
from tests.contract import validating_hooks
from tests.engine.webhook_receiver import Receiver
from tests.faults.helpers import Route


@pytest.fixture
def admin(meshes_server: MeshesServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=meshes_server.url + "/_emulator", timeout=30,
                      event_hooks=validating_hooks()) as client:
        yield client


@pytest.fixture
def hubspot(api: httpx.Client, ws: str) -> Route:
    connection = create_connection(api, ws, "hubspot", name="HubSpot")
    rule = create_rule(api, ws, connection["id"], action="add_to_list", metadata={"id": "42"})
    return Route(connection, rule)


@pytest.fixture
def slack(api: httpx.Client, ws: str) -> Route:
    connection = create_connection(api, ws, "slack", name="Slack")
    rule = create_rule(api, ws, connection["id"], action="send_message",
                       metadata={"id": "C1", "template": "Hi {{first_name}}"})
    return Route(connection, rule)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rx:
        yield rx


@pytest.fixture
def hook(api: httpx.Client, ws: str, receiver: Receiver) -> Route:
    connection = webhook_connection(api, ws, receiver.url + "/hook", name="Hook")
    rule = create_rule(api, ws, connection["id"])
    return Route(connection, rule)
