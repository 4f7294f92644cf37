"""Fault plans: parse a fault spec, and decide, purely, whether a fault answers an attempt/request.

A *delivery* fault scripts the outcome of delivery attempts (webhook or simulated: no network call
is made when it fires); an *api* fault makes the public API itself answer an error status. Both
have a matcher, a schedule and an optional budget; faults are kept in order and the first fault
that matches **and** whose schedule and budget accept the attempt decides it
(docs/behaviour.md).

Spec (what `POST /_emulator/faults`, seed files and `serve --fault` take; flat or nested)::

    {"kind": "delivery",                       # default; or "api"
     "match": {"connection": "...", "event": "user.*"},   # or the same keys at the top level
     "outcome": "rejected_server_error", "status": 503,  # either one may imply the other
     "retry_after": 30, "message": "...", "deactivate": true,
     "first": 2,                               # or attempts / every / times / always / probability
     "budget": 10}
    {"kind": "api", "method": "POST", "path": "/events", "status": 429, "retry_after": 5,
     "times": 3}

This module has no I/O: randomness comes in as the emulator seed (`draw(seed, *key)` seeds a
generator per decision with `ids.new_rng`, so a probability fault gives the same answers whatever
order attempts and requests interleave in).
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from meshes_emulator.engine.outcomes import (
    ALL_CODES,
    Outcome,
    OutcomeCode,
    ResponseDetails,
    code_for_status,
)
from meshes_emulator.errors import STATUS_NAMES
from meshes_emulator.ids import new_rng
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
API_DEFAULT_RETRY_AFTER = 1.0  # a 429 API fault sends Retry-After: 1 unless told otherwise
MAX_COUNT = 1_000_000
MAX_RETRY_AFTER = 7 * 24 * 3600.0
MAX_DELAY = 3600.0  # a delivery fault's `delay`, seconds of emulator time
MAX_DELAY_MS = 60_000  # an API fault's `delay_ms`, wall-clock milliseconds
MAX_TEXT = 1000
API_PREFIX = "/api/v1"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    408: "Request Timeout", 409: "Conflict", 410: "Gone", 413: "Payload Too Large",
    422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip

Problem = dict[str, str]


class FaultSpecError(ValueError):
    """A spec that cannot be used; `problems` are `{param, msg}` items (400 error.data)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p['param']}: {p['msg']}" for p in problems))
        self.problems = problems


# -- schedules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a matching attempt/request fails. `kind` is one of SCHEDULE_KEYS."""

    kind: str = "always"
    count: int = 0  # first / times / every
    numbers: tuple[int, ...] = ()  # attempts
    probability: float = 1.0

    def fires(self, *, attempt_number: int, ordinal: int, draw: Callable[[], float]) -> bool:
        """`attempt_number`: of the delivery (api: = ordinal); `ordinal`: this fault's n-th match."""
        if self.kind == "always":
            return True
        if self.kind == "first":
            return attempt_number <= self.count
        if self.kind == "times":
            return ordinal <= self.count
        if self.kind == "attempts":
            return attempt_number in self.numbers
        if self.kind == "every":
            return ordinal % self.count == 0
        return draw() < self.probability

    def as_wire(self) -> dict[str, Any]:
        if self.kind == "always":
            return {"always": True}
        if self.kind == "attempts":
            return {"attempts": list(self.numbers)}
        if self.kind == "probability":
            return {"probability": self.probability}
        return {self.kind: self.count}


