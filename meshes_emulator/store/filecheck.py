"""Read-only checks of a database file before the emulator opens it for writing."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
QUICK_CHECK_LIMIT = 64 << 20  # bytes; quick_check reads the whole file (~3 ms a MiB)
OWN_TABLES = frozenset({"_sqlite_migrations", "meta"})  # one of them marks an emulator database


def _existing(path: str) -> bool:
    """A database file with content (not `:memory:`, not a new empty file)."""
    return path != ":memory:" and os.path.isfile(path) and os.path.getsize(path) > 0


@contextmanager
def _read_only(path: str) -> Iterator[sqlite3.Connection]:
    """The file opened read-only (nothing is written to it), closed after."""
    conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def problem(path: str) -> str | None:
    """Why the emulator must not write to the file at `path` (None: go ahead, or let the real
    open report it). Nothing is written: the file is read, then opened read-only."""
    if not _existing(path):
        return None
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError:
        return None
    if header != SQLITE_HEADER:
        return "is not a SQLite database"
    try:
        with _read_only(path) as conn:
            return _content_problem(conn, os.path.getsize(path) <= QUICK_CHECK_LIMIT)
    except sqlite3.OperationalError:
        return None  # cannot be read here (a read-only directory...): the real open says why
    except sqlite3.DatabaseError as exc:  # SQLITE_CORRUPT, SQLITE_NOTADB
        return f"is damaged ({exc})"


def _content_problem(conn: sqlite3.Connection, check: bool) -> str | None:
    tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and not tables & OWN_TABLES:
        return f"is a SQLite database of another program (tables: {', '.join(sorted(tables)[:5])})"
    report = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0]) if check else "ok"
    return None if report == "ok" else f"is damaged ({' '.join(report.split())})"


def location_problem(path: str) -> str | None:
    """Why the database file at `path` cannot be written where it is (None: it can, or
    `:memory:`); the emulator writes the file and its -wal and -shm files beside it."""
    if path == ":memory:":
        return None
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"the directory {directory} does not exist"
    if os.path.isdir(path):
        return "it is a directory"
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and
                                             not os.access(path, os.W_OK)):
        return (f"{directory} is read-only here (the emulator writes the database and its -wal "
                "file there)")
    return None


# Columns holding the instant something happened on the emulator clock (never a future instant
# such as a due time or an expiry).
HAPPENED_AT = (("events", "created_at"), ("attempts", "completed_at"),
               ("attempts", "started_at"), ("rule_events", "completed_at"),
               ("deliveries", "created_at"), ("orgs", "created_at"),
               ("machine_keys", "created_at"), ("workspaces", "updated_at"),
               ("connections", "updated_at"), ("rules", "updated_at"),
               ("catalog_entries", "updated_at"), ("mappings", "updated_at"),
               ("sessions", "created_at"), ("faults", "created_at"))


def latest_instant(path: str) -> str | None:
    """The latest instant the file records something happening at (RFC 3339 text, which sorts
    as time does), read before the emulator opens it; None for no file or no record."""
    if not _existing(path):
        return None
    query = " UNION ALL ".join(f"SELECT max({column}) FROM {table}"
                               for table, column in HAPPENED_AT)
    try:
        with _read_only(path) as conn:
            found = [value for (value,) in conn.execute(query) if value]
    except sqlite3.Error:
        return None
    return max(found) if found else None
