"""Open the database, apply migrations, and run every write in one transaction."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

import orjson
import sqlite_utils

from meshes_emulator.store.migrations import TABLES_IN_DELETE_ORDER, migrations

Row = dict[str, Any]


class Store:
    """One SQLite connection, serialized; `transaction()` nests with savepoints."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()
        self._depth = 0
        # Data derived from tables and kept in memory (rules per workspace, known keys...): each
        # owner empties its entry when it writes the table; a rollback or reset empties it all.
        self.cache: dict[str, Any] = {}
        self._insert_sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self.conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA busy_timeout = 5000")
        self.db = sqlite_utils.Database(self.conn)
        migrations.apply(self.db)
        self.conn.row_factory = _dict_row  # after sqlite-utils, which expects tuples

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: BEGIN IMMEDIATE at the outside, SAVEPOINTs inside."""
        with self.lock:
            depth = self._depth
            name = f"sp{depth}"
            self.conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                self.cache.clear()  # it may hold what the rolled-back writes made visible
                if depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            self._depth -= 1
            self.conn.execute("COMMIT" if depth == 0 else f"RELEASE {name}")

    # -- small query helpers (SQL text stays in the store modules) --------------------------
    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        with self.lock:
            row: Row | None = self.conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

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
        """Empty every table (for reset), in one transaction."""
        with self.transaction():
            for table in TABLES_IN_DELETE_ORDER:
                self.conn.execute(f"DELETE FROM {table}")
        self.cache.clear()


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


def encode_json(value: Any) -> str | None:
    """JSON text for a JSON column (None stays NULL)."""
    return None if value is None else orjson.dumps(value).decode()


def decode_json(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)
