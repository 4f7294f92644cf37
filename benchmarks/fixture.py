"""The pytest fixture's costs: start, stop, per-test reset, and a 500-test suite's overhead.

    .venv/bin/python benchmarks/fixture.py [--repeat 30] [--suite 500] [--skip-suite]

* warm start: in a process that has imported everything, build the app (fresh database file,
  manual clock) and start the in-process server as the fixture does, until GET
  /_emulator/health answers over a socket; and the server's stop;
* cold start: a new Python process that imports the emulator, starts it the same way and gets
  its first answer, against a new process that only imports the modules the first one ended up
  loading that are not the emulator's own (its dependencies and the standard library): the
  emulator's own import and start-up cost is the difference;
* the dependencies' floor: the CPU time of importing, after `import pytest`, the dependencies
  of the first process that pytest has not imported (pydantic's family apart): the emulator
  needs them before it answers, so the first test cannot wait less;
* reset: POST /_emulator/reset handed to the app on its loop (no socket) on an empty database
  file and on one holding 10,000 events (with 30,000 rule_events), and the same over HTTP
  (keep-alive http.client) for comparison; then the fixture's whole per-test work (one typed
  reset + credentials call on the loop, the error check read in place) on that file and on the
  emulator the fixture starts (`meshes_emulator.running()`, in memory);
* suite: a generated 500-test file run by pytest in a subprocess three ways, interleaved: tests
  taking no fixture, pytest-httpserver's `httpserver`, and `meshes_server`; each test's whole
  protocol is timed inside pytest (median of tests 2..N), and the first test's setup (for
  `meshes_server`, the wait for the emulator started in the background at collection); the
  per-test ratio meshes_server / httpserver is printed, and the whole runs' wall times;
* installed: the first test's wait as a user meets it, the wheel installed with pytest and
  pytest-httpserver only in a fresh virtual environment, with a bytecode cache and without one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import NEUTRAL_DIR, child_env, header, median, ratio_line, summary

from meshes_emulator import Settings, create_app
from pytest_meshes.handle import MeshesServer
from pytest_meshes.server import ServerThread

CHILD = """
import time, http.client, sys, json
began = time.perf_counter()
from meshes_emulator import Settings, create_app
from pytest_meshes.server import ServerThread
app = create_app(Settings(db_path=sys.argv[1], clock="manual"))
thread = ServerThread(app)
thread.start()
connection = http.client.HTTPConnection("127.0.0.1", thread.port)
connection.request("GET", "/_emulator/health")
assert connection.getresponse().read() == b'{"status":"ok"}'
print("ready", flush=True)
if len(sys.argv) > 2:
    own = ("meshes_emulator", "pytest_meshes", "__main__")
    print(json.dumps([m for m in list(sys.modules) if not m.startswith(own)]), flush=True)
thread.stop()
"""

BARE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        pass
print("ready", flush=True)
"""

# The dependencies a pytest session has still to import when the fixture starts the emulator:
# their CPU time, pydantic's family apart.
AFTER_PYTEST = """
import importlib, json, sys, time
import pytest
names = [name for name in json.loads(sys.argv[1]) if name not in sys.modules]
FAMILY = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")
def load(pydantic):
    began = time.process_time()
    for name in names:
        if (name.split(".")[0] in FAMILY) == pydantic and name not in sys.modules:
            try:
                importlib.import_module(name)
            except Exception:
                pass
    return (time.process_time() - began) * 1000
rest = load(False)
print(json.dumps([rest, load(True)]), flush=True)
"""


def get(port: int, path: str = "/_emulator/health") -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


def warm(directory: str, repeat: int) -> None:
    starts, builds, stops = [], [], []
    for index in range(repeat + 3):
        began = time.perf_counter()
        app = create_app(Settings(db_path=f"{directory}/warm-{index}.db", clock="manual"))
        built = time.perf_counter()
        thread = ServerThread(app)
        thread.start()
        assert get(thread.port) == b'{"status":"ok"}'
        answered = time.perf_counter()
        thread.stop()
        stopped = time.perf_counter()
        if index >= 3:  # the first starts build per-process caches (schema template, routes)
            starts.append((answered - began) * 1000)
            builds.append((built - began) * 1000)
            stops.append((stopped - answered) * 1000)
    print(summary("warm start to first response", starts) + "   target <= 5 ms")
    print(summary("    of which create_app (db, bootstrap, routes)", builds))
    print(summary("stop", stops) + "   target <= 10 ms")


