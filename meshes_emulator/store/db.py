"""Open the database, apply migrations, and run every write in one transaction.

A fresh database and a reset both become a copy of the *schema template*: an in-memory
database holding the fully migrated, empty schema (built once per process from `schema.sql`,
see store/schema.py) and copied with SQLite's backup API. Copying ~50 pages costs the same
whatever the database held (a reset of 10k events by DELETE took 86 ms, by copy under 1 ms).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, TypeVar

# the row type and JSON column codec live below the store (schemas/ use them too)
from meshes_emulator.rows import Row as Row
from meshes_emulator.rows import decode_json as decode_json
from meshes_emulator.rows import encode_json as encode_json
from meshes_emulator.store import schema
from meshes_emulator.store.checkpoint import FALLBACK_PAGES, Checkpointer
from meshes_emulator.store.lru import Cache
from meshes_emulator.store.schema import TABLES_IN_DELETE_ORDER

T = TypeVar("T")


class Store:
    """One SQLite connection, serialized; `transaction()` nests with savepoints."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        memory = path == ":memory:"
        # A fresh database starts as an image of the schema template (every migration at once).
        fresh = memory or _write_schema_image(path)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()
        self._depth = 0
        self._aborted: BaseException | None = None  # what made SQLite roll back by itself
        # Data derived from tables and kept in memory (rules per workspace, known keys...), by
        # the `Cache` that declares it (store/lru.py): each owner forgets its cache when it
        # writes the table; a rollback or reset forgets them all.
        self.cache: dict[Cache[Any], Any] = {}
        self._insert_sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self.conn.execute("PRAGMA foreign_keys = ON")
        if memory:  # (not `deserialize`: that database would be capped at 1 GiB)
            copy_schema_template(self.conn)
        else:
            if fresh:  # nothing to protect yet: switch to WAL without the rollback journal's syncs
                self.conn.execute("PRAGMA synchronous = OFF")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA busy_timeout = 5000")
            # checkpoints run beside the loop (store/checkpoint.py); the writer's own are a fallback
            self.conn.execute(f"PRAGMA wal_autocheckpoint = {FALLBACK_PAGES}")
        if not fresh:
            refuse_newer_schema(self.conn)
            schema.migrate(self.conn)
        self.conn.row_factory = _dict_row  # after sqlite-utils, which expects tuples
        self.checkpointer = None if memory else Checkpointer(path)
        if self.checkpointer is not None:  # a store dropped without close() stops its thread too
            weakref.finalize(self, self.checkpointer.signal_stop)

    def cached(self, cache: Cache[T]) -> T:
        """This store's instance of `cache` (made empty on first use and after a forget)."""
        value: T | None = self.cache.get(cache)
        if value is None:
            value = self.cache[cache] = cache.new()
        return value

    def held(self, cache: Cache[T]) -> T | None:
        """This store's instance of `cache` when it has one (nothing is made)."""
        value: T | None = self.cache.get(cache)
        return value

    def forget(self, cache: Cache[Any]) -> None:
        """Drop `cache` (its table changed)."""
        self.cache.pop(cache, None)

    def forget_all(self) -> None:
        """Drop every cache (the tables were replaced)."""
        self.cache.clear()

    def total_changes(self) -> int:
        """Rows inserted, updated or deleted since the database was opened (SQLite's count)."""
        return self.conn.total_changes

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: BEGIN IMMEDIATE at the outside, SAVEPOINTs inside."""
        with self.lock:
            depth = self._depth
            name = f"sp{depth}"
            if depth == 0:
                self._aborted = None
            self.conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException as exc:
                self._depth -= 1
                self.cache.clear()  # it may hold what the rolled-back writes made visible
                if not self.conn.in_transaction:
                    # SQLite rolled back the whole transaction already (SQLITE_FULL, IOERR, NOMEM
                    # may): keep the cause, also for an outer level that catches it and goes on
                    self._aborted = self._aborted or exc
                    raise
                if depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            self._depth -= 1
            if not self.conn.in_transaction:  # an inner failure rolled everything back
                self.cache.clear()
                raise self._aborted or sqlite3.OperationalError("SQLite rolled the transaction back")
            self.conn.execute("COMMIT" if depth == 0 else f"RELEASE {name}")

    # -- small query helpers (SQL text stays in the store modules) --------------------------
    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        with self.lock:
            cursor = self.conn.cursor()
            cursor.row_factory = None  # tuples, zipped into a dict here (cheaper per row)
            row = cursor.execute(sql, params).fetchone()
            if row is None:
                return None
            return dict(zip([column[0] for column in cursor.description], row, strict=True))

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        with self.lock:
            cursor = self.conn.cursor()
            cursor.row_factory = None
            rows = cursor.execute(sql, params).fetchall()
            if not rows:
                return []
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in rows]

    def tuples(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        """Rows as plain tuples (the cheapest form, for a few columns)."""
        with self.lock:
            cursor = self.conn.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one write statement; returns the number of rows changed. Call inside a transaction."""
        with self.lock:
            return self.conn.execute(sql, params).rowcount

    def insert_sql(self, table: str, columns: tuple[str, ...]) -> str:
        """`INSERT INTO table (columns) VALUES (?, ...)`, built once per table and column list."""
        key = (table, columns)
        sql = self._insert_sql.get(key)
        if sql is None:
            marks = ", ".join("?" for _ in columns)
            sql = self._insert_sql[key] = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        return sql

    def insert(self, table: str, row: Row) -> None:
        """Insert one row (dict); JSON-encode values with `encode_json` before calling."""
        sql = self.insert_sql(table, tuple(row))
        with self.lock:
            self.conn.execute(sql, tuple(row.values()))

    def insert_many(self, table: str, rows: list[Row]) -> None:
        """Insert rows that share the first row's keys, with one executemany."""
        if not rows:
            return
        columns = tuple(rows[0])
        sql = self.insert_sql(table, columns)
        values = itemgetter(*columns) if len(columns) > 1 else (lambda r: (r[columns[0]],))
        with self.lock:
            self.conn.executemany(sql, [values(r) for r in rows])

    def delete_everything(self) -> None:
        """Empty every table (for reset), in one transaction.

        A database holding little is emptied with DELETE (cheapest: its statements stay
        prepared); one holding more than ~RESET_BY_COPY_PAGES pages of rows gets the schema
        template copied over it, in one step whatever it held.
        """
        with self.lock:
            try:
                if self._depth or self._used_pages() <= template_pages() + RESET_BY_COPY_PAGES:
                    raise _DeleteRows
                copy_schema_template(self.conn)
            except (_DeleteRows, sqlite3.Error):
                with self.transaction():
                    for table in TABLES_IN_DELETE_ORDER:
                        self.conn.execute(f"DELETE FROM {table}")
            self.cache.clear()

    def image(self) -> bytes:
        """The whole database as one file image (SQLite serialize), for snapshots; taken
        outside any transaction of this store, so it is consistent."""
        with self.lock:
            if self._depth:
                raise sqlite3.OperationalError("a transaction is open")
            return self.conn.serialize()

    def replace_with(self, image: bytes) -> None:
        """Make this database an exact copy of `image` and forget every cache.

        In memory the image is loaded as it is (SQLite deserialize: one copy of the bytes, ~10x
        faster than the backup API; such a database can then grow to SQLite's in-memory limit
        of 1 GiB); a database file gets the pages copied in with the backup API.
        """
        with self.lock:
            if self._depth:
                raise sqlite3.OperationalError("a transaction is open")
            if self.path == ":memory:":
                self.conn.deserialize(image)
            else:
                source = sqlite3.connect(":memory:", isolation_level=None)
                try:
                    source.deserialize(_without_wal(image))
                    source.backup(self.conn)
                finally:
                    source.close()
            self.cache.clear()

    def _used_pages(self) -> int:
        pages = self.conn.execute("PRAGMA page_count").fetchone()
        free = self.conn.execute("PRAGMA freelist_count").fetchone()
        return int(_first(pages)) - int(_first(free))


