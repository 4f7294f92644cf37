"""Webhook deliveries (behavior §4.5): build the outgoing request, send it, classify the answer.

Connection metadata keys: `url`, `http_method` (POST|PUT|PATCH, default POST), `payload_mode`
(wrapped|raw, default wrapped), `auth_scheme` (none|basic|bearer|custom_header), `basic_username`,
`basic_password`, `bearer_token`, `auth_header_name`, `auth_header_value`, `signing_algorithm`
(none|sha256|sha512), `signing_secret`, `signature_header` (default `X-Meshes-Signature`),
`headers` (at most 5 `{name, value}`).

Choices where the reference is silent (docs/behaviour.md):

* wrapped body: `{uuid, event, resource, resource_id, payload, time_created, time_sent}` with
  `uuid` = the event id and the two times in epoch milliseconds;
* raw body: the payload object; metadata in `X-Meshes-Event-Id`, `X-Meshes-Event`,
  `X-Meshes-Resource`, `X-Meshes-Resource-Id`, `X-Meshes-Time-Created`, `X-Meshes-Time-Sent`;
* signature: `sha256=<hex>` / `sha512=<hex>` HMAC over the exact body bytes (the timestamp is not
  signed), plus `X-Meshes-Timestamp` = the send time in epoch seconds;
* reserved custom header names: `Content-Type`, `Content-Length`, `Host`, `Authorization`,
  `Connection`, `Transfer-Encoding`, `User-Agent`, the signature header and every `X-Meshes-*`;
* success is any 2xx or 3xx (redirects are not followed); one deadline covers the whole attempt
  (connect, send, every read; default 10 s); at most 64 KiB of an answer's body is read (the
  connection is then closed, not kept).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from meshes_emulator.catalog.credentials import RESERVED_HEADERS as CUSTOM_HEADERS_REFUSED
from meshes_emulator.catalog.credentials import _is_secret_header, mask_url

DEFAULT_TIMEOUT = 10.0  # seconds for the whole attempt: connect, send and the answer
MAX_ANSWER_BYTES = 64 * 1024  # of an answer's body read (4096 characters are kept)
DEFAULT_SIGNATURE_HEADER = "X-Meshes-Signature"
TIMESTAMP_HEADER = "X-Meshes-Timestamp"
USER_AGENT = "Meshes-Webhooks/1.0 (meshes-emulator)"
MAX_CUSTOM_HEADERS = 5
METHODS = ("POST", "PUT", "PATCH")
PAYLOAD_MODES = ("wrapped", "raw")
AUTH_SCHEMES = ("none", "basic", "bearer", "custom_header")
SIGNING_ALGORITHMS = ("none", "sha256", "sha512")
# custom headers the sender leaves out: the connection's refused ones and its own timestamp
RESERVED_HEADERS = CUSTOM_HEADERS_REFUSED | {TIMESTAMP_HEADER.lower()}
SECRET_KEYS = frozenset({"basic_password", "bearer_token", "auth_header_value", "signing_secret"})


class WebhookConfigError(ValueError):
    """The connection's webhook settings cannot produce a request."""


