"""A server that owns its process freezes its start-up heap; one in a thread (the fixture's,
inside the user's pytest process) leaves the process's collector alone."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import pytest

from meshes_emulator import Settings, create_app
from meshes_emulator.serving import FastServer, config


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def _start_and_stop() -> int:
    """Start a server on this thread's loop; the freeze count once it listens."""
    server = FastServer(config(create_app(Settings()), port=0, timeout_graceful_shutdown=1))
    serving = asyncio.create_task(server.serve())
    await asyncio.to_thread(server.ready.wait, 30)  # set in the same step as the freeze
    assert server.started
    frozen = gc.get_freeze_count()
    server.request_stop()
    await serving
    return frozen


def test_a_server_in_the_main_thread_freezes_its_start_up_heap(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0
    assert asyncio.run(_start_and_stop()) > 1000  # the imports and the app


def test_a_server_in_a_thread_leaves_the_collector_alone(unfrozen: None) -> None:
    frozen: list[int] = []
    thread = threading.Thread(target=lambda: frozen.append(asyncio.run(_start_and_stop())))
    thread.start()
    thread.join(30)
    assert frozen == [0]
