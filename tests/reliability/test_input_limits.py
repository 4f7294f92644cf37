"""Input limits: hostile bodies, content types, ids, filters and cursors on every route.

Each attack must get the reference's error body (never a 5xx, 501 aside for operations not
built), and a refused request must leave the database exactly as it was (a digest of every row of
every table is compared). Specific cases pin the exact status and wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from meshes_emulator.http import MAX_JSON_DEPTH
from meshes_emulator.settings import DEFAULT_MAX_BODY_BYTES
from pytest_meshes import MeshesServer
from tests.helpers import assert_error
from tests.reliability.world import (
    Operation,
    build,
    digest,
    error_shape_problem,
    fill,
    operations,
    table_names,
)

WS = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"  # the default workspace (defaults.py)
SQL = "'; DROP TABLE events; --"
TRAVERSAL = "../../etc/passwd"


def nested(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


BODY_ATTACKS: dict[str, bytes] = {
    "deep_10000": b"[" * 10_000 + b"]" * 10_000,
    "deep_300_object": nested(300).encode(),
    "deep_in_payload": f'{{"event":"x","workspace":"{WS}","payload":{{"k":{nested(300)}}}}}'.encode(),
    "deep_in_bulk": f'[{{"event":"x","workspace":"{WS}","payload":{{"k":{nested(300)}}}}}]'.encode(),
    "deep_in_metadata": (f'{{"workspace":"{WS}","type":"webhook","name":"n",'
                         f'"metadata":{nested(300)}}}').encode(),
    "non_utf8": b'{"name": "\xff\xfe", "event": "\xc3\x28"}',
    "lone_surrogate": b'{"name": "\\ud800", "event": "\\udfff"}',
    "nul_chars": b'{"name": "a\\u0000b", "event": "e\\u0000", "payload": {"a": "\\u0000"}}',
    "big_numbers": b'{"name": 18446744073709551616, "ttl": 1e308, "limit": -9223372036854775809,'
                   b' "expected_version": 99999999999999999999999}',
    "infinity": b'{"name": 1e400}',
    "nan": b'{"name": NaN}',
    "huge_strings": json.dumps({"name": "A" * 1_000_000, "event": "e" * 1_000_000,
                                "payload": {"a": "b" * 1_000_000}}).encode(),
    "array": b"[1, 2, 3]",
    "scalar": b'"just a string"',
    "null": b"null",
    "truncated": b'{"name": "x", "event": ',
    "trailing_garbage": b'{"name": "x"} {"name": "y"}',
    "sql_meta": json.dumps({"name": SQL, "event": SQL, "payload": {"q": "' OR 1=1 --"},
                            "workspace": SQL, "connection": SQL, "type": SQL,
                            "metadata": {"url": SQL, "action": SQL}}).encode(),
    "path_traversal": json.dumps({"name": TRAVERSAL, "event": TRAVERSAL,
                                  "payload": {"file": TRAVERSAL}, "workspace": TRAVERSAL,
                                  "connection": TRAVERSAL, "workspace_id": TRAVERSAL}).encode(),
    "wrong_types": b'{"name": true, "event": 7, "payload": "x", "workspace": [], "metadata": 1,'
                   b' "workspace_id": {}, "connection": false}',
    "unicode": json.dumps({"name": "\u202e\ufeff\U0001f600", "event": "\u00e9v\u00e9nement",
                           "payload": {"\u00e9": "\U0001f600"}}).encode(),
    "empty_object": b"{}",
}
CONTENT_TYPES = ["application/json", None, "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "application/xml"]
ID_ATTACKS = [SQL, TRAVERSAL, "..%2F..%2Fetc%2Fpasswd", "%00", "a%00b", "%2e%2e", "\u00e9\u00e8",
              "%F0%9F%98%80", "%ff%fe", "x" * 2000, "1 OR 1=1", "null", "-1", "9" * 40,
              "00000000-0000-0000-0000-000000000000", "ZZZZZZZZ-ZZZZ-4ZZZ-8ZZZ-ZZZZZZZZZZZZ"]
QUERY_ATTACKS = [SQL, TRAVERSAL, "%00", "%ff", "\u00e9", "*", "%25", "_", "x" * 3000,
                 "\u00b2", "\u0661\u0662", "-1", "0", "201", "1e3", "9" * 40,
                 # cursors: a rowid past 64 bits, empty, non-base64, base64 of non-UTF-8
                 "cjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cg", "%%%", "_w", "cjE%00"]
QUERY_PARAMS = ["limit", "cursor", "event", "resource", "resource_id", "status", "workspace_id",
                "refresh", "force_delete", "type"]
OK_ERRORS = {400, 401, 403, 404, 405, 409, 413, 415, 422, 425, 501}

Attempt = tuple[str, str, int, str]  # (what, url, status, problem)


@pytest.fixture
def world(meshes_server: MeshesServer, api: httpx.Client) -> dict[str, str]:
    return build(meshes_server, api)


@pytest.fixture
def plain(meshes_server: MeshesServer) -> Iterator[httpx.Client]:
    """A machine-JWT client that does not validate responses (the checks are explicit here)."""
    with meshes_server.client() as client:
        yield client


class Attacker:
    """Sends requests, records every problem, and checks refusals changed nothing."""

    def __init__(self, server: MeshesServer, client: httpx.Client) -> None:
        self.server, self.client = server, client
        self.problems: list[Attempt] = []
        self.state = digest(server)

    def send(self, what: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, **kwargs)
        status = response.status_code
        if status >= 400:
            problem = error_shape_problem(response)
            if status not in OK_ERRORS:
                problem = f"status {status}: {response.text[:200]}"
            after = digest(self.server)
            if problem is None and after != self.state:
                problem = "refused but the database changed"
            self.state = after
            if problem is not None:
                self.problems.append((what, f"{method} {url[:100]}", status, problem))
        elif method != "GET":
            self.server.admin("POST", "/settle")
            self.state = digest(self.server)
        else:
            self.state = digest(self.server)  # a read may write (e.g. ?refresh=true)
        return response

    def check(self) -> None:
        assert self.problems == [], "\n".join(map(str, self.problems[:20]))
        self.server.check()


WRITE_OPS = [op for op in operations() if op.writes]
ID_OPS = [op for op in operations() if op.params]
GET_OPS = [op for op in operations() if op.method == "GET"]


@pytest.mark.parametrize("op", WRITE_OPS, ids=str)
def test_hostile_bodies_on_every_write_route(op: Operation, meshes_server: MeshesServer,
                                            world: dict[str, str], plain: httpx.Client) -> None:
    attacker = Attacker(meshes_server, plain)
    url = fill(op.path, world)
    for name, body in BODY_ATTACKS.items():
        types = CONTENT_TYPES if name in ("empty_object", "sql_meta") else CONTENT_TYPES[:2]
        for content_type in types:
            headers = {"content-type": content_type} if content_type else {}
            attacker.send(f"{name} as {content_type}", op.method, url, content=body,
                          headers=headers)
    assert {"events", "workspaces", "rules"} <= table_names(meshes_server)
    attacker.check()


@pytest.mark.parametrize("op", ID_OPS, ids=str)
def test_hostile_ids_on_every_by_id_route(op: Operation, meshes_server: MeshesServer,
                                         world: dict[str, str], plain: httpx.Client) -> None:
    attacker = Attacker(meshes_server, plain)
    for param in op.params:
        for attack in ID_ATTACKS:
            url = fill(op.path, world, **{param: attack})
            kwargs: dict[str, Any] = {"json": {}} if op.writes else {}
            response = attacker.send(f"{param}={attack[:20]}", op.method, url, **kwargs)
            if attack in (SQL, TRAVERSAL, "1 OR 1=1"):
                assert response.status_code in (400, 404, 422, 501), (url, response.text)
    attacker.check()


@pytest.mark.parametrize("op", GET_OPS, ids=str)
def test_hostile_query_parameters_on_every_read_route(
    op: Operation, meshes_server: MeshesServer, world: dict[str, str], plain: httpx.Client
) -> None:
    attacker = Attacker(meshes_server, plain)
    url = fill(op.path, world)
    for param in QUERY_PARAMS:
        for attack in QUERY_ATTACKS:
            attacker.send(f"?{param}={attack[:20]}", "GET", f"{url}?{param}={attack}")
    attacker.check()


# -- specific cases with exact answers ---------------------------------------------------


def test_ten_thousand_levels_of_nesting_is_a_400(api: httpx.Client) -> None:
    for path in ("/workspaces", "/events", "/events/bulk", "/connections", "/rules", "/sessions"):
        response = api.post(path, content=BODY_ATTACKS["deep_10000"],
                            headers={"content-type": "application/json"})
        assert "Malformed JSON" in str(assert_error(response, 400, "BadRequest"))


def test_nesting_past_the_depth_limit_is_a_400_not_a_500(api: httpx.Client, ingest: httpx.Client,
                                                        meshes_server: MeshesServer) -> None:
    """Regression: orjson reads 1024 levels but writes only ~254; a 300-level payload was a 500."""
    for client, body in ((ingest, BODY_ATTACKS["deep_in_payload"]),
                         (ingest, BODY_ATTACKS["deep_in_bulk"]),
                         (api, BODY_ATTACKS["deep_in_metadata"])):
        response = client.post("/events/bulk" if body.startswith(b"[") else
                               "/connections" if b"metadata" in body else "/events",
                               content=body, headers={"content-type": "application/json"})
        detail = str(assert_error(response, 400, "BadRequest"))
        assert f"deeper than {MAX_JSON_DEPTH}" in detail
    assert api.get("/events").json()["records"] == []


def test_nesting_at_the_depth_limit_is_accepted_and_stored(ingest: httpx.Client,
                                                          api: httpx.Client) -> None:
    inner = MAX_JSON_DEPTH - 2  # body object + payload object + inner levels
    body = f'{{"event":"deep.ok","payload":{{"k":{nested(inner)}}}}}'
    created = ingest.post("/events", content=body, headers={"content-type": "application/json"})
    assert created.status_code == 201, created.text
    stored = api.get(f"/events/{created.json()['event']['id']}/payload").json()["payload"]
    depth, value = 0, stored["k"]
    while isinstance(value, dict):
        depth, value = depth + 1, value["a"]
    assert depth == inner and value == 1
    too_deep = f'{{"event":"deep.no","payload":{{"k":{nested(inner + 1)}}}}}'
    refused = ingest.post("/events", content=too_deep, headers={"content-type": "application/json"})
    assert_error(refused, 400, "BadRequest")


def test_oversized_bodies_are_413_with_or_without_content_length(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer
) -> None:
    before = digest(meshes_server)
    big = b" " * (DEFAULT_MAX_BODY_BYTES + 1)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the stream is counted as it arrives
        for _ in range(6):
            yield b" " * (1024 * 1024)

    for client, path in ((api, "/workspaces"), (ingest, "/events"), (ingest, "/events/bulk"),
                         (api, "/connections"), (api, "/rules")):
        assert_error(client.post(path, content=big, headers={"content-type": "application/json"}),
                     413, "PayloadTooLarge")
        assert_error(client.post(path, content=chunks(),
                                 headers={"content-type": "application/json"}),
                     413, "PayloadTooLarge")
    assert digest(meshes_server) == before


def test_event_payload_over_256_kib_is_413_and_not_stored(ingest: httpx.Client,
                                                         api: httpx.Client) -> None:
    response = ingest.post("/events", json={"event": "big", "payload": {"a": "b" * 300_000}})
    assert_error(response, 413, "PayloadTooLarge")
    assert api.get("/events").json()["records"] == []


def test_non_utf8_and_lone_surrogates_are_400(api: httpx.Client, ingest: httpx.Client) -> None:
    for body in (BODY_ATTACKS["non_utf8"], BODY_ATTACKS["lone_surrogate"]):
        assert_error(api.post("/workspaces", content=body,
                              headers={"content-type": "application/json"}), 400, "BadRequest")
        assert_error(ingest.post("/events", content=body,
                                 headers={"content-type": "application/json"}), 400, "BadRequest")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_wrong_content_type_is_400_everywhere(content_type: str, api: httpx.Client,
                                              ingest: httpx.Client) -> None:
    body = json.dumps({"name": "Typed", "event": "x", "payload": {"a": 1}}).encode()
    for client, path in ((api, "/workspaces"), (ingest, "/events"), (api, "/sessions")):
        response = client.post(path, content=body, headers={"content-type": content_type})
        assert "Content-Type" in str(assert_error(response, 400, "BadRequest"))


def test_missing_content_type_is_read_as_json(ingest: httpx.Client) -> None:
    """Choice: no Content-Type at all is tolerated (curl -d without -H, some proxies)."""
    response = ingest.post("/events", content=b'{"event": "x", "payload": {"a": 1}}')
    assert response.status_code == 201, response.text


def test_duplicate_keys_last_one_wins(api: httpx.Client, ingest: httpx.Client) -> None:
    """Choice (docs/reliability.md): like JSON.parse and Go's decoder, the last duplicate wins."""
    created = api.post("/workspaces", content=b'{"name": "First Name", "name": "Dup Keys"}',
                       headers={"content-type": "application/json"})
    assert created.status_code == 201 and created.json()["workspace"]["name"] == "Dup Keys"
    event = ingest.post("/events", content=b'{"event": "a", "event": "b", "payload": {"x": 1}}',
                        headers={"content-type": "application/json"})
    assert event.status_code == 201 and event.json()["event"]["event"] == "b"


