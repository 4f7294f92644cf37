"""Fresh databases from the schema template, resets by copy, the fast server, the indexed router."""

from __future__ import annotations

import http.client
import socket
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Match, Mount, Router

from meshes_emulator import Settings, create_app
from meshes_emulator.routes import all_routes
from meshes_emulator.routing import IndexedRouter
from meshes_emulator.services import admin
from meshes_emulator.store import db as store_db
from meshes_emulator.store import schema
from meshes_emulator.store.db import Store
from meshes_emulator.store.migrations import migrations
from meshes_emulator.store.schema import TABLES_IN_DELETE_ORDER
from pytest_meshes.server import ServerThread


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    cursor = conn.cursor()
    cursor.row_factory = None
    return sorted(cursor.execute("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE "
                                 "'sqlite_autoindex%'").fetchall())


def test_schema_sql_is_what_the_migrations_build() -> None:
    """schema.sql (fresh databases start from it) is the dump of every migration; after adding
    a migration, scripts/write-schema rewrites it."""
    assert schema.schema_sql() == schema.migrated_dump(), "run scripts/write-schema"
    assert schema.known_migrations() == {migration.name for migration in migrations._migrations}


def test_a_fresh_memory_database_is_the_fully_migrated_schema() -> None:
    store = Store()
    reference = sqlite3.connect(":memory:")
    schema.migrate(reference)
    conn = store.conn
    conn.row_factory = None
    assert _schema(conn) == _schema(reference)
    names = "SELECT migration_set, name FROM _sqlite_migrations ORDER BY id"
    assert conn.execute(names).fetchall() == reference.execute(names).fetchall()
    store.close()