# -- the spec --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultSpec:
    """A validated fault (what is stored as JSON in `faults.spec`)."""

    kind: str
    schedule: Schedule
    match: dict[str, tuple[str, ...]] = field(default_factory=dict)  # delivery
    methods: tuple[str, ...] = ()  # api; empty = any
    path: str | None = None  # api; None = any
    outcome: str | None = None  # delivery
    status: int | None = None
    retry_after: float | None = None
    message: str | None = None
    body: Any = None
    deactivate: str | None = None
    budget: int | None = None
    source: str = "api"
    delay: float | None = None  # delivery: the provider answers this many seconds late
    delay_ms: int | None = None  # api: the API answers this many wall-clock ms late

    # -- wire -------------------------------------------------------------------------------
    def as_wire(self) -> dict[str, Any]:
        """The canonical JSON form (also what is stored; `parse_spec` reads it back)."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == "delivery":
            data["match"] = {k: (v[0] if len(v) == 1 else list(v)) for k, v in self.match.items()}
            data["outcome"] = self.outcome
        else:
            data["method"] = (self.methods[0] if len(self.methods) == 1 else list(self.methods)) or None
            data["path"] = self.path
        data["status"] = self.status
        data["retry_after"] = self.retry_after
        data["message"] = self.message
        if self.body is not None:
            data["body"] = self.body
        if self.kind == "delivery":
            data["deactivate"] = self.deactivate
        if self.delay is not None:
            data["delay"] = self.delay
        if self.delay_ms is not None:
            data["delay_ms"] = self.delay_ms
        data["schedule"] = self.schedule.as_wire()
        data["budget"] = self.budget
        data["source"] = self.source
        return data

    # -- matching ---------------------------------------------------------------------------
    def matches_attempt(self, attrs: Mapping[str, Any]) -> bool:
        """True when every match key agrees with the attempt (`AttemptContext.describe()`)."""
        for key, wanted in self.match.items():
            values = [attrs.get(key)]
            if key == "connection":
                values.append(attrs.get("connection_name"))
            if not any(_value_matches(pattern, value) for pattern in wanted for value in values):
                return False
        return True

    def matches_request(self, method: str, path: str) -> bool:
        """True for a public API request (`path` with or without the /api/v1 prefix)."""
        if self.methods and method.upper() not in self.methods:
            return False
        if self.path is None:
            return True
        return _path_regex(self.path).match(_strip_prefix(path)) is not None

    # -- effect -----------------------------------------------------------------------------
    def outcome_for(self, attrs: Mapping[str, Any], fault_id: str) -> Outcome:
        """The attempt outcome this delivery fault produces."""
        assert self.outcome is not None
        code = self.outcome
        status = self.status
        message = self.message or default_message(code, status, attrs, fault_id)
        response = None
        if status is not None:
            headers = {"content-type": "application/json"}
            if self.retry_after is not None:
                headers["retry-after"] = f"{math.ceil(self.retry_after)}"
            body = self.body if self.body is not None else {"message": message}
            text = body if isinstance(body, str) else orjson.dumps(body).decode()
            response = ResponseDetails(status, headers, text, None)
        return Outcome(code, message, status, self.retry_after, response, None)

    def api_retry_after(self) -> float | None:
        if self.retry_after is not None:
            return self.retry_after
        return API_DEFAULT_RETRY_AFTER if self.status == 429 else None


def _strip_prefix(path: str) -> str:
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX):]
    return path or "/"


_PATH_CACHE: dict[str, re.Pattern[str]] = {}


def _path_regex(pattern: str) -> re.Pattern[str]:
    """`/events/{event_id}` -> one segment per `{...}`; `*` -> anything (also slashes)."""
    compiled = _PATH_CACHE.get(pattern)
    if compiled is None:
        parts = re.split(r"(\{[^}/]*\}|\*)", _strip_prefix(pattern).rstrip("/") or "/")
        regex = "".join(
            "[^/]+" if p.startswith("{") else ".*" if p == "*" else re.escape(p) for p in parts
        )
        compiled = re.compile(f"^{regex}/?$")
        if len(_PATH_CACHE) < 1024:
            _PATH_CACHE[pattern] = compiled
    return compiled


def _value_matches(pattern: str, value: Any) -> bool:
    if value is None:
        return False
    text = str(value)
    if "*" in pattern or "?" in pattern or "[" in pattern:
        return fnmatch.fnmatchcase(text, pattern)
    return text == pattern


def default_message(code: str, status: int | None, attrs: Mapping[str, Any], fault_id: str) -> str:
    """What an injected failure says (as `message` and in `last_error`)."""
    kind = attrs.get("integration_type") or "destination"
    who = "Webhook endpoint" if kind == "webhook" else f"{kind} API"
    suffix = f" (injected by fault {fault_id})"
    if status is not None:
        reason = REASONS.get(status, "")
        return f"{who} answered HTTP {status} {reason}".rstrip() + suffix
    if code == OutcomeCode.TIMEOUT:
        return f"{who} did not answer in time: request timed out" + suffix
    if code == OutcomeCode.NETWORK_ERROR:
        return f"{who} could not be reached: connection refused" + suffix
    if code == OutcomeCode.MAPPING_ERROR:
        return "Mapping failed" + suffix
    return f"{code.replace('_', ' ').capitalize()}" + suffix


def delay_timeout_message(attrs: Mapping[str, Any], timeout: float, delay: float,
                          fault_id: str | None) -> str:
    """What an attempt says when a latency fault's delay is beyond the provider timeout."""
    kind = attrs.get("integration_type") or "destination"
    who = "Webhook endpoint" if kind == "webhook" else f"{kind} API"
    return (f"{who} did not answer in time: request timed out after {timeout:g}s "
            f"(delay of {delay:g}s injected by fault {fault_id})")


