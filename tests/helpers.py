"""Helpers shared across the test packages (one place, imported by name):

- `serve` and friends: a real `meshes-emulator serve` subprocess on port 0, as a user runs it;
- `run_pytester`: the pytest plugin exercised in a pytester subprocess;
- `Harness` / `run_harness`: an in-process app on httpx's ASGI transport, the test drains;
- `emulator_of`: the running `Emulator` behind the fixture's typed door;
- `EVENT`, `meta`, `send`: one webhook built and sent in-process;
- `walk_pages`: every record of a paginated list, page by page;
- `assert_error`: the one check of the Meshes error body.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from meshes_emulator import Settings, create_app
from meshes_emulator.defaults import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_ORG_ID,
    DEFAULT_PUBLISHABLE_KEY,
    DEFAULT_SECRET_KEY,
    DEFAULT_WORKSPACE_ID,
)
from meshes_emulator.engine import webhook, webhook_client
from meshes_emulator.engine.dispatcher import Dispatcher
from meshes_emulator.engine.outcomes import Outcome
from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from tests.engine.aio import run_async

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from meshes_emulator.context import Emulator

# -- `meshes-emulator serve` subprocesses ----------------------------------------------------------

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
        error = process.stderr.read() if process.stderr is not None else ""
        process.wait(timeout=10)
        raise AssertionError(f"serve did not start: {error}")
    return process, json.loads(line)


def _close_pipes(process: subprocess.Popen[str]) -> None:
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Run `serve --port 0 --json ARGS`; yield the start-up block; stop with SIGINT (exit 0)."""
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
        _close_pipes(process)
        assert code == 0, errors


@contextmanager
def serve_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """Run `serve --port 0 --json ARGS`; yield the process (the test may kill it) and its
    start-up block; kill it at the end if it still runs."""
    process, info = start_serve(*args)
    try:
        yield process, info
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        _close_pipes(process)


def local_url(info: dict[str, Any]) -> str:
    """The base URL to reach a server from this machine (0.0.0.0 / :: -> loopback)."""
    url: str = info["base_url"]
    return url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")


def machine_client(info: dict[str, Any], **kwargs: Any) -> httpx.Client:
    """A machine-JWT client on a `serve` process's /api/v1 (credentials from its start-up block)."""
    auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
    return httpx.Client(base_url=info["api_url"], auth=auth, **kwargs)


# -- answers ---------------------------------------------------------------------------------------

def assert_error(response: httpx.Response, status: int, name: str) -> dict[str, Any]:
    """The one error-shape check (reference §4.1): status, JSON content type,
    {message, error: {name, message, data?: [{param, msg}]}}; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert body["error"]["name"] == name
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    for item in body["error"].get("data", []):
        assert set(item) == {"param", "msg"}
    return body


# -- the pytest plugin in a pytester subprocess ----------------------------------------------------

def run_pytester(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the pytester's test files in a subprocess, as a user runs pytest."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


# -- the fixture's typed door ------------------------------------------------------------------------

def emulator_of(meshes_server: MeshesServer) -> Emulator:
    """The `Emulator` running in this process behind the fixture's door (skip when the fixture
    is attached to an emulator elsewhere, --meshes-url)."""
    if meshes_server.emulator is None:
        pytest.skip("needs the in-process emulator")
    return meshes_server.emulator


# -- an in-process app: httpx's ASGI transport, no background worker unless asked ---------------------

class Harness:
    """An app on the in-process ASGI transport with the default credentials."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient) -> None:
        self.app, self.client = app, client
        self.emulator: Emulator = app.state.emulator
        self.dispatcher: Dispatcher = self.emulator.dispatcher

    async def post(self, path: str, body: Any, publishable: bool = False) -> dict[str, Any]:
        headers = {"X-Meshes-Publishable-Key": DEFAULT_PUBLISHABLE_KEY} if publishable else {}
        auth = httpx.USE_CLIENT_DEFAULT if publishable else self.auth()
        response = await self.client.post("/api/v1" + path, json=body, headers=headers, auth=auth)
        assert response.status_code < 300, response.text
        result: dict[str, Any] = response.json()
        return result

    async def get(self, path: str) -> dict[str, Any]:
        response = await self.client.get("/api/v1" + path, auth=self.auth())
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def auth(self) -> MachineAuth:
        return MachineAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, DEFAULT_ORG_ID)

    async def connection(self, kind: str, name: str, **metadata: Any) -> str:
        from tests.api.connection_helpers import VALID_METADATA  # which imports this module

        body = {"workspace": DEFAULT_WORKSPACE_ID, "type": kind, "name": name,
                "metadata": metadata or VALID_METADATA[kind]}
        return str((await self.post("/connections", body))["connection"]["id"])

    async def rule(self, connection: str, event: str, **metadata: Any) -> str:
        body = {"workspace": DEFAULT_WORKSPACE_ID, "connection": connection, "event": event,
                "metadata": metadata}
        return str((await self.post("/rules", body))["rule"]["id"])

    async def emit(self, event: str, **payload: Any) -> str:
        body = {"event": event, "payload": payload or {"email": "a@b.io"}}
        return str((await self.post("/events", body, publishable=True))["event"]["id"])


