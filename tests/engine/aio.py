"""Run a coroutine to completion from a sync test, even if this thread already has a loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a fresh thread (another plugin may leave a loop running in this one)."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller
            error.append(exc)

    thread = threading.Thread(target=target, name="test-asyncio")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
