"""pytest11 entry point `meshes`: options, ini keys, the `meshes` marker and the fixtures.

Disable with `-p no:meshes`. Nothing heavy is imported here: the emulator loads, in a
background thread, once collection finds a test that asks for `meshes_server`.
"""

from __future__ import annotations

import pytest

from pytest_meshes.rewrite import emulator_unrewritten

emulator_unrewritten()  # before anything imports meshes_emulator (pytest_meshes/rewrite.py)

from pytest_meshes.fixtures import (  # noqa: E402
    meshes_server,
    meshes_server_process,
    meshes_settings,
    start_early,
    stop_early,
    wipes_attached_server,
)
from pytest_meshes.webhooks import meshes_webhook_receiver  # noqa: E402

__all__ = ["meshes_server", "meshes_server_process", "meshes_settings", "meshes_webhook_receiver"]

_USERS = ("meshes_server", "meshes_server_process")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meshes", "Meshes emulator")
    group.addoption("--meshes-url", default=None,
                    help="use a running `meshes-emulator serve` instead of starting one")
    group.addoption("--meshes-reset", action="store_true", default=None,
                    help="with --meshes-url: reset (wipe) that server before every test, as the "
                    "fixture does with the emulator it starts")
    group.addoption("--meshes-seed", default=None, help="seed for ids and randomness")
    group.addoption("--meshes-clock", default=None, choices=["manual", "system"],
                    help="emulator clock for each test (default: manual)")
    parser.addini("meshes_url", "URL of a running emulator to use", default="")
    parser.addini("meshes_reset", "with meshes_url: reset (wipe) that server before every test",
                  type="bool", default=False)
    parser.addini("meshes_seed", "seed for ids and randomness", default="0")
    parser.addini("meshes_clock", "manual (default) or system", default="manual")
    parser.addini("meshes_strict", "true: inferred checks refuse (400) instead of warning",
                  default="")
    parser.addini("meshes_fixture", "seed files loaded at every reset", type="linelist",
                  default=[])
    parser.addini("meshes_log_level", "level of the emulator's log records (logger "
                  "meshes_emulator) sent to pytest's log capture: debug, info (default), "
                  "warning, error", default="info")


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say, once, what the fixture does to a server it did not start."""
    url = config.getoption("--meshes-url", None) or config.getini("meshes_url")
    if not url:
        return None
    if wipes_attached_server(config):
        return f"meshes: using {url}, reset (wiped) before every test (--meshes-reset)"
    return (f"meshes: using {url}, left as it is: not reset between tests "
            "(--meshes-reset or meshes_reset = true to wipe it before every test)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "meshes(fixture=None, seed=0, clock='manual', start=None, snapshot=None, strict=None): "
        "per-test emulator options (snapshot: restore that snapshot instead of resetting)",
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    """The first collected test that needs the emulator starts it, in the background (each
    xdist worker collects, so each starts its own), unless a conftest overrides
    `meshes_settings` (its value is known only when the fixture runs)."""
    names = getattr(item, "fixturenames", ())
    if any(name in names for name in _USERS) and not _settings_overridden(item):
        start_early(item.config)


def _settings_overridden(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    definitions = getattr(info, "name2fixturedefs", {}).get("meshes_settings", ())
    if not definitions:
        return False
    function = getattr(definitions[-1], "func", None)
    return getattr(function, "__module__", "pytest_meshes.fixtures") != "pytest_meshes.fixtures"


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_early(config)
