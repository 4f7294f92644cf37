"""The test toolkit on `meshes_server`: faults, virtual time, deliveries and readable failures.

Mixed into `MeshesServer` (handle.py). Everything goes through the admin API (`/_emulator/...`),
so it works the same against the in-process fixture and against `--meshes-url` (a running
`serve --clock manual`).

    def test_hubspot_recovers(meshes_server):
        meshes_server.fail(connection=hubspot_id, status=503, first=2)
        event = ...emit...
        meshes_server.advance(10)           # runs the retries at their due instants, no sleep
        meshes_server.assert_delivered(event=event, connection=hubspot_id, attempts=3)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

_SCHEDULES = ("first", "times", "attempts", "every", "probability", "always")


def _id(value: Any) -> Any:
    """Accept an id, or a dict as the API returns it (`{"id": ...}`, `{"event": {...}}`...)."""
    if isinstance(value, dict):
        for key in ("id", "event", "connection", "rule"):
            inner = value.get(key)
            if isinstance(inner, dict):
                return _id(inner)
            if key == "id" and inner is not None:
                return inner
    return value


def _query(filters: dict[str, Any]) -> str:
    items = {k: _id(v) for k, v in filters.items() if v is not None}
    return f"?{urlencode(items)}" if items else ""


class DeliveryAssertionError(AssertionError):
    """`assert_delivered` failed; the message carries the event's timeline."""


class RequestAssertionError(AssertionError):
    """`assert_requested` failed; the message lists the requests the emulator received."""


def _request_line(record: dict[str, Any]) -> str:
    target = record["path"] + (f"?{record['query']}" if record["query"] else "")
    error = f"  {record['error']}" if record.get("error") else ""
    return f"  #{record['id']} {record['method']} {target} -> {record['status']}{error}"


