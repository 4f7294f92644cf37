"""`serve --strict` and the warning log line, as a user runs the real process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import clean_env, serve

BODY = {"event": "user.signup", "payload": {"id": 123, "phone": 5551234, "name": None}}


def _post(info: dict[str, Any]) -> httpx.Response:
    key = info["workspaces"][0]["publishable_key"]
    return httpx.post(info["api_url"] + "/events", json=BODY,
                      headers={"X-Meshes-Publishable-Key": key})


def test_serve_strict_refuses_inferred_problems(tmp_path: Path) -> None:
    with serve("--db", str(tmp_path / "s.db"), "--strict") as info:
        response = _post(info)
        assert response.status_code == 400
        params = sorted(d["param"] for d in response.json()["error"]["data"])
        assert params == ["payload.id", "payload.name", "payload.phone"]
        listing = httpx.get(info["base_url"] + "/_emulator/warnings").json()
        assert listing == {"strict": True, "count": 0, "records": []}


def test_serve_warns_in_header_list_and_log(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--json",
         "--db", str(tmp_path / "w.db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            info = json.loads(process.stdout.readline())
            response = _post(info)
            assert response.status_code == 201
            assert len(response.headers.get_list("X-Meshes-Emulator-Warning")) == 3
            listing = httpx.get(info["base_url"] + "/_emulator/warnings").json()
            assert listing["count"] == 3 and listing["strict"] is False
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
        log = process.stderr.read()
    assert "meshes-emulator warning: payload.id: must be a string" in log
