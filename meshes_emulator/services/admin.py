"""Emulator controls behind /_emulator: reset and friends."""

from __future__ import annotations

from datetime import datetime

from meshes_emulator.clock import ManualClock
from meshes_emulator.context import Emulator
from meshes_emulator.services import fixtures, orgs


def reset(emulator: Emulator, *, seed: int | None = None, start: datetime | None = None,
          fixture_paths: tuple[str, ...] | None = None) -> None:
    """Back to the bootstrap state: empty tables, reseeded ids, fixtures loaded again."""
    emulator.store.delete_everything()
    emulator.reseed(seed)
    if isinstance(emulator.clock, ManualClock):
        emulator.clock.set(start or emulator.settings.clock_start or _default_start())
    emulator.errors.clear()
    for hook in emulator.on_reset:
        hook()
    orgs.bootstrap(emulator)
    paths = emulator.settings.fixtures if fixture_paths is None else fixture_paths
    for path in paths:
        fixtures.load_file(emulator, path)


def _default_start() -> datetime:
    from meshes_emulator.clock import DEFAULT_START

    return DEFAULT_START
