"""Export and import: the whole state as one seed-file-shaped document (docs/fixtures.md).

`dump(store)` reads every table in one transaction and nests the rows the way seed files do
(organizations > workspaces > connections, rules, events...), every stored field kept: ids, keys,
versions, timestamps, delivery state. JSON columns are written as structures. Secrets (machine
key secrets, credentials in connection metadata, launch tokens) are left out or masked unless
`with_secrets`.

`load(emulator, data)` replaces the whole state by such a document, in one transaction (all or
nothing: a refused document changes nothing), then moves the id streams to a stream of their own
(named after the document, so the same import gives the same later ids) so no id of the imported
state is issued again. import(export(state)) exports the same text.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from meshes_emulator import defaults
from meshes_emulator.catalog.credentials import mask_metadata
from meshes_emulator.clock import ManualClock, isoformat, parse_instant
from meshes_emulator.context import Emulator
from meshes_emulator.services.fixtures import FixtureError
from meshes_emulator.store import Store
from meshes_emulator.store import export as export_store
from meshes_emulator.store.db import Row, decode_json, encode_json

FORMAT = "meshes-emulator-export/1"
SECRET_META = ("session_signing_key",)  # services/sessions.py: signs session tokens
HEADER = ("# meshes-emulator export: the whole state of an emulator (docs/fixtures.md).\n"
          "# Load it with `meshes-emulator serve --import FILE` or as a seed file.\n")
JSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "connections": ("metadata", "action_data"), "mappings": ("schema",), "rules": ("metadata",),
    "events": ("payload",), "rule_events": ("rule_metadata",), "attempts": ("request", "response"),
    "deliveries": ("request",), "sessions": ("allowed_origins", "scopes"), "faults": ("spec",),
}


class StateFileError(FixtureError):
    """A document that cannot be imported; the message says where and why."""


# -- the nesting: (section, table, parent column, columns implied by the parents, children) ---


class Section:
    """Rows of `table` whose `parent` column is the enclosing record's id, written under `name`."""

    def __init__(self, name: str, table: str, parent: str | None, implied: tuple[str, ...] = (),
                 children: tuple[Section, ...] = (), key: str = "id", single: bool = False,
                 passes: tuple[tuple[str, str], ...] = ()) -> None:
        self.name, self.table, self.parent, self.implied = name, table, parent, implied
        self.children, self.key, self.single = children, key, single
        self.passes = passes  # (child column, own column): what its children's rows imply


ATTEMPTS = Section("attempts", "attempts", "rule_event_id", ("rule_event_id", "event_id", "rule_id"))
EVENT_CHILDREN = (
    Section("rule_events", "rule_events", "event_id", ("event_id", "org_id", "workspace_id"),
            (ATTEMPTS,), passes=(("rule_event_id", "id"), ("rule_id", "rule_id"))),
    Section("deliveries", "deliveries", "event_id", ("event_id", "org_id", "workspace_id")),
)
CONNECTION_CHILDREN = (
    Section("mapping", "mappings", "connection_id", ("connection_id",), single=True),
    Section("field_catalog", "field_catalogs", "connection_id", ("connection_id",), single=True),
)
WORKSPACE_CHILDREN = (
    Section("publishable_key", "publishable_keys", "workspace_id", ("workspace_id", "org_id"),
            key="public_key", single=True),
    Section("catalog", "catalog_entries", "workspace_id", ("workspace_id",)),
    Section("connections", "connections", "workspace_id", ("workspace_id", "org_id"),
            CONNECTION_CHILDREN, passes=(("connection_id", "id"),)),
    Section("rules", "rules", "workspace_id", ("workspace_id", "org_id")),
    Section("events", "events", "workspace_id", ("workspace_id", "org_id"), EVENT_CHILDREN,
            passes=(("event_id", "id"),)),
    Section("sessions", "sessions", "workspace_id", ("workspace_id", "org_id"), key="session_id"),
)
ORGANIZATIONS = Section("organizations", "orgs", None, (), (
    Section("machine_keys", "machine_keys", "org_id", ("org_id",), key="access_key"),
    Section("workspaces", "workspaces", "org_id", ("org_id",), WORKSPACE_CHILDREN,
            passes=(("workspace_id", "id"), ("org_id", "org_id"))),
), passes=(("org_id", "id"),))
FAULTS = Section("faults", "faults", None)


