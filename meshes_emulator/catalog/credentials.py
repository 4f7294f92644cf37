"""Connection `metadata`: validation against the catalog's credential fields, masking, merging.

* `validate_metadata(type, metadata)` -> `(normalized, problems)`; problems are `{param, msg}` with
  `param` = `metadata.<key>` (the reference's per-parameter error shape). Rules:
  required fields (whose `dependsOn` holds) must be non-empty strings; `select` values must be one
  of the options (matched case-insensitively, stored in the option's spelling); `validate: url`
  fields must be absolute `https` URLs, with plain `http` accepted for loopback hosts only (an
  emulator allowance); a few per-type formats (Mailchimp data center, webhook header names).
  Missing optional `select`/text fields with a `defaultValue` get it (when their `dependsOn`
  holds), so stored metadata is explicit. Keys the catalog does not declare are kept as given.
  OAuth types declare no fields: any object is accepted (tokens may be supplied this way).
* `mask_metadata(type, metadata)`: every secret key's value replaced by `MASK`, and the password
  of a URL's userinfo (`http://user:pass@host/` -> `http://user:********@host/`, `mask_url`).
* `merge_masked(type, new, old)`: on update, a secret sent back as `MASK` (or a URL sent back
  with its masked userinfo) keeps the stored value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from meshes_emulator.catalog import MASK, credential_fields, is_secret_key

__all__ = [
    "MAX_WEBHOOK_HEADERS",
    "is_loopback_host",
    "mask_metadata",
    "mask_url",
    "merge_masked",
    "url_problem",
    "validate_metadata",
]

Problem = dict[str, str]

MAX_WEBHOOK_HEADERS = 5
MAX_VALUE_LENGTH = 4096
_DATA_CENTER = re.compile(r"^[a-z]{2,4}[0-9]{1,3}$")
DATA_CENTER_PROBLEM = "must be a data center such as us6"
_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# headers a webhook connection's custom headers may not set (the request's own); the webhook
# sender adds its timestamp header to them (engine/webhook.py)
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "authorization",
        "connection",
        "transfer-encoding",
        "user-agent",
    }
)


def is_loopback_host(host: str) -> bool:
    """`localhost`, `*.localhost`, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(value: str, extra_http_hosts: Iterable[str] = ()) -> str | None:
    """Why `value` is not an acceptable destination URL, or None when it is."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "must be a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an absolute https URL"
    if parts.scheme == "http" and not (
        is_loopback_host(host) or host.lower() in {h.lower() for h in extra_http_hosts}
    ):
        return "must use https (plain http is accepted for loopback hosts only)"
    if any(ch.isspace() for ch in value.strip()):
        return "must not contain whitespace"
    return None


def _depends_ok(field: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    dep = field.get("dependsOn")
    if not dep:
        return True
    wanted = dep["value"]
    wanted_set = {wanted} if isinstance(wanted, str) else set(wanted)
    actual = values.get(dep["field"])
    return isinstance(actual, str) and actual in wanted_set


def _check_select(field: Mapping[str, Any], value: str) -> tuple[str, str | None]:
    options = [str(o["value"]) for o in field.get("options", [])]
    for option in options:
        if option.lower() == value.strip().lower():
            return option, None
    return value, "must be one of: " + ", ".join(options)


def _check_field(
    integration_type: str,
    field: Mapping[str, Any],
    value: Any,
    extra_http_hosts: Iterable[str],
) -> tuple[Any, str | None]:
    """(normalized value, problem or None) for one declared credential field."""
    key = str(field["key"])
    if integration_type == "webhook" and key == "headers":
        return _normalize_headers(value)
    if not isinstance(value, str):
        return value, "must be a string"
    if len(value) > MAX_VALUE_LENGTH:
        return value, f"must be at most {MAX_VALUE_LENGTH} characters"
    if field.get("type") == "select":
        return _check_select(field, value)
    if field.get("validate") == "url":
        return value.strip(), url_problem(value, extra_http_hosts)
    if integration_type == "mailchimp" and key == "data_center":
        dc = value.strip().lower()
        return dc, None if _DATA_CENTER.match(dc) else DATA_CENTER_PROBLEM
    if key in ("auth_header_name", "signature_header") and not _valid_header_name(value.strip()):
        return value, "must be a valid HTTP header name"
    return value, None


def validate_metadata(
    integration_type: str,
    metadata: Mapping[str, Any],
    *,
    extra_http_hosts: Iterable[str] = (),
    inferred: list[Problem] | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Check `metadata` against the type's credential fields; return (normalized, problems).

    With an `inferred` list, the problems only the emulator infers go there instead (the
    leniency policy): a missing required field (the reference calls metadata "arbitrary
    connector metadata"), the Mailchimp data-center shape and reserved webhook header names.
    """
    normalized: dict[str, Any] = dict(metadata)
    problems: list[Problem] = []
    soft = problems if inferred is None else inferred
    fields = credential_fields(integration_type)
    for field in fields:
        key = str(field["key"])
        if key not in normalized and "defaultValue" in field and _depends_ok(field, normalized):
            normalized[key] = field["defaultValue"]
    for field in fields:
        key = str(field["key"])
        active = _depends_ok(field, normalized)
        value = normalized.get(key)
        empty = value is None or (isinstance(value, str) and not value.strip())
        if empty:
            if active and field.get("required"):
                soft.append({"param": f"metadata.{key}", "msg": f"{field['label']} is required"})
            continue
        fixed, problem = _check_field(integration_type, field, value, extra_http_hosts)
        if problem:
            target = soft if problem == DATA_CENTER_PROBLEM else problems
            target.append({"param": f"metadata.{key}", "msg": f"{key} {problem}"})
        else:
            normalized[key] = fixed
    if integration_type == "webhook" and not problems and not soft:
        soft.extend(_webhook_cross_checks(normalized))
    return normalized, problems


