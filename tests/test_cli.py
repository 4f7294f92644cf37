"""`meshes-emulator serve`, as a user runs it: a real subprocess on port 0."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import httpx
from click.testing import CliRunner

from meshes_emulator.cli import main
from meshes_emulator.defaults import DEFAULT_ACCESS_KEY
from tests.helpers import clean_env, machine_client, serve


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--fixture", "--seed", "--json", "--clock",
                   "--retry-delays"):
        assert option in result.output


def test_serve_prints_credentials_and_answers(tmp_path: Path) -> None:
    with serve("--db", str(tmp_path / "a.db")) as info:
        assert info["base_url"].startswith("http://127.0.0.1:")
        assert info["workspaces"][0]["publishable_key"].startswith("mesh_pub_")
        with machine_client(info) as client:
            assert client.get("/workspaces").status_code == 200
        assert httpx.get(info["base_url"] + "/_emulator/health").json() == {"status": "ok"}


def test_human_banner_has_export_block(tmp_path: Path) -> None:
    text = _human_banner(str(tmp_path / "b.db"), clean_env())
    for name in ("MESHES_API_URL", "MESHES_ORG_ID", "MESHES_ACCESS_KEY", "MESHES_SECRET_KEY",
                 "MESHES_PUBLISHABLE_KEY"):
        assert f"export {name}=" in text


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "keep.db")
    with serve("--db", db) as info, machine_client(info) as client:
        created = client.post("/workspaces", json={"name": "Persistent"}).json()["workspace"]
    with serve("--db", db) as info, machine_client(info) as client:
        assert client.get(f"/workspaces/{created['id']}").json()["name"] == "Persistent"


def test_credentials_come_from_the_environment(tmp_path: Path) -> None:
    env = clean_env(MESHES_ORG_ID="123e4567-e89b-42d3-a456-426614174000",
               MESHES_ACCESS_KEY="mk_fromTheEnvironment00000000",
               MESHES_SECRET_KEY="s" * 44)
    with serve("--db", str(tmp_path / "env.db"), env=env) as info:
        assert info["org_id"] == env["MESHES_ORG_ID"]
        assert info["access_key"] == env["MESHES_ACCESS_KEY"]
        with machine_client(info) as client:
            assert client.get("/workspaces").status_code == 200


def test_malformed_env_credentials_fail_clearly(tmp_path: Path) -> None:
    env = clean_env(MESHES_ORG_ID="not-a-uuid")
    result = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db",
         str(tmp_path / "x.db")], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "MESHES_ORG_ID must be a version 1-5 UUID" in result.stderr


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "meshes_emulator", "serve", "--port", str(port), "--db",
             str(tmp_path / "p.db")], capture_output=True, text=True, env=clean_env(), timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "already in use" in result.stderr


def test_unreadable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db",
         str(tmp_path / "missing" / "dir" / "x.db")],
        capture_output=True, text=True, env=clean_env(), timeout=30)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot open database" in result.stderr


def test_memory_database_and_fixture(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("workspaces:\n  - name: Seeded Shop\n    event_types: [order.paid]\n")
    with serve("--db", ":memory:", "--fixture", str(seed)) as info:
        names = [w["name"] for w in info["workspaces"]]
        assert "Seeded Shop" in names
        ws = next(w for w in info["workspaces"] if w["name"] == "Seeded Shop")
        with machine_client(info) as client:
            keys = [e["key"] for e in client.get(f"/workspaces/{ws['id']}/event-types").json()]
        assert keys == ["contact.created", "order.paid"]


def test_fixture_is_loaded_once_per_database(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("workspaces:\n  - name: Only Once\n")
    db = str(tmp_path / "f.db")
    for _ in range(2):
        with serve("--db", db, "--fixture", str(seed)) as info:
            assert [w["name"] for w in info["workspaces"]].count("Only Once") == 1


OTHER_ORG = "123e4567-e89b-42d3-a456-426614174000"
OWN_KEY = {"MESHES_ACCESS_KEY": "mk_fromTheEnvironment00000000", "MESHES_SECRET_KEY": "s" * 44}


def _refused(db: str, **variables: str) -> str:
    """Run serve with these variables, expect a refusal; return its one stderr line."""
    result = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", db],
        capture_output=True, text=True, env=clean_env(**variables), timeout=30)
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr.strip()


def _org_ids(info: dict[str, Any]) -> list[str]:
    return [org["org_id"] for org in info["organizations"]]


def test_another_org_id_on_an_existing_database_is_used(tmp_path: Path) -> None:
    """Issue 15 regression: this crashed in the banner and left an org without a key."""
    db = str(tmp_path / "second.db")
    with serve("--db", db) as first:
        default_org = first["org_id"]
    with serve("--db", db, env=clean_env(MESHES_ORG_ID=OTHER_ORG)) as info, machine_client(info) as client:
        assert info["org_id"] == OTHER_ORG
        assert info["organizations"][0]["org_id"] == OTHER_ORG
        assert info["access_key"] != first["access_key"]  # generated for the new organization
        assert client.get("/workspaces").status_code == 200
    with serve("--db", db) as again, machine_client(again) as client:  # the default org kept its key
        assert (again["org_id"], again["access_key"]) == (default_org, first["access_key"])
        assert client.get("/workspaces").status_code == 200
        assert sorted(_org_ids(again)) == sorted([default_org, OTHER_ORG])


def test_a_new_key_pair_on_an_existing_database_is_added_and_shown(tmp_path: Path) -> None:
    db = str(tmp_path / "keys.db")
    with serve("--db", db) as first:
        pass
    with serve("--db", db, env=clean_env(**OWN_KEY)) as info, machine_client(info) as client:
        assert (info["org_id"], info["access_key"], info["secret_key"]) == (
            first["org_id"], OWN_KEY["MESHES_ACCESS_KEY"], OWN_KEY["MESHES_SECRET_KEY"])
        assert client.get("/workspaces").status_code == 200
    text = _human_banner(db, clean_env(**OWN_KEY))
    assert f"export MESHES_ACCESS_KEY={OWN_KEY['MESHES_ACCESS_KEY']}" in text
    assert f"export MESHES_SECRET_KEY={OWN_KEY['MESHES_SECRET_KEY']}" in text


def test_conflicting_credentials_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    db = str(tmp_path / "conflict.db")
    with serve("--db", db, env=clean_env(**OWN_KEY)) as first:
        pass
    line = _refused(db, MESHES_ORG_ID=OTHER_ORG, **OWN_KEY)
    assert line.startswith("meshes-emulator: MESHES_ACCESS_KEY ") and first["org_id"] in line
    line = _refused(db, MESHES_ACCESS_KEY=OWN_KEY["MESHES_ACCESS_KEY"],
                    MESHES_SECRET_KEY="t" * 44)
    assert "MESHES_SECRET_KEY differs" in line
    assert "MESHES_ACCESS_KEY is needed too" in _refused(db, MESHES_SECRET_KEY="u" * 44)
    assert "MESHES_SECRET_KEY must be at least 43" in _refused(db, MESHES_SECRET_KEY="short")
    with serve("--db", db) as after:
        assert _org_ids(after) == [first["org_id"]]  # the refused org id was not created
        keys = after["organizations"][0]["machine_keys"]
        assert first["access_key"] == OWN_KEY["MESHES_ACCESS_KEY"]
        assert {k["access_key"] for k in keys} == {first["access_key"], after["access_key"]}
        assert after["access_key"] == DEFAULT_ACCESS_KEY  # no variables: the documented default


def _human_banner(db: str, env: dict[str, str]) -> str:
    """The first 17 lines `serve` prints without --json (stopped with SIGINT, exit 0)."""
    with subprocess.Popen(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", db],
        stdout=subprocess.PIPE, text=True, env=env,
    ) as process:
        assert process.stdout is not None
        try:
            lines = [process.stdout.readline() for _ in range(17)]
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
    return "".join(lines)


def test_help_shows_defaults_environment_variables_and_takes_h() -> None:
    top = subprocess.run([sys.executable, "-m", "meshes_emulator", "-h"], capture_output=True,
                         text=True, timeout=30)
    assert top.returncode == 0 and "serve" in top.stdout
    result = subprocess.run([sys.executable, "-m", "meshes_emulator", "serve", "-h"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    text = "".join(result.stdout.split())  # wrapping may break a line anywhere
    for shown in ("envvar:MESHES_EMULATOR_PORT", "default:8787", "envvar:MESHES_EMULATOR_DB",
                  "default:meshes-emulator.db", "envvar:MESHES_EMULATOR_ADMIN_TOKEN",
                  "MESHES_ORG_ID"):
        assert shown in text


def test_every_option_has_an_environment_variable() -> None:
    from meshes_emulator.cli import serve as serve_command

    for param in serve_command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.envvar and str(param.envvar).startswith("MESHES_EMULATOR_"), param.name


def test_options_come_from_the_environment(tmp_path: Path) -> None:
    db = str(tmp_path / "from-env.db")
    with serve(env=clean_env(MESHES_EMULATOR_DB=db, MESHES_EMULATOR_SEED="7",
                        MESHES_EMULATOR_CLOCK="manual")) as info:
        assert (info["db"], info["seed"], info["clock"]) == (db, 7, "manual")


def test_errors_name_the_option_and_the_fix(tmp_path: Path) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", ":memory:",
         "--retry-delays", "soon"], capture_output=True, text=True, env=clean_env(), timeout=30)
    assert bad.returncode == 2 and "--retry-delays" in bad.stderr and "1,2,4" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", ":memory:",
         "--fixture", str(tmp_path / "nope.yaml")],
        capture_output=True, text=True, env=clean_env(), timeout=30)
    assert missing.returncode == 2
    assert missing.stderr.startswith("meshes-emulator: --fixture: cannot read fixture")


def test_exec_help_shows_the_command_after_two_dashes() -> None:
    """`exec -h` and exec's usage errors show how it is called: `exec [SERVE OPTIONS] -- COMMAND`."""
    usage = "Usage: meshes-emulator exec [SERVE OPTIONS] -- COMMAND [ARGS]..."
    for flag in ("-h", "--help"):
        shown = subprocess.run([sys.executable, "-m", "meshes_emulator", "exec", flag],
                               capture_output=True, text=True, timeout=30, env=clean_env())
        assert shown.returncode == 0 and shown.stdout.startswith(usage), shown.stdout
    missing = subprocess.run([sys.executable, "-m", "meshes_emulator", "exec", "--seed", "3"],
                             capture_output=True, text=True, timeout=30, env=clean_env())
    assert missing.returncode == 2 and missing.stderr.startswith(usage), missing.stderr
    top = subprocess.run([sys.executable, "-m", "meshes_emulator", "--help"], capture_output=True,
                         text=True, timeout=30, env=clean_env())
    assert "exec    Run COMMAND against a fresh emulator, then stop it" in top.stdout, top.stdout
