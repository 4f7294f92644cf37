"""`serve --fault` (compact and JSON) in a real subprocess, and the compact parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from meshes_emulator.cli import main
from meshes_emulator.engine.fault_specs import FaultSpecError, parse_cli
from tests.helpers import serve


def test_compact_specs() -> None:
    assert parse_cli("integration_type=hubspot,status=503,first=2") == [
        {"kind": "delivery", "integration_type": "hubspot", "status": 503, "first": 2}]
    assert parse_cli("api:method=POST|PUT,path=/events,status=429,retry_after=2.5,times=3") == [
        {"kind": "api", "method": ["POST", "PUT"], "path": "/events", "status": 429,
         "retry_after": 2.5, "times": 3}]
    assert parse_cli("outcome=timeout,attempts=1|3,connection=HubSpot") == [
        {"kind": "delivery", "outcome": "timeout", "attempts": [1, 3], "connection": "HubSpot"}]
    assert parse_cli("outcome=timeout,attempts=2")[0]["attempts"] == [2]
    assert parse_cli("outcome=auth_failed,deactivate=true,probability=0.25")[0]["deactivate"] is True
    assert parse_cli('[{"outcome": "timeout"}, {"kind": "api", "status": 503}]')[1]["kind"] == "api"


@pytest.mark.parametrize("text", ["status", "status=200", "outcome=nope", "{bad json", '{"first": 1}',
                                  "kind=api,status=503,outcome=timeout"])
def test_bad_compact_specs(text: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_cli(text)


def test_bad_flag_stops_the_start_up() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--fault", "outcome=sometimes"])
    assert result.exit_code == 2
    assert "--fault" in result.output and "outcome" in result.output


def _faults(info: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = httpx.get(info["base_url"] + "/_emulator/faults").json()["records"]
    return records


def test_serve_with_faults(tmp_path: Path) -> None:
    api_fault = json.dumps({"kind": "api", "method": "POST", "path": "/events", "status": 503,
                            "times": 1})
    args = ("--db", str(tmp_path / "f.db"), "--clock", "manual",
            "--fault", "integration_type=hubspot,status=503,first=2", "--fault", api_fault)
    with serve(*args) as info:
        faults = _faults(info)
        assert [(f["id"], f["source"], f["kind"]) for f in faults] == [
            ("fault_1", "cli", "delivery"), ("fault_2", "cli", "api")]
        event = {"event": "x", "payload": {"n": 1}}
        key = info["workspaces"][0]["publishable_key"]
        headers = {"X-Meshes-Publishable-Key": key}
        url = info["api_url"] + "/events"
        assert httpx.post(url, json=event, headers=headers).status_code == 503
        assert httpx.post(url, json=event, headers=headers).status_code == 201
        # Reset keeps the --fault faults (with fresh counters), like --fixture files.
        httpx.post(info["base_url"] + "/_emulator/reset", json={})
        assert [(f["id"], f["hits"]) for f in _faults(info)] == [("fault_1", 0), ("fault_2", 0)]
        assert httpx.post(url, json=event, headers=headers).status_code == 503
    # A restart on the same database replaces the cli faults instead of adding them again.
    with serve("--db", str(tmp_path / "f.db"), "--clock", "manual", "--fault", "outcome=timeout") as info:
        assert [(f["source"], f["outcome"]) for f in _faults(info)] == [("cli", "timeout")]
