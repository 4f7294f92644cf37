"""Connection metadata validation against the catalog's credential fields, masking and merging."""

from __future__ import annotations

from typing import Any

import pytest

from meshes_emulator.catalog import MASK
from meshes_emulator.catalog.credentials import (
    is_loopback_host,
    mask_metadata,
    merge_masked,
    url_problem,
    validate_metadata,
)

GOOD: dict[str, dict[str, Any]] = {
    "activecampaign": {"api_url": "https://acme.api-us1.com", "api_key": "ac-secret"},
    "customer_io": {"region": "EU", "cdpApiKey": "cio-secret"},
    "mailchimp": {"data_center": "us6", "api_key": "0123abcd-us6"},
    "mailerlite": {"api_key": "ml-secret"},
    "resend": {"api_key": "re_secret"},
    "sendgrid": {"api_key": "SG.secret"},
    "webhook": {"url": "https://example.com/hook"},
    "hubspot": {},
    "slack": {"access_token": "xoxb-123"},
}


def params(problems: list[dict[str, str]]) -> list[str]:
    return [p["param"] for p in problems]


@pytest.mark.parametrize("integration_type", sorted(GOOD))
def test_valid_metadata_passes(integration_type: str) -> None:
    normalized, problems = validate_metadata(integration_type, GOOD[integration_type])
    assert problems == []
    for key, value in GOOD[integration_type].items():
        assert normalized[key] == value


@pytest.mark.parametrize(
    ("integration_type", "missing"),
    [
        ("activecampaign", "api_url"),
        ("activecampaign", "api_key"),
        ("customer_io", "cdpApiKey"),
        ("mailchimp", "data_center"),
        ("mailerlite", "api_key"),
        ("resend", "api_key"),
        ("sendgrid", "api_key"),
        ("webhook", "url"),
    ],
)
def test_missing_required_field_is_named(integration_type: str, missing: str) -> None:
    metadata = dict(GOOD[integration_type])
    del metadata[missing]
    _, problems = validate_metadata(integration_type, metadata)
    assert params(problems) == [f"metadata.{missing}"]
    assert "required" in problems[0]["msg"]


def test_blank_and_non_string_values_are_rejected() -> None:
    _, problems = validate_metadata("sendgrid", {"api_key": "   "})
    assert params(problems) == ["metadata.api_key"]
    _, problems = validate_metadata("sendgrid", {"api_key": 12345})
    assert problems == [{"param": "metadata.api_key", "msg": "api_key must be a string"}]


def test_select_values_are_checked_and_normalized() -> None:
    normalized, problems = validate_metadata("customer_io", {"region": "eu", "cdpApiKey": "k"})
    assert problems == []
    assert normalized["region"] == "EU"
    _, problems = validate_metadata("customer_io", {"region": "APAC", "cdpApiKey": "k"})
    assert problems == [{"param": "metadata.region", "msg": "region must be one of: US, EU"}]


def test_select_default_is_filled() -> None:
    normalized, problems = validate_metadata("customer_io", {"cdpApiKey": "k"})
    assert problems == []
    assert normalized["region"] == "US"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://acme.api-us1.com", True),
        ("http://acme.api-us1.com", False),
        ("ftp://acme.api-us1.com", False),
        ("acme.api-us1.com", False),
        ("https://", False),
        ("https://acme.com:99999", False),
    ],
)
def test_activecampaign_api_url_must_be_https(url: str, ok: bool) -> None:
    _, problems = validate_metadata("activecampaign", {"api_url": url, "api_key": "k"})
    assert (problems == []) is ok
    if not ok:
        assert params(problems) == ["metadata.api_url"]


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/hook",
        "http://127.0.0.1/x",
        "http://[::1]:9000/",
        "http://a.localhost",
    ],
)
def test_plain_http_is_accepted_for_loopback_hosts(url: str) -> None:
    _, problems = validate_metadata("webhook", {"url": url})
    assert problems == []