def cold_env(directory: str) -> dict[str, str]:
    """Bytecode caches on, in a private directory: this machine sets PYTHONDONTWRITEBYTECODE,
    which would make every cold start compile the emulator's sources (~80 ms) but not its
    dependencies' (pip compiled those at install), unlike any normal installation."""
    env = child_env(PYTHONPYCACHEPREFIX=f"{directory}/pycache")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def until_ready(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=NEUTRAL_DIR, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = (time.perf_counter() - began) * 1000
    process.wait()
    if line.strip() != "ready":
        raise SystemExit(f"child failed: {command}")
    return elapsed


def cold(directory: str, repeat: int) -> None:
    env = cold_env(directory)
    probe = subprocess.run([sys.executable, "-c", CHILD, f"{directory}/probe.db", "modules"],
                           capture_output=True, text=True, check=True, cwd=NEUTRAL_DIR, env=env)
    modules = probe.stdout.splitlines()[1]
    until_ready([sys.executable, "-c", BARE, modules], env)  # fills the bytecode cache
    emulator, bare = [], []
    for index in range(repeat):
        emulator.append(until_ready([sys.executable, "-c", CHILD, f"{directory}/cold-{index}.db"],
                                    env))
        bare.append(until_ready([sys.executable, "-c", BARE, modules], env))
    print(summary(f"cold process: import dependencies only ({len(json.loads(modules))} modules)",
                  bare))
    print(summary("cold process: emulator started, first response", emulator))
    print(ratio_line("cold start / bare import of its dependencies", median(emulator),
                     median(bare), "<= 1.1"))
    after_pytest(modules, env, repeat)


def after_pytest(modules: str, env: dict[str, str], repeat: int) -> None:
    """The floor under the first test's wait: the CPU time of the dependencies the emulator
    imports before it can answer that a pytest session has not imported yet."""
    rest, pydantic = [], []
    for _ in range(repeat):
        result = subprocess.run([sys.executable, "-c", AFTER_PYTEST, modules], capture_output=True,
                                text=True, check=True, cwd=NEUTRAL_DIR, env=env)
        figures = json.loads(result.stdout)
        rest.append(figures[0])
        pydantic.append(figures[1])
    total = [a + b for a, b in zip(rest, pydantic, strict=True)]
    print(summary("its dependencies pytest has not imported, CPU", total)
          + "   (the first test's wait: target <= 150 ms)")
    print(summary("    of which pydantic's family", pydantic))


def populate(app: object, events: int) -> None:
    """Store `events` events with three rule_events each, straight into the database."""
    emulator = app.state.emulator  # type: ignore[attr-defined]
    store = emulator.store
    org, workspace = emulator.settings.org_id or "", ""
    row = store.one("SELECT id, org_id FROM workspaces LIMIT 1")
    assert row is not None
    org, workspace = row["org_id"], row["id"]
    stamp = "2026-01-01T00:00:00.000Z"
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO events (id, org_id, workspace_id, event, resource, payload, status, "
            "total_rules, completed_count, failed_count, created_by, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(f"00000000-0000-7000-8000-{n:012d}", org, workspace, "bench.signup", "global",
              f'{{"email":"user{n}@example.com"}}', "completed", 3, 3, 0, "bench", stamp)
             for n in range(events)])
        store.conn.executemany(
            "INSERT INTO rule_events (id, event_id, rule_id, org_id, workspace_id, connection_id, "
            "integration_type, event, status, attempt_count, created_by, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(f"00000000-0000-7000-9{r:03d}-{n:012d}", f"00000000-0000-7000-8000-{n:012d}",
              f"rule-{r}", org, workspace, f"connection-{r}", "slack", "bench.signup",
              "completed", 1, "bench", stamp) for n in range(events) for r in range(3)])


