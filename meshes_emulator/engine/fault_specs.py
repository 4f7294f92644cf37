"""Fault specs as they come in: validate a spec, a schedule and its match keys; compact `--fault`.

Spec (what `POST /_emulator/faults`, seed files and `serve --fault` take; flat or nested)::

    {"kind": "delivery",                       # default; or "api"
     "match": {"connection": "...", "event": "user.*"},   # or the same keys at the top level
     "outcome": "rejected_server_error", "status": 503,  # either one may imply the other
     "retry_after": 30, "message": "...", "deactivate": true,
     "first": 2,                               # or attempts / every / times / always / probability
     "budget": 10}
    {"kind": "api", "method": "POST", "path": "/events", "status": 429, "retry_after": 5,
     "times": 3}

`parse_spec` returns the validated `engine.faults.FaultSpec` (the decisions live there) or raises
`FaultSpecError` naming every problem.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from meshes_emulator.engine.faults import FaultSpec, Schedule
from meshes_emulator.engine.outcomes import ALL_CODES, OutcomeCode, code_for_status
from meshes_emulator.schemas.connections import INACTIVE_REASONS

KINDS = ("delivery", "api")
SOURCES = ("api", "fixture", "cli")  # where a fault came from (kept when a GET body is re-posted)
MATCH_KEYS = ("workspace", "connection", "integration_type", "rule", "event", "action")
SCHEDULE_KEYS = ("always", "first", "times", "attempts", "every", "probability")
# Outcomes that come with an HTTP answer from the destination (a `status` makes sense).
HTTP_OUTCOMES: dict[str, int] = {
    OutcomeCode.REJECTED_CLIENT_ERROR: 400,
    OutcomeCode.REJECTED_SERVER_ERROR: 500,
    OutcomeCode.RATE_LIMITED: 429,
    OutcomeCode.AUTH_FAILED: 401,
    OutcomeCode.INVALID_REQUEST: 400,
    OutcomeCode.VALIDATION_FAILED: 422,
    OutcomeCode.DESTINATION_NOT_FOUND: 404,
    OutcomeCode.DESTINATION_CONFLICT: 409,
    OutcomeCode.DESTINATION_GONE: 410,
    OutcomeCode.DESTINATION_TIMEOUT: 504,
    OutcomeCode.PAYLOAD_TOO_LARGE: 413,
}
FAILURE_CODES = tuple(code for code in ALL_CODES if code != OutcomeCode.DELIVERED)
MAX_COUNT = 1_000_000
MAX_RETRY_AFTER = 7 * 24 * 3600.0
MAX_DELAY = 3600.0  # a delivery fault's `delay`, seconds of emulator time
MAX_DELAY_MS = 60_000  # an API fault's `delay_ms`, wall-clock milliseconds
MAX_TEXT = 1000
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

Problem = dict[str, str]


class FaultSpecError(ValueError):
    """A spec that cannot be used; `problems` are `{param, msg}` items (400 error.data)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p['param']}: {p['msg']}" for p in problems))
        self.problems = problems


