"""Shared helpers for the connection, mapping and secrets tests (issue 3)."""

from __future__ import annotations

from typing import Any

import httpx

from meshes_emulator.clock import isoformat
from pytest_meshes import MeshesServer
from tests.helpers import emulator_of

# Valid metadata for every type; every secret value contains "s3cr3t" so a scan can find it.
VALID_METADATA: dict[str, dict[str, Any]] = {
    "activecampaign": {"api_url": "https://acme.api-us1.com", "api_key": "ac-s3cr3t-key-001"},
    "aweber": {"access_token": "aw-s3cr3t-access", "refresh_token": "aw-s3cr3t-refresh"},
    "customer_io": {"region": "EU", "cdpApiKey": "cio-s3cr3t-cdp-key"},
    "discord": {"guild_id": "112233445566778899", "bot_token": "dc-s3cr3t-bot"},
    "hubspot": {"access_token": "hs-s3cr3t-access", "portal_id": "4455667"},
    "intercom": {"access_token": "ic-s3cr3t-access"},
    "mailchimp": {"data_center": "us6", "api_key": "mc-s3cr3t-key-us6"},
    "mailerlite": {"api_key": "ml-s3cr3t-key"},
    "pipedrive": {"access_token": "pd-s3cr3t-access", "api_domain": "https://acme.pipedrive.com"},
    "resend": {"api_key": "re_s3cr3t_key"},
    "salesforce": {
        "access_token": "sf-s3cr3t-access",
        "refresh_token": "sf-s3cr3t-refresh",
        "instance_url": "https://acme.my.salesforce.com",
    },
    "sendgrid": {"api_key": "SG.s3cr3t.key"},
    "slack": {"access_token": "xoxb-s3cr3t-token", "team_id": "T0123"},
    "webhook": {
        "url": "https://hooks.example.com/meshes",
        "auth_scheme": "bearer",
        "bearer_token": "wh-s3cr3t-bearer",
        "signing_algorithm": "sha256",
        "signing_secret": "wh-s3cr3t-signing",
        "headers": [
            {"name": "X-Tenant", "value": "acme"},
            {"name": "X-Api-Key", "value": "hdr-s3cr3t-key"},
        ],
    },
    "zoom": {"access_token": "zm-s3cr3t-access", "account_id": "acc-1"},
}

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def create(
    api: httpx.Client,
    workspace: str,
    integration_type: str = "sendgrid",
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Create a connection (asserting 201) and return it."""
    body = {
        "workspace": workspace,
        "type": integration_type,
        "name": name or f"{integration_type} main",
        "metadata": VALID_METADATA[integration_type] if metadata is None else metadata,
        **extra,
    }
    response = api.post("/connections", json=body)
    assert response.status_code == 201, response.text
    connection: dict[str, Any] = response.json()["connection"]
    return connection


def other_org_client(meshes_server: MeshesServer) -> tuple[httpx.Client, str]:
    """A machine client of a second organization, and that organization's workspace id."""
    from pytest_meshes.clients import MachineAuth
    from tests.contract import validating_hooks

    other = meshes_server.create_org("Other Co")
    client = httpx.Client(
        base_url=meshes_server.api_url,
        auth=MachineAuth(other["access_key"], other["secret_key"], other["org_id"]),
        event_hooks=validating_hooks(),
        timeout=30,
    )
    return client, other["workspaces"][0]["id"]


def insert_rule(meshes_server: MeshesServer, connection: dict[str, Any]) -> str:
    """A rule row pointing at the connection, written straight to the store."""
    emulator = emulator_of(meshes_server)
    now = isoformat(emulator.clock.now())
    rule_id = emulator.ids.uuid()
    with emulator.store.transaction():
        emulator.store.insert(
            "rules",
            {
                "id": rule_id,
                "org_id": meshes_server.org_id,
                "workspace_id": connection["workspace"],
                "connection_id": connection["id"],
                "type": connection["type"],
                "event": "user.signup",
                "metadata": '{"action": "send_email"}',
                "active": 1,
                "hidden": 0,
                "created_by": "test",
                "created_at": now,
                "updated_at": now,
            },
        )
    return rule_id


def rule_exists(meshes_server: MeshesServer, rule_id: str) -> bool:
    store = emulator_of(meshes_server).store
    return store.one("SELECT id FROM rules WHERE id = ?", [rule_id]) is not None


def move_clock(meshes_server: MeshesServer, now: str) -> None:
    meshes_server.admin("POST", "/clock", {"now": now})


def stored_metadata(meshes_server: MeshesServer, connection_id: str) -> str:
    """The connection's metadata as the store holds it (secrets unmasked)."""
    store = emulator_of(meshes_server).store
    row = store.one("SELECT metadata FROM connections WHERE id = ?", [connection_id])
    assert row is not None
    return str(row["metadata"])


# A stored mapping schema the tests PUT: a normalized email and a literal lifecycle stage.
MAPPING_SCHEMA: dict[str, Any] = {
    "schema_version": 1,
    "fields": [
        {
            "dest": "email",
            "source": {"type": "path", "value": "email"},
            "transforms": [{"type": "lower"}, {"type": "trim"}],
            "on_error": "skip_field",
        },
        {"dest": "lifecycle_stage", "source": {"type": "literal", "value": "lead"}},
    ],
}
