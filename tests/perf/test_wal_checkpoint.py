"""A database file's WAL is checkpointed by a thread of its own (store/checkpoint.py)."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

from meshes_emulator.store.checkpoint import FALLBACK_PAGES
from meshes_emulator.store.db import Store


def _write(store: Store, rows: int) -> None:
    for index in range(rows):
        with store.transaction() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [f"k{index}", "x" * 500])


def _rows_in_database_file(path: Path) -> int:
    """Rows of `meta` in the database file itself, ignoring the WAL (immutable: no WAL read)."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM meta").fetchone()[0])
    finally:
        conn.close()


def test_the_checkpointer_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = Store(str(path))
    assert store.checkpointer is not None
    _write(store, 400)
    assert store.checkpointer.checkpoint() == 0  # every frame copied
    assert _rows_in_database_file(path) == 400
    store.close()


def test_the_writer_checkpoints_only_as_a_fallback(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "state.db"))
    assert store.one("PRAGMA wal_autocheckpoint") == {"wal_autocheckpoint": FALLBACK_PAGES}
    store.close()


def test_close_stops_the_thread_and_removes_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = Store(str(path))
    assert store.checkpointer is not None
    thread = store.checkpointer._thread
    _write(store, 10)
    store.close()
    assert not thread.is_alive()
    assert not (tmp_path / "state.db-wal").exists()
    assert _rows_in_database_file(path) == 10
    assert store.checkpointer.checkpoint() == -1  # stopped: does nothing


def test_a_store_dropped_without_close_stops_its_thread(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "state.db"))
    assert store.checkpointer is not None
    thread = store.checkpointer._thread
    del store
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()


def test_a_memory_database_has_no_checkpointer() -> None:
    store = Store()
    assert store.checkpointer is None
    store.close()