class _Reader:
    """Collects every problem of one spec instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, param: str, msg: str) -> None:
        self.problems.append({"param": param, "msg": msg})

    def integer(self, value: Any, param: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(param, f"must be an integer from {low} to {high}")
            return None
        return value

    def number(self, value: Any, param: str, low: float, high: float) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(param, "must be a number")
            return None
        number = float(value)
        if not math.isfinite(number) or not low <= number <= high:
            self.fail(param, f"must be a number from {low:g} to {high:g}")
            return None
        return number

    def text(self, value: Any, param: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            self.fail(param, f"must be a non-empty string of at most {MAX_TEXT} characters")
            return None
        return value

    def strings(self, value: Any, param: str) -> tuple[str, ...] | None:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(i, str) and i and len(i) <= 256 for i in items):
            self.fail(param, "must be a non-empty string or a list of them")
            return None
        return tuple(items)


def parse_spec(data: Any, *, source: str = "api") -> FaultSpec:
    """Validate a spec (flat or nested, see the module docstring); raises FaultSpecError."""
    if not isinstance(data, dict):
        raise FaultSpecError([{"param": "body", "msg": "a fault must be a JSON object"}])
    reader = _Reader()
    data = dict(data)
    kind = data.pop("kind", "delivery")
    if kind not in KINDS:
        raise FaultSpecError([{"param": "kind", "msg": "must be 'delivery' or 'api'"}])
    data.pop("id", None)
    data.pop("position", None)
    for key in ("hits", "seen", "created_at"):
        data.pop(key, None)
    given_source = data.pop("source", None)
    if given_source is not None:
        if given_source not in SOURCES:
            reader.fail("source", "must be one of " + ", ".join(SOURCES))
        else:
            source = given_source
    schedule = _schedule(reader, data)
    budget = data.pop("budget", None)
    if budget is not None:
        budget = reader.integer(budget, "budget", 1, MAX_COUNT)
    message = reader.text(data.pop("message", None), "message")
    body = data.pop("body", None)
    if body is not None and len(orjson.dumps(body)) > 16_384:
        reader.fail("body", "must be at most 16384 bytes of JSON")
    retry_after = data.pop("retry_after", None)
    if retry_after is not None:
        retry_after = reader.number(retry_after, "retry_after", 0, MAX_RETRY_AFTER)
    common = {"schedule": schedule, "budget": budget, "message": message, "body": body,
              "retry_after": retry_after, "source": str(source)}
    build = _api_spec if kind == "api" else _delivery_spec
    spec = build(reader, data, common)
    for key in sorted(data):
        reader.fail(key, "is not a fault setting")
    if reader.problems or spec is None:
        raise FaultSpecError(reader.problems or [{"param": "body", "msg": "invalid fault"}])
    return spec


def _schedule(reader: _Reader, data: dict[str, Any]) -> Schedule:
    nested = data.pop("schedule", None)
    given = {k: data.pop(k) for k in SCHEDULE_KEYS if k in data}
    if nested is not None:
        if not isinstance(nested, dict):
            reader.fail("schedule", "must be an object such as {\"first\": 2}")
            return Schedule()
        for key, value in nested.items():
            if key not in SCHEDULE_KEYS:
                reader.fail(f"schedule.{key}", "must be one of " + ", ".join(SCHEDULE_KEYS))
            else:
                given[key] = value
    if len(given) > 1:
        reader.fail("schedule", "give one of " + ", ".join(SCHEDULE_KEYS) + ", not several")
        return Schedule()
    if not given:
        return Schedule()
    (key, value), = given.items()
    if key == "always":
        if value is not True:
            reader.fail("always", "must be true")
        return Schedule()
    if key in ("first", "times", "every"):
        count = reader.integer(value, key, 1, MAX_COUNT)
        return Schedule(key, count=count or 1)
    if key == "attempts":
        items = value if isinstance(value, list) else [value]
        numbers = [reader.integer(n, "attempts", 1, MAX_COUNT) for n in items]
        if not items or len(items) > 100:
            reader.fail("attempts", "must list 1 to 100 attempt numbers")
        return Schedule("attempts", numbers=tuple(sorted({n for n in numbers if n is not None})))
    probability = reader.number(value, "probability", 0, 1)
    return Schedule("probability", probability=1.0 if probability is None else probability)


def _delivery_spec(reader: _Reader, data: dict[str, Any], common: dict[str, Any]) -> FaultSpec | None:
    match: dict[str, tuple[str, ...]] = {}
    nested = data.pop("match", None)
    if nested is not None and not isinstance(nested, dict):
        reader.fail("match", "must be an object")
        nested = None
    sources = [(f"match.{k}", k, v) for k, v in (nested or {}).items()]
    sources += [(k, k, data.pop(k)) for k in MATCH_KEYS if k in data]
    for param, key, value in sources:
        if key not in MATCH_KEYS:
            reader.fail(param, "must be one of " + ", ".join(MATCH_KEYS))
            continue
        values = reader.strings(value, param)
        if values is not None:
            match[key] = values
    outcome = data.pop("outcome", None)
    status = data.pop("status", None)
    delay = data.pop("delay", None)
    if delay is not None:
        delay = reader.number(delay, "delay", 0, MAX_DELAY)
        if delay is None:
            return None
    if status is not None:
        status = reader.integer(status, "status", 400, 599)
    if outcome is None and status is None and delay is not None:
        return _latency_only(reader, data, common, FaultSpec(kind="delivery", match=match, delay=delay,
                                                                **common))
    if outcome is None and status is not None:
        outcome = code_for_status(status)
    if outcome is None:
        reader.fail("outcome", "give an outcome (e.g. rejected_server_error) or a status")
        return None
    if outcome not in FAILURE_CODES:
        reader.fail("outcome", "must be a failure outcome_code: " + ", ".join(FAILURE_CODES))
        return None
    if status is None:
        status = HTTP_OUTCOMES.get(outcome)
    elif outcome not in HTTP_OUTCOMES:
        reader.fail("status", f"{outcome} has no HTTP answer; leave status out")
    elif outcome == OutcomeCode.REJECTED_SERVER_ERROR and status < 500:
        reader.fail("status", "rejected_server_error needs a 5xx status")
    elif outcome == OutcomeCode.REJECTED_CLIENT_ERROR and status >= 500:
        reader.fail("status", "rejected_client_error needs a 4xx status")
    if common["retry_after"] is not None and outcome not in HTTP_OUTCOMES:
        reader.fail("retry_after", f"{outcome} has no HTTP answer to carry Retry-After")
    deactivate = _deactivate(reader, data.pop("deactivate", None), outcome)
    return FaultSpec(kind="delivery", match=match, outcome=outcome, status=status,
                     deactivate=deactivate, delay=delay, **common)


def _latency_only(reader: _Reader, data: dict[str, Any], common: dict[str, Any],
                  spec: FaultSpec) -> FaultSpec:
    """A fault that only delays the real answer: nothing of an injected answer applies."""
    if data.pop("deactivate", None) not in (None, False):
        reader.fail("deactivate", "only an auth_failed fault can mark the connection inactive")
    for key in ("retry_after", "message", "body"):
        if common[key] is not None:
            reader.fail(key, "a fault with only a delay lets the real answer through; "
                        "give an outcome or a status as well")
    return spec


def _deactivate(reader: _Reader, value: Any, outcome: str) -> str | None:
    if value is None or value is False:
        return None
    if outcome != OutcomeCode.AUTH_FAILED:
        reader.fail("deactivate", "only an auth_failed fault can mark the connection inactive")
        return None
    if value is True:
        return "authentication_invalid"
    if value not in INACTIVE_REASONS:
        reader.fail("deactivate", "must be true or one of " + ", ".join(INACTIVE_REASONS))
        return None
    return str(value)


def _api_spec(reader: _Reader, data: dict[str, Any], common: dict[str, Any]) -> FaultSpec | None:
    methods: tuple[str, ...] = ()
    method = data.pop("method", None)
    if method is not None and method != "*":
        values = reader.strings(method, "method")
        if values is not None:
            methods = tuple(v.upper() for v in values)
            if not set(methods) <= set(HTTP_METHODS):
                reader.fail("method", "must be one of " + ", ".join(HTTP_METHODS))
    path = data.pop("path", None)
    if path is not None:
        if not isinstance(path, str) or not path.startswith(("/", "*")) or len(path) > 256:
            reader.fail("path", "must be a path pattern such as /events or /events/{event_id}")
            path = None
        elif path == "*":
            path = None
    delay_ms = data.pop("delay_ms", None)
    if delay_ms is not None:
        delay_ms = reader.integer(delay_ms, "delay_ms", 1, MAX_DELAY_MS)
    status = data.pop("status", None)
    if "outcome" in data:
        reader.fail("outcome", "api faults answer a status; outcome is for delivery faults")
        data.pop("outcome")
    if status is None and delay_ms is not None:  # late, then the request goes on as usual
        return _latency_only(reader, data, common, FaultSpec(kind="api", methods=methods, path=path,
                                                                delay_ms=delay_ms, **common))
    status = reader.integer(503 if status is None else status, "status", 400, 599)
    return FaultSpec(kind="api", methods=methods, path=path, status=status or 503,
                     delay_ms=delay_ms, **common)


# -- compact specs (serve --fault) -----------------------------------------------------------


def parse_cli(text: str) -> list[dict[str, Any]]:
    """`--fault` value: JSON (an object or a list) or `[api:]key=value,key=value`.

    Compact values: numbers become numbers, `true`/`false` booleans, `a|b` lists (for
    `attempts`, `method` and match keys). Examples: `integration_type=hubspot,status=503,first=2`,
    `api:method=POST,path=/events,status=429,times=3`.
    """
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            data = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise FaultSpecError([{"param": "fault", "msg": f"malformed JSON: {exc}"}]) from None
        items = data if isinstance(data, list) else [data]
    else:
        items = [_compact(stripped)]
    for item in items:
        parse_spec(item, source="cli")  # validate now (a bad flag stops the start-up)
    return [dict(item) for item in items]


def _compact(text: str) -> dict[str, Any]:
    kind = "delivery"
    for prefix in KINDS:
        if text.startswith(prefix + ":"):
            kind, text = prefix, text[len(prefix) + 1:]
    result: dict[str, Any] = {"kind": kind}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise FaultSpecError([{"param": "fault", "msg": f"expected key=value, got {part!r}"}])
        result[key.strip()] = _compact_value(key.strip(), value.strip())
    return result


def _compact_value(key: str, value: str) -> Any:
    if "|" in value or key == "attempts":
        return [_scalar(v) if key == "attempts" else v for v in value.split("|")]
    if key in MATCH_KEYS or key in ("method", "path", "message", "outcome", "kind"):
        return value
    return _scalar(value)


def _scalar(value: str) -> Any:
    if value in ("true", "false"):
        return value == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