@dataclass(frozen=True)
class WebhookRequest:
    """One outgoing webhook request; `body` is exactly the bytes sent (and signed)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    meta: dict[str, Any] = field(default_factory=dict)

    def as_record(self, *, redact: bool = True) -> dict[str, Any]:
        """A JSON-able description for the delivery sink (credentials masked)."""
        headers = dict(self.headers)
        if redact:
            for name in list(headers):
                if name.lower() in self.meta.get("secret_headers", ()):
                    headers[name] = "***"
        try:
            body: Any = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            body = self.body.decode("utf-8", "replace")
        url = mask_url(self.url) if redact else self.url
        return {"method": self.method, "url": url, "headers": headers, "body": body}


def epoch_ms(instant: datetime) -> int:
    return int(instant.astimezone(UTC).timestamp() * 1000)


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def metadata_problems(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with webhook connection metadata as `(param, msg)` pairs (empty when fine).

    Callers validating a connection write may use this; `build_request` refuses the same things.
    """
    problems: list[tuple[str, str]] = []
    url = metadata.get("url")
    if not isinstance(url, str) or not url.strip():
        problems.append(("metadata.url", "url is required"))
    else:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(("metadata.url", "url must be an absolute http(s) URL"))
    method = str(metadata.get("http_method") or "POST").upper()
    if method not in METHODS:
        problems.append(("metadata.http_method", "http_method must be POST, PUT or PATCH"))
    mode = str(metadata.get("payload_mode") or "wrapped").lower()
    if mode not in PAYLOAD_MODES:
        problems.append(("metadata.payload_mode", "payload_mode must be wrapped or raw"))
    problems.extend(_auth_problems(metadata))
    problems.extend(_signing_problems(metadata))
    problems.extend(_header_problems(metadata))
    return problems


