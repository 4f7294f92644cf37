"""Destination field catalogs per integration type (reference §12.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from meshes_emulator.catalog import INTEGRATION_TYPES
from meshes_emulator.catalog.fields import catalog_version, catalog_version_of, field_catalog


@pytest.mark.parametrize("integration_type", INTEGRATION_TYPES)
def test_every_field_validates_against_reference_schema(
    integration_type: str, schema_errors: Callable[[str, Any], list[str]]
) -> None:
    fields = field_catalog(integration_type)
    keys = [f["key"] for f in fields]
    assert len(keys) == len(set(keys))
    for field in fields:
        assert schema_errors("ConnectionFieldDefinition", field) == [], field
        assert field["label"]


@pytest.mark.parametrize(
    ("integration_type", "expected"),
    [
        ("hubspot", {"email", "firstname", "lastname", "phone", "lifecycle_stage"}),
        ("mailchimp", {"email", "ip_signup", "FNAME", "LNAME"}),
        ("intercom", {"email", "external_id", "name", "phone"}),
        ("activecampaign", {"email", "firstName", "lastName", "phone"}),
        ("salesforce", {"Email", "FirstName", "LastName"}),
        ("slack", {"email", "first_name", "name"}),
        ("discord", {"email", "first_name", "name"}),
        ("zoom", {"email", "first_name", "last_name"}),
    ],
)
def test_realistic_keys_per_integration(integration_type: str, expected: set[str]) -> None:
    assert expected <= {f["key"] for f in field_catalog(integration_type)}


def test_email_is_required_with_email_format_where_matching_needs_it() -> None:
    for integration_type in ("hubspot", "intercom", "mailchimp", "activecampaign", "zoom"):
        email = next(f for f in field_catalog(integration_type) if f["key"].lower() == "email")
        assert email["constraints"]["format"] == "email"
        assert email["constraints"]["required"] is True


def test_enum_fields_list_allowed_values() -> None:
    stage = next(f for f in field_catalog("hubspot") if f["key"] == "lifecycle_stage")
    assert stage["type"] == "enum"
    assert {"lead", "customer"} <= set(stage["constraints"]["allowed_values"])


def test_webhook_and_unknown_types_have_no_fields() -> None:
    assert field_catalog("webhook") == []
    assert field_catalog("nope") == []


def test_catalog_version_is_stable_and_content_sensitive() -> None:
    versions = {t: catalog_version(t) for t in INTEGRATION_TYPES}
    assert all(len(v) == 16 for v in versions.values())
    assert versions["hubspot"] == catalog_version("hubspot")
    # Slack and Discord expose the same template variables, hence the same version.
    assert versions["slack"] == versions["discord"]
    assert len(set(versions.values())) == len(INTEGRATION_TYPES) - 1
    fields = field_catalog("hubspot")
    reordered_keys = [dict(reversed(list(f.items()))) for f in fields]
    assert catalog_version_of(reordered_keys) == versions["hubspot"]
    fields[0]["label"] = "E-mail"
    assert catalog_version_of(fields) != versions["hubspot"]


def test_field_catalog_returns_copies() -> None:
    field_catalog("hubspot")[0]["key"] = "mutated"
    assert field_catalog("hubspot")[0]["key"] == "email"
