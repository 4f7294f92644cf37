"""Rule matching and explanations."""

from __future__ import annotations

from typing import Any

import pytest

from meshes_emulator.engine.matching import explain, matches, matching_rules

WS = "ws-1"


def rule(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "r1", "workspace": WS, "event": "user.signup", "active": True}
    return base | overrides


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"workspace": WS, "event": "user.signup", "resource": "global"}
    return base | overrides


ACTIVE = {"active": True}


@pytest.mark.parametrize(
    ("r", "e", "expected", "reason"),
    [
        (rule(), event(), True, "matched"),
        (rule(hidden=True), event(), True, "matched"),
        (rule(workspace="other"), event(), False, "other_workspace"),
        (rule(active=False), event(), False, "rule_inactive"),
        (rule(event="user.login"), event(), False, "event_name_differs"),
        (rule(event="User.Signup"), event(), False, "event_name_differs"),
        (rule(resource="contacts"), event(resource="contacts"), True, "matched"),
        (rule(resource="contacts"), event(resource="orders"), False, "resource_differs"),
        (rule(resource="global"), event(resource=None), True, "matched"),
        (rule(resource="contacts"), event(resource=None), False, "resource_differs"),
        (rule(resource_id="42"), event(resource_id="42"), True, "matched"),
        (rule(resource_id="42"), event(resource_id="43"), False, "resource_id_differs"),
        (rule(resource_id="42"), event(), False, "resource_id_differs"),
        (
            rule(resource=None, resource_id=None),
            event(resource="x", resource_id="y"),
            True,
            "matched",
        ),
        (
            rule(workspace=None, workspace_id=WS),
            event(workspace=None, workspace_id=WS),
            True,
            "matched",
        ),
    ],
)
def test_matches_and_explain(r: dict[str, Any], e: dict[str, Any], expected: bool, reason: str) -> None:
    assert matches(r, e) is expected
    explanation = explain(r, e, ACTIVE)
    assert explanation.matched is expected
    assert explanation.reason == reason
    assert explanation.detail


def test_inactive_connection_still_matches_but_will_fail() -> None:
    explanation = explain(rule(), event(), {"active": False, "inactive_reason": "authentication_invalid"})
    assert explanation.matched and explanation.will_fail
    assert explanation.reason == "connection_inactive"
    assert "authentication_invalid" in explanation.detail
    missing = explain(rule(), event(), None)
    assert missing.matched and missing.will_fail and "deleted" in missing.detail
    assert explanation.as_dict()["rule"] == "r1"


def test_matching_rules_keeps_order() -> None:
    rules = [rule(id="a"), rule(id="b", active=False), rule(id="c", event="x"), rule(id="d")]
    assert [r["id"] for r in matching_rules(rules, event())] == ["a", "d"]
