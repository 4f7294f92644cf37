"""Group commit for single-event ingest: requests that arrive together share one transaction.

`POST /events` requests handled in the same turn of the event loop each queue their (already
parsed) event and wait; one callback, scheduled by the first of them with `call_soon`, then
writes them all in one transaction (`events.create_group`) and answers each. Under concurrent
load a commit (and, on a file, its WAL write) is paid once per group instead of once per event;
a lone request waits for nothing but that callback. Every request still gets a 201 only once its
event is committed, and a refused event (403, unknown workspace) is refused alone.
"""

from __future__ import annotations

import asyncio

from meshes_emulator.auth import Principal
from meshes_emulator.context import Emulator
from meshes_emulator.errors import ApiError
from meshes_emulator.schemas.events import EventIn
from meshes_emulator.services import events
from meshes_emulator.store.db import Row

_Waiting = tuple[Principal, EventIn, "asyncio.Future[Row]"]


class GroupCommit:
    """The events waiting for their group's transaction, per event loop (`emulator.group_commit`)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Waiting]] = {}

    def waiting(self) -> bool:
        """True while events wait for their group's transaction."""
        return bool(self._waiting)

    async def ingest(self, who: Principal, item: EventIn) -> Row:
        """Queue one event for the current group; returns its row once committed (and the
        delivery worker woken for its rule_events).

        A request the server handles alone is committed at once, without waiting for a group.
        """
        in_flight = self.emulator.requests_in_flight
        if in_flight is None or in_flight() <= 1:
            return self._alone(who, item)
        loop = asyncio.get_running_loop()
        group = self._waiting.get(loop)
        if group is None:
            group = self._waiting[loop] = []
            loop.call_soon(self._commit, loop)
        future: asyncio.Future[Row] = loop.create_future()
        group.append((who, item, future))
        return await future

    def _alone(self, who: Principal, item: EventIn) -> Row:
        [answer] = events.create_group(self.emulator, [(who, item)])
        if isinstance(answer, ApiError):
            raise answer
        self.emulator.dispatcher.work_due()
        return answer

    def _commit(self, loop: asyncio.AbstractEventLoop) -> None:
        group = self._waiting.pop(loop, [])
        try:
            answers: list[Row | ApiError] = events.create_group(
                self.emulator, [(who, item) for who, item, _ in group]
            )
        except BaseException as exc:  # nothing was written: every request of the group fails
            for *_, future in group:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (*_, future), answer in zip(group, answers, strict=True):
            if future.done():  # the client went away: its event is stored all the same
                continue
            if isinstance(answer, ApiError):
                future.set_exception(answer)
            else:
                future.set_result(answer)
        self.emulator.dispatcher.work_due()  # after the answers: their requests resume first