def _valid_header_name(name: str) -> bool:
    return 0 < len(name) <= 256 and all(ch in _TCHARS for ch in name)


def _normalize_headers(value: Any) -> tuple[Any, str | None]:
    """Accept a list of {name, value} or an object {name: value}; return the list form."""
    if isinstance(value, Mapping):
        value = [{"name": k, "value": v} for k, v in value.items()]
    if not isinstance(value, list):
        return value, "must be a list of {name, value} objects"
    if len(value) > MAX_WEBHOOK_HEADERS:
        return value, f"accepts at most {MAX_WEBHOOK_HEADERS} custom headers"
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) - {"name", "value"}:
            return value, f"[{index}] must be an object with name and value"
        name, val = item.get("name"), item.get("value")
        if not isinstance(name, str) or not isinstance(val, str):
            return value, f"[{index}] needs a string name and a string value"
        if not _valid_header_name(name):
            return value, f"[{index}] has an invalid header name {name!r}"
        if "\r" in val or "\n" in val or len(val) > MAX_VALUE_LENGTH:
            return value, f"[{index}] has an invalid value (no line breaks, at most 4096 chars)"
        if name.lower() in seen:
            return value, f"[{index}] duplicates header {name!r}"
        seen.add(name.lower())
        out.append({"name": name, "value": val})
    return out, None


def _is_reserved(name: str, signature_header: str) -> bool:
    lowered = name.lower()
    return (
        lowered in RESERVED_HEADERS
        or lowered.startswith("x-meshes-")
        or lowered == signature_header.lower()
    )


