"""Optional parts that attach hooks to each emulator (engine dispatcher, faults, sessions).

Each entry is "module:function"; the function takes the Emulator. Modules that are not built
yet are simply absent from the list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

INSTALLERS: list[str] = [
    "meshes_emulator.engine.dispatcher:install",
    "meshes_emulator.services.sessions:install",
    "meshes_emulator.services.faults:install",
]


def installers() -> list[Callable[[Any], None]]:
    result = []
    for entry in INSTALLERS:
        module_name, _, function = entry.partition(":")
        result.append(getattr(importlib.import_module(module_name), function))
    return result
