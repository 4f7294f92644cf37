"""The fixtures: one emulator per test session (per xdist worker), reset before each test.

The emulator starts in the background as soon as collection finds a test that needs it
(`start_early`, called by the plugin), so the first test usually finds it ready.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from meshes_emulator.testing import Running
    from pytest_meshes.handle import MeshesServer


@dataclass(frozen=True)
class MeshesOptions:
    """Per-test options, from the `meshes` marker over the session's values."""

    seed: int = 0
    clock: str = "manual"
    start: str | None = None
    fixtures: tuple[str, ...] = ()
    snapshot: str | None = None  # restore this snapshot instead of resetting
    # inferred checks refuse instead of warning (docs/behaviour.md); None: the server's mode
    strict: bool | None = None


_SESSION_OPTIONS = pytest.StashKey[MeshesOptions]()
_TEST_DEFAULTS = pytest.StashKey[MeshesOptions]()
_EARLY = pytest.StashKey["tuple[dict[str, Any], Running]"]()


def _ini(config: pytest.Config, name: str) -> Any:
    option = config.getoption("--" + name.replace("_", "-"), None)
    return option if option not in (None, [], "") else config.getini(name)


def _path(root: Path, path: str) -> str:
    """A seed file path relative to the rootdir, or a bundled seed file's name (`demo`)."""
    from meshes_emulator.services.fixtures import bundled

    if os.path.isabs(path) or bundled(path) is not None:
        return path
    return str(root / path)


def _paths(config: pytest.Config, items: list[str]) -> tuple[str, ...]:
    return tuple(_path(config.rootpath, path) for path in items)


def session_options(config: pytest.Config) -> MeshesOptions:
    """The ini/command-line options, read once per session."""
    if _SESSION_OPTIONS not in config.stash:
        seed = _ini(config, "meshes_seed")
        clock = _ini(config, "meshes_clock") or "manual"
        fixtures = _ini(config, "meshes_fixture") or []
        if isinstance(fixtures, str):
            fixtures = [fixtures]
        config.stash[_SESSION_OPTIONS] = MeshesOptions(
            seed=int(seed or 0), clock=str(clock), fixtures=_paths(config, fixtures),
            strict=_flag(config.getini("meshes_strict")))
    return config.stash[_SESSION_OPTIONS]


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
    base = request.config.stash.get(_TEST_DEFAULTS, None) or session_options(request.config)
    marker = request.node.get_closest_marker("meshes")
    if marker is None:
        return base
    fixture = marker.kwargs.get("fixture")
    fixtures = base.fixtures
    if fixture is not None:
        fixtures = _paths(request.config, [fixture] if isinstance(fixture, str) else list(fixture))
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


def remote_url(config: pytest.Config) -> str:
    """--meshes-url / meshes_url: a running emulator to use instead of starting one."""
    return str(config.getoption("--meshes-url", None) or config.getini("meshes_url") or "")


def default_settings(config: pytest.Config) -> dict[str, Any]:
    """What `meshes_settings` gives unless a conftest overrides it. `reset` may load seed files
    under the test rootdir (markers, ini) and pytest's temporary directory (tmp_path); a `serve`
    given with --meshes-url needs --fixture-dir for them."""
    options = session_options(config)
    directories = [str(config.rootpath)]
    factory: pytest.TempPathFactory | None = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        directories.append(str(factory.getbasetemp()))
    return {"seed": options.seed, "clock": options.clock, "fixtures": list(options.fixtures),
            "fixture_dirs": tuple(directories), "strict": bool(options.strict)}


def start_early(config: pytest.Config) -> None:
    """Start the session's emulator in a background thread with the default settings (once)."""
    if _EARLY in config.stash or remote_url(config) or config.option.collectonly:
        return
    from meshes_emulator.testing import Running

    settings = default_settings(config)
    runner = Running(**settings)
    runner.start_in_background()
    config.stash[_EARLY] = (settings, runner)


def stop_early(config: pytest.Config) -> None:
    """Stop an emulator started early (a no-op once the session fixture stopped it)."""
    early = config.stash.get(_EARLY, None)
    if early is not None:
        early[1].stop()


def _runner(config: pytest.Config, settings: dict[str, Any]) -> Running:
    """The early-started emulator when it has these settings, else a new one (the early one,
    started for nothing, is stopped)."""
    from meshes_emulator.testing import Running, settings_for_tests

    early = config.stash.get(_EARLY, None)
    if early is not None:
        if settings_for_tests(**early[0]) == settings_for_tests(**settings):
            return early[1]
        early[1].stop()
    return Running(**settings)


@pytest.fixture(scope="session")
def meshes_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """`Settings` fields for the session's emulator (seed, clock, fixtures from the ini and
    command line). Override it in a conftest.py to change any of them:

        @pytest.fixture(scope="session")
        def meshes_settings(meshes_settings):
            return {**meshes_settings, "retry_delays": (1, 5)}
    """
    return default_settings(request.config)


@pytest.fixture(scope="session")
def meshes_server_process(request: pytest.FixtureRequest,
                          meshes_settings: dict[str, Any]) -> Iterator[MeshesServer]:
    """Start the emulator once per session (or attach to --meshes-url)."""
    config = request.config
    url = remote_url(config)
    if url:
        from pytest_meshes.handle import MeshesServer

        handle = MeshesServer(url)
        yield handle
        handle.close()
        return
    _log_level(config)
    runner = _runner(config, meshes_settings)
    handle = runner.wait()
    settings = runner.settings
    config.stash[_TEST_DEFAULTS] = MeshesOptions(
        seed=settings.seed, clock=settings.clock, fixtures=settings.fixtures,
        strict=settings.strict)
    try:
        yield handle
    finally:
        runner.stop()


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
    if not handle.in_process and not wipes_attached_server(request.config):
        earlier = len(handle.server_errors())
        handle.refresh_credentials()
    elif options.snapshot is not None:  # the marker's snapshot instead of a reset
        handle.restore_snapshot(options.snapshot)
    else:
        if handle.door is None:  # --meshes-url: null is the server's own mode
            handle.admin("POST", "/reset", {"seed": options.seed, "clock": options.clock,
                                            "start": options.start,
                                            "fixtures": list(options.fixtures),
                                            "strict": options.strict})
            handle.refresh_credentials()
        else:
            handle.reset(seed=options.seed, clock=options.clock, start=options.start,
                         fixtures=options.fixtures,
                         strict=handle.door.emulator.settings.strict if options.strict is None
                         else options.strict)
    yield handle
    handle.check(since=earlier)
