"""MappingSchema: validation, normalization, generated defaults and application (reference §12.6).

* `validate_mapping_schema(obj)` -> list of `{param, msg}` (empty when valid), with the limits of
  behavior §4.4: `schema_version` 1; at most 250 `fields`; `dest` 1-128 chars; `source`
  `{type: literal, value: scalar}` (string 1-256, number, boolean, null) or
  `{type: path, value: selector}` (1-128 chars, `^[a-zA-Z_][a-zA-Z0-9_]*(\\.[a-zA-Z0-9_]+)*$`);
  the Go SDK form `{type: path, path: "$.payload.email"}` is tolerated; at most 10 `transforms`
  of the listed types with their parameters; `on_error` enum; `notes` 1-1024; `meta.name` 1-64,
  `meta.notes` 1-1024. Unknown keys are ignored (and dropped by `normalize_mapping_schema`).
* `normalize_mapping_schema(obj)` -> the canonical MCP form (path sources as `value`, no unknown
  keys, `schema_version` the integer 1). Call it on a valid schema only.
* `default_mapping_schema(type)` -> the generated default: each catalog field whose key names a
  well-known payload key (`email`, `first_name`, `last_name`, `name`, `phone`, `id`,
  `ip_address`, `resource_url`) maps from it; email fields get `trim`, `lower`.
* `apply_mapping(schema, payload)` -> `(mapped, warnings, error)`; see its docstring.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Final, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from meshes_emulator.catalog.fields import field_catalog

__all__ = [
    "MAX_FIELDS",
    "MAX_TRANSFORMS",
    "ON_ERROR_VALUES",
    "TRANSFORM_TYPES",
    "apply_mapping",
    "default_mapping_schema",
    "normalize_mapping_schema",
    "validate_mapping_schema",
]

Problem = dict[str, str]

MAX_FIELDS: Final = 250
MAX_TRANSFORMS: Final = 10
SELECTOR = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+)*$")
ON_ERROR_VALUES: Final = ("skip_field", "warn_action", "fail_action")
DEFAULT_ON_ERROR: Final = "skip_field"
TRANSFORM_TYPES: Final = (
    "to_string",
    "to_number",
    "to_boolean",
    "to_date",
    "to_datetime",
    "default",
    "trim",
    "lower",
    "upper",
    "substring",
)


# ----------------------------------------------------------------------------- validation


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> TypeGuard[int | float]:
    """An integer by JSON Schema's rule: 2 and 2.0 (JSON has one number type)."""
    return _is_number(value) and float(value).is_integer()


def _text_problem(value: Any, low: int, high: int) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not low <= len(value) <= high:
        return f"must be {low}-{high} characters"
    return None


def _scalar_problem(value: Any, max_len: int) -> str | None:
    if value is None or isinstance(value, bool) or _is_number(value):
        return None
    if isinstance(value, str):
        return _text_problem(value, 1, max_len)
    return f"must be a string (1-{max_len} characters), number, boolean or null"


def go_path_to_selector(path: str) -> str:
    """`$.payload.user.email` / `$.email` / `payload.email` -> `user.email` / `email`."""
    selector = path.strip()
    for prefix in ("$.", "$"):
        if selector.startswith(prefix):
            selector = selector[len(prefix) :]
            break
    if selector.startswith("payload."):
        selector = selector[len("payload.") :]
    return selector


def _source_problems(source: Any, param: str) -> list[Problem]:
    if not isinstance(source, Mapping):
        return [{"param": param, "msg": "must be an object {type, value}"}]
    kind = source.get("type")
    if kind == "literal":
        if "value" not in source:
            return [{"param": f"{param}.value", "msg": "is required"}]
        problem = _scalar_problem(source["value"], 256)
        return [{"param": f"{param}.value", "msg": problem}] if problem else []
    if kind == "path":
        if "value" in source:
            selector, where = source["value"], f"{param}.value"
        elif "path" in source and isinstance(source["path"], str):
            selector, where = go_path_to_selector(source["path"]), f"{param}.path"
        else:
            return [{"param": f"{param}.value", "msg": "is required"}]
        problem = _text_problem(selector, 1, 128)
        if problem is None and not SELECTOR.match(selector):
            problem = f"must match {SELECTOR.pattern}"
        return [{"param": where, "msg": problem}] if problem else []
    return [{"param": f"{param}.type", "msg": "must be one of: literal, path"}]


