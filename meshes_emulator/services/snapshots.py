"""Snapshots: the whole state of an emulator, kept in memory under a name and restored at will.

A snapshot holds every table (the database's file image, SQLite serialize) and
the in-process state that the tables do not: the clock (mode and instant), the id streams and the
emulator's generator (their exact positions), the dispatcher's retry policy and webhook
timeout, and the leniency mode (strict or not; the warnings list starts empty). A restore
copies the tables back, puts that state back, forgets every cache (rules, keys, rendered
records, the fault plan) and bumps the dispatcher's generation (an attempt in flight is
not recorded). What happens after a restore is what happened after the snapshot was taken: the
same requests get the same ids and timestamps.

Snapshots live in the process (not in the database): they survive resets, not restarts.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meshes_emulator.clock import ManualClock, SystemClock, isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.engine.retry import RetryPolicy
from meshes_emulator.errors import BadRequest, Conflict, ValidationFailed, not_found
from meshes_emulator.ids import IdFactory, Rng

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_SNAPSHOTS = 64


@dataclass
class Snapshot:
    """One named copy of the state."""

    name: str
    image: bytes
    clock_mode: str
    clock_now: datetime  # the manual clock's instant (the system clock's, for the record)
    ids: IdFactory
    rng: Rng
    policy: RetryPolicy
    webhook_timeout: float
    strict: bool = False  # the leniency mode (leniency.py); warnings are not kept

    def as_wire(self) -> dict[str, Any]:
        return {"name": self.name, "clock": {"mode": self.clock_mode, "now": isoformat(self.clock_now)},
                "seed": self.ids.seed, "size_bytes": len(self.image)}


class SnapshotBook:
    """The snapshots of one emulator, by name (in the order they were first taken):
    `emulator.snapshots`."""

    def __init__(self) -> None:
        self.items: dict[str, Snapshot] = {}


def check_name(name: Any) -> str:
    if not isinstance(name, str) or NAME.fullmatch(name) is None:
        raise ValidationFailed([{"param": "name", "msg": "must be 1-64 letters, digits, '_', '.' "
                                 "or '-', starting with a letter or digit"}])
    return name


def take(emulator: Emulator, name: str) -> Snapshot:
    """Take (or replace) the snapshot `name` of the current state."""
    check_name(name)
    snapshots = emulator.snapshots
    if name not in snapshots.items and len(snapshots.items) >= MAX_SNAPSHOTS:
        raise BadRequest(detail=f"At most {MAX_SNAPSHOTS} snapshots; delete one first")
    engine = emulator.dispatcher
    try:
        image = emulator.store.image()
    except sqlite3.OperationalError:
        raise _busy() from None
    snapshot = Snapshot(name=name, image=image, clock_mode=emulator.clock.mode,
                        clock_now=emulator.clock.now(), ids=copy.deepcopy(emulator.ids),
                        rng=copy.deepcopy(emulator.rng), policy=engine.policy,
                        webhook_timeout=engine.webhook_timeout,
                        strict=emulator.leniency.strict)
    snapshots.items[name] = snapshot
    return snapshot


def restore(emulator: Emulator, name: str) -> Snapshot:
    """Put the state of snapshot `name` back (404 when there is none)."""
    snapshot = get(emulator, name)
    try:
        emulator.store.replace_with(snapshot.image)
    except sqlite3.OperationalError:
        raise _busy() from None
    if snapshot.clock_mode == "manual":
        clock = emulator.clock if isinstance(emulator.clock, ManualClock) else ManualClock()
        clock.set(snapshot.clock_now)
        emulator.clock = clock
    elif not isinstance(emulator.clock, SystemClock):
        emulator.clock = SystemClock()
    emulator.ids.__dict__.update(copy.deepcopy(snapshot.ids).__dict__)
    emulator.rng = copy.deepcopy(snapshot.rng)
    emulator.errors.clear()
    emulator.leniency.reset(snapshot.strict)  # the snapshot's mode; no warning yet
    engine = emulator.dispatcher
    engine.reset()  # generation + 1: an attempt in flight is not recorded
    engine.policy = snapshot.policy
    engine.webhook_timeout = snapshot.webhook_timeout
    emulator.faults.invalidate()
    engine.recover()  # attempts in flight when it was taken: interrupted, as after a kill
    engine.work_due()  # under the system clock, whatever is due in the restored state runs
    return snapshot


def get(emulator: Emulator, name: str) -> Snapshot:
    snapshot = emulator.snapshots.items.get(name)
    if snapshot is None:
        raise not_found("Snapshot")
    return snapshot


def list_all(emulator: Emulator) -> list[Snapshot]:
    return list(emulator.snapshots.items.values())


def delete(emulator: Emulator, name: str) -> Snapshot:
    snapshot = get(emulator, name)
    del emulator.snapshots.items[name]
    return snapshot


def _busy() -> Conflict:
    return Conflict("Conflict", detail="A write is in progress; try again")
