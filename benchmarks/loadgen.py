"""A keep-alive HTTP/1.1 load generator: raw sockets on asyncio + uvloop, run as its own process.

    .venv/bin/python benchmarks/loadgen.py --port 8787 --path /_emulator/health --connections 8

N connections, each with one request in flight (no pipelining), TCP_NODELAY on. Bodies are built
per request (`--body event|bulk`: a unique payload each time). Prints one JSON line:
{"requests", "seconds", "rps", "p50_ms", "p99_ms", "max_ms", "statuses", "cpu"} where `cpu` is
the generator's own CPU time over the measured wall time (1.0 = one core busy): well below 1.0
means the generator was not the bottleneck.

`--serve-trivial` instead runs a minimal uvloop HTTP server answering every request with a fixed
200. `--calibrate` measures the generator itself: against that minimal server (its ceiling on
this machine, where the two processes share the two cores), and against GET /_emulator/health
of a `meshes-emulator serve`, with the CPU each process used: the emulator near one core busy
and the generator well below shows the generator is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import resource
import socket
import sys
import time
from collections import Counter
from typing import Any, cast

try:
    import uvloop
except ImportError:  # plain asyncio still works, only slower
    uvloop = None  # type: ignore[assignment]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Workload:
    """Builds request bytes and collects results."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.n = args.start
        head = f"{args.method} {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
        for header in args.header:
            head += header.strip() + "\r\n"
        self.head = head
        self.constant = (head + "\r\n").encode() if args.body == "none" else None
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.recording = False
        self.stopping = False
        self.errors = 0
        self.completed = 0  # every answered request, warm-up included
        self.limit = args.requests  # 0: run for --duration

    def body(self) -> bytes:
        args = self.args
        if args.body == "event":
            self.n += 1
            return event_json(args.event, self.n).encode()
        items = []
        for _ in range(args.batch):
            self.n += 1
            items.append(event_json(args.event, self.n))
        return ("[" + ",".join(items) + "]").encode()

    def request(self) -> bytes:
        if self.constant is not None:
            return self.constant
        body = self.body()
        return (f"{self.head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                .encode() + body)

    def record(self, status: int, seconds: float) -> None:
        self.completed += 1
        if self.recording:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            if self.limit and len(self.latencies) >= self.limit:
                self.stopping = True


def event_json(event: str, n: int) -> str:
    return (f'{{"event":"{event}","payload":{{"email":"user{n}@example.com",'
            f'"first_name":"Ada","last_name":"Bench","n":{n}}}}}')


class Connection(asyncio.Protocol):
    """One keep-alive connection: send, read one full response, send again."""

    def __init__(self, work: Workload, done: asyncio.Future[None]) -> None:
        self.work = work
        self.done = done
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.started = 0.0
        self.header_end = -1
        self.total = -1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        if self.work.stopping:
            self.transport.close()
            if not self.done.done():
                self.done.set_result(None)
            return
        request = self.work.request()
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            if self.total < 0:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buffer[:end]).lower()
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    raise RuntimeError("response without Content-Length: " + head[:200].decode())
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17: stop if stop >= 0 else None])
                self.total = end + 4 + length
            if len(buffer) < self.total:
                return
            status = int(buffer[9:12])
            del buffer[: self.total]
            self.total = -1
            self.work.record(status, time.perf_counter() - self.started)
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.work.stopping:
            self.work.errors += 1
        if not self.done.done():
            self.done.set_result(None)


async def generate(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    work = Workload(args)
    futures = []
    for _ in range(args.connections):
        done: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(functools.partial(Connection, work, done), args.host, args.port)
        futures.append(done)
    await asyncio.sleep(args.warmup)
    work.recording = True
    began_wall, began_cpu = time.perf_counter(), cpu_seconds()
    if work.limit:
        while not work.stopping and not all(f.done() for f in futures):
            await asyncio.sleep(0.005)
    else:
        await asyncio.sleep(args.duration)
    work.recording = False
    seconds = time.perf_counter() - began_wall
    cpu = cpu_seconds() - began_cpu
    work.stopping = True
    await asyncio.wait(futures, timeout=30)
    ordered = sorted(work.latencies)
    count = len(ordered)

    def pct(q: float) -> float:
        return ordered[min(count - 1, int(count * q))] * 1000 if count else float("nan")

    return {"requests": count, "seconds": seconds, "rps": count / seconds,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": ordered[-1] * 1000 if count else None,
            "statuses": {str(k): v for k, v in work.statuses.items()}, "errors": work.errors,
            "cpu": cpu / seconds, "units": count * (args.batch if args.body == "bulk" else 1),
            "all_requests": work.completed}


# -- the generator's own ceiling: a server that does nothing -----------------------------------

RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n"
            b'{"status":"ok"}')


class Trivial(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:  # GET only: no body
            del self.buffer[: end + 4]
            self.transport.write(RESPONSE)


async def serve_trivial(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Trivial, "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def calibrate(duration: float) -> None:
    import subprocess
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _util import Serve, header, load

    header("load generator: its ceiling, and its share of the CPU against the emulator")
    here = str(Path(__file__).resolve())
    trivial = subprocess.Popen([sys.executable, here, "--serve-trivial", "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    assert trivial.stdout is not None
    port = int(trivial.stdout.readline())
    try:
        for connections in (1, 8, 64):
            out = subprocess.run([sys.executable, here, "--port", str(port), "--connections",
                                  str(connections), "--duration", str(duration)],
                                 capture_output=True, text=True, check=True).stdout
            result = json.loads(out)
            print(f"c={connections:<3} minimal uvloop server      {result['rps']:8.0f} req/s   "
                  f"p50 {result['p50_ms']:.3f} ms   loadgen CPU {result['cpu']:.2f} core")
    finally:
        trivial.terminate()
        trivial.wait()
    with Serve(":memory:") as server:
        for connections in (1, 8, 64):
            result = load(server, connections=connections, duration=duration)
            server_cpu = result["server_cpu_us"] * result["rps"] / 1e6
            print(f"c={connections:<3} emulator /_emulator/health {result['rps']:8.0f} req/s   "
                  f"p50 {result['p50_ms']:.3f} ms   loadgen CPU {result['cpu']:.2f} core   "
                  f"emulator CPU {server_cpu:.2f} core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/_emulator/health")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body", choices=["none", "event", "bulk"], default="none")
    parser.add_argument("--event", default="bench.signup")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--start", type=int, default=0, help="first payload number")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--requests", type=int, default=0, help="stop after this many instead")
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--serve-trivial", action="store_true")
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    if args.calibrate:
        calibrate(args.duration)
        return
    factory = uvloop.new_event_loop if uvloop is not None else None
    with asyncio.Runner(loop_factory=factory) as runner:
        if args.serve_trivial:
            runner.run(serve_trivial(args.port))
            return
        result = runner.run(generate(args))
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
