"""Request bodies and query parameters of the admin API (`/_emulator/*`, openapi/emulator.yaml).

Validated with pydantic like the public API's bodies (schemas/common.RequestModel: JSON types are
strict, unknown keys ignored). Each field carries its one problem message (`Problem`): a refused
input answers 400 with `error.data = [{param, msg}]` for the first refused field, in the order
the fields are declared (`parse`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, PlainValidator, ValidationError

from meshes_emulator.clock import parse_instant
from meshes_emulator.errors import BadRequest, ValidationFailed
from meshes_emulator.rows import Row
from meshes_emulator.schemas import events as event_wire
from meshes_emulator.schemas.common import JsonInt, RequestModel, integral

M = TypeVar("M", bound=BaseModel)

MAX_RECORDS = 1000  # `limit` of /deliveries and /rule-events, the most /requests answers
MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 3600.0
# a request-journal status filter: a status such as 404, or a class such as 4xx
STATUS_FILTER = re.compile(r"^[1-5](\d\d|xx)$", re.I)
SNAPSHOT_NAME_PROBLEM = ("must be 1-64 letters, digits, '_', '.' or '-', starting with a letter "
                         "or digit")
FLAGS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Problem:
    """The message a refused field answers with (`Annotated[..., Problem("must be ...")]`)."""

    msg: str


def json_object(data: Any) -> dict[str, Any]:
    """`data` when it is a JSON object, else 400."""
    if not isinstance(data, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    return data


def parse(model: type[M], data: Any) -> M:
    """`data` (a JSON object, or a query's parameters) as `model`; else 400 naming the first
    refused field with its Problem message."""
    try:
        return model.model_validate(json_object(data))
    except ValidationError as exc:
        name = str(exc.errors(include_url=False)[0]["loc"][0])
        raise ValidationFailed([{"param": name, "msg": _problem(model, name)}]) from None


def _problem(model: type[BaseModel], name: str) -> str:
    found = [item for item in model.model_fields[name].metadata if isinstance(item, Problem)]
    return found[0].msg if found else "is invalid"


# -- value types --------------------------------------------------------------------------------


def _not_null(value: Any) -> Any:
    """For fields that may be left out but not sent as null (their default is None)."""
    if value is None:
        raise ValueError("must not be null")
    return value


def _instant(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return parse_instant(value)


def _query_int(low: int, high: int, digits: int) -> Callable[[Any], int]:
    """A query parameter of ASCII digits (at most `digits` of them) from `low` to `high`."""

    def check(raw: Any) -> int:
        if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= digits):
            raise ValueError("not an integer")
        if not low <= int(raw) <= high:
            raise ValueError("out of range")
        return int(raw)

    return check


def _flag(raw: Any) -> bool:
    value = FLAGS.get(raw.lower()) if isinstance(raw, str) else None
    if value is None:
        raise ValueError("not a flag")
    return value


def _status_filter(raw: str) -> str:
    if not STATUS_FILTER.match(raw):
        raise ValueError("not a status filter")
    return raw


def _seconds(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value <= MAX_ADVANCE_SECONDS):
        raise ValueError("out of range")
    return value


Instant = Annotated[datetime, PlainValidator(_instant)]
Limit = Annotated[int, PlainValidator(_query_int(1, MAX_RECORDS, 4)),
                  Problem(f"must be an integer from 1 to {MAX_RECORDS}")]
FaultKind = Literal["delivery", "api"]
KIND_PROBLEM = Problem("must be 'delivery' or 'api'")


# -- bodies -------------------------------------------------------------------------------------


class ResetBody(RequestModel):
    """POST /reset. `strict`: absent keeps the mode, null is the configured one."""

    seed: Annotated[JsonInt | None, Problem("must be an integer")] = None
    start: Annotated[Instant | None, Problem("must be an RFC 3339 timestamp")] = None
    strict: Annotated[bool | None, Problem("must be a boolean")] = None
    clock: Annotated[Literal["manual", "system"] | None,
                     Problem("must be 'manual' or 'system'")] = None
    fixtures: Annotated[list[str] | None, Problem("must be a list of file paths")] = None


class OrgCreate(RequestModel):
    """POST /orgs: `name` may be left out but not null; `workspace_name: null` mints none."""

    name: Annotated[str | None, AfterValidator(_not_null), Problem("must be a string")] = None
    workspace_name: Annotated[str | None, Problem("must be a string")] = "Default Workspace"


class ClockSet(RequestModel):
    """POST /clock: `now` is required (null is missing)."""

    now: Annotated[Instant | None, Problem("must be an RFC 3339 timestamp")] = None


class ClockAdvance(RequestModel):
    """POST /clock/advance."""

    seconds: Annotated[float, AfterValidator(_seconds),
                       Problem("must be a number of seconds from 0 to 10 years")]


class Deactivate(RequestModel):
    """POST /connections/{id}/deactivate (a ConnectionInactiveReason, not checked)."""

    reason: Annotated[str, Problem("must be a string")] = "manually_inactivated"


class SnapshotTake(RequestModel):
    """POST /snapshots."""

    name: Annotated[str, Problem(SNAPSHOT_NAME_PROBLEM)]  # its pattern: services/snapshots


class FaultsClear(RequestModel):
    """POST /faults/clear: a `kind` sent is never null."""

    kind: Annotated[FaultKind | None, AfterValidator(_not_null), KIND_PROBLEM] = None


# -- query parameters ---------------------------------------------------------------------------


class FaultsQuery(RequestModel):
    kind: Annotated[FaultKind | None, KIND_PROBLEM] = None


class DeliveriesQuery(RequestModel):
    """GET /deliveries: exact-match filters (empty ones ignored), oldest first."""

    workspace: str | None = None
    connection: str | None = None
    event: str | None = None
    rule: str | None = None
    integration_type: str | None = None
    limit: Limit = MAX_RECORDS


class RuleEventsQuery(RequestModel):
    """GET /rule-events: exact-match filters (empty ones ignored), oldest first."""

    workspace: str | None = None
    event: str | None = None
    event_name: str | None = None
    rule: str | None = None
    connection: str | None = None
    integration_type: str | None = None
    status: str | None = None
    limit: Limit = MAX_RECORDS


class RequestsQuery(RequestModel):
    """GET /requests: the journal's filters; `limit` the newest matches."""

    status: Annotated[str | None, AfterValidator(_status_filter),
                      Problem("must be a status such as 404, or a class such as 4xx")] = None
    limit: Annotated[int, PlainValidator(_query_int(1, MAX_RECORDS, 12)),
                     Problem(f"must be an integer from 1 to {MAX_RECORDS}")] = 100
    since: Annotated[int | None, PlainValidator(_query_int(0, 10**12, 12)),
                     Problem(f"must be an integer from 0 to {10**12}")] = None
    method: str | None = None
    path: str | None = None
    org: str | None = None
    workspace: str | None = None


class ExportQuery(RequestModel):
    """GET /export."""

    secrets: Annotated[bool, PlainValidator(_flag), Problem("must be true or false")] = False
    format: Annotated[Literal["yaml", "json"], Problem("must be yaml or json")] = "yaml"


class TokenQuery(RequestModel):
    org_id: str | None = None


def filters(query: BaseModel) -> dict[str, str]:
    """The non-empty string filters of a query (`limit` and the like left out)."""
    return {name: value for name, value in query.model_dump().items()
            if isinstance(value, str) and value}


# -- fault specs --------------------------------------------------------------------------------

# EmulatorFaultSpec (openapi/emulator.yaml): fields that take no null (those a GET answers as
# null may be posted back as null: the fault as listed can be posted again); these are integers
SPEC_FIELDS = ("kind", "match", "outcome", "schedule", "always", "first", "times", "every",
               "attempts", "probability", "position")
INTEGER_FIELDS = ("status", "first", "times", "every", "budget", "position")


def fault_spec(spec: Any) -> Any:
    """A fault spec typed as the admin schema says: `null` in a field that takes none is a 400,
    and an integral number such as 503.0 is an integer. The fault parser (engine/faults.py)
    checks the rest and answers every problem at once."""
    if not isinstance(spec, dict):
        return spec
    for name in SPEC_FIELDS:
        if name in spec and spec[name] is None:
            raise ValidationFailed([{"param": name, "msg": "must not be null"}])
    typed = {**spec}
    for name in INTEGER_FIELDS:
        if name in typed:
            typed[name] = integral(typed[name])
    if isinstance(typed.get("attempts"), list):
        typed["attempts"] = [integral(item) for item in typed["attempts"]]
    return typed


# -- records ------------------------------------------------------------------------------------


def delivery(row: Row) -> dict[str, Any]:
    """A delivery sink record (`GET /_emulator/deliveries`)."""
    return {
        "id": row["id"],
        "workspace": row["workspace_id"],
        "connection": row["connection_id"],
        "event_id": row["event_id"],
        "rule": row["rule_id"],
        "rule_event_id": row["rule_event_id"],
        "attempt_id": row["attempt_id"],
        "attempt_number": row["attempt_number"],
        "integration_type": row["integration_type"],
        "action": row["action"],
        "outcome_code": row["outcome_code"],
        "http_status": row["http_status"],
        "request": row["request"],
        "created_at": row["created_at"],
    }


def rule_event_record(row: Row) -> dict[str, Any]:
    """A RuleEvent plus `next_attempt_at` (`GET /_emulator/rule-events`)."""
    return {**event_wire.rule_event(row), "next_attempt_at": row["due_at"]}
