"""`serve` logs one line per request to stderr (`--log-level`, `--quiet`, `--log-format`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import httpx

from pytest_meshes.clients import MachineAuth
from tests.helpers import clean_env


def _serve_and_call(*args: str) -> tuple[dict[str, Any], list[str]]:
    """Start serve, send a good and a refused request, stop; the banner and stderr lines."""
    with subprocess.Popen(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--json", "--db",
         ":memory:", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_env(),
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            info = json.loads(process.stdout.readline())
            auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
            with httpx.Client(base_url=info["api_url"], auth=auth) as client:
                assert client.get("/workspaces").status_code == 200
            assert httpx.get(info["api_url"] + "/workspaces").status_code == 401
            assert httpx.get(info["base_url"] + "/_emulator/health").status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
        return info, process.stderr.read().splitlines()


def test_one_line_per_request_without_secrets() -> None:
    info, lines = _serve_and_call()
    ok = [line for line in lines if "GET /api/v1/workspaces 200 " in line]
    assert len(ok) == 1 and f"machine='{info['access_key']}'" in ok[0]
    assert f"org={info['org_id']}" in ok[0]
    refused = [line for line in lines if "GET /api/v1/workspaces 401 " in line]
    assert len(refused) == 1 and "anonymous" in refused[0]
    assert not [line for line in lines if "/_emulator/health" in line]  # admin: debug only
    assert info["secret_key"] not in "\n".join(lines)


def test_json_format_and_debug_level() -> None:
    _, lines = _serve_and_call("--log-format", "json", "--log-level", "debug")
    records = [json.loads(line) for line in lines]
    paths = [(r["method"], r["path"], r["status"]) for r in records if "path" in r]
    assert ("GET", "/api/v1/workspaces", 200) in paths
    assert ("GET", "/_emulator/health", 200) in paths
    refused = next(r for r in records if r.get("status") == 401)
    assert refused["error"] and refused["principal"] is None and refused["level"] == "info"


def test_quiet_prints_no_request_lines() -> None:
    _, lines = _serve_and_call("--quiet")
    assert not [line for line in lines if "/api/v1/" in line]


def test_an_unread_stderr_never_blocks_the_server() -> None:
    """A harness that pipes stderr and never reads it (a full pipe) still gets answers."""
    with subprocess.Popen(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--json", "--db",
         ":memory:"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    ) as process:
        assert process.stdout is not None
        try:
            info = json.loads(process.stdout.readline())
            with httpx.Client(base_url=info["api_url"], timeout=10) as client:
                for _ in range(1500):  # ~150 KB of log lines: well over a pipe's 64 KB
                    assert client.get("/workspaces").status_code == 401
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0


def test_the_background_writer_is_flushed_before_exit() -> None:
    """The exit flush (`configure` registers it with atexit): the lines handed to the writer
    thread are all written before the process ends, however busy the machine is."""
    import logging
    import os

    from meshes_emulator.logs import BackgroundHandler

    read, write = os.pipe()
    try:
        handler = BackgroundHandler(logging.Formatter("%(message)s"), write)
        for n in range(500):
            handler.emit(logging.LogRecord("t", logging.INFO, __file__, 1, f"line {n}", None, None))
        handler.flush()  # what atexit calls
        assert handler.queue.unfinished_tasks == 0
        os.set_blocking(read, False)
        data = b""
        while chunk := _read_some(read):
            data += chunk
        assert data.decode().splitlines() == [f"line {n}" for n in range(500)]
    finally:
        os.close(read)
        os.close(write)


def _read_some(fd: int) -> bytes:
    import os

    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


EXIT_FLUSH_SCRIPT = """
import logging, threading
from meshes_emulator import logs, serving

exiting = threading.Event()  # set by the script's last line
released = threading.Event()  # the writer writes nothing until a flush at exit asks for it
write, flush = logs.BackgroundHandler._write, logs.BackgroundHandler.flush
logs.BackgroundHandler._write = lambda self, data: released.wait() and write(self, data)
def flush_at_exit(self):
    if exiting.is_set():
        released.set()
    flush(self)
logs.BackgroundHandler.flush = flush_at_exit
logs.configure("info", "text")
serving.config(None)  # uvicorn's Config runs logging.config.dictConfig, as `serve` does
logging.getLogger("meshes_emulator.access").info("the last line before exit")
exiting.set()
"""


def test_the_last_lines_are_flushed_at_exit_after_uvicorn_configures_logging() -> None:
    """uvicorn's dictConfig closes the handlers it finds and drops them from the list that
    logging.shutdown flushes at exit: the handler is still flushed at exit, whatever the writer
    thread's progress (a loaded machine lost the last access-log line)."""
    done = subprocess.run([sys.executable, "-c", EXIT_FLUSH_SCRIPT], capture_output=True, text=True,
                          env=clean_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "the last line before exit" in done.stderr