def _auth_problems(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    scheme = str(metadata.get("auth_scheme") or "none").lower()
    required = {
        "none": (),
        "basic": ("basic_username", "basic_password"),
        "bearer": ("bearer_token",),
        "custom_header": ("auth_header_name", "auth_header_value"),
    }
    if scheme not in required:
        return [("metadata.auth_scheme", "auth_scheme must be none, basic, bearer or custom_header")]
    problems = [
        (f"metadata.{key}", f"{key} is required when auth_scheme is {scheme}")
        for key in required[scheme]
        if not isinstance(metadata.get(key), str) or not metadata.get(key)
    ]
    if scheme == "custom_header" and not problems:
        name = str(metadata["auth_header_name"])
        if _is_reserved(name, _signature_header(metadata)) or not _valid_header_name(name):
            problems.append(("metadata.auth_header_name", f"header name {name!r} is not allowed"))
    return problems


def _signing_problems(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    algorithm = str(metadata.get("signing_algorithm") or "none").lower()
    if algorithm not in SIGNING_ALGORITHMS:
        return [("metadata.signing_algorithm", "signing_algorithm must be none, sha256 or sha512")]
    problems: list[tuple[str, str]] = []
    if algorithm != "none":
        secret = metadata.get("signing_secret")
        if not isinstance(secret, str) or not secret:
            problems.append(("metadata.signing_secret", "signing_secret is required for signing"))
        header = _signature_header(metadata)
        if not _valid_header_name(header) or header.lower() in RESERVED_HEADERS:
            problems.append(("metadata.signature_header", f"header name {header!r} is not allowed"))
    return problems


def _header_problems(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers = metadata.get("headers")
    if headers in (None, []):
        return []
    if not isinstance(headers, list):
        return [("metadata.headers", "headers must be a list of {name, value}")]
    if len(headers) > MAX_CUSTOM_HEADERS:
        return [("metadata.headers", f"at most {MAX_CUSTOM_HEADERS} custom headers")]
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    signature = _signature_header(metadata)
    for index, item in enumerate(headers):
        param = f"metadata.headers[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append((param, "each header needs a string name and value"))
            continue
        name, value = item["name"], item.get("value")
        if not isinstance(value, str):
            problems.append((param, "each header needs a string name and value"))
        elif not _valid_header_name(name):
            problems.append((param, f"invalid header name {name!r}"))
        elif _is_reserved(name, signature):
            problems.append((param, f"header name {name!r} is reserved"))
        elif name.lower() in seen:
            problems.append((param, f"duplicate header {name!r}"))
        elif "\r" in value or "\n" in value:
            problems.append((param, "header values cannot contain line breaks"))
        seen.add(name.lower())
    return problems


def _signature_header(metadata: Mapping[str, Any]) -> str:
    return str(metadata.get("signature_header") or DEFAULT_SIGNATURE_HEADER)


def _is_reserved(name: str, signature_header: str) -> bool:
    lowered = name.lower()
    return (
        lowered in RESERVED_HEADERS or lowered.startswith("x-meshes-") or lowered == signature_header.lower()
    )


def _valid_header_name(name: str) -> bool:
    allowed = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return bool(name) and len(name) <= 256 and all(ch in allowed for ch in name)


def build_body(event: Mapping[str, Any], mode: str, sent_at: datetime) -> bytes:
    """The body bytes: the wrapped envelope or the raw payload, compact JSON."""
    payload = event.get("payload") or {}
    if mode == "raw":
        return orjson.dumps(payload)
    envelope = {
        "uuid": event.get("id"),
        "event": event.get("event"),
        "resource": event.get("resource") or "global",
        "resource_id": event.get("resource_id"),
        "payload": payload,
        "time_created": epoch_ms(_instant(event.get("created_at") or sent_at)),
        "time_sent": epoch_ms(sent_at),
    }
    return orjson.dumps(envelope)


def sign(body: bytes, secret: str, algorithm: str) -> str:
    """The signature header value: `sha256=<hex>` or `sha512=<hex>`."""
    digest = hashlib.sha256 if algorithm == "sha256" else hashlib.sha512
    return f"{algorithm}=" + hmac.new(secret.encode("utf-8"), body, digest).hexdigest()


def build_request(metadata: Mapping[str, Any], event: Mapping[str, Any], sent_at: datetime) -> WebhookRequest:
    """The request a webhook connection sends for `event` at `sent_at`.

    `event` needs `id`, `event`, `resource`, `resource_id`, `payload`, `created_at`.
    Raises WebhookConfigError when the metadata is unusable.
    """
    problems = metadata_problems(metadata)
    if problems:
        raise WebhookConfigError("; ".join(f"{param}: {msg}" for param, msg in problems))
    mode = str(metadata.get("payload_mode") or "wrapped").lower()
    body = build_body(event, mode, sent_at)
    headers: dict[str, str] = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    secret_headers: set[str] = set()
    if mode == "raw":
        headers.update(_raw_headers(event, sent_at))
    for item in metadata.get("headers") or []:
        headers[item["name"]] = item["value"]
        if _is_secret_header(item):  # masked in records like the connection masks it
            secret_headers.add(str(item["name"]).lower())
    scheme = str(metadata.get("auth_scheme") or "none").lower()
    if scheme == "basic":
        pair = f"{metadata['basic_username']}:{metadata['basic_password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        secret_headers.add("authorization")
    elif scheme == "bearer":
        headers["Authorization"] = f"Bearer {metadata['bearer_token']}"
        secret_headers.add("authorization")
    elif scheme == "custom_header":
        headers[str(metadata["auth_header_name"])] = str(metadata["auth_header_value"])
        secret_headers.add(str(metadata["auth_header_name"]).lower())
    algorithm = str(metadata.get("signing_algorithm") or "none").lower()
    if algorithm != "none":
        headers[_signature_header(metadata)] = sign(body, str(metadata["signing_secret"]), algorithm)
        headers[TIMESTAMP_HEADER] = str(int(sent_at.timestamp()))
    return WebhookRequest(
        method=str(metadata.get("http_method") or "POST").upper(),
        url=str(metadata["url"]).strip(),
        headers=headers,
        body=body,
        meta={"payload_mode": mode, "secret_headers": sorted(secret_headers), "sent_at": sent_at},
    )


def _raw_headers(event: Mapping[str, Any], sent_at: datetime) -> dict[str, str]:
    created = _instant(event.get("created_at") or sent_at)
    headers = {
        "X-Meshes-Event-Id": str(event.get("id") or ""),
        "X-Meshes-Event": str(event.get("event") or ""),
        "X-Meshes-Resource": str(event.get("resource") or "global"),
        "X-Meshes-Time-Created": str(epoch_ms(created)),
        "X-Meshes-Time-Sent": str(epoch_ms(sent_at)),
    }
    if event.get("resource_id"):
        headers["X-Meshes-Resource-Id"] = str(event["resource_id"])
    return headers