def test_sql_metacharacters_are_data_not_sql(ingest: httpx.Client, api: httpx.Client,
                                             meshes_server: MeshesServer) -> None:
    created = ingest.post("/events", json={"event": SQL, "resource": SQL,
                                           "payload": {"q": "' OR '1'='1", "p": TRAVERSAL}})
    assert created.status_code == 201, created.text
    event_id = created.json()["event"]["id"]
    stored = api.get(f"/events/{event_id}/payload").json()
    assert stored["event"] == SQL and stored["resource"] == SQL
    assert stored["payload"] == {"q": "' OR '1'='1", "p": TRAVERSAL}
    ws = meshes_server.workspace_id
    by_filter = api.get(f"/workspaces/{ws}/events", params={"event": SQL}).json()["records"]
    assert [e["id"] for e in by_filter] == [event_id]
    wildcard = api.get(f"/workspaces/{ws}/events", params={"event": "%"}).json()["records"]
    assert wildcard == []  # filters are exact matches, not LIKE patterns
    assert {"events", "workspaces"} <= table_names(meshes_server)


@pytest.mark.parametrize("path", ["/events", "/workspaces", "/rules", "/connections",
                                  "/integrations"])
@pytest.mark.parametrize(("value", "param"), [
    ("\u00b2", "limit"), ("\u0661\u0662", "limit"), ("9" * 5000, "limit"), ("1e3", "limit"),
    ("cjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cursor"), ("%%%", "cursor"), ("cjE%00", "cursor"),
])
def test_malformed_limits_and_cursors_are_400(api: httpx.Client, path: str, value: str,
                                             param: str) -> None:
    """Regression: '²' passed str.isdigit() then broke int(); a 30-digit rowid overflowed SQLite."""
    body = assert_error(api.get(f"{path}?{param}={value}"), 400, "BadRequest")
    assert body["error"]["data"][0]["param"] == param