# -- export ----------------------------------------------------------------------------------


def dump(store: Store, *, with_secrets: bool = False, clock: Any = None) -> dict[str, Any]:
    """The whole state as a document (see the module docstring); `clock`: a manual clock's
    instant is kept (`clock: <instant>`), a system clock's is not."""
    data: dict[str, Any] = {"format": FORMAT}
    if isinstance(clock, ManualClock):
        data["clock"] = isoformat(clock.now())
    with store.transaction():
        reader = _Reader(store, with_secrets)
        data["organizations"] = reader.records(ORGANIZATIONS, None)
        data["faults"] = reader.records(FAULTS, None)
        data["meta"] = {row["key"]: row["value"] for row in
                        export_store.meta_rows(store)
                        if with_secrets or row["key"] not in SECRET_META}
    return data


def dump_text(store: Store, *, with_secrets: bool = False, clock: Any = None,
              as_json: bool = False) -> str:
    """The document as YAML (default) or JSON text."""
    data = dump(store, with_secrets=with_secrets, clock=clock)
    if as_json:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    import yaml  # imported when a document is written, not at start-up

    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def export_state(emulator: Emulator, *, with_secrets: bool = False, as_json: bool = False) -> str:
    """The running emulator's whole state as text (`GET /_emulator/export`)."""
    return dump_text(emulator.store, with_secrets=with_secrets, clock=emulator.clock,
                     as_json=as_json)


