"""Admin bodies and query parameters (schemas/admin.py): one problem, the first refused field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contract import check_response


def _problems(response: httpx.Response) -> list[dict[str, str]]:
    check_response(response)
    assert response.status_code == 400
    data: list[dict[str, str]] = response.json()["error"]["data"]
    return data


@pytest.mark.parametrize(("body", "param"), [
    ({"clock": "later", "seed": "x"}, "seed"),  # fields in the documented order, not the body's
    ({"fixtures": "a.yaml", "strict": "yes"}, "strict"),
    ({"seed": True}, "seed"),  # a boolean is no integer
    ({"start": 1767225600}, "start"),  # an instant is an RFC 3339 string
])
def test_reset_names_the_first_refused_field(raw: httpx.Client, body: dict[str, Any],
                                             param: str) -> None:
    problems = _problems(raw.post("/_emulator/reset", json=body))
    assert [p["param"] for p in problems] == [param]


def test_reset_takes_an_integral_float_as_its_seed(raw: httpx.Client) -> None:
    response = raw.post("/_emulator/reset", json={"seed": 7.0})
    check_response(response)
    assert response.json()["seed"] == 7


@pytest.mark.parametrize("limit", ["+5", " 5", "\u0665", "1001", "0", ""])
@pytest.mark.parametrize("path", ["/_emulator/deliveries", "/_emulator/rule-events"])
def test_limit_is_ascii_digits_from_1_to_1000(raw: httpx.Client, path: str, limit: str) -> None:
    problems = _problems(raw.get(path, params={"limit": limit}))
    assert problems == [{"param": "limit", "msg": "must be an integer from 1 to 1000"}]


def test_clear_faults_query_kind_wins_over_the_body(raw: httpx.Client) -> None:
    raw.post("/_emulator/faults", json={"kind": "api", "status": 503}).raise_for_status()
    kept = raw.post("/_emulator/faults/clear", params={"kind": "delivery"}, json={"kind": "nope"})
    check_response(kept)
    assert kept.json() == {"deleted": 0}
    refused = _problems(raw.post("/_emulator/faults/clear", json={"kind": None}))
    assert refused == [{"param": "kind", "msg": "must be 'delivery' or 'api'"}]
    assert raw.post("/_emulator/faults/clear", json={"kind": "api"}).json() == {"deleted": 1}


def test_set_clock_under_the_system_clock_is_409_before_its_body(raw: httpx.Client) -> None:
    raw.post("/_emulator/reset", json={"clock": "system"}).raise_for_status()
    response = raw.post("/_emulator/clock", json={"now": "not a time"})
    check_response(response)
    assert response.status_code == 409
    assert response.json()["message"] == "Clock is not manual"
