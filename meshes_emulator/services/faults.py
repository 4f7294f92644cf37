"""Fault plans of one emulator: storage, the in-memory plan, and the two hooks that use it.

The plan is `emulator.faults`, a `FaultBook` (built by app.build_parts):

* `decide(context)` is asked by the engine for every attempt (engine/attempts.py): it runs inside
  the attempt's claim transaction, so counters and an `auth_failed` fault's connection
  deactivation commit with the attempt.
* `api_fault(method, path)` (asked first by routes.api()) decides whether a public API request is
  answered with an error status and/or delayed (an `ApiFaultDecision`, which the route renders);
  with no api fault set it is one attribute test.

Faults come from `POST /_emulator/faults`, the `faults:` section of seed files and `serve --fault`
(re-added after every reset, like the `--fixture` files). Ids are `fault_<n>`, numbered per reset
so adding faults does not shift the ids of anything else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from meshes_emulator.clock import isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.engine import fault_specs as specs
from meshes_emulator.engine import faults as engine
from meshes_emulator.engine.attempts import AttemptContext, provider_timeout
from meshes_emulator.engine.fault_specs import FaultSpecError
from meshes_emulator.engine.faults import FaultSpec, FaultState
from meshes_emulator.engine.outcomes import Outcome
from meshes_emulator.errors import BadRequest, ValidationFailed, error_body, not_found
from meshes_emulator.store import connections as connection_store
from meshes_emulator.store import faults as store
from meshes_emulator.store import orgs as meta_store
from meshes_emulator.store.db import Row, decode_json, encode_json

NEXT_ID_META = "faults:next_id"
MAX_FAULTS = 1000


@dataclass(frozen=True)
class ApiFaultDecision:
    """What an API fault does to one request: wait `delay` seconds (wall clock), then answer
    `status` with the JSON `body` and `headers`, or (no status: a latency fault) let the request
    go on. Rendered by routes.api()."""

    fault_id: str
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FaultBook:
    """The emulator's faults in decision order, mirrored from the `faults` table."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.plan: list[FaultState] = []
        self.has_api = False
        self.has_delivery = False
        self.dirty = True

    def invalidate(self) -> None:
        """The table changed: re-read it before the next decision (after the change committed
        or rolled back, so a failed seed file leaves no phantom fault behind)."""
        self.dirty = True

    def refresh(self) -> None:
        self.plan = [state_of(row) for row in store.list_faults(self.emulator.store)]
        self.has_api = any(f.spec.kind == "api" for f in self.plan)
        self.has_delivery = any(f.spec.kind == "delivery" for f in self.plan)
        self.dirty = False

    def reset(self) -> None:
        """After a reset emptied the tables: the `--fault` faults again."""
        sync_cli_faults(self.emulator)

    def persist(self, touched: list[FaultState]) -> None:
        for fault in touched:
            store.update_counters(self.emulator.store, fault.id, fault.hits, fault.seen)

    # -- the engine hook --------------------------------------------------------------------
    def decide(self, context: AttemptContext) -> Outcome | None:
        emulator = self.emulator
        if self.dirty:
            self.refresh()
        if not self.has_delivery:
            return None
        attrs = context.describe()
        attrs["rule_event_id"] = context.rule_event.get("id")
        attrs["connection_name"] = (context.connection or {}).get("name")
        fault, touched = engine.decide_attempt(self.plan, attrs, emulator.ids.seed)
        self.persist(touched)
        if fault is None:
            return None
        if fault.spec.delay is not None:  # the answer comes late (attempts.late)
            context.delay, context.delayed_by = fault.spec.delay, fault.id
        if fault.spec.outcome is None:  # a latency fault only: the real answer, late
            return None
        answered = context.delay <= provider_timeout(emulator)  # else a timeout (attempts.late)
        if fault.spec.deactivate and answered and context.connection is not None:
            connection_store.update_connection(emulator.store, context.connection_id, {
                "active": 0, "inactive_reason": fault.spec.deactivate,
                "updated_at": isoformat(emulator.clock.now())})
        return fault.spec.outcome_for(attrs, fault.id)

    # -- the API hook -----------------------------------------------------------------------
    def api_fault(self, method: str, path: str) -> ApiFaultDecision | None:
        """The API fault that answers or delays this request (its counters written), or None."""
        if self.dirty:
            self.refresh()
        if not self.has_api:
            return None
        fault, touched = engine.decide_request(self.plan, method, path, self.emulator.ids.seed)
        if touched:  # only a matching fault writes (its counters)
            with self.emulator.store.transaction():
                self.persist(touched)
        if fault is None:
            return None
        delay = 0.0 if fault.spec.delay_ms is None else fault.spec.delay_ms / 1000  # wall clock
        if fault.spec.status is None:  # a latency fault: late, then the route as usual
            return ApiFaultDecision(fault.id, delay=delay)
        return _answer(fault, delay)