def test_a_fresh_database_does_not_import_sqlite_utils_or_the_migrations() -> None:
    """Starting on a fresh database needs neither (their import costs ~40 ms a start); opening
    an existing file migrates it with them."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from meshes_emulator.store.db import Store\n"
            "Store().close()\n"
            "print(sorted(m for m in sys.modules if m.startswith(('sqlite_utils', "
            "'meshes_emulator.store.migrations'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_a_fresh_file_database_is_the_fully_migrated_schema_in_wal(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "fresh.db"))
    reference = sqlite3.connect(":memory:")
    import sqlite_utils

    migrations.apply(sqlite_utils.Database(reference))
    conn = sqlite3.connect(str(tmp_path / "fresh.db"))
    assert _schema(conn) == _schema(reference)
    applied = {row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations")}
    assert applied == {row[0] for row in reference.execute("SELECT name FROM _sqlite_migrations")}
    assert len(applied) == len(migrations._migrations)
    assert store.one("PRAGMA journal_mode") == {"journal_mode": "wal"}
    assert store.one("PRAGMA foreign_keys") == {"foreign_keys": 1}
    store.close()
    reopened = Store(str(tmp_path / "fresh.db"))  # an existing database: migrations (none left)
    assert _schema(reopened.conn) == _schema(reference)


def test_memory_databases_are_separate_copies_of_the_template() -> None:
    first, second = Store(":memory:"), Store(":memory:")
    with first.transaction():
        first.execute("INSERT INTO orgs (id, name, created_at) VALUES ('o', 'O', 't')")
    assert first.one("SELECT count(*) AS n FROM orgs") == {"n": 1}
    assert second.one("SELECT count(*) AS n FROM orgs") == {"n": 0}
    with pytest.raises(sqlite3.IntegrityError), second.transaction():  # foreign keys are on
        second.execute("INSERT INTO workspaces (id, org_id, name, created_at, updated_at) "
                       "VALUES ('w', 'missing', 'W', 't', 't')")


@pytest.mark.parametrize("db", ["file", "memory"])
@pytest.mark.parametrize("events", [0, 3, 2000])
def test_reset_empties_every_table_small_or_large(tmp_path: Path, db: str, events: int) -> None:
    path = str(tmp_path / "reset.db") if db == "file" else ":memory:"
    app = create_app(Settings(db_path=path, clock="manual"))
    emulator = app.state.emulator
    store = emulator.store
    before = {table: store.one(f"SELECT count(*) AS n FROM {table}") for table in
              TABLES_IN_DELETE_ORDER}
    workspace = store.one("SELECT id, org_id FROM workspaces")
    assert workspace is not None
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO events (id, org_id, workspace_id, event, payload, status, created_by, "
            "created_at) VALUES (?, ?, ?, 'e', '{}', 'completed', 'x', 't')",
            [(f"event-{n}", workspace["org_id"], workspace["id"]) for n in range(events)])
    large = store._used_pages() > store_db.template_pages() + store_db.RESET_BY_COPY_PAGES
    assert large == (events == 2000)
    admin.reset(emulator)
    after = {table: store.one(f"SELECT count(*) AS n FROM {table}") for table in
             TABLES_IN_DELETE_ORDER}
    assert after == before  # the bootstrap state again
    if db == "file":
        assert store.one("PRAGMA journal_mode") == {"journal_mode": "wal"}
    assert store.cache == {} or all(not value for value in store.cache.values())


def test_reset_inside_a_transaction_deletes_rows(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "nested.db"))
    with store.transaction():
        store.execute("INSERT INTO orgs (id, name, created_at) VALUES ('o', 'O', 't')")
        store.delete_everything()
        assert store.one("SELECT count(*) AS n FROM orgs") == {"n": 0}


def test_the_server_thread_stops_and_leaves_nagle_off(tmp_path: Path) -> None:
    app = create_app(Settings(db_path=str(tmp_path / "server.db"), clock="manual"))
    thread = ServerThread(app)
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", thread.port, timeout=10)
    connection.request("GET", "/_emulator/health")
    assert connection.getresponse().read() == b'{"status":"ok"}'
    accepted = [c.transport.get_extra_info("socket") for c in thread.server.server_state.connections]
    assert accepted
    assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in accepted)
    status, body = thread.request("GET", "/_emulator/health")  # no socket: the same answer
    assert (status, body) == (200, b'{"status":"ok"}')
    status, body = thread.request("POST", "/_emulator/reset", b"[1]",
                                  {"content-type": "application/json"})
    assert status == 400 and b"JSON object" in body
    thread.stop()
    assert not thread.thread.is_alive()
    connection.close()


def _paths(routes: Sequence[Any]) -> list[tuple[str, str]]:
    found = []
    for route in routes:
        if isinstance(route, Mount):
            found += [(method, route.path + path) for method, path in _paths(route.routes)]
        elif hasattr(route, "methods"):
            found += [(method, route.path) for method in sorted(route.methods or [])]
    return found


def test_the_indexed_router_picks_the_route_the_plain_router_picks() -> None:
    """Every route, with ids, other methods and unknown paths: same match, same params."""
    for mount in all_routes():
        if not isinstance(mount, Mount) or not isinstance(mount.app, IndexedRouter):
            continue
        indexed, plain = mount.app, Router(routes=mount.app.routes)
        paths = {path.replace("{", "").replace("}", "") for _, path in _paths(indexed.routes)}
        paths |= {"/", "/nope", "/events/x/y/z", "/events/bulk", "/events/123", ""}
        for path in sorted(paths):
            for method in ("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"):
                scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": ""}
                expected = _first_match(plain.routes, scope)
                groups = indexed._groups.get(path.lstrip("/").split("/", 1)[0], indexed._any)
                assert _first_match(groups, scope) == expected, (method, path)


def _first_match(routes: Sequence[Any], scope: dict[str, Any]) -> object:
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return ("full", route, child.get("path_params"))
        if match is Match.PARTIAL and partial is None:
            partial = ("partial", route, child.get("path_params"))
    return partial


WEBSOCKET_UPGRADE = """
import socket, sys
import meshes_emulator
with meshes_emulator.running() as emulator:
    print("websockets" in sys.modules)
    host, port = emulator.url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as upgrade:
        upgrade.sendall(b"GET /anything HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\n"
                        b"Connection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n"
                        b"Sec-WebSocket-Version: 13\\r\\n\\r\\n")
        print(upgrade.recv(4096).split(b"\\r\\n")[0].decode())
    print("websockets" in sys.modules)
    with emulator.client() as api:
        print(api.get("/workspaces").status_code)
"""


def test_websockets_load_on_the_first_upgrade_which_is_refused_as_before() -> None:
    """The server starts without importing a WebSocket library (serving.LazyWebSocketsProtocol);
    an upgrade request imports uvicorn's protocol and is refused (no WebSocket route: 403), and
    the server goes on answering."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", WEBSOCKET_UPGRADE], capture_output=True,
                            text=True, check=True, timeout=60)
    assert result.stdout.split("\n")[:4] == ["False", "HTTP/1.1 403 Forbidden", "True", "200"]