def write_file(path: str, text: str) -> None:
    """Write `text` to `path` whole: a temporary file, flushed to disk, renamed over it (a crash
    or a full disk leaves the old file, never half of the new one, nor the temporary file)."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class _Reader:
    def __init__(self, store: Store, with_secrets: bool) -> None:
        self.store, self.with_secrets = store, with_secrets

    def records(self, section: Section, parent_id: Any) -> list[Row]:
        rows = export_store.table_rows(self.store, section.table, section.parent, parent_id)
        return [self.record(section, row) for row in rows]

    def record(self, section: Section, row: Row) -> Row:
        record = {k: v for k, v in row.items() if k not in section.implied}
        for column in JSON_COLUMNS.get(section.table, ()):
            if record.get(column) is not None:
                record[column] = decode_json(record[column])
        self.hide_secrets(section.table, record)
        for child in section.children:
            found = self.records(child, row[section.key])
            if child.single:
                if found:
                    record[child.name] = found[0]
            elif found:
                record[child.name] = found
        return record

    def hide_secrets(self, table: str, record: Row) -> None:
        if self.with_secrets:
            return
        if table == "machine_keys":
            record.pop("secret_key", None)
        elif table == "sessions":
            record.pop("launch_token", None)
        elif table == "connections" and isinstance(record.get("metadata"), dict):
            record["metadata"] = mask_metadata(str(record["type"]), record["metadata"])


# -- import ----------------------------------------------------------------------------------


def is_export(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def load(emulator: Emulator, data: dict[str, Any], source: str = "import") -> None:
    """Replace the whole state by an exported document (one transaction)."""
    if not is_export(data):
        raise StateFileError(f"{source}: not an export (expected format: {FORMAT})")
    unknown = sorted(set(data) - {"format", "clock", "organizations", "faults", "meta"})
    if unknown:
        raise StateFileError(f"{source}: unknown key {unknown[0]!r}")
    clock = data.get("clock")
    instant = None
    if clock is not None:
        try:
            instant = parse_instant(str(clock))
        except ValueError:
            raise StateFileError(f"{source}: clock: must be an RFC 3339 timestamp") from None
    store = emulator.store
    writer = _Writer(emulator, source)
    try:
        with store.transaction():
            export_store.delete_everything(store)
            writer.section(ORGANIZATIONS, data.get("organizations"), {}, "organizations")
            writer.section(FAULTS, data.get("faults"), {}, "faults")
            meta = data.get("meta") or {}
            if not isinstance(meta, dict):
                raise StateFileError(f"{source}: meta: must be a mapping")
            for key, value in meta.items():
                export_store.insert_meta(store, str(key), str(value))
            _after_import(emulator, data, instant)
    except (sqlite3.Error, OverflowError) as exc:
        raise StateFileError(f"{source}: {writer.where}: {exc}") from None
    except TypeError as exc:  # a value JSON cannot hold (a YAML set...)
        raise StateFileError(f"{source}: {writer.where}: {exc}") from None


def _after_import(emulator: Emulator, data: dict[str, Any], instant: Any) -> None:
    """In-process state: a fresh id stream, the manual clock, no cache, no plan, no attempt."""
    digest = hashlib.sha256(orjson.dumps(data, default=str)).hexdigest()[:16]
    emulator.ids.fork(f"import:{digest}")
    if instant is not None and isinstance(emulator.clock, ManualClock):
        emulator.clock.set(instant)
    emulator.store.forget_all()
    emulator.faults.invalidate()
    engine = emulator.dispatcher
    engine.reset()
    engine.recover()  # attempts in flight when it was exported: interrupted, as after a kill
    engine.work_due()


UNINDEXED_IDS = ("attempts", "deliveries")  # ids the schema keeps unique no more (m006)


class _Writer:
    def __init__(self, emulator: Emulator, source: str) -> None:
        self.emulator, self.source = emulator, source
        self.where = "document"
        self.columns: dict[str, set[str]] = {}
        self.ids: dict[str, set[Any]] = {table: set() for table in UNINDEXED_IDS}

    def section(self, section: Section, items: Any, implied: dict[str, Any], where: str) -> None:
        if items is None:
            return
        if section.single:
            items = [items]
        if not isinstance(items, list):
            raise StateFileError(f"{self.source}: {where}: must be a list")
        for index, item in enumerate(items):
            self.record(section, item, implied, where if section.single else f"{where}[{index}]")

    def record(self, section: Section, item: Any, implied: dict[str, Any], where: str) -> None:
        self.where = where
        if not isinstance(item, dict):
            raise StateFileError(f"{self.source}: {where}: must be a mapping")
        known = self.table_columns(section.table)
        children = {child.name: child for child in section.children}
        row: Row = {}
        for key, value in item.items():
            if key in children:
                continue
            if key not in known or key in section.implied:
                raise StateFileError(f"{self.source}: {where}: unknown key {key!r}")
            row[key] = value
        self.fill_secrets(section.table, row)
        for column in JSON_COLUMNS.get(section.table, ()):
            if row.get(column) is not None:
                row[column] = encode_json(row[column])
        for column in section.implied:
            row[column] = implied.get(column)
        _check_scalars(row, f"{self.source}: {where}")
        self.unique_id(section.table, row.get("id"))
        self.emulator.store.insert(section.table, row)
        below = {**implied, **{child: row.get(own) for child, own in section.passes}}
        for name, child in children.items():
            self.section(child, item.get(name), below, f"{where}.{name}")

    def unique_id(self, table: str, value: Any) -> None:
        """An id given twice is refused as the primary key refused it before migration m006
        (attempt and sink ids are no longer indexed: the engine derives them, unique)."""
        seen = self.ids.get(table)
        if seen is None or value is None:
            return
        key = str(int(value)) if isinstance(value, bool) else str(value)  # as TEXT stores it
        if key in seen:
            raise sqlite3.IntegrityError(f"UNIQUE constraint failed: {table}.id")
        seen.add(key)

    def table_columns(self, table: str) -> set[str]:
        if table not in self.columns:
            self.columns[table] = export_store.table_columns(self.emulator.store, table)
        return self.columns[table]

    def fill_secrets(self, table: str, row: Row) -> None:
        """A machine key exported without its secret gets the configured one (the default
        key) or a new one from the seeded stream."""
        if table != "machine_keys" or row.get("secret_key") is not None:
            return
        settings = self.emulator.settings
        if row.get("access_key") == (settings.access_key or defaults.DEFAULT_ACCESS_KEY):
            row["secret_key"] = settings.secret_key or defaults.DEFAULT_SECRET_KEY
        else:
            row["secret_key"] = self.emulator.ids.secret_key()


def _check_scalars(row: Row, where: str) -> None:
    for key, value in row.items():
        if value is not None and not isinstance(value, str | int | float):
            raise StateFileError(f"{where}: {key}: must be a string or a number")
