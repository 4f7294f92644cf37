"""The query string as handlers read it (`http.query_params`): the same names and values as
Starlette's `request.query_params` gives, for plain and encoded query strings alike."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from meshes_emulator.http import parse_query
from pytest_meshes import MeshesServer

CASES = [
    b"",
    b"limit=25",
    b"limit=25&cursor=abc",
    b"limit=1&limit=2",  # the last value of a repeated name
    b"flag&empty=&=value&&x=1",  # no '=', blank values, an empty name, empty parts
    b"a=b=c",  # only the first '=' splits
    b"q=hello+world&name=%C3%A9t%C3%A9",  # '+' and percent-escapes (UTF-8)
    b"k%2Bey=v%26alue&plus=1+1",
    b"raw=\xe9t\xe9",  # latin-1 bytes, no escape
    b"status=completed&workspace=0f6b2f0e-8d1b-4c54-9d2f-3c3d9a6e1b7a",
]


@pytest.mark.parametrize("raw", CASES)
def test_the_query_reads_as_starlette_reads_it(raw: bytes) -> None:
    assert parse_query(raw) == dict(QueryParams(raw))


def test_an_encoded_query_pages_as_the_plain_one(meshes_server: MeshesServer) -> None:
    with meshes_server.ingest_client() as client:
        for number in range(3):
            client.post("/events", json={"event": "user.signup", "payload": {"n": number}})
    with meshes_server.client() as api:
        plain = api.get("/events?limit=2").json()
        assert api.get("/events?li%6Dit=%32").json() == plain
        cursor = plain["next_cursor"]
        encoded_cursor = "".join(f"%{byte:02X}" for byte in cursor.encode())
        rest = api.get(f"/events?limit=2&cursor={cursor}").json()
        assert api.get(f"/events?limit=2&cursor={encoded_cursor}").json() == rest
        refused = api.get("/events?limit=%32%30%31")
    assert [plain["count"], rest["count"]] == [2, 1]
    assert refused.status_code == 400
    assert refused.json()["error"]["data"] == [{"param": "limit",
                                               "msg": "must be an integer from 1 to 200"}]