def _transform_problems(transform: Any, param: str) -> list[Problem]:
    if not isinstance(transform, Mapping):
        return [{"param": param, "msg": "must be an object {type, ...}"}]
    kind = transform.get("type")
    if kind not in TRANSFORM_TYPES:
        return [{"param": f"{param}.type", "msg": "must be one of: " + ", ".join(TRANSFORM_TYPES)}]
    problems: list[Problem] = []
    if kind in ("to_date", "to_datetime") and "timezone" in transform:
        problem = _text_problem(transform["timezone"], 1, 64)
        if problem:
            problems.append({"param": f"{param}.timezone", "msg": problem})
    elif kind == "default":
        if "value" not in transform:
            problems.append({"param": f"{param}.value", "msg": "is required"})
        else:
            problem = _scalar_problem(transform["value"], 128)
            if problem:
                problems.append({"param": f"{param}.value", "msg": problem})
    elif kind == "substring":
        start = transform.get("start")
        if not (_is_int(start) and start >= 0):
            problems.append({"param": f"{param}.start", "msg": "must be an integer >= 0"})
        length = transform.get("length")
        if "length" in transform and not (_is_int(length) and length >= 1):
            problems.append({"param": f"{param}.length", "msg": "must be an integer >= 1"})
    return problems


def _field_problems(field: Any, param: str) -> list[Problem]:
    if not isinstance(field, Mapping):
        return [{"param": param, "msg": "must be an object {dest, source, ...}"}]
    problems: list[Problem] = []
    if "dest" not in field:
        problems.append({"param": f"{param}.dest", "msg": "is required"})
    else:
        problem = _text_problem(field["dest"], 1, 128)
        if problem:
            problems.append({"param": f"{param}.dest", "msg": problem})
    if "source" not in field:
        problems.append({"param": f"{param}.source", "msg": "is required"})
    else:
        problems.extend(_source_problems(field["source"], f"{param}.source"))
    transforms = field.get("transforms")
    if transforms is not None:
        if not isinstance(transforms, list):
            problems.append({"param": f"{param}.transforms", "msg": "must be an array"})
        elif len(transforms) > MAX_TRANSFORMS:
            problems.append(
                {"param": f"{param}.transforms", "msg": f"must have at most {MAX_TRANSFORMS} items"}
            )
        else:
            for i, transform in enumerate(transforms):
                problems.extend(_transform_problems(transform, f"{param}.transforms[{i}]"))
    if "on_error" in field and field["on_error"] not in ON_ERROR_VALUES:
        problems.append(
            {"param": f"{param}.on_error", "msg": "must be one of: " + ", ".join(ON_ERROR_VALUES)}
        )
    if "notes" in field:
        problem = _text_problem(field["notes"], 1, 1024)
        if problem:
            problems.append({"param": f"{param}.notes", "msg": problem})
    return problems


def _meta_problems(meta: Any, param: str) -> list[Problem]:
    if not isinstance(meta, Mapping):
        return [{"param": param, "msg": "must be an object"}]
    problems: list[Problem] = []
    for key, high in (("name", 64), ("notes", 1024)):
        if key in meta:
            problem = _text_problem(meta[key], 1, high)
            if problem:
                problems.append({"param": f"{param}.{key}", "msg": problem})
    return problems


def validate_mapping_schema(obj: Any, prefix: str = "schema") -> list[Problem]:
    """Every problem with a MappingSchema as `{param, msg}` (e.g. `schema.fields[0].dest`)."""
    if not isinstance(obj, Mapping):
        return [{"param": prefix, "msg": "must be an object {schema_version, fields}"}]
    problems: list[Problem] = []
    version = obj.get("schema_version")
    if "schema_version" not in obj:
        problems.append({"param": f"{prefix}.schema_version", "msg": "is required"})
    elif not _is_number(version) or version != 1:
        problems.append({"param": f"{prefix}.schema_version", "msg": "must be 1"})
    fields = obj.get("fields")
    if "fields" not in obj:
        problems.append({"param": f"{prefix}.fields", "msg": "is required"})
    elif not isinstance(fields, list):
        problems.append({"param": f"{prefix}.fields", "msg": "must be an array"})
    elif len(fields) > MAX_FIELDS:
        problems.append(
            {"param": f"{prefix}.fields", "msg": f"must have at most {MAX_FIELDS} items"}
        )
    else:
        for i, field in enumerate(fields):
            problems.extend(_field_problems(field, f"{prefix}.fields[{i}]"))
    if "meta" in obj and obj["meta"] is not None:
        problems.extend(_meta_problems(obj["meta"], f"{prefix}.meta"))
    return problems


