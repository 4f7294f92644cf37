"""The Emulator: the one object holding store, clock, ids, rng and settings for one app.

Attached to `app.state.emulator`; passed explicitly to services, engine and store code. Its parts
(the dispatcher, the fault book, group commit, snapshots, the session-token check) are typed
attributes set by `app.build_parts` right after `from_settings` (docs/architecture.md, "Wiring").
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from meshes_emulator.clock import DEFAULT_START, Clock, ManualClock, SystemClock
from meshes_emulator.ids import IdFactory, Rng, new_rng
from meshes_emulator.journal import RequestJournal
from meshes_emulator.leniency import Leniency
from meshes_emulator.settings import Settings
from meshes_emulator.store import Store

if TYPE_CHECKING:  # the parts' modules import this one
    from meshes_emulator.auth import Principal
    from meshes_emulator.engine.dispatcher import Dispatcher
    from meshes_emulator.services.faults import FaultBook
    from meshes_emulator.services.group_commit import GroupCommit
    from meshes_emulator.services.snapshots import SnapshotBook


@dataclass
class CapturedError:
    """An unexpected server-side exception, kept so the pytest fixture can fail the test."""

    method: str
    path: str
    error: str
    traceback: str
    exception: BaseException | None = None  # the exception itself (in-process fixtures chain it)


class ServerLoad(Protocol):
    """What the HTTP server serving an emulator tells it about its load (serving.FastServer)."""

    def requests_in_flight(self) -> int: ...

    def requests_received(self) -> int: ...


@dataclass
class Emulator:
    """All state of one running emulator."""

    settings: Settings
    store: Store
    clock: Clock
    ids: IdFactory
    rng: Rng
    base_url: str = ""
    errors: list[CapturedError] = field(default_factory=list)
    # The leniency policy's mode and warnings (leniency.py); reset may switch the mode.
    leniency: Leniency = field(default_factory=Leniency)
    # Set by `attach_server` where a serving.FastServer is built: how many HTTP requests it is
    # handling now (group commit asks) and has received so far (the delivery worker gives way
    # while requests keep arriving). None under other servers: every event is then committed
    # alone, and the worker judges by time.
    requests_in_flight: Callable[[], int] | None = None
    requests_received: Callable[[], int] | None = None
    journal: RequestJournal = field(default_factory=RequestJournal)  # the last N requests
    # The parts, set by app.build_parts (each holds this emulator).
    dispatcher: Dispatcher = field(init=False, repr=False)
    faults: FaultBook = field(init=False, repr=False)
    group_commit: GroupCommit = field(init=False, repr=False)
    snapshots: SnapshotBook = field(init=False, repr=False)
    verify_session: Callable[[str], Principal] = field(init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Emulator:
        clock: Clock
        if settings.clock == "manual":
            clock = ManualClock(settings.clock_start or DEFAULT_START)
        else:
            clock = SystemClock()
        return cls(
            settings=settings,
            store=Store(settings.db_path),
            clock=clock,
            ids=IdFactory(settings.seed),
            rng=new_rng(settings.seed, "emulator"),
            base_url=settings.base_url,
            leniency=Leniency(strict=settings.strict),
            journal=RequestJournal(settings.request_journal),
        )

    def reseed(self, seed: int | None = None) -> None:
        """Restart ids and randomness from `seed` (default: the current seed)."""
        self.ids.reseed(seed)
        self.rng = new_rng(self.ids.seed, "emulator")

    def capture(self, method: str, path: str, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(exc))
        self.errors.append(CapturedError(method, path, repr(exc), text, exc))

    def attach_server(self, server: ServerLoad) -> None:
        """Read the load of the server that serves this emulator (see `requests_in_flight`)."""
        self.requests_in_flight = server.requests_in_flight
        self.requests_received = server.requests_received

    def reset_parts(self) -> None:
        """After a reset emptied the tables: the parts forget their in-memory state, in order
        (in-flight attempts and the default retry policy, then the `--fault` faults are added
        again, then the request journal is cleared). Snapshots survive resets."""
        self.dispatcher.reset()
        self.faults.reset()
        self.journal.clear()