def test_plain_http_for_other_hosts_needs_an_explicit_allowance() -> None:
    assert url_problem("http://receiver.internal/x") is not None
    assert url_problem("http://receiver.internal/x", extra_http_hosts=["receiver.internal"]) is None
    assert is_loopback_host("127.8.9.10")
    assert not is_loopback_host("10.0.0.1")


def test_mailchimp_data_center_format() -> None:
    normalized, problems = validate_metadata("mailchimp", {"data_center": "US6", "api_key": "k"})
    assert problems == []
    assert normalized["data_center"] == "us6"
    _, problems = validate_metadata("mailchimp", {"data_center": "mars", "api_key": "k"})
    assert params(problems) == ["metadata.data_center"]


def test_webhook_defaults_are_filled() -> None:
    normalized, problems = validate_metadata("webhook", {"url": "https://example.com/h"})
    assert problems == []
    assert normalized == {
        "url": "https://example.com/h",
        "http_method": "POST",
        "payload_mode": "wrapped",
        "auth_scheme": "none",
        "signing_algorithm": "none",
    }


def test_webhook_signing_defaults_the_signature_header() -> None:
    metadata = {"url": "https://e.com", "signing_algorithm": "sha512", "signing_secret": "s"}
    normalized, problems = validate_metadata("webhook", metadata)
    assert problems == []
    assert normalized["signature_header"] == "X-Meshes-Signature"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"http_method": "GET"}, ["metadata.http_method"]),
        ({"http_method": "patch"}, []),
        ({"payload_mode": "xml"}, ["metadata.payload_mode"]),
        ({"auth_scheme": "basic"}, ["metadata.basic_username", "metadata.basic_password"]),
        ({"auth_scheme": "basic", "basic_username": "u", "basic_password": "p"}, []),
        ({"auth_scheme": "bearer"}, ["metadata.bearer_token"]),
        (
            {"auth_scheme": "custom_header"},
            ["metadata.auth_header_name", "metadata.auth_header_value"],
        ),
        (
            {"auth_scheme": "custom_header", "auth_header_name": "X API", "auth_header_value": "v"},
            ["metadata.auth_header_name"],
        ),
        (
            {
                "auth_scheme": "custom_header",
                "auth_header_name": "Authorization",
                "auth_header_value": "v",
            },
            ["metadata.auth_header_name"],
        ),
        ({"auth_scheme": "oauth"}, ["metadata.auth_scheme"]),
        ({"signing_algorithm": "md5"}, ["metadata.signing_algorithm"]),
        ({"signing_algorithm": "sha256"}, ["metadata.signing_secret"]),
        (
            {"signing_algorithm": "sha256", "signing_secret": "s", "signature_header": "Host"},
            ["metadata.signature_header"],
        ),
        ({"headers": [{"name": "X-Tenant", "value": "acme"}]}, []),
        ({"headers": {"X-Tenant": "acme", "X-Env": "prod"}}, []),
        ({"headers": "X-Tenant: acme"}, ["metadata.headers"]),
        ({"headers": [{"name": f"X-H{i}", "value": "v"} for i in range(6)]}, ["metadata.headers"]),
        ({"headers": [{"name": "Content-Type", "value": "text/plain"}]}, ["metadata.headers[0]"]),
        ({"headers": [{"name": "X-Meshes-Event", "value": "x"}]}, ["metadata.headers[0]"]),
        (
            {"headers": [{"name": "X-A", "value": "1"}, {"name": "x-a", "value": "2"}]},
            ["metadata.headers"],
        ),
        ({"headers": [{"name": "X-A", "value": "a\r\nInjected: 1"}]}, ["metadata.headers"]),
        ({"headers": [{"name": "X-A"}]}, ["metadata.headers"]),
    ],
)
def test_webhook_settings(extra: dict[str, Any], expected: list[str]) -> None:
    _, problems = validate_metadata("webhook", {"url": "https://example.com/h", **extra})
    assert params(problems) == expected


