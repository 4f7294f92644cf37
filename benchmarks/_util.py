"""Helpers shared by the benchmark scripts: a `serve` subprocess, the load generator, medians.

Every HTTP benchmark runs the emulator as a real `meshes-emulator serve` subprocess and drives it
with benchmarks/loadgen.py, a separate process. Figures are medians over rounds, with min-max,
and every rate is printed beside its baseline measured on the same server in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOADGEN = HERE / "loadgen.py"
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # a checkout without `pip install -e .` (PYTHONPATH still wins)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of the processes the benchmarks start: PYTHONPATH as given (e.g. another
    checkout, to measure a baseline) or this checkout; they run in a neutral directory so the
    current directory does not decide which code they import."""
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT))
    env.update(extra)
    return env


NEUTRAL_DIR = tempfile.gettempdir()

EVENT = "bench.signup"
# Three simulated rules (no network): Slack, HubSpot, Mailchimp, all on EVENT.
RULES = [
    ("slack", {}, {"action": "send_message", "id": "C1", "template": "Hello {{first_name}}"}),
    ("hubspot", {}, {"action": "add_to_list", "id": "42"}),
    ("mailchimp", {"api_key": "bench-key-us6", "data_center": "us6"},
     {"action": "add_to_list", "id": "aud1"}),
]


# -- plain statistics ---------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Run fn `repeat` times; return durations in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(name: str, samples: Sequence[float], unit: str = "ms") -> str:
    """`name  median X unit  (min-max A-B, n=N)`."""
    ordered = sorted(samples)
    return (f"{name:<52} median {_num(median(samples)):>9} {unit:<5} "
            f"(min-max {_num(ordered[0])}-{_num(ordered[-1])}, n={len(samples)})")


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def ratio_line(name: str, value: float, baseline: float, target: str = "") -> str:
    text = f"{'':<4}{name:<48} ratio {value / baseline:8.3f}"
    return text + (f"   target {target}" if target else "")


def _num(value: float) -> str:
    if value != value:  # NaN
        return "nan"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def machine() -> str:
    python = f"{platform.python_implementation()} {platform.python_version()}"
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        one, five, fifteen = os.getloadavg()
        load = f", load average {one:.2f} {five:.2f} {fifteen:.2f}"
    return f"{python}, {os.cpu_count()} cores {cpu}, {platform.machine()}{load}"


def header(title: str, **details: Any) -> None:
    extra = ", ".join(f"{k} {v}" for k, v in details.items())
    print(f"== {title}" + (f" ({extra})" if extra else ""))
    print(f"   machine: {machine()}")
    sys.stdout.flush()


def run_per_database(description: str, title: str, run: Callable[..., object],
                     warmup: bool = False,
                     options: Callable[[Any], None] | None = None) -> None:
    """The command line of a benchmark run on a WAL file and/or in memory: --rounds,
    --duration, --db (and --warmup, and what `options(parser)` adds), then
    `run(kind, args, directory)` for each database."""
    import argparse

    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    if options is not None:
        options(parser)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.0)
    if warmup:
        parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--db", choices=["file", "memory", "both"], default="both")
    args = parser.parse_args()
    header(title, rounds=args.rounds, seconds=args.duration)
    with tempfile.TemporaryDirectory() as directory:
        for kind in (["file", "memory"] if args.db == "both" else [args.db]):
            run(kind, args, directory)


# -- the emulator as a subprocess ---------------------------------------------------------------


def has_quiet(env: dict[str, str]) -> bool:
    """Whether the checkout `env` runs knows `serve --quiet` (older baselines log nothing)."""
    output = subprocess.run([sys.executable, "-m", "meshes_emulator", "serve", "--help"],
                            capture_output=True, text=True, cwd=NEUTRAL_DIR, env=env, check=False)
    return "--quiet" in output.stdout


