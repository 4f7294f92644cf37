"""Open the database, apply migrations, and run every write in one transaction."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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

    def insert(self, table: str, row: Row) -> None:
        """Insert one row (dict); JSON-encode values with `encode_json` before calling."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.lock:
            self.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))

    def insert_many(self, table: str, rows: list[Row]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        with self.lock:
            self.conn.executemany(sql, [[r[c] for c in columns] for r in rows])

    def delete_everything(self) -> None:
        """Empty every table (for reset), in one transaction."""
        with self.transaction():
            for table in TABLES_IN_DELETE_ORDER:
                self.conn.execute(f"DELETE FROM {table}")


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


def encode_json(value: Any) -> str | None:
    """JSON text for a JSON column (None stays NULL)."""
    return None if value is None else orjson.dumps(value).decode()


def decode_json(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)