def test_webhook_headers_object_form_is_normalized_to_a_list() -> None:
    normalized, _ = validate_metadata(
        "webhook", {"url": "https://e.com", "headers": {"X-Tenant": "acme"}}
    )
    assert normalized["headers"] == [{"name": "X-Tenant", "value": "acme"}]


def test_custom_signature_header_is_reserved_for_custom_headers() -> None:
    metadata = {
        "url": "https://e.com",
        "signing_algorithm": "sha256",
        "signing_secret": "s",
        "signature_header": "X-Sig",
        "headers": [{"name": "x-sig", "value": "1"}],
    }
    _, problems = validate_metadata("webhook", metadata)
    assert params(problems) == ["metadata.headers[0]"]


def test_oauth_types_accept_any_metadata() -> None:
    normalized, problems = validate_metadata(
        "hubspot", {"access_token": "t", "refresh_token": "r", "portal_id": 123}
    )
    assert problems == []
    assert normalized["portal_id"] == 123


def test_undeclared_keys_are_kept() -> None:
    normalized, problems = validate_metadata("sendgrid", {"api_key": "k", "note": "prod"})
    assert problems == []
    assert normalized["note"] == "prod"


def test_mask_hides_every_secret() -> None:
    metadata = {
        "url": "https://e.com",
        "auth_scheme": "bearer",
        "bearer_token": "tok-123",
        "signing_secret": "sig-456",
        "basic_username": "user",
    }
    masked = mask_metadata("webhook", metadata)
    assert masked == {
        "url": "https://e.com",
        "auth_scheme": "bearer",
        "bearer_token": MASK,
        "signing_secret": MASK,
        "basic_username": "user",
    }
    assert mask_metadata("hubspot", {"access_token": "a", "portal": "p"}) == {
        "access_token": MASK,
        "portal": "p",
    }
    assert mask_metadata("customer_io", {"cdpApiKey": "k", "region": "US"})["cdpApiKey"] == MASK


def test_merge_masked_keeps_stored_secrets_sent_back_masked() -> None:
    old = {"api_url": "https://a.com", "api_key": "real-key"}
    new = {"api_url": "https://b.com", "api_key": MASK}
    assert merge_masked("activecampaign", new, old) == {
        "api_url": "https://b.com",
        "api_key": "real-key",
    }
    replaced = merge_masked("activecampaign", {"api_key": "new-key"}, old)
    assert replaced == {"api_key": "new-key"}


def test_mask_reaches_nested_objects_and_credential_headers() -> None:
    metadata = {
        "oauth": {"access_token": "deep", "scope": "contacts"},
        "accounts": [{"api_key": "k1", "id": "a1"}],
        "headers": [
            {"name": "X-Tenant", "value": "acme"},
            {"name": "X-API-Key", "value": "hdr-key"},
            {"name": "X-Auth-Token", "value": "hdr-token"},
        ],
    }
    assert mask_metadata("webhook", metadata) == {
        "oauth": {"access_token": MASK, "scope": "contacts"},
        "accounts": [{"api_key": MASK, "id": "a1"}],
        "headers": [
            {"name": "X-Tenant", "value": "acme"},
            {"name": "X-API-Key", "value": MASK},
            {"name": "X-Auth-Token", "value": MASK},
        ],
    }


def test_merge_masked_restores_masked_header_values_by_name() -> None:
    old = {"headers": [{"name": "X-API-Key", "value": "real"}, {"name": "X-A", "value": "a"}]}
    new = {"headers": [{"name": "x-api-key", "value": MASK}, {"name": "X-B", "value": MASK}]}
    assert merge_masked("webhook", new, old)["headers"] == [
        {"name": "x-api-key", "value": "real"},
        {"name": "X-B", "value": MASK},
    ]
