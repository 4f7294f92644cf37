"""One delivery attempt: its context, the fault hook, and what runs before any network I/O.

Order of decisions for an attempt (first one that answers wins):

1. the connection is missing or inactive -> `auth_failed` (behavior §3.2 suggestion);
2. the emulator's fault book (`emulator.faults.decide(context)`) -> a scripted outcome (fault
   plans, issue 5);
3. webhook -> the request to send (the dispatcher sends it outside any transaction);
4. other integrations -> the connection's mapping (stored, else generated) is applied to the
   payload (`mapping_error` on failure), then the simulated connector answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from meshes_emulator.catalog.mapping import apply_mapping, default_mapping_schema
from meshes_emulator.engine import webhook
from meshes_emulator.engine.connectors import ConnectorInput, simulate
from meshes_emulator.engine.faults import delay_timeout_message
from meshes_emulator.engine.matching import connection_inactive_reason, inactive_connection_message
from meshes_emulator.engine.outcomes import Outcome, OutcomeCode
from meshes_emulator.store.db import Row

if TYPE_CHECKING:
    from meshes_emulator.context import Emulator


@dataclass
class AttemptContext:
    """Everything known about an attempt when it starts (rows are plain dicts)."""

    attempt_id: str
    attempt_number: int
    trigger: str  # "scheduled" | "manual"
    rule_event: Row
    event: Row  # payload decoded
    connection: Row | None  # metadata decoded; None when deleted
    rule_metadata: dict[str, Any]
    started_at: datetime
    generation: int = 0
    delay: float = 0.0  # a latency fault's delay: the answer comes this many seconds late
    delayed_by: str | None = None  # that fault's id

    @property
    def integration_type(self) -> str:
        return str(self.rule_event["integration_type"])

    @property
    def action(self) -> str:
        return str(self.rule_event.get("action") or self.rule_metadata.get("action") or "")

    @property
    def workspace_id(self) -> str:
        return str(self.rule_event["workspace_id"])

    @property
    def connection_id(self) -> str:
        return str(self.rule_event["connection_id"])

    @property
    def rule_id(self) -> str:
        return str(self.rule_event["rule_id"])

    @property
    def event_name(self) -> str:
        return str(self.rule_event["event"])

    def describe(self) -> dict[str, Any]:
        """The attributes a fault rule can match on."""
        return {
            "workspace": self.workspace_id,
            "connection": self.connection_id,
            "integration_type": self.integration_type,
            "rule": self.rule_id,
            "event": self.event_name,
            "event_id": self.rule_event["event_id"],
            "action": self.action,
            "attempt_number": self.attempt_number,
            "trigger": self.trigger,
        }


@functools.cache
def generated_mapping(integration_type: str) -> dict[str, Any]:
    """The generated default mapping of a type (cached; callers must not mutate it)."""
    return default_mapping_schema(integration_type)


def mapping_schema(emulator: Emulator, context: AttemptContext) -> Any:
    """The connection's stored default mapping, else the generated one."""
    from meshes_emulator.store import rules as rule_store

    stored = rule_store.get_mapping_schema(emulator.store, context.connection_id)
    return stored if isinstance(stored, dict) else generated_mapping(context.integration_type)


def prepare(
    emulator: Emulator, context: AttemptContext,
    schema_of: Callable[[AttemptContext], Any] | None = None,
) -> Outcome | webhook.WebhookRequest:
    """Decide the attempt without network I/O: an outcome, or a webhook request to send.

    `schema_of(context)`: the connection's mapping schema (default: read it from the store)."""
    reason = connection_inactive_reason(context.connection)
    if reason is not None:
        return Outcome(OutcomeCode.AUTH_FAILED, inactive_connection_message(reason))
    fault = emulator.faults.decide(context)
    if fault is not None:
        return late(emulator, context, fault)
    assert context.connection is not None
    metadata = context.connection.get("metadata") or {}
    if context.integration_type == "webhook":
        try:
            request = webhook.build_request(metadata, context.event, context.started_at)
        except webhook.WebhookConfigError as exc:
            return Outcome(OutcomeCode.INVALID_REQUEST, f"Webhook connection is misconfigured: {exc}")
        return late(emulator, context, request)
    payload = context.event.get("payload") or {}
    schema = schema_of(context) if schema_of is not None else mapping_schema(emulator, context)
    mapped, warnings, error = apply_mapping(schema, payload)
    if error is not None:
        return Outcome(OutcomeCode.MAPPING_ERROR, f"Mapping failed: {error}")
    outcome = simulate(
        ConnectorInput(
            integration_type=context.integration_type,
            action=context.action,
            rule_metadata=context.rule_metadata,
            connection_metadata=metadata,
            mapped=mapped,
            payload=payload,
            event=context.event,
        )
    )
    if warnings and outcome.request is not None:
        outcome.request["mapping_warnings"] = list(warnings)
    return late(emulator, context, outcome)


def provider_timeout(emulator: Emulator) -> float:
    """How long the emulator waits for a provider's answer (the webhook timeout, 10 s)."""
    return emulator.dispatcher.webhook_timeout


def late(
    emulator: Emulator, context: AttemptContext, answer: Outcome | webhook.WebhookRequest
) -> Outcome | webhook.WebhookRequest:
    """A latency fault's effect: the answer as it is, or, when the delay is beyond the provider
    timeout, a `timeout` outcome after the timeout (the request counts as sent)."""
    timeout = provider_timeout(emulator)
    if context.delay <= timeout:
        return answer
    delay, context.delay = context.delay, timeout
    request = answer.as_record() if isinstance(answer, webhook.WebhookRequest) else answer.request
    message = delay_timeout_message(context.describe(), timeout, delay, context.delayed_by)
    return Outcome(OutcomeCode.TIMEOUT, message, request=request)


def finished_at(now: datetime, context: AttemptContext) -> datetime:
    """When the attempt ends: `now`, or later when a latency fault delays the answer (emulator
    time: the attempt is recorded as lasting the delay; the clock itself is not moved)."""
    if not context.delay:
        return now
    return max(now, context.started_at + timedelta(seconds=context.delay))