# ----------------------------------------------------------------------------- normalization

_TRANSFORM_PARAMS: Final = {
    "to_date": ("timezone",),
    "to_datetime": ("timezone",),
    "default": ("value",),
    "substring": ("start", "length"),
}


def _normalize_source(source: Mapping[str, Any]) -> dict[str, Any]:
    if source["type"] == "path" and "value" not in source:
        return {"type": "path", "value": go_path_to_selector(str(source["path"]))}
    return {"type": source["type"], "value": source["value"]}


def _whole(key: str, value: Any) -> Any:
    """substring's `start`/`length` as stored: 2.0 is kept as 2."""
    return int(value) if key in ("start", "length") else value


def _normalize_field(field: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"dest": field["dest"], "source": _normalize_source(field["source"])}
    if field.get("transforms") is not None:
        out["transforms"] = [
            {"type": t["type"]} | {k: _whole(k, t[k]) for k in _TRANSFORM_PARAMS.get(t["type"], ())
                                   if k in t}
            for t in field["transforms"]
        ]
    for key in ("on_error", "notes"):
        if key in field:
            out[key] = field[key]
    return out


def normalize_mapping_schema(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a *valid* schema (GO path sources converted, unknown keys dropped)."""
    out: dict[str, Any] = {
        "schema_version": 1,
        "fields": [_normalize_field(f) for f in obj["fields"]],
    }
    meta = obj.get("meta")
    if isinstance(meta, Mapping):
        out["meta"] = {k: meta[k] for k in ("name", "notes") if k in meta}
    return out


# ----------------------------------------------------------------------------- defaults

_PAYLOAD_SYNONYMS: Final = {
    "email": "email",
    "emailaddress": "email",
    "firstname": "first_name",
    "fname": "first_name",
    "lastname": "last_name",
    "lname": "last_name",
    "name": "name",
    "fullname": "name",
    "phone": "phone",
    "phonenumber": "phone",
    "ipsignup": "ip_address",
    "ipaddress": "ip_address",
    "id": "id",
    "externalid": "id",
    "userid": "id",
    "resourceurl": "resource_url",
}


def _payload_key_for(dest: str) -> str | None:
    return _PAYLOAD_SYNONYMS.get(re.sub(r"[^a-z0-9]", "", dest.lower()))


def default_mapping_schema(integration_type: str) -> dict[str, Any]:
    """The generated default MappingSchema of a type (from its field catalog)."""
    fields: list[dict[str, Any]] = []
    for definition in field_catalog(integration_type):
        source = _payload_key_for(str(definition["key"]))
        constraints = definition.get("constraints", {})
        if source is None or constraints.get("read_only"):
            continue
        field: dict[str, Any] = {
            "dest": definition["key"],
            "source": {"type": "path", "value": source},
        }
        if source == "email":
            field["transforms"] = [{"type": "trim"}, {"type": "lower"}]
        field["on_error"] = "fail_action" if constraints.get("required") else DEFAULT_ON_ERROR
        fields.append(field)
    return {
        "schema_version": 1,
        "fields": fields,
        "meta": {
            "name": "Default Mapping",
            "notes": "Generated from the connection's field catalog.",
        },
    }


# ----------------------------------------------------------------------------- application


class MappingError(ValueError):
    """A field could not be resolved or transformed."""


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


def resolve_path(payload: Any, selector: str) -> Any:
    """The value at a dotted selector (numeric segments index lists), or MISSING."""
    if type(payload) is dict and "." not in selector:  # one key of a dict: the common case
        return payload.get(selector, MISSING)
    current = payload
    for segment in selector.split("."):  # a dict skips the (slower) Mapping ABC check
        if (type(current) is dict or isinstance(current, Mapping)) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            return MISSING
    return current


def _to_string(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def _to_number(value: Any) -> Any:
    if isinstance(value, bool):
        return 1 if value else 0
    if _is_number(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and text:
            return number
    raise MappingError(f"cannot convert {value!r} to a number")


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _to_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if _is_number(value):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise MappingError(f"cannot convert {value!r} to a boolean")


def _zone(name: str | None) -> tzinfo:
    if name is None or name.upper() in ("UTC", "Z", "ETC/UTC", "GMT"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MappingError(f"unknown timezone {name!r}") from exc


def _parse_instant(value: Any, zone: tzinfo) -> datetime:
    """An aware datetime from ISO 8601 text or epoch seconds/milliseconds; naive -> `zone`."""
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+(\.\d+)?\s*", value):
        value = float(value)
    if _is_number(value):
        seconds = value / 1000 if abs(value) >= 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise MappingError(f"timestamp {value!r} is out of range") from exc
    if not isinstance(value, str):
        raise MappingError(f"cannot convert {value!r} to a date")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise MappingError(f"cannot parse {value!r} as an ISO 8601 date or date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _to_date(value: Any, timezone: str | None) -> str:
    zone = _zone(timezone)
    result: date = _parse_instant(value, zone).astimezone(zone).date()
    return result.isoformat()


def _to_datetime(value: Any, timezone: str | None) -> str:
    instant = _parse_instant(value, _zone(timezone)).astimezone(UTC)
    spec = "milliseconds" if instant.microsecond else "seconds"
    return instant.isoformat(timespec=spec).replace("+00:00", "Z")


def _string_op(name: str, op: Callable[[str], str]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not isinstance(value, str):
            raise MappingError(f"{name} expects a string, got {type(value).__name__}")
        return op(value)

    return apply


_SIMPLE: Final[dict[str, Callable[[Any], Any]]] = {
    "to_string": _to_string,
    "to_number": _to_number,
    "to_boolean": _to_boolean,
    "trim": _string_op("trim", str.strip),
    "lower": _string_op("lower", str.lower),
    "upper": _string_op("upper", str.upper),
}


def apply_transform(transform: Mapping[str, Any], value: Any) -> Any:
    """One transform. `default` fills MISSING, null and ""; the others pass MISSING/null through."""
    kind = transform["type"]
    if kind == "default":
        return transform.get("value") if value is MISSING or value is None or value == "" else value
    if value is MISSING or value is None:
        return value
    if kind in _SIMPLE:
        return _SIMPLE[kind](value)
    if kind == "to_date":
        return _to_date(value, transform.get("timezone"))
    if kind == "to_datetime":
        return _to_datetime(value, transform.get("timezone"))
    if kind == "substring":
        if not isinstance(value, str):
            raise MappingError(f"substring expects a string, got {type(value).__name__}")
        start = int(transform.get("start", 0))
        length = transform.get("length")
        return value[start:] if length is None else value[start : start + int(length)]
    raise MappingError(f"unknown transform {kind!r}")


def _field_value(field: Mapping[str, Any], payload: Mapping[str, Any]) -> Any:
    """The field's value, or MISSING when its path is absent after the transforms (raises
    MappingError when a transform fails)."""
    source = field["source"]
    if source.get("type") == "literal":
        value: Any = source.get("value")
    else:
        selector = source.get("value")
        if not isinstance(selector, str):
            selector = go_path_to_selector(str(source.get("path", "")))
        value = resolve_path(payload, selector)
    for transform in field.get("transforms") or []:
        value = apply_transform(transform, value)
    return value


def _not_found(field: Mapping[str, Any]) -> str:
    source = field["source"]
    return f"path {source.get('value') or source.get('path')!r} not found"


def apply_mapping(
    schema: Mapping[str, Any], payload: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str], str | None]:
    """Map `payload` through `schema`: `(mapped, warnings, error)`.

    For each field in order: resolve the source (literal value, or the payload value at the
    selector; absent = missing), apply the transforms in order, write `mapped[dest]` (a later
    field with the same `dest` wins). A missing value after the transforms, or a failing
    transform, is a field error handled by its `on_error` (default `skip_field`):
    `skip_field` drops the field silently; `warn_action` drops it and appends a warning;
    `fail_action` stops and returns the error (with what was mapped so far). An explicit null
    is a value, not an error.
    """
    mapped: dict[str, Any] = {}
    warnings: list[str] = []
    fields: Sequence[Mapping[str, Any]] = schema.get("fields") or []
    for field in fields:
        dest = str(field.get("dest"))
        try:
            value = _field_value(field, payload)
        except MappingError as exc:
            value, problem = MISSING, str(exc)
        else:
            if value is not MISSING:
                mapped[dest] = value
                continue
            problem = ""  # built only when it is reported (most fields are skipped silently)
        policy = field.get("on_error") or DEFAULT_ON_ERROR
        if policy == "skip_field":
            continue
        problem = problem or _not_found(field)
        if policy == "fail_action":
            return mapped, warnings, f"{dest}: {problem}"
        if policy == "warn_action":
            warnings.append(f"{dest}: {problem}")
    return mapped, warnings, None