def api_error_detail(spec: FaultSpec, fault_id: str) -> str:
    if spec.message:
        return spec.message
    name = STATUS_NAMES.get(spec.status or 503, ("", "Error"))[1]
    return f"{name} (injected by emulator fault {fault_id})"


# -- parsing ---------------------------------------------------------------------------------


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
              "retry_after": retry_after, "source": str(source)}  # fmt: skip
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
                     deactivate=deactivate, delay=delay, **common)  # fmt: skip


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


# -- the decision ----------------------------------------------------------------------------


@dataclass
class FaultState:
    """One stored fault with its counters (`seen`: times it matched; `hits`: times it fired)."""

    id: str
    position: int
    spec: FaultSpec
    hits: int = 0
    seen: int = 0
    created_at: str = ""

    @property
    def exhausted(self) -> bool:
        return self.spec.budget is not None and self.hits >= self.spec.budget

    def as_wire(self) -> dict[str, Any]:
        return {"id": self.id, "position": self.position, **self.spec.as_wire(),
                "hits": self.hits, "seen": self.seen, "created_at": self.created_at}  # fmt: skip


def draw(seed: int, *key: object) -> float:
    """A uniform number in [0, 1) from a generator seeded by the emulator seed and `key`.

    One generator per decision (not one shared stream), so the answer for an attempt does not
    depend on how many other attempts or requests were decided before it.
    """
    return new_rng(seed, ":".join(["fault", *map(str, key)])).random()


def decide_attempt(
    plan: Sequence[FaultState], attrs: Mapping[str, Any], seed: int
) -> tuple[FaultState | None, list[FaultState]]:
    """The delivery fault that answers this attempt (or None) and every fault whose counters moved.

    `attrs` is `AttemptContext.describe()` plus `connection_name`.
    """
    touched: list[FaultState] = []
    number = int(attrs.get("attempt_number") or 1)
    for fault in plan:
        if fault.spec.kind != "delivery" or fault.exhausted or not fault.spec.matches_attempt(attrs):
            continue
        fault.seen += 1
        touched.append(fault)
        coin = functools.partial(draw, seed, fault.id, attrs.get("rule_event_id"), number)
        if fault.spec.schedule.fires(attempt_number=number, ordinal=fault.seen, draw=coin):
            fault.hits += 1
            return fault, touched
    return None, touched


def decide_request(
    plan: Sequence[FaultState], method: str, path: str, seed: int
) -> tuple[FaultState | None, list[FaultState]]:
    """The api fault that answers this request (or None) and every fault whose counters moved."""
    touched: list[FaultState] = []
    for fault in plan:
        if fault.spec.kind != "api" or fault.exhausted or not fault.spec.matches_request(method, path):
            continue
        fault.seen += 1
        touched.append(fault)
        ordinal = fault.seen
        coin = functools.partial(draw, seed, fault.id, ordinal)
        if fault.spec.schedule.fires(attempt_number=ordinal, ordinal=ordinal, draw=coin):
            fault.hits += 1
            return fault, touched
    return None, touched
