"""Lists: paging through 100k events, page 1 against page 2,000, and a page of 25 against trivial.

    .venv/bin/python benchmarks/lists.py [--events 100000] [--rounds 3] [--duration 2]

The database is built fast (benchmarks/_fixture_db.py: raw executemany into a WAL file), then a
`meshes-emulator serve` subprocess answers, with a machine JWT, at concurrency 8:

* GET /api/v1/events?limit=50 (page 1) and the same with the cursor of page 2,000 (found by
  walking the cursors once); target: page 2,000 costs at most 1.2x page 1;
* GET /api/v1/events?limit=25 beside GET /_emulator/health; target: at least 0.3 of its rate.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fixture_db import build
from _util import Serve, header, load, median, ratio_line, summary

try:
    from meshes_emulator.paging import encode_cursor
except ImportError:  # a baseline checkout from before paging.py (PYTHONPATH=...)
    from meshes_emulator.pagination import encode_cursor  # type: ignore[attr-defined,no-redef]


def cursor_of_page(server: Serve, page: int, limit: int) -> str:
    cursor = ""
    for _ in range(page - 1):
        query = f"/events?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        cursor = server.api("GET", query)["next_cursor"]
    return cursor


def walk_twice(server: Serve, stored: int, pages: int, limit: int) -> tuple[float, float]:
    """Median milliseconds a page over two walks through the same `pages` pages, starting in the
    middle of the stored events: the first walk renders each record, the second finds them kept
    (services/events.py `list_page_json`)."""
    import httpx

    headers = {"Authorization": f"Bearer {server.token(lifetime=60)}"}
    medians = []
    with httpx.Client(base_url=server.url + "/api/v1", headers=headers, trust_env=False) as client:
        first_cursor = encode_cursor(stored // 2 + 1)  # a built database has rowids 1..stored
        for _ in range(2):
            cursor, samples = first_cursor, []
            for _ in range(pages):
                began = time.perf_counter()
                body = client.get("/events", params={"limit": limit, "cursor": cursor}).json()
                samples.append((time.perf_counter() - began) * 1000)
                cursor = body["next_cursor"]
            medians.append(median(samples))
    return medians[0], medians[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.0)
    args = parser.parse_args()
    header("lists: paging through stored events", events=args.events, rounds=args.rounds,
           seconds=args.duration)
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/lists.db"
        built = build(path, args.events)
        print(f"   built {args.events} events (+3 rule_events each) in {built['seconds']:.1f} s")
        with Serve(path) as server:
            cold, warm = walk_twice(server, args.events, pages=200, limit=25)
            print(f"   200 pages of 25 walked with one keep-alive client: first walk (records "
                  f"rendered) median {cold:.3f} ms a page, second walk (records kept) "
                  f"{warm:.3f} ms a page")
            began = time.perf_counter()
            cursor = cursor_of_page(server, args.page, 50)
            walk = time.perf_counter() - began
            per_page = walk / (args.page - 1) * 1000
            print(f"   walked to page {args.page} in {walk:.1f} s ({per_page:.2f} ms a page)")
            runs: dict[str, list[dict[str, float]]] = {"trivial": [], "page1": [], "pageN": [],
                                                       "page25": []}
            paths = {"page1": "/api/v1/events?limit=50",
                     "pageN": f"/api/v1/events?limit=50&cursor={cursor}",
                     "page25": "/api/v1/events?limit=25"}
            for _ in range(args.rounds):
                runs["trivial"].append(load(server, connections=8, duration=args.duration))
                for name, path_ in paths.items():
                    runs[name].append(load(server, connections=8, duration=args.duration,
                                           path=path_, headers=[server.auth_header()]))
        rate = {name: median([r["rps"] for r in results]) for name, results in runs.items()}
        print(summary("c=8 trivial GET /_emulator/health", [r["rps"] for r in runs["trivial"]],
                      "req/s"))
        labels = {"page1": "page 1 (limit 50)", "pageN": f"page {args.page} (limit 50)",
                  "page25": "page 1 (limit 25)"}
        for name, label in labels.items():
            print(summary(f"c=8 GET /api/v1/events {label}", [r["rps"] for r in runs[name]],
                          "req/s"))
            p50 = median([r["p50_ms"] for r in runs[name]])
            p99 = median([r["p99_ms"] for r in runs[name]])
            cpu = median([r["server_cpu_us"] for r in runs[name]])
            print(f"    p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  server CPU {cpu:7.1f} us/req")
        print(ratio_line(f"cost of page {args.page} / page 1 (rate 1 / rate N)", rate["page1"],
                         rate["pageN"], "<= 1.2"))
        print(ratio_line("page of 25 / trivial", rate["page25"], rate["trivial"], ">= 0.3"))


if __name__ == "__main__":
    main()