def resets(directory: str, repeat: int) -> None:
    app = create_app(Settings(db_path=f"{directory}/reset.db", clock="manual"))
    thread = ServerThread(app)
    thread.start()
    try:
        from meshes_emulator.embedded import Door

        handle = MeshesServer(thread.url, app=app, door=Door(app.state.emulator, thread))
    except ImportError:  # a checkout from before the typed door
        handle = MeshesServer(thread.url, app=app, local=thread.request)
    body = {"seed": 0, "clock": "manual", "start": None, "fixtures": []}
    connection = http.client.HTTPConnection("127.0.0.1", thread.port)

    def over_http() -> None:
        connection.request("POST", "/_emulator/reset", body=json.dumps(body),
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().read()

    def trivial_http() -> None:
        connection.request("GET", "/_emulator/health")
        assert connection.getresponse().read()

    def keep_alive() -> None:
        """Open again what the server closed while the database was being filled (its keep-alive
        timeout is 5 s), outside the timed part."""
        nonlocal connection
        try:
            trivial_http()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", thread.port)
            trivial_http()

    cases = {
        "trivial GET /_emulator/health over HTTP (baseline)": (0, trivial_http),
        "reset, empty database (in-process, as the fixture)": (
            0, lambda: handle.admin("POST", "/reset", body)),
        "reset, empty database (HTTP round trip)": (0, over_http),
        "reset, 10,000 events stored (in-process)": (
            10_000, lambda: handle.admin("POST", "/reset", body)),
        "reset, 10,000 events stored (HTTP round trip)": (10_000, over_http),
    }
    for name, (events, action) in cases.items():
        samples = []
        for _ in range(repeat if events else repeat * 10):
            if events:
                populate(app, events)
                keep_alive()
            began = time.perf_counter()
            action()
            samples.append((time.perf_counter() - began) * 1000)
        target = ("   target <= 5 ms" if events else "   target <= 1 ms") if "reset" in name else ""
        print(summary(name, samples) + target)

    samples = []
    for _ in range(repeat * 10):
        handle.admin("GET", "/idle")  # a test that used the emulator: the reset runs in full
        began = time.perf_counter()
        fixture_work(handle, body)
        samples.append((time.perf_counter() - began) * 1000)
    print(summary("fixture per test on this file database", samples))
    per_test_as_the_fixture(repeat, body)
    connection.close()
    handle.close()
    thread.stop()


def fixture_work(handle: MeshesServer, body: dict[str, object]) -> None:
    """What the meshes_server fixture does around every test."""
    if getattr(handle, "door", None) is not None:  # one typed call on the loop, errors in place
        handle.reset(seed=0, clock="manual", start=None, fixtures=())
    else:  # a checkout from before the typed door
        handle.admin("POST", "/reset", body)
        handle.refresh_credentials()
    handle.check()


def per_test_as_the_fixture(repeat: int, body: dict[str, object]) -> None:
    """The fixture's per-test work on the emulator it starts (`running()`: in-memory database)."""
    import meshes_emulator

    if not hasattr(meshes_emulator, "running"):
        return
    with meshes_emulator.running() as handle:
        untouched, touched = [], []
        for _ in range(repeat * 10):
            began = time.perf_counter()
            fixture_work(handle, body)  # nothing happened since the last reset: skipped
            untouched.append((time.perf_counter() - began) * 1000)
            handle.idle()  # a request (a test that used the emulator): the next reset runs
            began = time.perf_counter()
            fixture_work(handle, body)
            touched.append((time.perf_counter() - began) * 1000)
    print(summary("fixture per test: reset + credentials + error check", touched))
    print(summary("    the same after a test that did not use the emulator", untouched))


SUITE = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_one({fixture}n):
    assert n >= 0
"""

# Times every test's whole protocol (setup, call, teardown, report) and the first test's setup,
# inside the pytest process; written as JSON where FIXTURE_BENCH_OUT says.
TIMING_CONFTEST = """
import json, os, time
import pytest

durations, setups = [], []
began_session = time.perf_counter()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    began = time.perf_counter()
    try:
        return (yield)
    finally:
        durations.append(time.perf_counter() - began)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    began = time.perf_counter()
    try:
        return (yield)
    finally:
        setups.append(time.perf_counter() - began)


def pytest_sessionfinish(session):
    with open(os.environ["FIXTURE_BENCH_OUT"], "w") as out:
        json.dump({"tests": durations, "setups": setups}, out)
"""

VARIANTS = {"none": "", "httpserver": "httpserver, ", "meshes_server": "meshes_server, "}


def suite(directory: str, count: int, repeat: int) -> None:
    """Each variant's suite in its own pytest process, interleaved round by round: per-test
    cost (median of tests 2..N), the first test's setup, and the whole run's wall time."""
    root = Path(directory) / "suite"
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "conftest.py").write_text(TIMING_CONFTEST)
    for name, fixture in VARIANTS.items():
        (root / f"test_{name}.py").write_text(textwrap.dedent(SUITE.format(count=count,
                                                                          fixture=fixture)))

    def run(name: str) -> tuple[float, float, float]:
        out = root / f"{name}.json"
        began = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 f"test_{name}.py"], cwd=root, capture_output=True, text=True,
                                check=False, env={**cold_env(directory), "FIXTURE_BENCH_OUT": str(out)})
        elapsed = time.perf_counter() - began
        if result.returncode != 0 or f"{count} passed" not in result.stdout:
            raise SystemExit(f"suite failed:\n{result.stdout}\n{result.stderr}")
        timing = json.loads(out.read_text())
        return median(timing["tests"][1:]) * 1000, timing["setups"][0] * 1000, elapsed

    per_test: dict[str, list[float]] = {name: [] for name in VARIANTS}
    first: dict[str, list[float]] = {name: [] for name in VARIANTS}
    wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for name in VARIANTS:  # fills the bytecode cache, as an installation does
        run(name)
    for _ in range(repeat):
        for name in VARIANTS:
            test_ms, first_ms, elapsed = run(name)
            per_test[name].append(test_ms)
            first[name].append(first_ms)
            wall[name].append(elapsed)
    for name in VARIANTS:
        print(summary(f"pytest, one of {count} tests, {name}", per_test[name]))
    print(ratio_line("per test: meshes_server / httpserver", median(per_test["meshes_server"]),
                     median(per_test["httpserver"]), "<= 1.5 (moonshot 1.0)"))
    rounds = [m / h for m, h in zip(per_test["meshes_server"], per_test["httpserver"], strict=True)]
    print(f"    the same, round by round (adjacent processes): "
          f"{', '.join(f'{r:.2f}' for r in rounds)}; median {median(rounds):.2f}")
    for name in ("httpserver", "meshes_server"):
        target = "   target <= 150 ms" if name == "meshes_server" else ""
        print(summary(f"first test's setup, {name}", first[name]) + target)
    for name in VARIANTS:
        print(summary(f"pytest, {count} tests, {name}: whole run", wall[name], "s"))
    overhead = median(wall["meshes_server"]) - median(wall["none"])
    print(f"    overhead of meshes_server {overhead:.2f} s ({overhead / count * 1000:.2f} ms a test,"
          f" session start included)   target <= 2 s")


def installed(directory: str, count: int, runs: int) -> None:
    """The first test's wait as a user meets it: the wheel built from this checkout, installed
    with pytest and pytest-httpserver in a fresh virtual environment (no other plugin), the
    500-test file run with a bytecode cache (the normal case) and without one
    (PYTHONDONTWRITEBYTECODE, a read-only site-packages, many container images)."""
    root = Path(directory) / "installed"
    venv, dist, suite_dir = root / "venv", root / "dist", root / "suite"
    suite_dir.mkdir(parents=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist),
                    str(Path(__file__).resolve().parents[1])], check=True, capture_output=True)
    [wheel] = dist.glob("*.whl")
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel), "pytest",
                    "pytest-httpserver"], check=True, capture_output=True)
    (suite_dir / "pytest.ini").write_text("[pytest]\n")
    (suite_dir / "conftest.py").write_text(TIMING_CONFTEST)
    (suite_dir / "test_meshes.py").write_text(textwrap.dedent(SUITE.format(
        count=count, fixture="meshes_server, ")))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    cached = {**base, "PYTHONPYCACHEPREFIX": str(root / "pycache")}
    uncached = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
    first: dict[str, list[float]] = {"bytecode cache": [], "no bytecode written": []}

    def run(env: dict[str, str]) -> float:
        out = suite_dir / "timing.json"
        result = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 "test_meshes.py"], cwd=suite_dir, capture_output=True,
                                text=True, check=False, env={**env, "FIXTURE_BENCH_OUT": str(out)})
        if f"{count} passed" not in result.stdout:
            raise SystemExit(f"installed suite failed:\n{result.stdout}\n{result.stderr}")
        return float(json.loads(out.read_text())["setups"][0] * 1000)

    run(cached)  # fills the cache
    for _ in range(runs):
        first["bytecode cache"].append(run(cached))
        first["no bytecode written"].append(run(uncached))
    for name, samples in first.items():
        print(summary(f"first test's setup, installed wheel, {name}", samples)
              + "   target <= 150 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--suite", type=int, default=500)
    parser.add_argument("--suite-runs", type=int, default=5)
    parser.add_argument("--skip-suite", action="store_true")
    parser.add_argument("--installed", type=int, default=5,
                        help="runs of the suite against the installed wheel (0: skip)")
    args = parser.parse_args()
    header("fixture: start, stop, reset, suite overhead", repeat=args.repeat)
    with tempfile.TemporaryDirectory() as directory:
        warm(directory, args.repeat)
        cold(directory, args.cold)
        resets(directory, args.repeat)
        if not args.skip_suite:
            suite(directory, args.suite, args.suite_runs)
            if args.installed:
                installed(directory, args.suite, args.installed)


if __name__ == "__main__":
    main()
