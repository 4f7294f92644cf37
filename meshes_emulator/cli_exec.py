"""`meshes-emulator exec [serve options] -- COMMAND ...`: run a command against a fresh emulator.

The emulator is the real `serve` (every serve option works, including `--export-on-exit`),
started as a child process on a free port with `--json` and, unless `--db` says otherwise,
`:memory:`; COMMAND runs with the MESHES_* variables the official clients read; when it exits the
emulator is stopped (SIGINT, a clean shutdown) and `exec` exits with COMMAND's code (128 + N when
a signal N ended it, 127 when it cannot be started). The emulator's own output after its start-up
line goes to stderr, so COMMAND's stdout is its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any

from meshes_emulator.exposure import ADMIN_TOKEN_ENV

STOP_TIMEOUT = 15.0  # seconds for the emulator to stop (an export on exit included)


def client_env(info: dict[str, Any]) -> dict[str, str]:
    """The MESHES_* variables for the emulator described by serve's `--json` start-up line."""
    env = {"MESHES_API_URL": info["base_url"], "MESHES_EVENTS_URL": info["base_url"],
           "MESHES_EMULATOR_URL": info["base_url"], "MESHES_ORG_ID": info["org_id"],
           "MESHES_ACCESS_KEY": info["access_key"], "MESHES_SECRET_KEY": info["secret_key"]}
    workspaces = info.get("workspaces") or []
    if workspaces:
        env["MESHES_WORKSPACE_ID"] = workspaces[0]["id"]
        env["MESHES_PUBLISHABLE_KEY"] = workspaces[0]["publishable_key"]
        env["WORKSPACE_PUBLISHABLE_KEY"] = workspaces[0]["publishable_key"]
    if info.get("admin_token"):
        env[ADMIN_TOKEN_ENV] = info["admin_token"]
    return env


def run(serve_args: Sequence[str], command: Sequence[str]) -> int:
    """Start the emulator, run `command`, stop the emulator; returns the exit code for `exec`.

    The database is `:memory:` unless the serve options name one (`--db FILE`).
    """
    signals = _Signals()
    signals.install()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", ":memory:",
         *serve_args, "--json"],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    info = None
    code = 2
    try:
        info = _started(emulator)
        if info is None:
            code = emulator.wait() or 2  # serve said why on stderr
        else:
            _forward(emulator.stdout, sys.stderr)
            print(f"meshes-emulator exec: emulator on {info['base_url']}", file=sys.stderr,
                  flush=True)
            code = _run_command(command, {**os.environ, **client_env(info)}, signals)
    except _Interrupted as exc:  # before COMMAND ran: stop the emulator, exit as the signal says
        print(f"meshes-emulator exec: stopped by signal {exc.signum}", file=sys.stderr)
        code = 128 + exc.signum
    finally:
        signals.restore()
        stopped = _stop(emulator)
        if info is not None and stopped not in (0, -signal.SIGINT):
            print(f"meshes-emulator exec: the emulator stopped with code {stopped}",
                  file=sys.stderr)
            if code == 0:  # COMMAND passed but the emulator failed (its export on exit...)
                code = 2
    return code


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """SIGTERM and SIGHUP sent to `exec` (a CI timeout, `docker stop`, a closed terminal) reach
    COMMAND while it runs, which then ends its own way, and the emulator is stopped after it;
    before COMMAND runs they stop the emulator. (Without this `exec` died alone and left both
    running.) Ctrl-C reaches the whole process group already, so SIGINT is not passed on."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None:
                self.previous[signum] = signal.signal(signum, self.handle)

    def handle(self, signum: int, frame: Any) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)
            return
        if self.child is None:
            raise _Interrupted(signum)

    def restore(self) -> None:
        for signum, previous in self.previous.items():
            signal.signal(signum, previous)
        self.previous.clear()


def _started(emulator: subprocess.Popen[str]) -> dict[str, Any] | None:
    """serve's start-up line (None when it did not start)."""
    assert emulator.stdout is not None
    line = emulator.stdout.readline()
    if not line:
        return None
    info: dict[str, Any] = json.loads(line)
    return info


def _forward(source: IO[str] | None, target: IO[str]) -> None:
    """Copy the emulator's later output to `target` (a full pipe would block the emulator)."""
    if source is None:
        return

    def copy() -> None:
        for line in source:
            target.write(line)
            target.flush()

    threading.Thread(target=copy, name="meshes-exec-output", daemon=True).start()


def _run_command(command: Sequence[str], env: dict[str, str], signals: _Signals) -> int:
    try:
        child = signals.child = subprocess.Popen(list(command), env=env)
    except OSError as exc:
        print(f"meshes-emulator exec: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:  # Ctrl-C reached both: let the command finish its own way
            continue
    return 128 - code if code < 0 else code


def _stop(emulator: subprocess.Popen[str]) -> int | None:
    if emulator.poll() is None:
        emulator.send_signal(signal.SIGINT)
        try:
            return emulator.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            emulator.kill()
    return emulator.wait()
