"""MappingSchema validation, normalization, generated defaults and application."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from meshes_emulator.catalog import INTEGRATION_TYPES
from meshes_emulator.catalog.fields import field_catalog
from meshes_emulator.catalog.mapping import (
    apply_mapping,
    default_mapping_schema,
    normalize_mapping_schema,
    validate_mapping_schema,
)

VALID: dict[str, Any] = {
    "schema_version": 1,
    "fields": [
        {
            "dest": "email",
            "source": {"type": "path", "value": "email"},
            "transforms": [{"type": "lower"}, {"type": "trim"}],
            "on_error": "fail_action",
            "notes": "primary key",
        },
        {"dest": "lifecycle_stage", "source": {"type": "literal", "value": "lead"}},
        {"dest": "score", "source": {"type": "literal", "value": 3.5}},
        {"dest": "vip", "source": {"type": "literal", "value": False}},
        {"dest": "cleared", "source": {"type": "literal", "value": None}},
        {
            "dest": "city",
            "source": {"type": "path", "value": "user.address.city"},
            "transforms": [
                {"type": "default", "value": "Unknown"},
                {"type": "substring", "start": 0, "length": 3},
                {"type": "to_date", "timezone": "Europe/Paris"},
                {"type": "to_datetime"},
                {"type": "to_string"},
                {"type": "to_number"},
                {"type": "to_boolean"},
                {"type": "upper"},
            ],
            "on_error": "warn_action",
        },
    ],
    "meta": {"name": "CRM", "notes": "hand-written"},
}


def with_field(**changes: Any) -> dict[str, Any]:
    schema = copy.deepcopy(VALID)
    field = schema["fields"][0]
    for key, value in changes.items():
        if value is None:
            field.pop(key, None)
        else:
            field[key] = value
    return schema


def problem_params(schema: Any) -> list[str]:
    return [p["param"] for p in validate_mapping_schema(schema)]


def test_valid_schema_has_no_problems(schema_errors: Callable[[str, Any], list[str]]) -> None:
    assert validate_mapping_schema(VALID) == []
    assert schema_errors("MappingSchema", VALID) == []
    assert normalize_mapping_schema(VALID) == VALID


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("nope", ["schema"]),
        ({"fields": []}, ["schema.schema_version"]),
        ({"schema_version": 2, "fields": []}, ["schema.schema_version"]),
        ({"schema_version": True, "fields": []}, ["schema.schema_version"]),
        ({"schema_version": "1", "fields": []}, ["schema.schema_version"]),
        ({"schema_version": 1}, ["schema.fields"]),
        ({"schema_version": 1, "fields": {}}, ["schema.fields"]),
        ({"schema_version": 1, "fields": ["x"]}, ["schema.fields[0]"]),
        ({"schema_version": 1, "fields": [], "meta": {"name": ""}}, ["schema.meta.name"]),
        ({"schema_version": 1, "fields": [], "meta": {"name": "x" * 65}}, ["schema.meta.name"]),
        ({"schema_version": 1, "fields": [], "meta": {"notes": "x" * 1025}}, ["schema.meta.notes"]),
        ({"schema_version": 1, "fields": [], "meta": []}, ["schema.meta"]),
    ],
)
def test_top_level_problems(schema: Any, expected: list[str]) -> None:
    assert problem_params(schema) == expected


def test_field_count_limit() -> None:
    field = {"dest": "d", "source": {"type": "literal", "value": 1}}
    assert problem_params({"schema_version": 1, "fields": [field] * 250}) == []
    assert problem_params({"schema_version": 1, "fields": [field] * 251}) == ["schema.fields"]


def test_schema_version_float_one_is_accepted_and_normalized() -> None:
    schema = {"schema_version": 1.0, "fields": []}
    assert validate_mapping_schema(schema) == []
    assert normalize_mapping_schema(schema)["schema_version"] == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"dest": None}, ["schema.fields[0].dest"]),
        ({"dest": ""}, ["schema.fields[0].dest"]),
        ({"dest": "x" * 129}, ["schema.fields[0].dest"]),
        ({"dest": 5}, ["schema.fields[0].dest"]),
        ({"source": None}, ["schema.fields[0].source"]),
        ({"source": "email"}, ["schema.fields[0].source"]),
        ({"source": {"type": "jsonpath", "value": "a"}}, ["schema.fields[0].source.type"]),
        ({"source": {"type": "path"}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "path", "value": ""}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "path", "value": "1email"}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "path", "value": "user..email"}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "path", "value": "a" * 129}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "path", "value": "$.email"}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "literal"}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "literal", "value": ""}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "literal", "value": "x" * 257}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "literal", "value": [1]}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "literal", "value": {"a": 1}}}, ["schema.fields[0].source.value"]),
        ({"source": {"type": "path", "path": "$.payload.1x"}}, ["schema.fields[0].source.path"]),
        ({"transforms": {}}, ["schema.fields[0].transforms"]),
        ({"transforms": [{"type": "trim"}] * 11}, ["schema.fields[0].transforms"]),
        ({"transforms": [{"type": "reverse"}]}, ["schema.fields[0].transforms[0].type"]),
        ({"transforms": ["trim"]}, ["schema.fields[0].transforms[0]"]),
        ({"transforms": [{"type": "default"}]}, ["schema.fields[0].transforms[0].value"]),
        (
            {"transforms": [{"type": "default", "value": "x" * 129}]},
            ["schema.fields[0].transforms[0].value"],
        ),
        ({"transforms": [{"type": "substring"}]}, ["schema.fields[0].transforms[0].start"]),
        (
            {"transforms": [{"type": "substring", "start": -1}]},
            ["schema.fields[0].transforms[0].start"],
        ),
        (
            {"transforms": [{"type": "substring", "start": True}]},
            ["schema.fields[0].transforms[0].start"],
        ),
        (
            {"transforms": [{"type": "substring", "start": 0, "length": 0}]},
            ["schema.fields[0].transforms[0].length"],
        ),
        (
            {"transforms": [{"type": "to_date", "timezone": ""}]},
            ["schema.fields[0].transforms[0].timezone"],
        ),
        (
            {"transforms": [{"type": "to_datetime", "timezone": "x" * 65}]},
            ["schema.fields[0].transforms[0].timezone"],
        ),
        ({"on_error": "explode"}, ["schema.fields[0].on_error"]),
        ({"notes": ""}, ["schema.fields[0].notes"]),
        ({"notes": "x" * 1025}, ["schema.fields[0].notes"]),
    ],
)
def test_field_problems(changes: dict[str, Any], expected: list[str]) -> None:
    assert problem_params(with_field(**changes)) == expected


def test_several_problems_are_all_reported() -> None:
    schema = {
        "schema_version": 3,
        "fields": [{"dest": "", "source": {"type": "path", "value": "-"}, "on_error": "x"}],
    }
    assert problem_params(schema) == [
        "schema.schema_version",
        "schema.fields[0].dest",
        "schema.fields[0].source.value",
        "schema.fields[0].on_error",
    ]


def test_go_path_form_is_tolerated_and_normalized(
    schema_errors: Callable[[str, Any], list[str]],
) -> None:
    schema = {
        "schema_version": 1,
        "fields": [
            {"dest": "email", "source": {"type": "path", "path": "$.payload.email"}},
            {"dest": "city", "source": {"type": "path", "path": "$.user.city"}},
        ],
    }
    assert validate_mapping_schema(schema) == []
    normalized = normalize_mapping_schema(schema)
    assert [f["source"] for f in normalized["fields"]] == [
        {"type": "path", "value": "email"},
        {"type": "path", "value": "user.city"},
    ]
    assert schema_errors("MappingSchema", normalized) == []


def test_normalize_drops_unknown_keys() -> None:
    schema = {
        "schema_version": 1,
        "extra": True,
        "fields": [
            {
                "dest": "a",
                "source": {"type": "literal", "value": "x", "junk": 1},
                "transforms": [{"type": "trim", "junk": 2}, {"type": "substring", "start": 1}],
                "junk": 3,
            }
        ],
        "meta": {"name": "n", "junk": 4},
    }
    assert validate_mapping_schema(schema) == []
    assert normalize_mapping_schema(schema) == {
        "schema_version": 1,
        "fields": [
            {
                "dest": "a",
                "source": {"type": "literal", "value": "x"},
                "transforms": [{"type": "trim"}, {"type": "substring", "start": 1}],
            }
        ],
        "meta": {"name": "n"},
    }


# ----------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("integration_type", INTEGRATION_TYPES)
def test_default_mapping_is_valid_and_targets_catalog_fields(
    integration_type: str, schema_errors: Callable[[str, Any], list[str]]
) -> None:
    schema = default_mapping_schema(integration_type)
    assert validate_mapping_schema(schema) == []
    assert schema_errors("MappingSchema", schema) == []
    catalog_keys = {f["key"] for f in field_catalog(integration_type)}
    assert {f["dest"] for f in schema["fields"]} <= catalog_keys


def test_default_hubspot_mapping() -> None:
    fields = {f["dest"]: f for f in default_mapping_schema("hubspot")["fields"]}
    assert fields["email"] == {
        "dest": "email",
        "source": {"type": "path", "value": "email"},
        "transforms": [{"type": "trim"}, {"type": "lower"}],
        "on_error": "fail_action",
    }
    assert fields["firstname"]["source"] == {"type": "path", "value": "first_name"}
    assert fields["lastname"]["source"] == {"type": "path", "value": "last_name"}
    assert fields["phone"]["on_error"] == "skip_field"
    assert "hs_object_id" not in fields  # read-only


def test_default_mailchimp_mapping_uses_merge_fields() -> None:
    schema = default_mapping_schema("mailchimp")
    fields = {f["dest"]: f["source"]["value"] for f in schema["fields"]}
    assert fields == {
        "email": "email",
        "ip_signup": "ip_address",
        "FNAME": "first_name",
        "LNAME": "last_name",
        "PHONE": "phone",
    }


def test_default_webhook_mapping_is_empty() -> None:
    assert default_mapping_schema("webhook")["fields"] == []


# ----------------------------------------------------------------------------- application


def field(dest: str, source: dict[str, Any], *transforms: dict[str, Any], **extra: Any) -> Any:
    return {"dest": dest, "source": source, "transforms": list(transforms), **extra}


def path(value: str) -> dict[str, str]:
    return {"type": "path", "value": value}


def run(*fields: Any, payload: dict[str, Any] | None = None) -> Any:
    return apply_mapping({"schema_version": 1, "fields": list(fields)}, payload or {})


def test_apply_resolves_paths_literals_and_nested_values() -> None:
    payload = {
        "email": "  Ada@Example.COM ",
        "user": {"name": "Ada", "tags": ["a", "b"]},
        "gone": None,
    }
    mapped, warnings, error = run(
        field("email", path("email"), {"type": "trim"}, {"type": "lower"}),
        field("name", path("user.name")),
        field("second_tag", path("user.tags.1")),
        field("stage", {"type": "literal", "value": "lead"}),
        field("gone", path("gone")),
        payload=payload,
    )
    assert (mapped, warnings, error) == (
        {
            "email": "ada@example.com",
            "name": "Ada",
            "second_tag": "b",
            "stage": "lead",
            "gone": None,
        },
        [],
        None,
    )


def test_apply_tolerates_go_path_form() -> None:
    mapped, _, error = run(
        field("email", {"type": "path", "path": "$.payload.email"}), payload={"email": "a@b.c"}
    )
    assert (mapped, error) == ({"email": "a@b.c"}, None)


def test_transforms_apply_in_order() -> None:
    mapped, _, _ = run(
        field("a", path("v"), {"type": "trim"}, {"type": "substring", "start": 0, "length": 2}),
        field("b", path("v"), {"type": "substring", "start": 0, "length": 2}, {"type": "trim"}),
        payload={"v": " hello "},
    )
    assert mapped == {"a": "he", "b": "h"}


@pytest.mark.parametrize(
    ("transform", "value", "expected"),
    [
        ({"type": "to_string"}, 42, "42"),
        ({"type": "to_string"}, 4.0, "4"),
        ({"type": "to_string"}, 4.5, "4.5"),
        ({"type": "to_string"}, True, "true"),
        ({"type": "to_string"}, {"a": 1}, '{"a":1}'),
        ({"type": "to_number"}, " 42 ", 42),
        ({"type": "to_number"}, "4.25", 4.25),
        ({"type": "to_number"}, False, 0),
        ({"type": "to_boolean"}, "Yes", True),
        ({"type": "to_boolean"}, "off", False),
        ({"type": "to_boolean"}, 0, False),
        ({"type": "to_date"}, "2024-03-05T23:30:00Z", "2024-03-05"),
        ({"type": "to_date", "timezone": "Asia/Tokyo"}, "2024-03-05T23:30:00Z", "2024-03-06"),
        ({"type": "to_date"}, 1709683200, "2024-03-06"),
        ({"type": "to_date"}, 1709683200000, "2024-03-06"),
        ({"type": "to_datetime"}, "2024-03-05T10:00:00+02:00", "2024-03-05T08:00:00Z"),
        (
            {"type": "to_datetime", "timezone": "America/New_York"},
            "2024-03-05 10:00",
            "2024-03-05T15:00:00Z",
        ),
        ({"type": "to_datetime"}, "2024-03-05", "2024-03-05T00:00:00Z"),
        ({"type": "to_datetime"}, "1709683200.5", "2024-03-06T00:00:00.500Z"),
        ({"type": "upper"}, "abc", "ABC"),
        ({"type": "lower"}, "ABC", "abc"),
        ({"type": "trim"}, "  x ", "x"),
        ({"type": "substring", "start": 2}, "abcdef", "cdef"),
        ({"type": "substring", "start": 10, "length": 2}, "abc", ""),
        ({"type": "default", "value": "n/a"}, "", "n/a"),
        ({"type": "default", "value": "n/a"}, "set", "set"),
        ({"type": "default", "value": 0}, None, 0),
    ],
)
def test_each_transform(transform: dict[str, Any], value: Any, expected: Any) -> None:
    mapped, warnings, error = run(field("x", path("v"), transform), payload={"v": value})
    assert (mapped, warnings, error) == ({"x": expected}, [], None)


def test_default_fills_a_missing_path() -> None:
    mapped, _, _ = run(field("x", path("absent"), {"type": "default", "value": "fallback"}))
    assert mapped == {"x": "fallback"}


@pytest.mark.parametrize(
    ("transform", "value"),
    [
        ({"type": "to_number"}, "twelve"),
        ({"type": "to_number"}, "nan"),
        ({"type": "to_number"}, ""),
        ({"type": "to_boolean"}, "maybe"),
        ({"type": "to_date"}, "yesterday"),
        ({"type": "to_date"}, [1]),
        ({"type": "to_date", "timezone": "Mars/Olympus"}, "2024-01-01"),
        ({"type": "lower"}, 5),
        ({"type": "substring", "start": 1}, 12345),
    ],
)
def test_failing_transforms_follow_on_error(transform: dict[str, Any], value: Any) -> None:
    payload = {"v": value, "ok": "fine"}
    skip = run(field("x", path("v"), transform), field("y", path("ok")), payload=payload)
    assert skip == ({"y": "fine"}, [], None)
    warn = run(
        field("x", path("v"), transform, on_error="warn_action"),
        field("y", path("ok")),
        payload=payload,
    )
    assert warn[0] == {"y": "fine"}
    assert len(warn[1]) == 1
    assert warn[1][0].startswith("x: ")
    assert warn[2] is None
    fail = run(
        field("y", path("ok")),
        field("x", path("v"), transform, on_error="fail_action"),
        field("z", path("ok")),
        payload=payload,
    )
    assert fail[0] == {"y": "fine"}
    assert fail[1] == []
    assert fail[2] is not None
    assert fail[2].startswith("x: ")


def test_missing_path_is_a_field_error() -> None:
    assert run(field("x", path("absent"))) == ({}, [], None)
    _, warnings, _ = run(field("x", path("absent"), on_error="warn_action"))
    assert warnings == ["x: path 'absent' not found"]
    _, _, error = run(field("x", path("a.b"), on_error="fail_action"), payload={"a": "str"})
    assert error == "x: path 'a.b' not found"


def test_later_field_with_same_dest_wins() -> None:
    mapped, _, _ = run(
        field("x", {"type": "literal", "value": 1}),
        field("x", {"type": "literal", "value": 2}),
    )
    assert mapped == {"x": 2}
