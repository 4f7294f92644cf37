"""WAL checkpoints of a database file, run by a thread of their own.

In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them back into the
database file, with two fsyncs (`synchronous = NORMAL`). Run by the connection that commits, it
holds the event loop for the copy and the fsyncs (~1.5 ms every 256 pages: a third of the
commit time of a delivery drain on a file). Here a second connection checkpoints PASSIVE (it
never waits for, nor blocks, the writer) every CHECKPOINT_INTERVAL seconds in a daemon thread:
the copy and the fsyncs run with the GIL released, beside the loop. Durability is unchanged.
The writer keeps a high `wal_autocheckpoint` (FALLBACK_PAGES) in case this thread falls behind.
"""

from __future__ import annotations

import sqlite3
import threading

CHECKPOINT_INTERVAL = 0.05  # seconds between checkpoints (a busy server writes ~250 pages)
FALLBACK_PAGES = 4096  # the writer checkpoints itself past 16 MiB of WAL


class Checkpointer:
    """A daemon thread that checkpoints the WAL of `path` until `stop()`."""

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.interval = interval
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one checkpoint at a time (the thread, or a caller)
        self._thread = threading.Thread(target=self._run, name="meshes-wal-checkpoint", daemon=True)
        self._thread.start()

    def checkpoint(self) -> int:
        """Copy what the WAL holds into the database file now (PASSIVE: frames a reader still
        needs stay); returns how many frames are left to copy (0: caught up), -1 when it could
        not run (stopped, or the database was busy: the next turn or the writer will do it)."""
        with self._lock:
            if self._stopping.is_set():  # (its connection is closed, or about to be)
                return -1
            try:
                busy, frames, copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                return -1
        return -1 if busy else max(0, int(frames) - int(copied))

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.checkpoint()
        with self._lock:
            self.conn.close()

    def signal_stop(self) -> None:
        """Ask the thread to stop (it closes its connection); returns at once."""
        self._stopping.set()

    def stop(self) -> None:
        """Stop the thread and wait until its connection is closed (the writer's own close then
        checkpoints the rest and removes the WAL)."""
        self._stopping.set()
        self._thread.join()
