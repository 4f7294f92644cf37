"""Identifiers and secrets, all drawn from one seeded generator so runs are reproducible.

Shapes follow what the official clients accept (reference §2.2, §2.3): organization ids are
UUID v4, access keys `mk_` + 24 url-safe characters, secrets 48 url-safe characters, publishable
keys `mesh_pub_<a>_<b>_<c>` with no `_` inside a part. This is the only module that uses `random`.
"""

from __future__ import annotations

import random
import uuid

Rng = random.Random  # the seeded generator type, for annotations elsewhere

_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class IdFactory:
    """Deterministic ids for one emulator: same seed, same sequence."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = random.Random(f"ids:{seed}")

    def reseed(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = seed
        self._rng = random.Random(f"ids:{self.seed}")

    def restart(self, count: int) -> None:
        """Continue on the stream of the `count`-th restart of an existing database.

        A restarted emulator must not re-issue the ids of its first run (they are in the
        database); each restart gets its own reproducible stream.
        """
        self._rng = random.Random(f"ids:{self.seed}:restart:{count}")

    def uuid(self) -> str:
        """A random (version 4) UUID string from the seeded generator."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self, length: int, alphabet: str = _URLSAFE) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def access_key(self) -> str:
        return "mk_" + self.token(24, _ALNUM)

    def secret_key(self) -> str:
        return self.token(48, _ALNUM)

    def publishable_key(self) -> str:
        return f"mesh_pub_{self.token(8, _ALNUM)}_{self.token(8, _ALNUM)}_{self.token(16, _ALNUM)}"

    def session_id(self) -> str:
        return "sess_" + self.uuid()


def new_rng(seed: int, purpose: str) -> random.Random:
    """A seeded generator for one purpose (faults, action data...)."""
    return random.Random(f"{purpose}:{seed}")


def system_random_token(length: int = 32) -> str:
    """A non-reproducible secret (admin tokens): deliberately not seeded."""
    sysrand = random.SystemRandom()
    return "".join(sysrand.choice(_ALNUM) for _ in range(length))
