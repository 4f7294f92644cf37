"""Simulated connectors: the provider calls they record and what they refuse."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from meshes_emulator.engine.connectors import (
    SIMULATED_TYPES,
    ConnectorInput,
    render_template,
    simulate,
)

PAYLOAD: dict[str, Any] = {
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "name": "Ada Lovelace",
    "id": "u-1",
    "user": {"name": "Ada L", "plan": "pro"},
}


def run(
    integration: str,
    action: str,
    rule_meta: dict[str, Any] | None = None,
    conn_meta: dict[str, Any] | None = None,
    mapped: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> Any:
    return simulate(
        ConnectorInput(
            integration_type=integration,
            action=action,
            rule_metadata={"action": action, **(rule_meta or {})},
            connection_metadata=conn_meta or {},
            mapped=mapped,
            payload=PAYLOAD if payload is None else payload,
            event={"id": "evt-1", "event": "user.signup"},
        )
    )


def calls(outcome: Any) -> list[dict[str, Any]]:
    assert outcome.code == "delivered", outcome.message
    assert outcome.http_status == 200
    return list(outcome.request["requests"])


def test_fourteen_simulated_types() -> None:
    assert len(SIMULATED_TYPES) == 14 and "webhook" not in SIMULATED_TYPES


def test_hubspot_add_to_list_upserts_mapped_contact_and_adds_membership() -> None:
    outcome = run(
        "hubspot",
        "add_to_list",
        {"id": "77"},
        mapped={"email": "ada@example.com", "firstname": "Ada", "company": "ACME"},
    )
    upsert, membership = calls(outcome)
    assert upsert["method"] == "POST"
    assert upsert["url"] == "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert"
    assert upsert["body"]["inputs"][0]["properties"] == {
        "email": "ada@example.com",
        "firstname": "Ada",
        "company": "ACME",
    }
    assert membership["url"] == "https://api.hubapi.com/contacts/v1/lists/77/add"
    assert membership["body"] == {"emails": ["ada@example.com"]}
    assert upsert["headers"]["Authorization"] == "Bearer ***"
    assert outcome.request["integration_type"] == "hubspot"


def test_hubspot_without_mapping_uses_payload_defaults() -> None:
    upsert, _ = calls(run("hubspot", "remove_from_list", {"id": "5"}))
    props = upsert["body"]["inputs"][0]["properties"]
    assert props == {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}


def test_hubspot_update_property() -> None:
    (upsert,) = calls(run("hubspot", "update_property", {"id": "lifecycle", "value": "lead"}))
    assert upsert["body"]["inputs"][0]["properties"]["lifecycle"] == "lead"


def test_mailchimp_member_put_subscribed() -> None:
    (call,) = calls(
        run(
            "mailchimp",
            "add_to_list",
            {"id": "aud1"},
            {"api_key": "abc-us6"},
            mapped={"email": "Ada@Example.com", "FNAME": "Ada"},
        )
    )
    digest = hashlib.md5(b"ada@example.com").hexdigest()
    assert call["method"] == "PUT"
    assert call["url"] == f"https://us6.api.mailchimp.com/3.0/lists/aud1/members/{digest}"
    assert call["body"]["status"] == "subscribed" and call["body"]["status_if_new"] == "subscribed"
    assert call["body"]["merge_fields"] == {"FNAME": "Ada"}
    (off,) = calls(
        run("mailchimp", "remove_from_list", {"id": "aud1"}, {"api_key": "k", "data_center": "us1"})
    )
    assert off["body"]["status"] == "unsubscribed" and "us1.api" in off["url"]


def test_slack_renders_template_missing_is_empty() -> None:
    (call,) = calls(
        run(
            "slack",
            "send_message",
            {"id": "C123", "template": "Hi {{ first_name }} ({{user.name}}){{nope}}!"},
        )
    )
    assert call["url"] == "https://slack.com/api/chat.postMessage"
    assert call["body"] == {"channel": "C123", "text": "Hi Ada (Ada L)!"}


def test_slack_without_channel_is_invalid_request() -> None:
    outcome = run("slack", "send_message", {"template": "x"})
    assert outcome.code == "invalid_request"
    assert "metadata.id (channel) is required" in outcome.message
    assert outcome.request is None and outcome.http_status is None


def test_discord_embed() -> None:
    (call,) = calls(
        run(
            "discord",
            "send_message",
            {"id": "99", "title": "New {{user.plan}}", "template": "{{email}}"},
        )
    )
    assert call["url"] == "https://discord.com/api/v10/channels/99/messages"
    assert call["body"] == {"embeds": [{"title": "New pro", "description": "ada@example.com"}]}


def test_sendgrid_send_email_and_template() -> None:
    (mail,) = calls(
        run(
            "sendgrid",
            "send_email",
            {"subject": "Hi {{first_name}}", "from": "team@acme.io", "body": "<p>{{plan}}</p>"},
            {"api_key": "SG.x"},
            mapped={"plan": "gold"},
        )
    )
    assert mail["url"] == "https://api.sendgrid.com/v3/mail/send"
    assert mail["body"]["subject"] == "Hi Ada"
    assert mail["body"]["content"] == [{"type": "text/html", "value": "<p>gold</p>"}]
    assert mail["body"]["personalizations"] == [{"to": [{"email": "ada@example.com"}]}]
    assert mail["body"]["from"] == {"email": "team@acme.io"}
    (tpl,) = calls(
        run(
            "sendgrid",
            "send_email_template",
            {"id": "d-1", "from": "a@b.io"},
            {"api_key": "SG.x"},
            payload=PAYLOAD | {"template_variables": {"x": 1}},
        )
    )
    assert tpl["body"]["template_id"] == "d-1"
    assert tpl["body"]["personalizations"][0]["dynamic_template_data"] == {"x": 1}


def test_every_integration_has_a_happy_path() -> None:
    cases = [
        (
            "activecampaign",
            "add_tag",
            {"id": "t"},
            {"api_url": "https://x.api-us1.com", "api_key": "k"},
        ),
        (
            "activecampaign",
            "sync_contact",
            {},
            {"api_url": "https://x.api-us1.com", "api_key": "k"},
        ),
        ("aweber", "add_to_list", {"id": "l1"}, {}),
        (
            "customer_io",
            "track_event",
            {"event_name_override": "signed_up"},
            {"cdpApiKey": "k", "region": "EU"},
        ),
        ("intercom", "add_tag", {"id": "t1"}, {}),
        ("mailerlite", "add_to_group", {"id": "g1"}, {"api_key": "k"}),
        ("pipedrive", "sync_person", {}, {}),
        ("pipedrive", "update_person_field", {"id": "f", "value": "v"}, {}),
        ("resend", "add_to_segment", {"id": "s1"}, {"api_key": "k"}),
        ("resend", "send_email_template", {"id": "tpl", "from": "a@b.io"}, {"api_key": "k"}),
        ("salesforce", "add_to_campaign", {"id": "701"}, {}),
        ("salesforce", "update_property", {"id": "Level__c", "value": "Gold"}, {}),
        ("zoom", "add_webinar_registrant", {"id": "123"}, {}),
    ]
    for integration, action, rule_meta, conn_meta in cases:
        assert calls(run(integration, action, rule_meta, conn_meta)), (integration, action)


def test_customer_io_identify_then_track() -> None:
    identify, track = calls(run("customer_io", "track_event", {}, {"cdpApiKey": "k"}))
    assert identify["url"] == "https://cdp.customer.io/v1/identify"
    assert identify["body"]["userId"] == "u-1"
    assert track["body"]["event"] == "user.signup"
    assert track["body"]["properties"] == PAYLOAD


@pytest.mark.parametrize(
    ("integration", "action", "rule_meta", "conn_meta", "payload", "code", "needle"),
    [
        ("hubspot", "add_to_list", {"id": "1"}, {}, {"name": "x"}, "validation_failed", "email"),
        (
            "hubspot",
            "add_to_list",
            {"id": "1"},
            {},
            {"email": "not-an-email"},
            "validation_failed",
            "not a valid email",
        ),
        ("hubspot", "add_to_list", {}, {}, None, "invalid_request", "metadata.id"),
        ("hubspot", "explode", {}, {}, None, "invalid_request", "no action 'explode'"),
        ("mailchimp", "add_to_list", {"id": "a"}, {}, None, "auth_failed", "api_key"),
        (
            "mailchimp",
            "add_to_list",
            {"id": "a"},
            {"api_key": "nodc"},
            None,
            "invalid_request",
            "data_center",
        ),
        (
            "activecampaign",
            "add_tag",
            {"id": "t"},
            {"api_key": "k"},
            None,
            "invalid_request",
            "api_url",
        ),
        (
            "sendgrid",
            "send_email",
            {"subject": "s", "body": "b"},
            {"api_key": "k"},
            None,
            "invalid_request",
            "metadata.from",
        ),
        (
            "sendgrid",
            "send_email",
            {"subject": "s", "body": "b", "from": "nope"},
            {"api_key": "k"},
            None,
            "invalid_request",
            "not an email",
        ),
        ("slack", "send_message", {"id": "C1"}, {}, None, "invalid_request", "metadata.template"),
        (
            "discord",
            "send_message",
            {"id": "1", "template": "t"},
            {},
            None,
            "invalid_request",
            "metadata.title",
        ),
        (
            "zoom",
            "add_meeting_registrant",
            {"id": "1"},
            {},
            {"email": "a@b.io"},
            "validation_failed",
            "first_name",
        ),
        (
            "customer_io",
            "track_event",
            {},
            {"cdpApiKey": "k"},
            {"plan": "x"},
            "validation_failed",
            "identifier",
        ),
        ("webhook", "send_webhook", {}, {}, None, "internal_error", "no simulated connector"),
    ],
)
def test_refusals(
    integration: str,
    action: str,
    rule_meta: dict[str, Any],
    conn_meta: dict[str, Any],
    payload: dict[str, Any] | None,
    code: str,
    needle: str,
) -> None:
    outcome = run(integration, action, rule_meta, conn_meta, payload=payload)
    assert outcome.code == code
    assert needle in outcome.message
    assert outcome.request is None


def test_mapped_email_wins_over_payload() -> None:
    upsert, _ = calls(run("hubspot", "add_to_list", {"id": "1"}, mapped={"email": "m@x.io"}))
    assert upsert["body"]["inputs"][0]["id"] == "m@x.io"


def test_render_template_values() -> None:
    ctx = {"n": 3, "b": True, "o": {"k": [1, 2]}, "s": None}
    assert render_template("{{n}}|{{b}}|{{o}}|{{s}}|{{o.k.1}}", ctx) == '3|true|{"k":[1,2]}||2'
    assert render_template("{{ a }}", {}, {"a": "second"}) == "second"
    assert render_template("{{not closed", ctx) == "{{not closed"