def run_harness(test: Callable[[Harness], Awaitable[None]], **settings: Any) -> None:
    """`test` against an in-process app built with these `Settings` fields (no background worker
    unless `background_dispatcher=True`: the test drains); no server-side error may remain."""
    settings.setdefault("background_dispatcher", False)
    app = create_app(Settings(**settings))

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            harness = Harness(app, client)
            try:
                await test(harness)
            finally:
                await harness.dispatcher.stop()

    run_async(main())
    emulator: Emulator = app.state.emulator
    assert emulator.errors == []
    emulator.store.close()


# -- one webhook, built and sent in-process (engine/webhook.py) ------------------------------------

SENT = datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)  # when the webhook is sent
EVENT: dict[str, Any] = {  # the stored event a webhook carries
    "id": "evt-1",
    "event": "user.signup",
    "resource": "contacts",
    "resource_id": "c-1",
    "payload": {"email": "a@example.com", "name": "Ada"},
    "created_at": "2026-01-01T00:00:00.000Z",
}


def meta(**overrides: Any) -> dict[str, Any]:
    """A webhook connection's metadata (a closed local port unless `url` is given)."""
    return {"url": "http://127.0.0.1:9/hook"} | overrides


def send(request: webhook.WebhookRequest, timeout: float = 5.0) -> Outcome:
    """Send one built webhook request on a fresh client; its outcome."""
    async def run() -> Outcome:
        async with webhook_client.WebhookClient(4) as client:
            return await webhook_client.send_webhook(client, request, timeout)

    return run_async(run())


# -- lists ------------------------------------------------------------------------------------------

def walk_pages(client: httpx.Client, path: str, limit: int) -> list[dict[str, Any]]:
    """Every record of the list at `path`, following `next_cursor` `limit` at a time (each page
    holding `count` == its number of records, at most `limit`)."""
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = client.get(path, params=params).json()
        assert page["count"] == len(page["records"]) <= limit
        records += page["records"]
        cursor = page["next_cursor"]
        if cursor is None:
            return records


async def slack_rule_with_events(app: Any, events: int) -> list[str]:
    """On `app` (in process): a Slack connection, a rule on user.signup, and `events` events for
    it (their attempts due); returns the event ids in order."""
    from tests.api.connection_helpers import VALID_METADATA  # (it imports this module)

    transport = httpx.ASGITransport(app=app)
    auth = MachineAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, DEFAULT_ORG_ID)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost/api/v1") as client:
        connection = (await client.post("/connections", auth=auth, json={
            "workspace": DEFAULT_WORKSPACE_ID, "type": "slack", "name": "slack",
            "metadata": VALID_METADATA["slack"]})).json()["connection"]
        rule = await client.post("/rules", auth=auth, json={
            "workspace": DEFAULT_WORKSPACE_ID, "event": "user.signup",
            "connection": connection["id"],
            "metadata": {"action": "send_message", "id": "C1", "template": "Hi"}})
        assert rule.status_code == 201, rule.text
        ids = []
        for n in range(events):
            created = await client.post("/events", headers={
                "X-Meshes-Publishable-Key": DEFAULT_PUBLISHABLE_KEY}, json={
                "event": "user.signup", "payload": {"email": f"user{n}@example.com"}})
            assert created.status_code == 201, created.text
            ids.append(created.json()["event"]["id"])
        return ids
