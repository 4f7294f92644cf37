"""Memory: what the list-record cache holds against the JSON it keeps.

    .venv/bin/python benchmarks/memory.py [--events 60000]

A database of `--events` events is built fast (benchmarks/_fixture_db.py), opened in this
process, and every page of `GET /events` (limit 200) is rendered as the route does
(services/events.py `list_page_json`), so every record lands in the cache. Printed: the JSON
bytes the cache holds, what `sys.getsizeof` says its dict, keys and values take, and this
process's RSS before and after the walk (the walk's rows and pages are transient; what stays is
the cache), whose ratio to the JSON bytes is the figure (target <= 1.5): RSS sees what
getsizeof does not, e.g. the unused capacity orjson's bytes keep.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fixture_db import build
from _util import header, ratio_line

from meshes_emulator import Settings, create_app
from meshes_emulator.paging import PageRequest
from meshes_emulator.services import events
from meshes_emulator.store import events as event_store


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cache_size(cache: object) -> tuple[int, int, int]:
    """(records, JSON bytes, bytes the cache takes: its container, keys and values)."""
    sizes = getattr(cache, "memory", None)
    if callable(sizes):  # a cache that knows its own footprint
        result: tuple[int, int, int] = sizes()
        return result
    assert isinstance(cache, dict)
    json_bytes = sum(len(value) for value in cache.values())
    held = sys.getsizeof(cache) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in cache.items())
    return len(cache), json_bytes, held


def walk(emulator: object, org_id: str, limit: int = 200) -> int:
    """Every page, newest first; returns the pages rendered."""
    after, pages = None, 0
    while True:
        keys = event_store.list_event_keys(emulator.store, org_id, PageRequest(limit, after))  # type: ignore[attr-defined]
        events.list_page_json(emulator, org_id, PageRequest(limit, after))  # type: ignore[arg-type]
        pages += 1
        if len(keys) <= limit:
            return pages
        last = keys[limit - 1]  # a rowid (a (rowid, id) pair before the cache was by rowid)
        after = last[0] if isinstance(last, tuple) else last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=events.MAX_RENDERED)
    args = parser.parse_args()
    header("memory: the list-record cache", events=args.events)
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/memory.db"
        built = build(path, args.events, with_rules=False)
        app = create_app(Settings(db_path=path, clock="manual", background_dispatcher=False))
        emulator = app.state.emulator
        org_id = built["info"]["org_id"]
        gc.collect()
        before = rss_mib()
        began = time.perf_counter()
        pages = walk(emulator, org_id)
        elapsed = time.perf_counter() - began
        gc.collect()
        after = rss_mib()
        records, json_bytes, held = cache_size(emulator.store.cache[event_store.RENDERED_CACHE])
        print(f"walked {pages} pages in {elapsed:.2f} s; cache: {records:,} records, "
              f"{json_bytes / records:.0f} bytes of JSON each")
        grown = (after - before) * 2**20
        print(f"    JSON held {json_bytes / 2**20:.1f} MiB; sys.getsizeof of the cache's dict, keys "
              f"and values {held / 2**20:.1f} MiB ({held / records:.0f} bytes a record)")
        print(f"    RSS {before:.0f} -> {after:.0f} MiB (+{after - before:.1f} MiB, "
              f"{grown / max(records, 1):.0f} bytes a cached record)")
        print(ratio_line("RSS growth of the walk / JSON bytes held", grown, json_bytes, "<= 1.5"))
        emulator.store.close()


if __name__ == "__main__":
    main()
