"""Fault plans: decide, purely, whether a fault answers an attempt/request.

A *delivery* fault scripts the outcome of delivery attempts (webhook or simulated: no network call
is made when it fires); an *api* fault makes the public API itself answer an error status. Both
have a matcher, a schedule and an optional budget; faults are kept in order and the first fault
that matches **and** whose schedule and budget accept the attempt decides it
(docs/behaviour.md). Specs are validated by engine/fault_specs.py, which builds the `FaultSpec`
and `Schedule` defined here.

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
    Outcome,
    OutcomeCode,
    ResponseDetails,
)
from meshes_emulator.errors import STATUS_NAMES
from meshes_emulator.ids import new_rng

API_DEFAULT_RETRY_AFTER = 1.0  # a 429 API fault sends Retry-After: 1 unless told otherwise
API_PREFIX = "/api/v1"
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    408: "Request Timeout", 409: "Conflict", 410: "Gone", 413: "Payload Too Large",
    422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


# -- schedules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a matching attempt/request fails. `kind` is one of fault_specs.SCHEDULE_KEYS."""

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
                "hits": self.hits, "seen": self.seen, "created_at": self.created_at}


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