class Serve:
    """`python -m meshes_emulator serve --port 0 --json` with the given database and flags."""

    def __init__(self, db: str, *extra: str, pythonpath: str | None = None) -> None:
        env = child_env(**({"PYTHONPATH": pythonpath} if pythonpath else {}))
        quiet = ["--quiet"] if has_quiet(env) else []  # a checkout from before the access log
        command = [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--json",
                   *quiet, "--db", db, *extra]  # --quiet: a load test measures no log lines
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, cwd=NEUTRAL_DIR, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            error = self.process.stderr.read() if self.process.stderr else ""
            raise SystemExit(f"serve did not start: {error}")
        self.info: dict[str, Any] = json.loads(line)
        self.url: str = self.info["base_url"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.pid = self.process.pid
        self.key: str = self.info["workspaces"][0]["publishable_key"]
        self.workspace: str = self.info["workspaces"][0]["id"]
        # A new connection per admin call: a kept-alive one may be closed by the server (its
        # 5 s keep-alive timeout) while a load run keeps this client idle.
        self.http = httpx.Client(base_url=self.url, trust_env=False, timeout=600,
                                 limits=httpx.Limits(max_keepalive_connections=0))

    def token(self, lifetime: int = 60) -> str:
        from pytest_meshes.handle import mint_token

        return mint_token(self.info["access_key"], self.info["secret_key"], self.info["org_id"],
                          lifetime=lifetime)

    def auth_header(self) -> str:
        return f"Authorization: Bearer {self.token()}"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"}
        response = self.http.request(method, "/api/v1" + path, headers=headers, **kwargs)
        response.raise_for_status()
        return response.json()

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, "/_emulator" + path, **kwargs)
        response.raise_for_status()
        return response.json()

    def add_rules(self) -> None:
        """The three matching simulated rules of the ingest benchmarks."""
        for kind, metadata, rule_metadata in RULES:
            created = self.api("POST", "/connections", json={
                "workspace": self.workspace, "type": kind, "name": kind, "metadata": metadata})
            self.api("POST", "/rules", json={
                "workspace": self.workspace, "event": EVENT,
                "connection": created["connection"]["id"], "metadata": rule_metadata})

    def settle(self) -> int:
        """Run every delivery that is due; returns how many attempts ran."""
        ran = 0
        while True:
            body = self.admin("POST", "/settle")
            ran += int(body["ran"])
            if body["due_now"] == 0 and not body["in_flight"]:
                return ran

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the load generator -------------------------------------------------------------------------


def load(server: Serve, *, connections: int, duration: float = 2.0, method: str = "GET",
         path: str = "/_emulator/health", headers: Sequence[str] = (), body: str = "none",
         batch: int = 100, start: int = 0, requests: int = 0, warmup: float = 0.3) -> dict[str, Any]:
    """Run loadgen.py against the server; adds `server_cpu_us` (server CPU per request)."""
    command = [sys.executable, str(LOADGEN), "--port", str(server.port), "--connections",
               str(connections), "--duration", str(duration), "--method", method, "--path", path,
               "--body", body, "--batch", str(batch), "--start", str(start),
               "--requests", str(requests), "--warmup", str(warmup)]
    for item in headers:
        command += ["--header", item]
    cpu_before = server.cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, check=False)
    cpu_after = server.cpu_seconds()
    if output.returncode != 0:
        raise SystemExit(f"loadgen failed: {output.stderr}")
    result: dict[str, Any] = json.loads(output.stdout)
    bad = {k: v for k, v in result["statuses"].items() if not k.startswith("2")}
    if bad or result["errors"]:
        raise SystemExit(f"unexpected answers from {method} {path}: {result}")
    # The server's CPU over the whole loadgen run (warm-up included) per answered request.
    result["server_cpu_us"] = (cpu_after - cpu_before) / max(result["all_requests"], 1) * 1e6
    return result


def ingest_headers(server: Serve) -> list[str]:
    return [f"X-Meshes-Publishable-Key: {server.key}"]