def _without_wal(image: bytes) -> bytes:
    """A WAL database's image marked as a rollback-journal one (header bytes 18-19), which an
    in-memory database can open; the backup into a WAL file keeps the file in WAL mode."""
    if image[18:20] == b"\x02\x02":
        return image[:18] + b"\x01\x01" + image[20:]
    return image


RESET_BY_COPY_PAGES = 32  # above the template's size: reset by copy (~100 events and more)
_template_lock = threading.Lock()
_template: sqlite3.Connection | None = None
_template_pages = 0


class _DeleteRows(Exception):
    """Reset by DELETE rather than by copying the template."""


class NewerSchemaError(sqlite3.DatabaseError):
    """The database was written by a newer emulator: migrating it would corrupt it."""


def refuse_newer_schema(conn: sqlite3.Connection) -> None:
    """Raise NewerSchemaError when the file holds migrations (or a user_version) this code lacks.

    A newer release's tables and constraints would otherwise be used by older code (ingest then
    failed with 500 IntegrityError); `serve` prints the one-line message and exits 2.
    """
    known = schema.known_migrations()
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    unknown: list[str] = []
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    [schema.MIGRATIONS_TABLE]).fetchone():
        rows = conn.execute(f"SELECT name FROM {schema.MIGRATIONS_TABLE} "
                            "WHERE migration_set = ? ORDER BY rowid", [schema.MIGRATION_SET])
        unknown = [name for (name,) in rows if name not in known]
    if unknown or version > SCHEMA_USER_VERSION:
        what = f"migration {unknown[-1]}" if unknown else f"user_version {version}"
        raise NewerSchemaError(
            f"written by a newer meshes-emulator ({what} is unknown to this version); "
            "upgrade meshes-emulator or use another --db")


