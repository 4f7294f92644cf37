"""The fixtures: one emulator per test session (per xdist worker), reset before each test."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_meshes.handle import MeshesServer


@dataclass(frozen=True)
class MeshesOptions:
    """Per-test options, from the `meshes` marker over the ini/command-line values."""

    seed: int = 0
    clock: str = "manual"
    start: str | None = None
    fixtures: tuple[str, ...] = ()
    snapshot: str | None = None  # restore this snapshot instead of resetting
    # inferred checks refuse instead of warning (docs/behaviour.md); None: the server's mode
    strict: bool | None = None


def _ini(config: pytest.Config, name: str) -> Any:
    option = config.getoption("--" + name.replace("_", "-"), None)
    return option if option not in (None, [], "") else config.getini(name)


def _path(root: Path, path: str) -> str:
    """A seed file path relative to the rootdir, or a bundled seed file's name (`demo`)."""
    from meshes_emulator.services.fixtures import bundled

    if os.path.isabs(path) or bundled(path) is not None:
        return path
    return str(root / path)


def session_options(config: pytest.Config) -> MeshesOptions:
    seed = _ini(config, "meshes_seed")
    clock = _ini(config, "meshes_clock") or "manual"
    fixtures = _ini(config, "meshes_fixture") or []
    if isinstance(fixtures, str):
        fixtures = [fixtures]
    root = config.rootpath
    return MeshesOptions(seed=int(seed or 0), clock=str(clock),
                         fixtures=tuple(_path(root, path) for path in fixtures),
                         strict=_flag(config.getini("meshes_strict")))


def _flag(value: Any) -> bool | None:
    """An ini boolean (true/yes/on/1 or false/no/off/0, any case); None when not set."""
    text = str(value).strip().lower()
    if not text:
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise pytest.UsageError(f"meshes_strict: expected true or false, got {value!r}")


def test_options(request: pytest.FixtureRequest) -> MeshesOptions:
    base = session_options(request.config)
    marker = request.node.get_closest_marker("meshes")
    if marker is None:
        return base
    fixture = marker.kwargs.get("fixture")
    fixtures = base.fixtures
    if fixture is not None:
        items = [fixture] if isinstance(fixture, str) else list(fixture)
        root = request.config.rootpath
        fixtures = tuple(_path(root, p) for p in items)
    return MeshesOptions(
        seed=int(marker.kwargs.get("seed", base.seed)),
        clock=str(marker.kwargs.get("clock", base.clock)),
        start=marker.kwargs.get("start", base.start),
        fixtures=fixtures,
        snapshot=marker.kwargs.get("snapshot"),
        strict=marker.kwargs.get("strict", base.strict),
    )


def _log_level(config: pytest.Config) -> None:
    """The emulator's request and delivery records reach pytest's log capture (and live logs)
    at `meshes_log_level`, unless the `meshes_emulator` logger already has a level."""
    logger = logging.getLogger("meshes_emulator")
    if logger.level == logging.NOTSET:
        logger.setLevel(str(config.getini("meshes_log_level")).upper())


def wipes_attached_server(config: pytest.Config) -> bool:
    """With --meshes-url, reset that server before every test only when asked to."""
    return bool(config.getoption("--meshes-reset", None) or config.getini("meshes_reset"))


@pytest.fixture(scope="session")
def meshes_server_process(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MeshesServer]:
    """Start the emulator once per session (or attach to --meshes-url)."""
    url = request.config.getoption("--meshes-url", None) or request.config.getini("meshes_url")
    if url:
        handle = MeshesServer(url)
        yield handle
        handle.close()
        return
    from meshes_emulator import Settings, create_app
    from pytest_meshes.server import ServerThread

    _log_level(request.config)
    options = session_options(request.config)
    db_path = str(tmp_path_factory.mktemp("meshes") / "meshes.db")
    # reset may load seed files under the test rootdir (markers, ini) and pytest's temporary
    # directory (tmp_path); a `serve` given with --meshes-url needs --fixture-dir for them
    fixture_dirs = (str(request.config.rootpath), str(tmp_path_factory.getbasetemp()))
    settings = Settings(db_path=db_path, seed=options.seed, clock=options.clock,
                        fixtures=options.fixtures, fixture_dirs=fixture_dirs,
                        strict=bool(options.strict))
    app = create_app(settings)
    thread = ServerThread(app)
    thread.start()
    app.state.emulator.base_url = thread.url
    handle = MeshesServer(thread.url, app=app, local=thread.request)
    try:
        yield handle
    finally:
        handle.close()
        thread.stop()


@pytest.fixture
def meshes_server(
    request: pytest.FixtureRequest, meshes_server_process: MeshesServer
) -> Iterator[MeshesServer]:
    """A clean emulator for this test: state reset first; server-side errors fail the test.

    With --meshes-url (a server this fixture did not start) nothing is reset unless
    --meshes-reset / `meshes_reset = true` asks for it."""
    handle = meshes_server_process
    options = test_options(request)
    earlier = 0
    if handle.app is None and not wipes_attached_server(request.config):
        earlier = len(handle.server_errors())
        handle.refresh_credentials()
    elif options.snapshot is not None:  # the marker's snapshot instead of a reset
        handle.restore_snapshot(options.snapshot)
    else:
        handle.admin("POST", "/reset", {"seed": options.seed, "clock": options.clock,
                                        "start": options.start,
                                        "fixtures": list(options.fixtures),
                                        "strict": options.strict})  # null: serve's mode
        handle.refresh_credentials()
    yield handle
    handle.check(since=earlier)
