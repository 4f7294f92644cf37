"""Seed files: organizations, workspaces and everything in them, loaded in one transaction.

The format is documented in docs/fixtures.md. The sections other services own are loaded by
their loaders, listed here in the order they run (`WORKSPACE_SECTIONS`, `TOP_SECTIONS`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meshes_emulator.clock import isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.errors import ApiError
from meshes_emulator.schemas.common import lower_id
from meshes_emulator.services import events, faults, orgs, rules, seed_keys, workspaces
from meshes_emulator.services.seed_connections import load_seed_connections
from meshes_emulator.settings import Settings
from meshes_emulator.store import orgs as org_store
from meshes_emulator.store import workspaces as ws_store
from meshes_emulator.store.db import Row

WorkspaceLoader = Callable[[Emulator, str, Row, list[Any], dict[str, str]], None]
TopLoader = Callable[[Emulator, list[Any]], None]

# Inside a workspace, in this order: rules refer to connections, events may name both.
WORKSPACE_SECTIONS: tuple[tuple[str, WorkspaceLoader], ...] = (
    ("connections", load_seed_connections),
    ("rules", rules.load_seed_rules),
    ("events", events.load_seed_events),
)
# At the top level, after every organization and workspace.
TOP_SECTIONS: tuple[tuple[str, TopLoader], ...] = (
    ("faults", faults.load_seed_faults),
)
MAX_FIXTURE_BYTES = 8 * 1024 * 1024  # a seed file larger than this is refused


class FixtureError(ValueError):
    """A seed file that cannot be loaded; the message says where and why."""


BUNDLED_DIR = Path(__file__).resolve().parents[1] / "fixtures"


def bundled(name: str) -> Path | None:
    """The seed file shipped with the package that a bare name (`demo`) means, else None.

    Decided by the name alone (a file `demo` in the current directory is `./demo`)."""
    if not name.isidentifier():
        return None
    candidate = BUNDLED_DIR / f"{name}.yaml"
    return candidate if candidate.is_file() else None


def check_allowed(settings: Settings, path: str) -> None:
    """Refuse a path the operator did not allow for `POST /_emulator/reset`: allowed are the
    `--fixture` files and files under a `--fixture-dir` (symbolic links and `..` resolved first).
    Nothing about the path is looked at before this (no probing for files). The seed files
    shipped with the package (`demo`) are always allowed."""
    if bundled(path) is not None:
        return
    real = os.path.realpath(path)
    if real in {os.path.realpath(name) for name in settings.fixtures}:
        return
    for directory in settings.fixture_dirs:
        root = os.path.realpath(directory)
        if real.startswith(root.rstrip(os.sep) + os.sep):
            return
    raise FixtureError(f"fixture {path} is not allowed: reset loads the --fixture files and files "
                       "under a --fixture-dir only")


def read_text(path: str, limit: int = MAX_FIXTURE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes; FixtureError otherwise.

    A device (/dev/zero), FIFO or directory is refused before anything is read: the open does
    not block (O_NONBLOCK) and the opened file itself is checked (no swap after a check).
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise FixtureError(f"fixture {path} is not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FixtureError(f"fixture {path} is not a regular file")
        if info.st_size > limit:
            raise FixtureError(f"fixture {path} is larger than {limit} bytes")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FixtureError(f"fixture {path} is larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FixtureError(f"fixture {path} is not UTF-8 text") from None


def read_file(path: str) -> dict[str, Any]:
    """Parse a JSON or YAML seed file (a regular file up to MAX_FIXTURE_BYTES), or a shipped one
    by name (`demo`)."""
    import yaml  # imported when a seed file is read, not at start-up

    shipped = bundled(path)
    text = read_text(str(shipped) if shipped is not None else path)
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise FixtureError(f"fixture {path} is not valid JSON/YAML: {exc}") from None
    if not isinstance(data, dict):
        raise FixtureError(f"fixture {path} must hold a mapping at the top level")
    return data


def load_file(emulator: Emulator, path: str) -> None:
    load(emulator, read_file(path), source=path)


def read_all(paths: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    """(path, document) of every seed file, all read and parsed before anything is loaded."""
    return [(path, read_file(path)) for path in paths]


def load(emulator: Emulator, data: dict[str, Any], source: str = "fixture") -> None:
    """Load one seed document, all or nothing (unknown keys refused before anything)."""
    if data.get("format") is not None:  # an export: the whole state, replaced (services/export.py)
        from meshes_emulator.services import export

        export.load(emulator, data, source)
        return
    try:
        seed_keys.check(data)
    except seed_keys.UnknownKey as exc:
        raise FixtureError(f"{source}: {exc}") from None
    try:
        with emulator.store.transaction():
            for org in data.get("organizations") or []:
                _load_org(emulator, org)
            default_org = orgs.default_org_id(emulator)
            for workspace in data.get("workspaces") or []:
                _load_workspace(emulator, default_org, workspace)
            for name, loader in TOP_SECTIONS:
                if data.get(name):
                    loader(emulator, list(data[name]))
    except ApiError as exc:
        raise FixtureError(f"{source}: {exc}") from None
    except orgs.CredentialsError as exc:
        raise FixtureError(f"{source}: organization {exc.field} {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FixtureError):
            raise
        raise FixtureError(f"{source}: invalid entry ({exc!r})") from None


def _load_org(emulator: Emulator, spec: dict[str, Any]) -> None:
    now = isoformat(emulator.clock.now())
    org_id = spec.get("id") or emulator.ids.uuid()
    access_key = spec.get("access_key") or emulator.ids.access_key()
    secret_key = spec.get("secret_key") or emulator.ids.secret_key()
    orgs.check_credential_shapes(org_id, access_key, secret_key)
    if org_store.get_org(emulator.store, org_id) is None:
        org_store.insert_org(emulator.store, org_id, spec.get("name") or "Organization", now)
    if org_store.get_machine_key(emulator.store, access_key) is None:
        org_store.insert_machine_key(emulator.store, access_key, secret_key, org_id, "fixture", now)
    for workspace in spec.get("workspaces") or []:
        _load_workspace(emulator, org_id, workspace)


def _load_workspace(emulator: Emulator, org_id: str, spec: dict[str, Any]) -> None:
    name = spec["name"]
    row = ws_store.find_by_name(emulator.store, org_id, name)
    if row is None:
        row = workspaces.insert(emulator, org_id, name, spec.get("description"),
                                workspace_id=lower_id(spec.get("id")),
                                public_key=spec.get("publishable_key"))
    for kind, section in (("event_type", "event_types"), ("resource", "resources")):
        for entry in spec.get(section) or []:
            item = {"key": entry} if isinstance(entry, str) else dict(entry)
            workspaces.register_catalog_entry(
                emulator, row["id"], kind, item["key"], created_by="fixture",
                label=item.get("label"), description=item.get("description"))
    refs: dict[str, str] = {}
    for section, loader in WORKSPACE_SECTIONS:
        items = spec.get(section)
        if items:
            loader(emulator, org_id, row, list(items), refs)