SCHEMA_USER_VERSION = 0  # PRAGMA user_version of the schema (migrations are tracked by name)


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


_image: bytes | None = None


def schema_image() -> bytes:
    """The schema template as a database file image (SQLite serialize)."""
    global _image
    if _image is None:
        copy_schema_template(None)
        assert _template is not None
        with _template_lock:
            _image = _template.serialize()
    return _image


def _write_schema_image(path: str) -> bool:
    """Create the database file at `path` from the schema image; False when it already holds
    something (then it is opened as it is and migrated)."""
    try:
        if os.path.getsize(path) > 0:
            return False
        mode = "r+b"
    except FileNotFoundError:
        mode = "xb"
    try:
        with open(path, mode) as file:
            file.write(schema_image())
    except (FileExistsError, FileNotFoundError):  # created or removed meanwhile: open as it is
        return False
    return True


def template_pages() -> int:
    """How many pages the empty, migrated schema takes."""
    if _template is None:
        copy_schema_template(None)
    return _template_pages


def copy_schema_template(target: sqlite3.Connection | None) -> None:
    """Replace the whole content of `target` with the migrated, empty schema (backup API).

    The template is built on first use (`schema.sql` run on an in-memory database) and shared by
    every Store of the process; the copy keeps the target's journal mode (WAL stays WAL).
    """
    global _template, _template_pages
    with _template_lock:
        if _template is None:
            template = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            schema.build(template)
            _template_pages = template.execute("PRAGMA page_count").fetchone()[0]
            _template = template
        if target is not None:
            _template.backup(target)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    """Rows as dicts; the column names are computed once per statement execution (keyed on the
    identity of `cursor.description`, which is kept alive here so the identity cannot be reused)."""
    global _last_names
    description = cursor.description
    last = _last_names
    if last[0] is description:
        names = last[1]
    else:
        names = tuple(column[0] for column in description)
        _last_names = (description, names)
    return dict(zip(names, row, strict=True))


_last_names: tuple[Any, tuple[str, ...]] = (None, ())


def where_equal(conditions: dict[str, Any]) -> tuple[str, list[Any]]:
    """`column = ? AND ...` (or `1 = 1` when empty) and its params, for exact-match filters;
    keys are SQL expressions chosen by the caller, never user input."""
    if not conditions:
        return "1 = 1", []
    return " AND ".join(f"{column} = ?" for column in conditions), list(conditions.values())
