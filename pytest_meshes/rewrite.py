"""Keep pytest's assertion rewriting off the emulator's own package.

pytest rewrites the asserts of every package in a distribution that declares a `pytest11`
plugin, so, installed from the wheel, all of `meshes_emulator` went through pytest's rewriting
import hook instead of the normal import: ~30 ms more before the first test, and the whole
package parsed and compiled again in every session where bytecode is not written
(`PYTHONDONTWRITEBYTECODE`, a read-only site-packages): ~300 ms. Its asserts are internal
checks, not test assertions; `pytest_meshes`, the plugin, keeps the rewriting.
"""

from __future__ import annotations

import sys

EMULATOR_PACKAGE = "meshes_emulator"


def emulator_unrewritten() -> None:
    """Take the emulator's package off the rewrite list of pytest's import hook (a no-op when
    assertion rewriting is off, or once pytest keeps that list elsewhere)."""
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(marked, set):
            marked.discard(EMULATOR_PACKAGE)
