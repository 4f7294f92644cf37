"""`meshes-emulator exec` as CI meets it: signals sent to exec, failures before and after."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import clean_env

COMMAND = """
import pathlib, signal, sys
def stop(signum, frame):
    pathlib.Path("got.txt").write_text(str(signum))
    sys.exit(3)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGHUP, stop)
pathlib.Path("started.txt").write_text("yes")
signal.pause()
"""


def _exec(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "meshes_emulator", "exec", *args],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=clean_env())


def _emulator_url(process: subprocess.Popen[str]) -> str:
    """The base URL from exec's 'emulator on URL' line (read before COMMAND starts)."""
    assert process.stderr is not None
    for line in process.stderr:
        if "exec: emulator on " in line:
            return line.rsplit(" ", 1)[1].strip()
    raise AssertionError("exec did not start the emulator")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_exec_reaches_the_command_and_stops_the_emulator(
        tmp_path: Path, signum: int) -> None:
    process = _exec(tmp_path, "--", sys.executable, "-c", COMMAND)
    try:
        url = _emulator_url(process)
        started = tmp_path / "started.txt"
        assert httpx.get(f"{url}/_emulator/health").status_code == 200
        deadline = time.monotonic() + 60
        while not started.exists():  # the command writes it once its handler is set
            assert time.monotonic() < deadline and process.poll() is None
            httpx.get(f"{url}/_emulator/health")  # (a concrete wait: a round trip per turn)
        process.send_signal(signum)
        assert process.wait(timeout=30) == 3  # the command's own exit code
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert (tmp_path / "got.txt").read_text() == str(int(signum))
    with pytest.raises(httpx.ConnectError):  # the emulator stopped with exec, not orphaned
        httpx.get(f"{url}/_emulator/health", timeout=5)


def test_export_on_exit_to_a_missing_directory_fails_before_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    process = _exec(tmp_path, "--export-on-exit", str(tmp_path / "no" / "out.yaml"), "--",
                    sys.executable, "-c", f"open({str(marker)!r}, 'w').write('ran')")
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "--export-on-exit" in errors and "Traceback" not in errors
    assert not marker.exists()
