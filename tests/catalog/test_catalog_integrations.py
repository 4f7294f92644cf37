"""The integrations catalog: completeness, reference schema, and behavior §4.2 per type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from meshes_emulator import catalog
from meshes_emulator.catalog.action_data import ACTION_DATA_KEYS

# behavior.md §4.2: auth type, connection metadata keys (required ones), actions, live data keys.
EXPECTED: dict[str, tuple[str, set[str], dict[str, list[str]], set[str]]] = {
    "activecampaign": (
        "api_key",
        {"api_url", "api_key"},
        {
            "add_to_list": ["id"],
            "remove_from_list": ["id"],
            "add_tag": ["id"],
            "remove_tag": ["id"],
            "sync_contact": [],
        },
        {"lists", "tags"},
    ),
    "aweber": ("oauth", set(), {"add_to_list": ["id"], "remove_from_list": ["id"]}, {"lists"}),
    "customer_io": (
        "api_key",
        {"region", "cdpApiKey"},
        {"track_event": []},
        set(),
    ),
    "discord": ("oauth", set(), {"send_message": ["id", "title", "template"]}, {"channels"}),
    "hubspot": (
        "oauth",
        set(),
        {"add_to_list": ["id"], "remove_from_list": ["id"], "update_property": ["id", "value"]},
        {"lists", "properties"},
    ),
    "intercom": ("oauth", set(), {"add_tag": ["id"], "remove_tag": ["id"]}, {"tags"}),
    "mailchimp": (
        "api_key",
        {"data_center", "api_key"},
        {"add_to_list": ["id"], "remove_from_list": ["id"]},
        {"lists"},
    ),
    "mailerlite": (
        "api_key",
        {"api_key"},
        {"add_to_group": ["id"], "remove_from_group": ["id"]},
        {"groups"},
    ),
    "pipedrive": (
        "oauth",
        set(),
        {
            "sync_person": [],
            "update_person_field": ["id", "value"],
            "add_label_to_person": ["id"],
            "remove_label_from_person": ["id"],
        },
        {"properties", "labels"},
    ),
    "resend": (
        "api_key",
        {"api_key"},
        {
            "add_to_segment": ["id"],
            "remove_from_segment": ["id"],
            "send_email_template": ["id", "subject", "from"],
        },
        {"segments", "templates"},
    ),
    "salesforce": (
        "oauth",
        set(),
        {
            "add_to_campaign": ["id"],
            "remove_from_campaign": ["id"],
            "update_property": ["id", "value"],
        },
        {"campaigns", "properties"},
    ),
    "sendgrid": (
        "api_key",
        {"api_key"},
        {
            "send_email_template": ["id", "from", "subject"],
            "send_email": ["subject", "from", "body"],
        },
        {"templates"},
    ),
    "slack": ("oauth", set(), {"send_message": ["id", "template"]}, {"channels"}),
    "webhook": ("none", {"url"}, {"send_webhook": []}, set()),
    "zoom": (
        "oauth",
        set(),
        {"add_meeting_registrant": ["id"], "add_webinar_registrant": ["id"]},
        {"meetings", "webinars"},
    ),
}
ALL_TYPES = tuple(EXPECTED)  # alphabetical, as the catalog lists them


def test_catalog_lists_all_fifteen_types_alphabetically() -> None:
    types = [rec["type"] for rec in catalog.integrations()]
    assert len(types) == 15 and types == sorted(types)
    assert types == list(ALL_TYPES)
    assert catalog.INTEGRATION_TYPES == ALL_TYPES


@pytest.mark.parametrize("record", catalog.integrations(), ids=lambda r: r["type"])
def test_every_record_validates_against_reference_integration_schema(
    record: dict[str, Any], schema_errors: Callable[[str, Any], list[str]]
) -> None:
    assert schema_errors("Integration", record) == []


def test_catalog_as_a_page_validates_against_integration_list(
    schema_errors: Callable[[str, Any], list[str]],
) -> None:
    records = catalog.integrations()
    page = {"count": len(records), "limit": 20, "next_cursor": None, "records": records}
    assert schema_errors("IntegrationList", page) == []


def test_schema_check_is_not_vacuous(schema_errors: Callable[[str, Any], list[str]]) -> None:
    broken = catalog.get_integration("hubspot")
    assert broken is not None
    broken["authentication"]["type"] = "magic"
    del broken["actions"]["add_to_list"]["noun"]
    assert len(schema_errors("Integration", broken)) == 2


@pytest.mark.parametrize("integration_type", ALL_TYPES)
def test_auth_metadata_and_actions_follow_behavior_table(integration_type: str) -> None:
    auth, required_keys, actions, data_keys = EXPECTED[integration_type]
    record = catalog.get_integration(integration_type)
    assert record is not None
    assert record["authentication"]["type"] == auth
    fields = catalog.credential_fields(integration_type)
    assert {f["key"] for f in fields if f.get("required") and "dependsOn" not in f} == required_keys
    assert {key: a["fields"] for key, a in record["actions"].items()} == actions
    assert catalog.action_keys(integration_type) == list(actions)
    for key, action in record["actions"].items():
        assert action["key"] == key
        assert action["display"]["label"]
        assert action["display"]["description"]
    used = {
        d["key"]
        for a in record["actions"].values()
        for d in a.get("data", [])
        if d["kind"] in ("simple", "advanced")
    }
    assert used == data_keys == set(ACTION_DATA_KEYS[integration_type])


@pytest.mark.parametrize("integration_type", ALL_TYPES)
def test_oauth_types_carry_version_two_and_no_fields(integration_type: str) -> None:
    authentication = catalog.get_integration(integration_type)["authentication"]  # type: ignore[index]
    if authentication["type"] == "oauth":
        assert authentication["oauth"] == {"version": 2}
        assert "fields" not in authentication
    else:
        assert "oauth" not in authentication


def test_data_inputs_write_the_fields_the_action_declares() -> None:
    for record in catalog.integrations():
        for action in record["actions"].values():
            written = set()
            for entry in action.get("data", []):
                written.add(entry["field"])
                if entry["kind"] == "advanced":
                    written.add(entry["options"]["field"])
                if entry["kind"] == "field":
                    assert entry["type"] in ("text", "password", "textarea", "select")
            assert written == set(action["fields"]), (record["type"], action["key"])


def test_webhook_fields_and_secrets() -> None:
    fields = {f["key"]: f for f in catalog.credential_fields("webhook")}
    assert list(fields) == [
        "url", "http_method", "payload_mode", "auth_scheme", "basic_username", "basic_password",
        "bearer_token", "auth_header_name", "auth_header_value", "signing_algorithm",
        "signing_secret", "signature_header", "headers",
    ]
    assert fields["url"]["validate"] == "url"
    assert [o["value"] for o in fields["http_method"]["options"]] == ["POST", "PUT", "PATCH"]
    assert [o["value"] for o in fields["signing_algorithm"]["options"]] == [
        "none",
        "sha256",
        "sha512",
    ]
    assert fields["signature_header"]["defaultValue"] == "X-Meshes-Signature"
    assert fields["signing_secret"]["dependsOn"] == {
        "field": "signing_algorithm",
        "value": ["sha256", "sha512"],
    }
    assert {"basic_password", "bearer_token", "auth_header_value", "signing_secret"} <= (
        catalog.secret_keys("webhook")
    )
    assert "basic_username" not in catalog.secret_keys("webhook")


@pytest.mark.parametrize(
    ("integration_type", "secrets"),
    [
        ("activecampaign", {"api_key"}),
        ("customer_io", {"cdpApiKey"}),
        ("mailchimp", {"api_key"}),
        ("mailerlite", {"api_key"}),
        ("resend", {"api_key"}),
        ("sendgrid", {"api_key"}),
    ],
)
def test_api_key_fields_are_passwords(integration_type: str, secrets: set[str]) -> None:
    declared = {
        f["key"] for f in catalog.credential_fields(integration_type) if f["type"] == "password"
    }
    assert declared == secrets
    assert secrets <= catalog.secret_keys(integration_type)
    for key in ("api_url", "data_center", "region"):
        assert key not in catalog.secret_keys(integration_type)


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("access_token", True),
        ("refresh_token", True),
        ("client_secret", True),
        ("cdpApiKey", True),
        ("privateKey", True),
        ("instance_url", False),
        ("portal_id", False),
        ("signature_header", False),
        ("signing_algorithm", False),
    ],
)
def test_oauth_token_keys_are_secret(key: str, secret: bool) -> None:
    assert catalog.is_secret_key("hubspot", key) is secret


def test_loader_returns_copies_and_handles_unknown_types() -> None:
    first = catalog.integrations()
    first[0]["name"] = "mutated"
    assert catalog.integrations()[0]["name"] == "ActiveCampaign"
    assert catalog.get_integration("nope") is None
    assert catalog.action_keys("nope") == []
    assert catalog.credential_fields("nope") == []
    assert catalog.auth_type("nope") is None
    assert catalog.auth_type("zoom") == "oauth"


@pytest.mark.parametrize(("integration_type", "action"), [
    ("activecampaign", "sync_contact"), ("customer_io", "track_event"),
    ("pipedrive", "sync_person"), ("webhook", "send_webhook")])
def test_action_only_actions(integration_type: str, action: str) -> None:
    """Rules file: `fields: []` for action-only actions; they have no input descriptors."""
    described = catalog.get_integration(integration_type)["actions"][action]  # type: ignore[index]
    assert described["fields"] == []
    assert "data" not in described