def test_hostile_path_ids_are_not_found(api: httpx.Client) -> None:
    for attack in (SQL, TRAVERSAL, "..%2F..%2Fetc%2Fpasswd", "%00"):
        assert_error(api.get(f"/events/{attack}"), 404, "NotFound")
        assert_error(api.get(f"/connections/{attack}"), 404, "NotFound")
        assert_error(api.get(f"/rules/{attack}"), 404, "NotFound")


def test_admin_api_survives_hostile_input(meshes_server: MeshesServer) -> None:
    with httpx.Client(base_url=meshes_server.url + "/_emulator", timeout=30) as admin:
        for body in BODY_ATTACKS.values():
            for path in ("/clock", "/orgs"):
                response = admin.post(path, content=body, headers={"content-type": "application/json"})
                assert response.status_code < 500, (path, response.text)
        for value in QUERY_ATTACKS:
            for path in ("/deliveries?limit=", "/deliveries?event=", "/token?org_id="):
                response = admin.get(path + value)
                assert response.status_code < 500, (path, value, response.text)
    meshes_server.check()



def test_oversized_request_line_is_refused_by_the_http_layer(meshes_server: MeshesServer,
                                                            api: httpx.Client) -> None:
    """Past ~64 KiB of request line uvicorn answers a plain 400 before the app (documented);
    a very long id below that is the API's 404; the server keeps serving either way."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(meshes_server.url)
    for size, expected in ((60_000, b"401"), (100_000, b"400")):
        with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
            sock.sendall(b"GET /api/v1/events/" + b"x" * size + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert sock.recv(64).split(b" ")[1] == expected
    assert_error(api.get("/events/" + "x" * 30_000), 404, "NotFound")
    assert api.get("/workspaces").status_code == 200
