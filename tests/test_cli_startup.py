"""`serve` start-up failures as a developer meets them: one line, exit 2, the file untouched."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import clean_env, machine_client, serve, serve_process


def _refused(*args: str) -> str:
    """Run `serve --port 0 ARGS`, expect exit 2 with one line on stderr; return that line."""
    command = [sys.executable, "-m", "meshes_emulator", "serve", *args]
    if "--port" not in args:
        command += ["--port", "0"]
    result = subprocess.run(command, capture_output=True, text=True, env=clean_env(), timeout=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


def _made_database(path: Path) -> bytes:
    """An emulator database written by a real serve, stopped cleanly; its bytes."""
    with serve("--db", str(path)):
        pass
    return path.read_bytes()


def test_a_port_out_of_range_is_refused_without_a_traceback(tmp_path: Path) -> None:
    error = _refused("--port", "99999", "--db", str(tmp_path / "x.db"))
    assert "'--port'" in error and "0<=x<=65535" in error


def test_an_address_not_of_this_machine_is_one_line(tmp_path: Path) -> None:
    error = _refused("--host", "192.0.2.1", "--db", str(tmp_path / "x.db"))  # TEST-NET-1
    assert error.count("\n") == 0
    assert "cannot listen on 192.0.2.1:0" in error and "--host" in error


def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("my notes, not a database\n" * 100)
    before = db.read_bytes()
    error = _refused("--db", str(db))
    assert error.count("\n") == 0 and "is not a SQLite database" in error
    assert db.read_bytes() == before


def test_another_programs_sqlite_database_is_refused_and_kept(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT)")
        conn.execute("INSERT INTO todo (title) VALUES ('keep me')")
    conn.close()
    before = db.read_bytes()
    error = _refused("--db", str(db))
    assert error.count("\n") == 0
    assert "of another program (tables: todo)" in error and "--db" in error
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists()


def test_a_damaged_database_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    db = tmp_path / "damaged.db"
    image = bytearray(_made_database(db))
    page_size = int.from_bytes(image[16:18], "big")
    image[2 * page_size:2 * page_size + 64] = b"\xa5" * 64  # page 3's b-tree header
    db.write_bytes(bytes(image))
    error = _refused("--db", str(db))
    assert error.count("\n") == 0
    assert "it is damaged" in error and "nothing was written" in error
    assert db.read_bytes() == bytes(image)


def test_a_second_serve_on_the_same_file_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    with serve_process("--db", db) as (first, info):
        error = _refused("--db", db)
        assert error.count("\n") == 0
        assert "in use by another meshes-emulator" in error and "--db" in error
        with machine_client(info) as client:  # the first one goes on undisturbed
            assert client.get("/workspaces").status_code == 200
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=30) == 0
    with serve("--db", db) as info:  # once it stopped, the file is free again
        assert info["db"] == db


def test_a_clean_stop_leaves_the_database_in_one_file(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    with serve("--db", str(db)) as info, machine_client(info) as client:
        created = client.post("/workspaces", json={"name": "Kept In The File"})
        assert created.status_code == 201
    assert not Path(f"{db}-wal").exists()
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())  # `cp` of the file alone carries everything
    with sqlite3.connect(copy) as conn:
        names = [name for (name,) in conn.execute("SELECT name FROM workspaces")]
    conn.close()
    assert "Kept In The File" in names


def test_export_refuses_another_programs_database_and_keeps_it(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT)")
    conn.close()
    before = db.read_bytes()
    result = subprocess.run([sys.executable, "-m", "meshes_emulator", "export", "--db", str(db)],
                            capture_output=True, text=True, env=clean_env(), timeout=30)
    assert result.returncode == 2 and result.stdout == ""
    assert "of another program (tables: todo)" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert db.read_bytes() == before


def test_export_on_exit_to_a_missing_directory_is_refused_at_start_up(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "state.yaml"
    error = _refused("--db", ":memory:", "--export-on-exit", str(target))
    assert error.count("\n") == 0
    assert "--export-on-exit" in error and "does not exist" in error


def test_a_manual_clock_restarted_on_a_file_goes_on_after_its_data(tmp_path: Path) -> None:
    db = str(tmp_path / "manual.db")
    with serve("--db", db, "--clock", "manual") as info:
        base = info["base_url"]
        assert httpx.post(f"{base}/_emulator/clock/advance", json={"seconds": 86400}).is_success
        key = {"X-Meshes-Publishable-Key": info["workspaces"][0]["publishable_key"]}
        first = httpx.post(info["api_url"] + "/events", headers=key,
                           json={"event": "a.b", "payload": {"n": 1}}).json()["event"]
    with serve("--db", db, "--clock", "manual") as info:
        now = httpx.get(f"{info['base_url']}/_emulator/clock").json()["now"]
        assert now == "2026-01-02T00:00:00.001Z"  # was back at 2026-01-01T00:00:00.000Z
        second = httpx.post(info["api_url"] + "/events", headers=key,
                            json={"event": "a.b", "payload": {"n": 2}}).json()["event"]
        with machine_client(info) as api:
            listed = [e["id"] for e in api.get("/events").json()["records"]]
    assert first["created_at"] < second["created_at"]
    assert listed.index(second["id"]) < listed.index(first["id"])  # newest first, as it was made


def test_an_empty_db_and_a_missing_fixture_dir_are_refused(tmp_path: Path) -> None:
    for args, expected in ((("--db", ""), "--db"),
                           (("--db", ":memory:", "--fixture-dir", str(tmp_path / "nope")),
                            "--fixture-dir")):
        result = subprocess.run([sys.executable, "-m", "meshes_emulator", "serve", "--port", "0",
                                 *args], capture_output=True, text=True, env=clean_env(),
                                timeout=30)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr and "Traceback" not in result.stderr


def test_a_database_in_a_missing_directory_or_a_directory_is_one_line(tmp_path: Path) -> None:
    missing = _refused("--db", str(tmp_path / "no" / "x.db"))
    assert missing.count("\n") == 0 and "does not exist" in missing
    directory = _refused("--db", str(tmp_path))
    assert directory.count("\n") == 0 and "is a directory" in directory


def test_a_read_only_database_is_one_line_and_not_called_damaged(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    _made_database(db)
    before = db.read_bytes()
    db.chmod(0o444)  # (root may still write: the check asks access(2), as SQLite's open would)
    try:
        if os.access(db, os.W_OK):
            pytest.skip("this user writes read-only files (root)")
        error = _refused("--db", str(db))
    finally:
        db.chmod(0o644)
    assert error.count("\n") == 0 and "read-only" in error and "damaged" not in error
    assert db.read_bytes() == before


def test_a_seed_or_export_yaml_cannot_parse_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: meshes-emulator-export/1\norganizations: [{bad\n")
    for option in ("--import", "--fixture"):
        error = _refused("--db", ":memory:", option, str(bad))
        assert error.count("\n") == 0, error
        assert "bad.yaml" in error and "line 2, column 17" in error
