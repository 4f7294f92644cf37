"""A webhook receiver for benchmarks/deliveries.py, run as its own process (asyncio + uvloop).

    python benchmarks/_receiver.py     # prints its port, then serves until killed

Paths: `/fast` answers 200 at once, `/slow` after 100 ms, `/drip` sends its headers and then one
body byte every 2 s, `/hang` never answers. `GET /stats` returns, per path, how many requests
arrived, how many are being answered now and the most at once, and for `/fast` the delay from the
event's creation (`time_created` of the wrapped body) to the request's arrival; `GET /stats?reset`
starts the counts again.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class Stats:
    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}

    def of(self, path: str) -> dict[str, Any]:
        found = self.paths.get(path)
        if found is None:
            found = self.paths[path] = {"count": 0, "busy": 0, "max_busy": 0, "delays_ms": []}
        return found


STATS = Stats()


class Receiver(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = bytearray()
        self.hanging: list[dict[str, Any]] = []

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.handle(head.split(" ")[1], body)

    def handle(self, target: str, body: bytes) -> None:
        path, _, query = target.partition("?")
        if path == "/stats":
            payload = json.dumps(STATS.paths).encode()
            if query.startswith("reset"):
                STATS.paths = {}
            self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                                 + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            return
        stats = STATS.of(path)
        stats["count"] += 1
        stats["busy"] += 1
        stats["max_busy"] = max(stats["max_busy"], stats["busy"])
        if path == "/fast":
            try:
                created = json.loads(body)["time_created"]
                stats["delays_ms"].append(time.time() * 1000 - created)
            except (ValueError, KeyError):
                pass
            self.answer(stats)
        elif path == "/slow":
            asyncio.get_running_loop().call_later(0.1, self.answer, stats)
        elif path == "/drip":
            asyncio.get_running_loop().create_task(self.drip(stats))
        else:  # /hang: never answered
            self.hanging.append(stats)

    def answer(self, stats: dict[str, Any]) -> None:
        stats["busy"] -= 1
        if not self.transport.is_closing():
            self.transport.write(OK)

    async def drip(self, stats: dict[str, Any]) -> None:
        self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
        try:
            for _ in range(100):
                await asyncio.sleep(2)
                if self.transport.is_closing():
                    return
                self.transport.write(b"x")
        finally:
            stats["busy"] -= 1

    def connection_lost(self, exc: Exception | None) -> None:
        for stats in self.hanging:
            stats["busy"] -= 1
        self.hanging.clear()


async def main() -> None:
    server = await asyncio.get_running_loop().create_server(Receiver, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
