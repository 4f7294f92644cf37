"""Helpers for the reliability suites: real `meshes-emulator serve` subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ENV_KEYS = ("MESHES_ORG_ID", "MESHES_ORGANIZATION_ID", "MESHES_ACCESS_KEY", "MESHES_SECRET_KEY",
            "MESHES_EMULATOR_ADMIN_TOKEN")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without MESHES_* credentials, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(extra)
    return env


def start_serve(*args: str, env: dict[str, str] | None = None,
                stderr: Any = subprocess.PIPE) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start `serve --json ARGS` (port 0 unless given); return the process and its start-up block."""
    command = [sys.executable, "-m", "meshes_emulator", "serve", "--json", *args]
    if "--port" not in args:
        command[5:5] = ["--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True,
                               env=env or clean_env())
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        error = process.stderr.read() if process.stderr not in (None, subprocess.DEVNULL) else ""
        process.wait(timeout=10)
        raise AssertionError(f"serve did not start: {error}")
    return process, json.loads(line)


def local_url(info: dict[str, Any]) -> str:
    """The base URL to reach a server from this machine (0.0.0.0 / :: -> loopback)."""
    url: str = info["base_url"]
    return url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Run `serve --port 0 --json ARGS`; yield the start-up block; stop with SIGINT."""
    process, info = start_serve(*args, env=env)
    try:
        yield info
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait(timeout=10)
        assert process.stderr is not None
        errors = process.stderr.read()
        process.stdout.close() if process.stdout else None
        process.stderr.close()
        assert code == 0, errors