class Toolkit:
    """Helpers for faults, the virtual clock and delivery assertions (needs `self.admin`)."""

    def admin(self, method: str, path: str, json: Any = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- faults ---------------------------------------------------------------------------
    def fail(self, outcome: str | None = None, *, status: int | None = None,
             workspace: Any = None, connection: Any = None, integration_type: Any = None,
             rule: Any = None, event: Any = None, action: Any = None,
             message: str | None = None, retry_after: float | None = None,
             deactivate: bool | str | None = None, budget: int | None = None,
             position: int | None = None, delay: float | None = None,
             **schedule: Any) -> dict[str, Any]:
        """Add a delivery fault; returns it (with its `id`).

        Match on any of workspace, connection (id, name or dict), integration_type, rule,
        event (name, `*` wildcards), action. Effect: `outcome` (timeout, network_error,
        rejected_server_error...) and/or `status`; `retry_after`, `message`, `deactivate`
        (auth_failed only). `delay`: the provider answers that many seconds late (emulator
        time; alone, the real answer comes late; beyond the provider timeout of 10 s the attempt
        times out). Schedule: one of first=N, times=N, attempts=[...], every=N,
        probability=p, always=True (default always). `budget`: at most N hits.
        """
        unknown = set(schedule) - set(_SCHEDULES)
        if unknown:
            raise TypeError(f"fail() got unexpected arguments: {', '.join(sorted(unknown))}")
        spec: dict[str, Any] = {"kind": "delivery", **schedule}
        match = {"workspace": workspace, "connection": connection,
                 "integration_type": integration_type, "rule": rule, "event": event,
                 "action": action}
        spec.update({k: _id(v) for k, v in match.items() if v is not None})
        extra = {"outcome": outcome, "status": status, "message": message,
                 "retry_after": retry_after, "deactivate": deactivate, "budget": budget,
                 "position": position, "delay": delay}
        spec.update({k: v for k, v in extra.items() if v is not None})
        result: dict[str, Any] = self.admin("POST", "/faults", spec)
        return result

    def fail_api(self, status: int | None = None, *, method: str | list[str] | None = None,
                 path: str | None = None, retry_after: float | None = None,
                 message: str | None = None, budget: int | None = None,
                 position: int | None = None, delay_ms: int | None = None,
                 **schedule: Any) -> dict[str, Any]:
        """Make the public API answer `status` (default 503) for matching requests (method +
        path pattern, e.g. `/events`, `/events/{event_id}`, `*`). `delay_ms`: answer that many
        wall-clock milliseconds late (alone: the request then goes on as usual). Schedule as
        for `fail` (times=N...)."""
        unknown = set(schedule) - set(_SCHEDULES)
        if unknown:
            raise TypeError(f"fail_api() got unexpected arguments: {', '.join(sorted(unknown))}")
        if status is None and delay_ms is None:
            status = 503
        spec: dict[str, Any] = {"kind": "api", **schedule}
        extra = {"status": status, "method": method, "path": path, "retry_after": retry_after,
                 "message": message, "budget": budget, "position": position,
                 "delay_ms": delay_ms}
        spec.update({k: v for k, v in extra.items() if v is not None})
        result: dict[str, Any] = self.admin("POST", "/faults", spec)
        return result

    def faults(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every fault in decision order, with `hits` and `seen` counters."""
        records: list[dict[str, Any]] = self.admin("GET", "/faults" + _query({"kind": kind}))["records"]
        return records

    def clear_faults(self, kind: str | None = None) -> int:
        deleted: int = self.admin("POST", "/faults/clear", {"kind": kind} if kind else {})["deleted"]
        return deleted

    def remove_fault(self, fault: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("DELETE", f"/faults/{_id(fault)}")
        return result

    # -- time -----------------------------------------------------------------------------
    def now(self) -> str:
        """The emulator clock's current instant (RFC 3339)."""
        now: str = self.admin("GET", "/clock")["now"]
        return now

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the manual clock forward; every attempt falling due runs at its due instant.

        Returns `{from, now, ran, attempts: [...], idle, ...}`.
        """
        result: dict[str, Any] = self.admin("POST", "/clock/advance", {"seconds": seconds})
        return result

    def settle(self) -> dict[str, Any]:
        """Run every attempt due now (waiting for one in flight); returns what ran."""
        result: dict[str, Any] = self.admin("POST", "/settle")
        return result

    def idle(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "/idle")
        return result

    # -- snapshots ------------------------------------------------------------------------
    def save_snapshot(self, name: str) -> dict[str, Any]:
        """Keep the whole state (tables, clock, id streams, faults) under `name` (replaces one)."""
        result: dict[str, Any] = self.admin("POST", "/snapshots", {"name": name})
        return result

    def restore_snapshot(self, name: str) -> dict[str, Any]:
        """Go back to the state of snapshot `name`: the same requests then get the same ids."""
        result: dict[str, Any] = self.admin("POST", f"/snapshots/{quote(name, safe='')}/restore")
        self._after_restore()
        return result

    def snapshots(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.admin("GET", "/snapshots")["records"]
        return records

    def delete_snapshot(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("DELETE", f"/snapshots/{quote(name, safe='')}")
        return result

    @contextmanager
    def snapshot(self, name: str = "_context") -> Iterator[dict[str, Any]]:
        """Take snapshot `name` now and restore it when the block ends (then delete it):
        whatever the block changed is undone, ids and timestamps included."""
        taken = self.save_snapshot(name)
        try:
            yield taken
        finally:
            self.restore_snapshot(name)
            self.delete_snapshot(name)

    def _after_restore(self) -> None:
        """Hook: the handle re-reads what a restore may have changed (credentials)."""

    # -- what happened --------------------------------------------------------------------
    def deliveries(self, *, settle: bool = True, **filters: Any) -> list[dict[str, Any]]:
        """The delivery sink (after settling): filters workspace, connection, event, rule,
        integration_type, limit; ids or API dicts."""
        if settle:
            self.settle()
        records: list[dict[str, Any]] = self.admin("GET", "/deliveries" + _query(filters))["records"]
        return records

    def rule_events(self, *, settle: bool = True, **filters: Any) -> list[dict[str, Any]]:
        """rule_events oldest first (after settling): filters event (id), event_name, rule,
        connection, workspace, integration_type, status, limit."""
        if settle:
            self.settle()
        records: list[dict[str, Any]] = self.admin("GET", "/rule-events" + _query(filters))["records"]
        return records

    def warnings(self) -> list[dict[str, Any]]:
        """The leniency warnings since the reset, oldest first: `{check, param, msg, message,
        method?, path?}` for each input accepted although an inferred check objected."""
        records: list[dict[str, Any]] = self.admin("GET", "/warnings")["records"]
        return records

    def explain(self, event: Any) -> dict[str, Any]:
        """Every rule of the event's workspace, why it did or did not match, and its attempts."""
        result: dict[str, Any] = self.admin("GET", f"/events/{_id(event)}/explain")
        return result

    def timeline(self, event: Any) -> str:
        """The event's story as text: each rule, each attempt, outcome and time."""
        return "\n".join(self.explain(event)["timeline"])

    def assert_delivered(self, *, event: Any, connection: Any = None, rule: Any = None,
                         attempts: int | None = None, status: str = "completed",
                         settle: bool = True) -> list[dict[str, Any]]:
        """Assert the event's delivery through `connection` (and/or `rule`) ended in `status`
        after `attempts` attempts; returns the matching rule_events.

        On failure the message prints the event's timeline.
        """
        __tracebackhide__ = True
        filters = {"event": event, "connection": connection, "rule": rule}
        found = self.rule_events(settle=settle, **filters)
        problems: list[str] = []
        if not found:
            problems.append("no delivery of this event matches "
                            + ", ".join(f"{k}={_id(v)}" for k, v in filters.items() if v is not None))
        for item in found:
            if item["status"] != status:
                problems.append(f"rule {item['rule']}: status {item['status']!r}, expected {status!r}")
            if attempts is not None and item["attempt_count"] != attempts:
                problems.append(f"rule {item['rule']}: {item['attempt_count']} attempt(s), "
                                f"expected {attempts}")
        if problems:
            story = self.timeline(event)
            raise DeliveryAssertionError("\n".join(["delivery assertion failed:", *problems,
                                                    "", "timeline:", story]))
        return found

    # -- requests received ------------------------------------------------------------------
    def requests(self, method: str | None = None, path: str | None = None,
                 status: int | str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """The request journal, oldest first: what the emulator received since the last reset
        (not the admin API). `path` exact or with `*`; `status` 404 or "4xx"; other filters:
        org, workspace, since, limit (default 1000). Bodies come with secrets masked."""
        filters.setdefault("limit", 1000)
        query = _query({"method": method, "path": path, "status": status, **filters})
        records: list[dict[str, Any]] = self.admin("GET", "/requests" + query)["records"]
        return records

    def assert_requested(self, method: str, path: str, *, status: int | str | None = None,
                         count: int | None = None) -> list[dict[str, Any]]:
        """Assert the emulator received `method path` (with `status`), `count` times when
        given, else at least once; returns the matching requests (like WireMock's verify).

        On failure the message lists every request received."""
        __tracebackhide__ = True
        found = self.requests(method, path, status)
        if (count is None and found) or len(found) == count:
            return found
        wanted = f"{method.upper()} {path}" + (f" -> {status}" if status is not None else "")
        expected = "at least once" if count is None else f"{count} time(s)"
        seen = [_request_line(r) for r in self.requests()] or ["  (none)"]
        raise RequestAssertionError("\n".join([f"expected {wanted} {expected}, "
                                               f"received {len(found)} time(s)",
                                               "requests received:", *seen]))
