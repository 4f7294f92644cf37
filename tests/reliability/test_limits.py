"""Issue 13: limits that hold for every caller, and the smaller defects of the attack run.

Each test names the defect it pins (docs/reliability.md, "Limits").
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner

from meshes_emulator import Settings, create_app
from meshes_emulator.cli import main
from meshes_emulator.engine import fanout
from meshes_emulator.services.rules import MAX_RULES_PER_EVENT
from meshes_emulator.serving import FastServer, config
from meshes_emulator.settings import DEFAULT_MAX_BODY_BYTES
from meshes_emulator.store import rules as rule_store
from meshes_emulator.store.db import Store
from meshes_emulator.wire_limits import ConnectionLimits
from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from pytest_meshes.server import ServerThread, asgi_request
from pytest_meshes.tokens import mint_token
from tests.helpers import assert_error
from tests.sessions.helpers import connection, emit, rule

SERVER = ("127.0.0.1", 80)


async def _session_token(app: Any) -> str:
    """A workspace session token of the default workspace, minted through the app."""
    _, raw = await asgi_request(app, "GET", "/_emulator/credentials", b"", {}, SERVER)
    org = orjson.loads(raw)["organizations"][0]
    key = org["machine_keys"][0]
    machine = mint_token(key["access_key"], key["secret_key"], org["org_id"])
    body = orjson.dumps({"workspace_id": org["workspaces"][0]["id"]})
    status, raw = await asgi_request(app, "POST", "/api/v1/sessions", body, {
        "authorization": f"Bearer {machine}", "content-type": "application/json"}, SERVER)
    assert status == 200, raw
    token: str = orjson.loads(raw)["access_token"]
    return token


async def _streamed(app: Any, path: str, headers: dict[str, str], chunks: int,
                    size: int) -> tuple[int, int]:
    """POST a chunked body of `chunks` x `size` bytes; returns (status, chunks the app read)."""
    read = 0
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"127.0.0.1:80")] + [
                 (k.encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": SERVER}
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"a" * size, "more_body": read < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status, read


# -- one body reader for every credential kind ----------------------------------------------------


def test_session_token_requests_stop_reading_at_the_body_limit() -> None:
    """Defect: session_scope read the whole body a second time with no limit (Request.body()):
    a 300 MiB chunked body raised RSS by 900 MiB before the handler's 413."""
    app = create_app(Settings())
    size = 1 << 20
    chunks = 4 * DEFAULT_MAX_BODY_BYTES // size  # four times the limit

    async def call() -> list[tuple[int, int]]:
        token = await _session_token(app)
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        return [await _streamed(app, path, headers, chunks, size)
                for path in ("/api/v1/events", "/api/v1/events/bulk")]

    for status, read in asyncio.run(call()):
        assert status == 413
        assert read <= DEFAULT_MAX_BODY_BYTES // size + 1  # stopped just past the limit
    assert app.state.emulator.errors == []


def test_non_ascii_content_length_on_the_session_path_is_not_a_500() -> None:
    """Defect: the session path's own body reader sent Content-Length '²' to int(): a 500."""
    app = create_app(Settings())

    async def call() -> int:
        token = await _session_token(app)
        status, _ = await asgi_request(app, "POST", "/api/v1/events", b"", {
            "authorization": f"Bearer {token}", "content-type": "application/json",
            "content-length": "\u00b2"}, SERVER)
        return status

    assert asyncio.run(call()) in (400, 413)
    assert app.state.emulator.errors == []


def test_deep_event_from_a_session_is_the_400_machine_callers_get() -> None:
    """Defect: the session check re-encoded the body it completed (orjson writes ~254 levels):
    a payload nested 300 deep was a 500 for a session token, a 400 for a machine token."""
    app = create_app(Settings())
    deep = b"[" * 300 + b"]" * 300
    body = b'{"event":"deep","payload":{"k":' + deep + b"}}"

    async def call() -> tuple[int, bytes]:
        token = await _session_token(app)
        return await asgi_request(app, "POST", "/api/v1/events", body, {
            "authorization": f"Bearer {token}", "content-type": "application/json"}, SERVER)

    status, raw = asyncio.run(call())
    assert status == 400
    assert b"nested deeper than 128 levels" in raw
    assert app.state.emulator.errors == []


# -- 405 and Allow ----------------------------------------------------------------------------------


def test_405_lists_the_methods_of_every_route_of_the_path(raw: httpx.Client) -> None:
    """Defect: DELETE /_emulator/clock answered Allow: GET, HEAD (POST /clock is a route too)."""
    response = raw.delete("/_emulator/clock")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "GET, HEAD, POST"
    faults = raw.put("/_emulator/faults")
    assert_error(faults, 405, "MethodNotAllowed")
    assert faults.headers["allow"] == "DELETE, GET, HEAD, POST"


