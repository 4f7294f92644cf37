"""`meshes-emulator exec [serve options] -- COMMAND`, as CI runs it: the real process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ENV_KEYS

NODE_CLIENT = Path(__file__).resolve().parents[1] / "clients" / "meshes_node_client.mjs"
PRINT_ENV = ("import json, os, urllib.request; "
             "clock = urllib.request.urlopen(os.environ['MESHES_EMULATOR_URL'] + '/_emulator/clock').read(); "
             "print(json.dumps({'env': {k: v for k, v in os.environ.items() "
             "if 'MESHES' in k or 'PUBLISHABLE' in k}, "
             "'clock': json.loads(clock)}))")


def exec_(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS and not k.startswith("MESHES_")}
    return subprocess.run([sys.executable, "-m", "meshes_emulator", "exec", *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
                          check=False)


def refused(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


def test_a_shell_command_gets_the_variables_and_its_exit_code(tmp_path: Path) -> None:
    script = f'{sys.executable} -c "$PRINT_ENV"; exit 7'
    result = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "exec", "--clock", "manual", "--seed", "3",
         "--", "sh", "-c", script],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("MESHES_")},
             "PRINT_ENV": PRINT_ENV},
    )
    assert result.returncode == 7, result.stderr
    out = json.loads(result.stdout)
    env = out["env"]
    assert out["clock"] == {"mode": "manual", "now": "2026-01-01T00:00:00.000Z"}
    assert env["MESHES_API_URL"] == env["MESHES_EVENTS_URL"] == env["MESHES_EMULATOR_URL"]
    assert env["MESHES_API_URL"].startswith("http://127.0.0.1:")
    assert env["MESHES_ORG_ID"] == "7d3b5a1e-2c4f-4e8a-9b6d-1f2e3d4c5b6a"
    assert env["MESHES_ACCESS_KEY"].startswith("mk_") and len(env["MESHES_SECRET_KEY"]) >= 43
    assert env["MESHES_PUBLISHABLE_KEY"] == env["WORKSPACE_PUBLISHABLE_KEY"]
    assert env["MESHES_WORKSPACE_ID"] == "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
    assert refused(env["MESHES_API_URL"])  # the emulator is gone
    assert list(tmp_path.iterdir()) == []  # :memory: unless --db is given
    assert "emulator on http://127.0.0.1:" in result.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_client_runs_against_it() -> None:
    result = exec_("--", "node", str(NODE_CLIENT), "events")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["single"]["status"] == 201 and out["bulk"]["data"]["count"] == 2


def test_serve_options_reach_the_emulator(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    check = "import os, sys, urllib.request; u = os.environ['MESHES_EMULATOR_URL']; " \
            "sys.exit(0 if b'manual' in urllib.request.urlopen(u + '/_emulator/clock').read() else 5)"
    result = exec_("--db", str(db), "--clock", "manual", "--", sys.executable, "-c", check)
    assert result.returncode == 0, result.stderr
    assert db.exists()


def test_errors(tmp_path: Path) -> None:
    bad_option = exec_("--no-such-option", "--", "true")
    assert bad_option.returncode == 2 and "No such option" in bad_option.stderr
    missing = exec_("--seed", "2")
    assert missing.returncode == 2 and "give the command to run after --" in missing.stderr
    not_found = exec_("--", str(tmp_path / "no-such-program"))
    assert not_found.returncode == 127 and "cannot run" in not_found.stderr
    killed = exec_("--", "sh", "-c", "kill -TERM $$")
    assert killed.returncode == 128 + 15
    helped = exec_("--help")
    assert helped.returncode == 0 and "COMMAND" in helped.stdout
