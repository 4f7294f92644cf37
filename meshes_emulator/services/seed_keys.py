"""The keys a seed file may use at each level, and the check that names an unknown one.

`check(data)` walks a seed document before anything is loaded: a key that is not known at its
level is an error naming its path and the closest known key (`workspaces[0].conections: unknown
key; did you mean 'connections'?`). Free-form values (connection `metadata`, `action_data`, a
mapping's `schema`, an event's `payload`, a fault's `body`) are not walked.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from meshes_emulator.engine.fault_specs import MATCH_KEYS, SCHEDULE_KEYS


@dataclass(frozen=True)
class Level:
    """Known keys at one level; `children`: the level of a key's value (a mapping or a list of
    mappings)."""

    keys: frozenset[str]
    children: dict[str, Level] = field(default_factory=dict)


def _level(keys: str, **children: Level) -> Level:
    return Level(frozenset(keys.split()) | frozenset(children), children)


CATALOG_ENTRY = _level("key label description")
MAPPING = _level("name schema")
CONNECTION = _level("name type ref id metadata hidden active inactive_reason created_by "
                    "action_data", mapping=MAPPING)
RULE = _level("connection event metadata resource resource_id active hidden ref id created_by "
              "workspace")
EVENT = _level("event payload resource resource_id type ref id created_by workspace")
WORKSPACE = _level("name id description publishable_key", event_types=CATALOG_ENTRY,
                   resources=CATALOG_ENTRY, connections=CONNECTION, rules=RULE, events=EVENT)
ORGANIZATION = _level("name id access_key secret_key", workspaces=WORKSPACE)
FAULT = _level(" ".join(("kind id position source budget message body retry_after outcome status "
                         "deactivate method path hits seen created_at", *MATCH_KEYS,
                         *SCHEDULE_KEYS)),
               match=_level(" ".join(MATCH_KEYS)), schedule=_level(" ".join(SCHEDULE_KEYS)))
DOCUMENT = _level("", organizations=ORGANIZATION, workspaces=WORKSPACE, faults=FAULT)


class UnknownKey(ValueError):
    """A key a seed file may not use where it is; the message names the path and a fix."""


def check(data: dict[str, Any], level: Level = DOCUMENT, path: str = "") -> None:
    """Raise UnknownKey for the first key not known at its level (depth first, in file order)."""
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in level.keys:
            raise UnknownKey(f"{where}: unknown key{_hint(str(key), level.keys)}")
        child = level.children.get(key)
        if child is None:
            continue
        if isinstance(value, dict):
            check(value, child, where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    check(item, child, f"{where}[{index}]")


def _hint(key: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return "; known keys here: " + ", ".join(sorted(known)) if known else ""