def test_get_events_bulk_is_405_not_404(api: httpx.Client) -> None:
    """Defect: GET /events/bulk fell through to GET /events/{event_id} and answered 404."""
    for method in ("GET", "DELETE", "PUT"):
        response = api.request(method, "/events/bulk")
        assert_error(response, 405, "MethodNotAllowed")
        assert response.headers["allow"] == "OPTIONS, POST"
    assert_error(api.get("/events/not-an-event"), 404, "NotFound")


# -- auth -----------------------------------------------------------------------------------------


def _call(meshes_server: MeshesServer, **claims: Any) -> str:
    token = meshes_server.token(**claims)
    response = httpx.get(meshes_server.api_url + "/workspaces",
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return str(assert_error(response, 401, "Unauthorized")["error"])


def test_future_nbf_is_reported_as_nbf(meshes_server: MeshesServer) -> None:
    """Defect: a future `nbf` was reported as "iat in the future"."""
    now = int(time.time())
    assert "nbf is in the future" in _call(meshes_server, nbf=now + 3600)
    assert "iat is in the future" in _call(meshes_server, iat=now + 3600, exp=now + 3630)


# -- admin bodies follow the admin schema -----------------------------------------------------------


def test_admin_bodies_refuse_null_where_the_schema_says_string(raw: httpx.Client) -> None:
    """Defect: {"name": null} was accepted by POST /_emulator/orgs (schema: string)."""
    assert_error(raw.post("/_emulator/orgs", json={"name": None}), 400, "BadRequest")
    assert_error(raw.post("/_emulator/faults/clear", json={"kind": None}), 400, "BadRequest")
    spec = {"integration_type": "hubspot", "status": 503}
    for name in ("match", "outcome", "kind", "first", "position"):  # not nullable in the schema
        refused = raw.post("/_emulator/faults", json={**spec, name: None})
        assert assert_error(refused, 400, "BadRequest")["error"]["data"][0]["param"] == name
        assert_error(raw.post("/_emulator/faults", json=[{**spec, name: None}]), 400, "BadRequest")
    assert raw.get("/_emulator/faults").json()["count"] == 0
    created = raw.post("/_emulator/orgs", json={"name": "Named", "workspace_name": None})
    assert created.status_code == 201, created.text


def test_admin_bodies_accept_schema_valid_values(raw: httpx.Client) -> None:
    """Defect: schema-valid bodies were refused: an integral 3.0 seed, a lower-case RFC 3339."""
    reset = raw.post("/_emulator/reset", json={"seed": 3.0, "start": "2030-01-01t00:00:00z"})
    assert reset.status_code == 200, reset.text
    assert reset.json()["seed"] == 3
    assert raw.get("/_emulator/clock").json()["now"].startswith("2030-01-01T00:00:00")
    fault = raw.post("/_emulator/faults", json={"integration_type": "hubspot", "status": 503.0,
                                                "first": 2.0})
    assert fault.status_code == 201, fault.text
    assert fault.json()["status"] == 503
    nulls = raw.post("/_emulator/reset",
                     json={"seed": None, "start": None, "clock": None, "fixtures": None})
    assert nulls.status_code == 200, nulls.text


# -- on-disk state ----------------------------------------------------------------------------------


def _serve_once(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", str(db)],
        capture_output=True, text=True, timeout=60)


def _newer(db: Path, sql: str) -> None:
    Store(str(db)).close()  # a database of this version
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(sql)


def test_a_database_of_a_newer_schema_is_refused_at_start(tmp_path: Path) -> None:
    """Defect: a newer schema was migrated as if it were ours, then ingest answered 500."""
    cases = {
        "migration": "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('meshes_emulator', 'm999_from_the_future', '2030-01-01')",
        "user_version": "PRAGMA user_version = 7",
    }
    for name, sql in cases.items():
        db = tmp_path / f"{name}.db"
        _newer(db, sql)
        result = _serve_once(db)
        assert result.returncode == 2, result
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert "newer meshes-emulator" in result.stderr
        assert ("m999_from_the_future" if name == "migration" else "user_version 7") in result.stderr


def test_a_full_disk_answers_507_and_recovers(tmp_path: Path) -> None:
    """Defect: "database or disk is full" answered a generic 500 OperationalError."""
    app = create_app(Settings(db_path=str(tmp_path / "full.db")))
    store = app.state.emulator.store
    thread = ServerThread(app)
    thread.start()
    try:
        with httpx.Client(base_url=thread.url, timeout=30) as client:
            credentials = client.get("/_emulator/credentials").json()["organizations"][0]
            key = credentials["workspaces"][0]["publishable_key"]
            client.headers["X-Meshes-Publishable-Key"] = key

            def emit(n: int) -> httpx.Response:
                return client.post("/api/v1/events", json={"event": "disk.test",
                                                           "payload": {"n": n, "pad": "x" * 2000}})

            assert emit(0).status_code == 201
            with store.lock:
                pages = store.conn.execute("PRAGMA page_count").fetchone()
                store.conn.execute(f"PRAGMA max_page_count = {next(iter(pages.values()))}")
            answers = [emit(n) for n in range(1, 200)]
            full = [a for a in answers if a.status_code == 507]
            assert full, [a.status_code for a in answers]
            assert {a.status_code for a in answers} <= {201, 507}
            body = assert_error(full[0], 507, "InsufficientStorage")
            assert "disk is full" in str(body)
            with store.lock:
                store.conn.execute("PRAGMA max_page_count = 1073741823")
            assert emit(1000).status_code == 201
            acknowledged = 2 + sum(a.status_code == 201 for a in answers)
        assert store.one("SELECT count(*) AS n FROM events") == {"n": acknowledged}
        assert app.state.emulator.errors == []
    finally:
        thread.stop()


# -- wire limits: header size, header timeout, connection cap -------------------------------------


@contextmanager
def limited_server(**limits: Any) -> Iterator[int]:
    """A server with these wire limits on a free port (yields the port)."""
    server = FastServer(config(create_app(Settings()), port=0, timeout_graceful_shutdown=1,
                               limits=ConnectionLimits(**limits)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    server.ready.wait(20)
    try:
        yield server.port
    finally:
        server.request_stop()
        thread.join(10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _send(sock: socket.socket, data: bytes) -> None:
    with suppress(BrokenPipeError, ConnectionResetError):  # the server may close first
        sock.sendall(data)


def _health(port: int) -> bytes:
    with _connect(port) as sock:
        _send(sock, b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return _answer(sock)


def test_request_heads_past_the_limit_answer_431() -> None:
    """Defect: no header-size limit (a 128 MiB header took 35 s to parse, stalling others)."""
    with limited_server(max_header_bytes=16_384) as port:
        with _connect(port) as sock:
            _send(sock, b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
            for _ in range(64):  # 4 MiB offered; the server stops reading past the limit
                _send(sock, b"a" * 65536)
            answer = _answer(sock)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431 "), answer[:200]
        error = orjson.loads(body)["error"]
        assert error["name"] == "RequestHeaderFieldsTooLarge" and "16384 bytes" in error["message"]
        # a head under the limit, and a body far bigger than it, still pass
        with _connect(port) as sock:
            _send(sock, b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  b"X-Fine: " + b"b" * 8000 + b"\r\n\r\n")
            assert _answer(sock).startswith(b"HTTP/1.1 200 ")
        body = b'{"name": "' + b"n" * 200_000 + b'"}'
        with _connect(port) as sock:
            _send(sock, b"POST /_emulator/orgs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  b"Content-Type: application/json\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
            assert _answer(sock).startswith(b"HTTP/1.1 201 ")


def test_connections_without_a_complete_head_are_closed() -> None:
    """Defect: no header timeout (1,300 silent connections still open after 60 s)."""
    with limited_server(header_timeout=0.2) as port:
        with _connect(port) as silent, _connect(port) as slow:
            _send(slow, b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            assert _answer(silent) == b""  # closed by the server (recv waits for it, 30 s cap)
            assert _answer(slow) == b""
        assert _health(port).startswith(b"HTTP/1.1 200 ")


def test_connections_past_the_cap_answer_503() -> None:
    """Defect: 1,100 idle connections exhausted a 1,024 fd limit and locked every client out."""
    with limited_server(max_connections=3, header_timeout=60) as port:
        idle = [_connect(port) for _ in range(3)]
        for sock in idle:  # all three accepted and held by the server
            _send(sock, b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        refused = _health(port)
        head, _, body = refused.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 "), refused[:200]
        assert orjson.loads(body)["error"]["name"] == "ServiceUnavailable"
        for sock in idle:
            sock.close()
        answers = [_health(port) for _ in range(200)]  # the server notices the closes
        assert any(a.startswith(b"HTTP/1.1 200 ") for a in answers)


def test_serve_help_documents_the_connection_cap() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "--max-connections" in result.output


# -- bounded caches and the fan-out cap ----------------------------------------------------------


def test_caches_keep_a_bounded_number_of_event_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect: the rules, fan-out and catalog caches kept an entry per distinct event name
    (RSS +59 MiB per 100k names). They are LRUs: bounded, and a name in use stays cached."""
    monkeypatch.setattr(rule_store, "CACHE_ENTRIES", 50)
    app = create_app(Settings())
    store = app.state.emulator.store

    async def call() -> None:
        _, raw = await asgi_request(app, "GET", "/_emulator/credentials", b"", {}, SERVER)
        workspace = orjson.loads(raw)["organizations"][0]["workspaces"][0]
        headers = {"x-meshes-publishable-key": workspace["publishable_key"],
                   "content-type": "application/json"}
        for batch in range(4):
            events = [{"event": f"name.{batch}.{n}", "payload": {"n": n}} for n in range(99)]
            events.append({"event": "hot.name", "payload": {"n": batch}})
            status, raw = await asgi_request(app, "POST", "/api/v1/events/bulk",
                                             orjson.dumps(events), headers, SERVER)
            assert status in (201, 207), raw
        hot = (workspace["id"], "hot.name")
        for name in (rule_store.RULES_CACHE, fanout.TEMPLATES_CACHE):
            assert len(store.cache[name]) <= 50, name
            assert hot in store.cache[name], name  # used in every batch: never evicted
        assert len(store.cache[rule_store.CATALOG_CACHE]) <= 50

    asyncio.run(call())
    assert app.state.emulator.errors == []


def test_rules_per_event_name_are_capped(api: httpx.Client, meshes_server: MeshesServer) -> None:
    """Defect: no cap on rules matched by one event (10k rules: a bulk of 100 events blocked the
    loop 29 s). At most MAX_RULES_PER_EVENT active rules per workspace and event name."""
    ws = meshes_server.workspace_id or ""
    hubspot = connection(api, ws)
    rules = [rule(api, ws, hubspot["id"], "busy.event", {"action": "add_to_list", "id": str(n)})
             for n in range(MAX_RULES_PER_EVENT)]
    extra = {"workspace": ws, "connection": hubspot["id"], "event": "busy.event",
             "metadata": {"action": "add_to_list", "id": "one-too-many"}}
    refused = api.post("/rules", json=extra)
    body = assert_error(refused, 400, "BadRequest")
    assert body["error"]["data"][0]["param"] == "event"
    assert api.post("/rules", json={**extra, "event": "quiet.event"}).status_code == 201
    assert api.delete(f"/rules/{rules[0]['id']}").status_code == 200
    assert api.post("/rules", json=extra).status_code == 201


def test_a_full_disk_during_deliveries_answers_507_and_deliveries_resume(tmp_path: Path) -> None:
    """Defect: a delivery run that hit a full disk answered 500 "cannot commit - no transaction
    is active" (SQLite had rolled back; a caught inner error hid it) and was captured as a bug."""
    app = create_app(Settings(db_path=str(tmp_path / "full.db"), clock="manual"))
    store = app.state.emulator.store
    thread = ServerThread(app)
    thread.start()
    try:
        with httpx.Client(base_url=thread.url, timeout=30) as admin:
            org = admin.get("/_emulator/credentials").json()["organizations"][0]
            key, ws = org["machine_keys"][0], org["workspaces"][0]["id"]
            auth = MachineAuth(key["access_key"], key["secret_key"], org["org_id"])
            with httpx.Client(base_url=thread.url + "/api/v1", auth=auth, timeout=30) as api:
                hubspot = connection(api, ws)
                rule(api, ws, hubspot["id"], "disk.event")
                fault = {"integration_type": "hubspot", "status": 503, "first": 1}
                assert admin.post("/_emulator/faults", json=fault).status_code == 201
                ids = [emit(api, ws, "disk.event")["id"] for _ in range(5)]
                admin.post("/_emulator/settle")  # first attempts failed: retries are due later
                with store.lock:
                    pages = next(iter(store.conn.execute("PRAGMA page_count").fetchone().values()))
                    store.conn.execute(f"PRAGMA max_page_count = {pages}")
                full = admin.post("/_emulator/clock/advance", json={"seconds": 3600})
                assert_error(full, 507, "InsufficientStorage")
                with store.lock:
                    store.conn.execute("PRAGMA max_page_count = 1073741823")
                assert admin.post("/_emulator/settle").status_code == 200
                assert {api.get(f"/events/{i}").json()["status"] for i in ids} == {"completed"}
        assert app.state.emulator.errors == []
    finally:
        thread.stop()
