"""MeshesServer: what a test gets from `meshes_server`: URLs, credentials and helpers."""

from __future__ import annotations

import json as json_module
import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from meshes_emulator.clock import isoformat, parse_instant
from meshes_emulator.embedded import Credentials, ResetOptions
from meshes_emulator.exposure import ADMIN_TOKEN_ENV
from pytest_meshes.tokens import mint_token as mint_token  # where it was before
from pytest_meshes.toolkit import Toolkit

if TYPE_CHECKING:
    import httpx

    from meshes_emulator.context import Emulator
    from meshes_emulator.embedded import Door


# A way to send one request to an emulator running in this process without a socket:
# (method, path, body, headers) -> (status, body). See meshes_emulator/embedded.py ServerThread.request.
LocalRequest = Callable[[str, str, bytes, dict[str, str]], tuple[int, bytes]]


class ServerSideError(AssertionError):
    """The emulator raised unexpected exceptions while the test ran; the first one is chained
    (`raise ... from`) when the emulator runs in this process, so its traceback is reported."""


class MeshesServer(Toolkit):
    """A running emulator: base URL, the default organization's credentials, and helpers
    (faults, virtual time and delivery assertions come from `Toolkit`, toolkit.py).

    `door`: when the emulator runs in this process (`meshes_emulator.running`, the pytest
    fixture), resets, credentials and the error check are typed calls on the server's loop and
    admin calls go straight to the app (same routes and answers, no HTTP round trip);
    `emulator` is then the running `Emulator` itself.
    """

    def __init__(self, url: str, app: Any = None, admin_token: str | None = None,
                 local: LocalRequest | None = None, door: Door | None = None) -> None:
        self.url = url.rstrip("/")
        self.api_url = self.url + "/api/v1"
        self._app = app
        self.door = door
        self._emulator: Emulator | None = door.emulator if door is not None else (
            app.state.emulator if app is not None else None)
        self.local = local if local is not None or door is None else door.thread.request
        # An exposed emulator (serve --host 0.0.0.0) wants its admin token on /_emulator/*.
        token = admin_token or os.environ.get(ADMIN_TOKEN_ENV)
        self._admin_headers = {"X-Meshes-Emulator-Token": token} if token else {}
        self._admin_client: httpx.Client | None = None
        self.refresh_credentials()

    @property
    def emulator(self) -> Emulator | None:
        """The running `Emulator` itself (in this process; else None). Whoever reaches in may
        change anything: the next reset then runs in full."""
        if self.door is not None:
            self.door.touched = True
        return self._emulator

    @property
    def app(self) -> Any:
        """The ASGI app when the emulator runs in this process (else None); see `emulator`."""
        if self.door is not None:
            self.door.touched = True
        return self._app

    @property
    def in_process(self) -> bool:
        """Whether the emulator runs in this process (the fixture resets it itself)."""
        return self._app is not None or self.door is not None

    @property
    def _admin(self) -> httpx.Client:
        """The HTTP client for admin calls, built on first use (in-process calls need none)."""
        if self._admin_client is None:
            from pytest_meshes.clients import http_client

            self._admin_client = http_client(base_url=self.url, timeout=30, headers=self._admin_headers)
        return self._admin_client

    # -- credentials ----------------------------------------------------------------------
    def refresh_credentials(self) -> None:
        """Read the default organization's credentials from the running emulator."""
        if self.door is not None:
            self._use(self.door.credentials())
            return
        data = self.admin("GET", "/credentials")
        org = data["organizations"][0]
        key = org["machine_keys"][0]
        workspace = org["workspaces"][0] if org["workspaces"] else {}
        self._use(Credentials(org["org_id"], key["access_key"], key["secret_key"],
                              workspace.get("id"), workspace.get("publishable_key")))

    def _use(self, credentials: Credentials) -> None:
        self.org_id: str = credentials.org_id
        self.access_key: str = credentials.access_key
        self.secret_key: str = credentials.secret_key
        self.workspace_id: str | None = credentials.workspace_id
        self.publishable_key: str | None = credentials.publishable_key

    def _after_restore(self) -> None:
        self.refresh_credentials()

    @property
    def env(self) -> dict[str, str]:
        """MESHES_* variables for subprocesses and non-Python clients (the ones `meshes-emulator
        exec` sets)."""
        env = {"MESHES_API_URL": self.url, "MESHES_EVENTS_URL": self.url,
               "MESHES_EMULATOR_URL": self.url, "MESHES_ORG_ID": self.org_id,
               "MESHES_ACCESS_KEY": self.access_key, "MESHES_SECRET_KEY": self.secret_key}
        if self.publishable_key:
            env["MESHES_PUBLISHABLE_KEY"] = self.publishable_key
            env["WORKSPACE_PUBLISHABLE_KEY"] = self.publishable_key
        if self.workspace_id:
            env["MESHES_WORKSPACE_ID"] = self.workspace_id
        return env

    def token(self, *, lifetime: int = 30, headers: dict[str, Any] | None = None,
              secret: str | None = None, **claims: Any) -> str:
        """A fresh machine JWT; override claims/headers/secret for negative tests."""
        return mint_token(self.access_key, self.secret_key, self.org_id, lifetime=lifetime,
                          headers=headers, secret=secret, **claims)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on /api/v1 that signs every request with a fresh JWT."""
        from pytest_meshes.clients import MachineAuth, http_client

        kwargs.setdefault("timeout", 30)
        return http_client(base_url=self.api_url,
                           auth=MachineAuth(self.access_key, self.secret_key, self.org_id), **kwargs)

    def ingest_client(self, publishable_key: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client on /api/v1 that sends a workspace publishable key."""
        key = publishable_key or self.publishable_key or ""
        from pytest_meshes.clients import http_client

        kwargs.setdefault("timeout", 30)
        return http_client(base_url=self.api_url, headers={"X-Meshes-Publishable-Key": key},
                           **kwargs)

    # -- helpers --------------------------------------------------------------------------
    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call the admin API (/_emulator/...) and return the decoded JSON; raise on errors.
        `path` is under /_emulator: "/health" ("health" is read the same way)."""
        path = path if path.startswith("/") else "/" + path
        if self.local is not None:
            body = b"" if json is None else json_module.dumps(json).encode()
            headers = {**self._admin_headers, "content-type": "application/json"} if body else \
                self._admin_headers
            status, content = self.local(method, "/_emulator" + path, body, headers)
            text = content.decode("utf-8", "replace")
        else:
            response = self._admin.request(method, "/_emulator" + path, json=json)
            status, content, text = response.status_code, response.content, response.text
        if status >= 400:
            raise AssertionError(f"{method} /_emulator{path} -> {status}: {text}")
        return json_module.loads(content) if content else None

    def reset(self, *, seed: int | None = None, start: str | datetime | None = None,
              fixtures: list[str] | tuple[str, ...] | None = None, clock: str | None = None,
              strict: bool | None = None) -> None:
        """Back to the bootstrap state (seed, manual clock start, seed files, clock mode, strict
        mode: None keeps it), with the credentials after it: in-process one typed call, else one
        admin call and one read."""
        if self.door is not None:
            instant = parse_instant(start) if isinstance(start, str) else start
            options = ResetOptions(seed=seed, clock=clock, start=instant,
                                   fixtures=None if fixtures is None else tuple(fixtures),
                                   strict=strict)
            self._use(self.door.reset(options))
            return
        body: dict[str, Any] = {}
        if strict is not None:
            body["strict"] = strict
        if seed is not None:
            body["seed"] = seed
        if start is not None:
            body["start"] = start if isinstance(start, str) else isoformat(start)
        if fixtures is not None:
            body["fixtures"] = list(fixtures)
        if clock is not None:
            body["clock"] = clock
        self.admin("POST", "/reset", body)
        self.refresh_credentials()

    def create_workspace(self, name: str, description: str | None = None) -> tuple[str, str]:
        """Create a workspace in the default organization; returns (id, publishable key)."""
        with self.client() as client:
            body: dict[str, Any] = {"name": name}
            if description is not None:
                body["description"] = description
            created = client.post("/workspaces", json=body)
            created.raise_for_status()
            workspace_id = created.json()["workspace"]["id"]
            detail = client.get(f"/workspaces/{workspace_id}").json()
        return workspace_id, detail["publishable_key"]["public_key"]

    def create_org(self, name: str | None = None) -> dict[str, Any]:
        """Mint another organization with its machine key and a workspace."""
        result: dict[str, Any] = self.admin("POST", "/orgs", {"name": name} if name else {})
        return result

    def server_errors(self) -> list[dict[str, Any]]:
        """Unexpected exceptions the server raised since the last reset (method, path, error,
        traceback)."""
        if self.door is not None:
            return [{"method": e.method, "path": e.path, "error": e.error,
                     "traceback": e.traceback} for e in self.door.errors()]
        result: list[dict[str, Any]] = self.admin("GET", "/errors")
        return result

    def check(self, since: int = 0) -> None:
        """Fail when the emulator raised an unexpected exception during the test (the errors
        after the first `since` ones: a server that is not reset keeps older ones): the message
        lists them with the server's traceback; in-process, the first exception is chained."""
        __tracebackhide__ = True
        captured = self.door.errors()[since:] if self.door is not None else None
        if captured == []:
            return
        errors = self.server_errors()[since:] if captured is None else [
            {"method": e.method, "path": e.path, "error": e.error, "traceback": e.traceback}
            for e in captured]
        if not errors:
            return
        lines = ["the meshes emulator raised server-side errors:"]
        for error in errors:
            lines.append(f"{error['method']} {error['path']}: {error['error']}")
            if error.get("traceback"):
                lines.append("  server traceback:\n    "
                             + error["traceback"].rstrip().replace("\n", "\n    "))
        cause = captured[0].exception if captured else None
        raise ServerSideError("\n".join(lines)) from cause

    def close(self) -> None:
        if self._admin_client is not None:
            self._admin_client.close()

    def __repr__(self) -> str:
        return f"<MeshesServer {self.url} org={self.org_id}>"
