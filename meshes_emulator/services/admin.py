"""Emulator controls behind /_emulator: reset and friends."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meshes_emulator.clock import DEFAULT_START, Clock, ManualClock, SystemClock, isoformat
from meshes_emulator.context import CapturedError, Emulator
from meshes_emulator.ids import IdFactory, Rng
from meshes_emulator.services import fixtures, orgs
from meshes_emulator.version import __version__


def reset(emulator: Emulator, *, seed: int | None = None, start: datetime | None = None,
          fixture_paths: tuple[str, ...] | None = None, clock: str | None = None,
          strict: bool | None = None) -> None:
    """Back to the bootstrap state: empty tables, reseeded ids, fixtures loaded again.

    `clock` switches between "manual" and "system" time; a manual clock restarts at `start`
    (default: the configured start instant). `fixture_paths` (default: the `--fixture` files)
    must be allowed (fixtures.check_allowed); every file is read and parsed before anything
    changes, and with seed files the whole reset is one transaction: a FixtureError leaves the
    state it found. `strict` sets the leniency mode (default: kept); the warnings are forgotten.
    """
    if fixture_paths is not None:
        for path in fixture_paths:
            fixtures.check_allowed(emulator.settings, path)
    paths = emulator.settings.fixtures if fixture_paths is None else fixture_paths
    documents = fixtures.read_all(paths)
    if not documents:  # nothing can fail past this point: the fast, non-transactional wipe
        _reset(emulator, seed, start, clock, strict, documents)
        return
    saved = _Saved.of(emulator)
    try:
        with emulator.store.transaction():
            _reset(emulator, seed, start, clock, strict, documents)
    except BaseException:
        saved.restore(emulator)
        raise


def _reset(emulator: Emulator, seed: int | None, start: datetime | None, clock: str | None,
           strict: bool | None, documents: list[tuple[str, dict[str, Any]]]) -> None:
    emulator.store.delete_everything()
    emulator.reseed(seed)
    if clock == "system":
        emulator.clock = SystemClock()
    elif clock == "manual" and not isinstance(emulator.clock, ManualClock):
        emulator.clock = ManualClock(DEFAULT_START)
    if isinstance(emulator.clock, ManualClock):
        emulator.clock.set(start or emulator.settings.clock_start or DEFAULT_START)
    emulator.errors.clear()
    emulator.leniency.reset(emulator.leniency.strict if strict is None else strict)
    emulator.reset_parts()
    orgs.bootstrap(emulator)
    for path, data in documents:
        fixtures.load(emulator, data, source=path)


@dataclass
class _Saved:
    """The in-memory state a failed reset puts back (the database rolls back by itself)."""

    ids: IdFactory
    rng: Rng
    clock: Clock
    now: datetime
    errors: list[CapturedError]
    strict: bool
    warnings: list[dict[str, Any]]

    @classmethod
    def of(cls, emulator: Emulator) -> _Saved:
        return cls(copy.deepcopy(emulator.ids), copy.deepcopy(emulator.rng), emulator.clock,
                   emulator.clock.now(), list(emulator.errors), emulator.leniency.strict,
                   emulator.leniency.listing())

    def restore(self, emulator: Emulator) -> None:
        emulator.ids, emulator.rng, emulator.clock = self.ids, self.rng, self.clock
        if isinstance(self.clock, ManualClock):
            self.clock.set(self.now)
        emulator.errors[:] = self.errors
        emulator.leniency.reset(self.strict)
        emulator.leniency.records.extend(self.warnings)


def strict_mode(emulator: Emulator, requested: bool | None, given: bool) -> bool:
    """The leniency mode a reset asks for: not `given` keeps the mode, None is the configured
    one (`serve --strict`)."""
    if not given:
        return bool(emulator.leniency.strict)
    return bool(emulator.settings.strict) if requested is None else requested


def clock_state(emulator: Emulator) -> dict[str, Any]:
    """`{mode, now}`."""
    return {"mode": emulator.clock.mode, "now": isoformat(emulator.clock.now())}


def info(emulator: Emulator) -> dict[str, Any]:
    """`{version, db, seed, clock}`."""
    return {"version": __version__, "db": emulator.settings.db_path, "seed": emulator.ids.seed,
            "clock": clock_state(emulator)}


def reset_state(emulator: Emulator) -> dict[str, Any]:
    """What a reset answers: `{reset, seed, clock, strict}`."""
    return {"reset": True, "seed": emulator.ids.seed, "clock": clock_state(emulator),
            "strict": emulator.leniency.strict}


def captured_errors(emulator: Emulator) -> list[dict[str, Any]]:
    """Unexpected server-side exceptions since the last reset: `[{method, path, error,
    traceback}]`."""
    return [{"method": e.method, "path": e.path, "error": e.error, "traceback": e.traceback}
            for e in emulator.errors]


def warnings(emulator: Emulator) -> tuple[bool, list[dict[str, Any]]]:
    """The leniency mode and its warnings since the last reset, oldest first (leniency.py)."""
    return emulator.leniency.strict, emulator.leniency.listing()
