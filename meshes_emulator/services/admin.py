"""Emulator controls behind /_emulator: reset and friends."""

from __future__ import annotations

from datetime import datetime

from meshes_emulator.clock import DEFAULT_START, ManualClock, SystemClock
from meshes_emulator.context import Emulator
from meshes_emulator.services import fixtures, orgs


def reset(emulator: Emulator, *, seed: int | None = None, start: datetime | None = None,
          fixture_paths: tuple[str, ...] | None = None, clock: str | None = None) -> None:
    """Back to the bootstrap state: empty tables, reseeded ids, fixtures loaded again.

    `clock` switches between "manual" and "system" time; a manual clock restarts at `start`
    (default: the configured start instant).
    """
    emulator.store.delete_everything()
    emulator.reseed(seed)
    if clock == "system":
        emulator.clock = SystemClock()
    elif clock == "manual" and not isinstance(emulator.clock, ManualClock):
        emulator.clock = ManualClock(DEFAULT_START)
    if isinstance(emulator.clock, ManualClock):
        emulator.clock.set(start or emulator.settings.clock_start or DEFAULT_START)
    emulator.errors.clear()
    for hook in emulator.on_reset:
        hook()
    orgs.bootstrap(emulator)
    paths = emulator.settings.fixtures if fixture_paths is None else fixture_paths
    for path in paths:
        fixtures.load_file(emulator, path)