def _answer(fault: FaultState, delay: float) -> ApiFaultDecision:
    """The error an API fault answers (after `delay` seconds)."""
    spec = fault.spec
    status = spec.status or 503
    headers = {"X-Meshes-Emulator-Fault": fault.id}
    retry_after = spec.api_retry_after()
    if retry_after is not None:
        headers["Retry-After"] = str(math.ceil(retry_after))
    body = spec.body
    if body is None:
        body = error_body(status, None, engine.api_error_detail(spec, fault.id))
    return ApiFaultDecision(fault.id, status, body, headers, delay)


def state_of(row: Row) -> FaultState:
    spec = specs.parse_spec(decode_json(row["spec"]))
    return FaultState(id=row["id"], position=row["position"], spec=spec, hits=row["hits"],
                      seen=row.get("seen") or 0, created_at=row["created_at"])


# -- changes ---------------------------------------------------------------------------------


def _next_id(emulator: Emulator) -> str:
    number = int(meta_store.get_meta(emulator.store, NEXT_ID_META) or "1")
    meta_store.set_meta(emulator.store, NEXT_ID_META, str(number + 1))
    return f"fault_{number}"


def _position(emulator: Emulator, value: Any) -> int:
    last = store.last_position(emulator.store)
    if value is None:
        return last + 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed([{"param": "position", "msg": "must be an integer >= 1"}])
    if value <= last:
        store.shift_positions(emulator.store, value)
        return value
    return last + 1


def parse(data: Any, source: str = "api") -> FaultSpec:
    """A validated spec, or 400 with every problem in error.data."""
    try:
        return specs.parse_spec(data, source=source)
    except FaultSpecError as exc:
        raise ValidationFailed(exc.problems) from None


def add(emulator: Emulator, data: Any, source: str = "api") -> FaultState:
    """Add one fault (at `position` when the spec gives one, else last)."""
    specs = add_many(emulator, [data], source)
    return specs[0]


def add_many(emulator: Emulator, items: list[Any], source: str = "api") -> list[FaultState]:
    """Add several faults in one transaction, all or nothing."""
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append((parse(item, source), item.get("position") if isinstance(item, dict) else None))
        except ValidationFailed as exc:
            if len(items) == 1:
                raise
            data = [{"param": f"[{index}].{d['param']}", "msg": d["msg"]} for d in exc.data or []]
            raise ValidationFailed(data) from None
    with emulator.store.transaction():
        if len(store.list_faults(emulator.store)) + len(parsed) > MAX_FAULTS:
            raise BadRequest(detail=f"At most {MAX_FAULTS} faults")
        ids = []
        for spec, position in parsed:
            fault_id = _next_id(emulator)
            store.insert_fault(emulator.store, {
                "id": fault_id, "kind": spec.kind, "position": _position(emulator, position),
                "spec": encode_json(spec.as_wire()), "budget": spec.budget, "hits": 0, "seen": 0,
                "created_at": isoformat(emulator.clock.now())})
            ids.append(fault_id)
        emulator.faults.invalidate()
        return [get(emulator, fault_id) for fault_id in ids]


def list_all(emulator: Emulator, kind: str | None = None) -> list[FaultState]:
    return [state_of(row) for row in store.list_faults(emulator.store, kind)]


def get(emulator: Emulator, fault_id: str) -> FaultState:
    row = store.get_fault(emulator.store, fault_id)
    if row is None:
        raise not_found("Fault")
    return state_of(row)


def delete(emulator: Emulator, fault_id: str) -> FaultState:
    with emulator.store.transaction():
        fault = get(emulator, fault_id)
        store.delete_fault(emulator.store, fault_id)
        emulator.faults.invalidate()
    return fault


def clear(emulator: Emulator, kind: str | None = None) -> int:
    with emulator.store.transaction():
        count = store.delete_faults(emulator.store, kind)
        emulator.faults.invalidate()
    return count


# -- where faults come from ------------------------------------------------------------------


def load_seed_faults(emulator: Emulator, items: list[Any]) -> None:
    """The top-level `faults:` section of a seed file (docs/fixtures.md)."""
    try:
        add_many(emulator, items, source="fixture")
    except ValidationFailed as exc:
        detail = "; ".join(f"faults{d['param'] if d['param'].startswith('[') else '.' + d['param']}"
                           f": {d['msg']}" for d in exc.data or [])
        raise BadRequest(detail=detail) from None


def cli_faults(emulator: Emulator) -> list[dict[str, Any]]:
    """The `serve --fault` values (validated by the CLI already)."""
    items: list[dict[str, Any]] = []
    for text in getattr(emulator.settings, "faults", ()) or ():
        items.extend(specs.parse_cli(text))
    return items


def sync_cli_faults(emulator: Emulator) -> None:
    """Replace the faults that came from `--fault` by the current flags."""
    with emulator.store.transaction():
        store.delete_faults(emulator.store, source="cli")
        items = cli_faults(emulator)
        if items:
            add_many(emulator, items, source="cli")
        emulator.faults.invalidate()

