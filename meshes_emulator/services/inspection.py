"""What the engine did, for tests and the dashboard: the delivery sink and every rule_event."""

from __future__ import annotations

from meshes_emulator.context import Emulator
from meshes_emulator.store import events as event_store
from meshes_emulator.store import inspect
from meshes_emulator.store.db import Row

DELIVERY_FILTERS = {
    "workspace": "workspace_id",
    "connection": "connection_id",
    "event": "event_id",
    "rule": "rule_id",
    "integration_type": "integration_type",
}


def deliveries(emulator: Emulator, filters: dict[str, str], limit: int) -> list[Row]:
    """Sink records, oldest first, with their attempt's outcome; exact-match `filters` by
    API name (DELIVERY_FILTERS)."""
    columns = {DELIVERY_FILTERS[name]: value for name, value in filters.items()}
    return event_store.list_deliveries(emulator.store, columns, limit)


def rule_events(emulator: Emulator, filters: dict[str, str], limit: int) -> list[Row]:
    """rule_events of every event, oldest first; exact-match `filters` by API name
    (store.inspect.RULE_EVENT_FILTERS)."""
    return inspect.list_rule_events(emulator.store, filters, limit)
