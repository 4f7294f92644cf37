"""Generated live action data: deterministic, realistic, shaped as reference §7.6 suggests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from meshes_emulator.catalog import INTEGRATION_TYPES
from meshes_emulator.catalog.action_data import ACTION_DATA_KEYS, generate_action_data


@pytest.mark.parametrize("integration_type", INTEGRATION_TYPES)
def test_same_seed_same_data_and_keys_match_catalog(integration_type: str) -> None:
    first = generate_action_data(integration_type, "conn-1:seed-0")
    assert first == generate_action_data(integration_type, "conn-1:seed-0")
    assert tuple(first) == ACTION_DATA_KEYS[integration_type]


@pytest.mark.parametrize("integration_type", [t for t in INTEGRATION_TYPES if ACTION_DATA_KEYS[t]])
def test_different_seeds_give_different_data(integration_type: str) -> None:
    seeds = [f"conn-{i}" for i in range(4)]
    variants = {repr(generate_action_data(integration_type, s)) for s in seeds}
    assert len(variants) > 1


@pytest.mark.parametrize("integration_type", INTEGRATION_TYPES)
def test_items_have_unique_string_ids_and_names(
    integration_type: str, schema_errors: Callable[[str, Any], list[str]]
) -> None:
    data = generate_action_data(integration_type, "shape")
    assert schema_errors("ConnectionActionData", data) == []
    for key, items in data.items():
        assert items, key
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids))
        for item in items:
            assert set(item) <= {"id", "name", "options"}
            assert isinstance(item["id"], str) and item["id"]
            assert isinstance(item["name"], str) and item["name"]
            for option in item.get("options", []):
                assert set(option) == {"value", "label"}
                assert isinstance(option["value"], str)


@pytest.mark.parametrize(
    ("integration_type", "key", "pattern"),
    [
        ("hubspot", "lists", r"^\d+$"),
        ("mailchimp", "lists", r"^[0-9a-f]{10}$"),
        ("slack", "channels", r"^C0[A-Z0-9]{9}$"),
        ("discord", "channels", r"^\d{19}$"),
        ("sendgrid", "templates", r"^d-[0-9a-f]{32}$"),
        ("salesforce", "campaigns", r"^701[A-Za-z0-9]{15}$"),
        ("resend", "segments", r"^[0-9a-f-]{36}$"),
        ("zoom", "meetings", r"^\d{11}$"),
        ("pipedrive", "properties", r"^[0-9a-f]{40}$"),
    ],
)
def test_ids_follow_provider_style(integration_type: str, key: str, pattern: str) -> None:
    for item in generate_action_data(integration_type, "style")[key]:
        assert re.match(pattern, item["id"]), item


def test_hubspot_properties_include_lifecycle_stage_with_options() -> None:
    properties = generate_action_data("hubspot", "any")["properties"]
    lifecycle = next(p for p in properties if p["id"] == "lifecycle_stage")
    values = [o["value"] for o in lifecycle["options"]]
    assert {"lead", "customer"} <= set(values)
    assert all("options" in p and p["options"] for p in properties)


def test_types_without_live_data_give_an_empty_object() -> None:
    assert generate_action_data("webhook", "x") == {}
    assert generate_action_data("customer_io", "x") == {}


def test_unknown_type_raises_key_error() -> None:
    with pytest.raises(KeyError):
        generate_action_data("myspace", "x")