def _webhook_cross_checks(metadata: Mapping[str, Any]) -> list[Problem]:
    """Header names that collide with reserved or Meshes-owned headers."""
    signing = metadata.get("signing_algorithm", "none") != "none"
    signature = str(metadata.get("signature_header") or "X-Meshes-Signature")
    problems: list[Problem] = []
    if signing and signature.lower() in RESERVED_HEADERS:
        problems.append(
            {"param": "metadata.signature_header", "msg": f"header {signature!r} is reserved"}
        )
    sig_for_clash = signature if signing else "X-Meshes-Signature"
    if metadata.get("auth_scheme") == "custom_header":
        name = str(metadata.get("auth_header_name", ""))
        if _is_reserved(name, sig_for_clash):
            problems.append(
                {"param": "metadata.auth_header_name", "msg": f"header {name!r} is reserved"}
            )
    for index, item in enumerate(metadata.get("headers") or []):
        if _is_reserved(item["name"], sig_for_clash):
            problems.append(
                {
                    "param": f"metadata.headers[{index}]",
                    "msg": f"header {item['name']!r} is reserved",
                }
            )
    return problems


_SECRET_HEADER = re.compile(r"(key|token|secret|auth|passw|signature|credential|cookie)", re.I)


def _is_secret_header(item: Any) -> bool:
    return isinstance(item, Mapping) and bool(_SECRET_HEADER.search(str(item.get("name", ""))))


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def mask_url(value: str) -> str:
    """`value` with the secret of a URL's userinfo masked: `http://user:pass@host/` ->
    `http://user:********@host/`; a user name alone (often a token) -> `http://********@host/`.
    Anything that is not such a URL comes back unchanged."""
    if "@" not in value:  # no userinfo: the common case, answered without parsing
        return value
    scheme_end = value.find("://")
    if scheme_end < 0 or not _SCHEME.fullmatch(value[:scheme_end].strip()):
        return value
    start = scheme_end + 3
    ends = [index for index in (value.find(mark, start) for mark in "/?#") if index >= 0]
    end = min(ends, default=len(value))
    userinfo, at, host = value[start:end].rpartition("@")
    if not at:
        return value
    user, colon, _ = userinfo.partition(":")
    masked = f"{user}:{MASK}" if colon else MASK
    return f"{value[:start]}{masked}@{host}{value[end:]}"


def _mask_value(integration_type: str, key: str, value: Any) -> Any:
    if value is None:
        return None
    if is_secret_key(integration_type, key):
        return MASK
    if isinstance(value, str):
        return mask_url(value) if "@" in value else value
    if isinstance(value, Mapping):
        return {k: _mask_value(integration_type, str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        if key == "headers":
            return [{**item, "value": MASK} if _is_secret_header(item) else item for item in value]
        return [_mask_value(integration_type, key, item) for item in value]
    return value


def mask_metadata(integration_type: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `metadata` with every secret value replaced by MASK, at any depth.

    Secret: a key `is_secret_key` names (in nested objects too), and the value of a static
    webhook header whose name looks like a credential (`X-API-Key`, `X-Auth-Token`...).
    """
    return {key: _mask_value(integration_type, key, value) for key, value in metadata.items()}


def merge_masked(
    integration_type: str, new: Mapping[str, Any], old: Mapping[str, Any]
) -> dict[str, Any]:
    """`new`, where a secret sent back as MASK keeps its stored value from `old`.

    Applies to top-level secret keys, top-level URLs with masked userinfo and masked static
    header values (matched by name).
    """
    merged = dict(new)
    for key, value in new.items():
        if value == MASK and is_secret_key(integration_type, key) and key in old:
            merged[key] = old[key]
        elif (isinstance(value, str) and MASK in value and isinstance(old.get(key), str)
              and value != old[key] and mask_url(old[key]) == value):
            merged[key] = old[key]  # a URL sent back with its userinfo masked
    headers, old_headers = new.get("headers"), old.get("headers")
    if isinstance(headers, list) and isinstance(old_headers, list):
        stored = {
            str(h.get("name", "")).lower(): h.get("value")
            for h in old_headers
            if isinstance(h, Mapping)
        }
        merged["headers"] = [
            {**h, "value": stored[str(h.get("name", "")).lower()]}
            if isinstance(h, Mapping)
            and h.get("value") == MASK
            and str(h.get("name", "")).lower() in stored
            else h
            for h in headers
        ]
    return merged
