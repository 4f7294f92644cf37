"""The pytest fixture's costs: warm start to the first answer, per-test reset, stop.

    .venv/bin/python benchmarks/fixture.py [--repeat 30]

Warm start = build the app (fresh database file, migrations, bootstrap) and start uvicorn in a
thread on port 0, until GET /_emulator/health answers. Reset = POST /_emulator/reset, on an
empty database and on one holding many rows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import machine, summary, timed

from meshes_emulator import Settings, create_app
from pytest_meshes.server import ServerThread


def start_once(directory: str, index: int) -> tuple[float, float, ServerThread]:
    began = time.perf_counter()
    app = create_app(Settings(db_path=f"{directory}/bench-{index}.db", clock="manual"))
    thread = ServerThread(app)
    thread.start()
    httpx.get(thread.url + "/_emulator/health").raise_for_status()
    first = (time.perf_counter() - began) * 1000
    stop_began = time.perf_counter()
    thread.stop()
    return first, (time.perf_counter() - stop_began) * 1000, thread


def populate(client: httpx.Client, base: str, workspaces: int) -> None:
    token = client.get(base + "/_emulator/token").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for index in range(workspaces):
        if index % 500 == 0:
            fresh = client.get(base + "/_emulator/token").json()["token"]
            headers["Authorization"] = f"Bearer {fresh}"
        client.post(base + "/api/v1/workspaces", json={"name": f"Bench {index}"}, headers=headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as directory:
        starts, stops = [], []
        for index in range(args.repeat):
            first, stop, _ = start_once(directory, index)
            starts.append(first)
            stops.append(stop)
        print(summary("warm start to first response", starts))
        print(summary("stop", stops))

        app = create_app(Settings(db_path=f"{directory}/reset.db", clock="manual"))
        thread = ServerThread(app)
        thread.start()
        with httpx.Client() as client:
            reset = lambda: client.post(thread.url + "/_emulator/reset", json={})  # noqa: E731
            health = lambda: client.get(thread.url + "/_emulator/health")  # noqa: E731
            baseline = timed(health, args.repeat * 10)
            print(summary("baseline GET /_emulator/health", baseline))
            empty = timed(reset, args.repeat * 10)
            print(summary("reset, empty database (HTTP round trip)", empty))
            populated = []
            for _ in range(args.repeat):
                populate(client, thread.url, 1000)
                populated += timed(reset, 1)
            print(summary("reset after 1,000 workspaces (HTTP round trip)", populated))
        thread.stop()


if __name__ == "__main__":
    main()
