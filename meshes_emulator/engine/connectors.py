"""Simulated connectors for the 14 non-webhook integrations. No network, pure functions.

Given the integration type, the rule's action and metadata, the connection's metadata, the mapped
fields (from the connection's mapping) and the event payload, `simulate` returns an `Outcome`:
`delivered` carrying, in `request`, the provider API calls the real integration would have made
(`{"integration_type", "action", "requests": [{method, url, headers, body}, ...]}`), or a failure
(what the provider would refuse, detected up front) with nothing sent.

Choices where the reference is silent (docs/behaviour.md):

* Contact actions need an email: the mapped `email` (or `email_address` / `Email`) field, else the
  payload's root `email`. None -> `validation_failed`; a malformed one -> `validation_failed`.
* A missing rule-metadata input the action needs (`id`, `value`, `template`, `from`...) ->
  `invalid_request` (the rule cannot produce a valid provider request).
* A missing API credential in an api_key connection -> `auth_failed`.
* A rule action the integration does not have (accepted with a warning, leniency.py) ->
  `invalid_request` naming the integration's actions.
* Ids a provider assigns in an earlier call of the same delivery (the contact found or created)
  appear as placeholders such as `{contact_id}` in later calls.
* Templates (Slack, Discord, SendGrid `send_email`): `{{field}}` and `{{a.b}}` resolve from the
  payload root (SendGrid: payload then mapped fields); a missing value renders as "".
* Secrets in recorded headers are masked as `***`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from meshes_emulator.catalog import action_keys
from meshes_emulator.catalog.credentials import mask_url
from meshes_emulator.engine.outcomes import Outcome, OutcomeCode, ResponseDetails

MASK = "***"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_EMAIL_KEYS = ("email", "email_address", "Email")


class ConnectorError(Exception):
    """The provider request cannot be made; carries the attempt outcome code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class ConnectorInput:
    """Everything a simulated connector looks at for one attempt (read, never changed: one is
    made per attempt, and a frozen dataclass's init costs 1.0 us against 0.3)."""

    integration_type: str
    action: str
    rule_metadata: Mapping[str, Any]
    connection_metadata: Mapping[str, Any]
    mapped: Mapping[str, Any] | None
    payload: Mapping[str, Any]
    event: Mapping[str, Any]

    def meta(self, key: str, what: str | None = None) -> str:
        """A required rule-metadata string (`invalid_request` when absent)."""
        value = self.rule_metadata.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            label = f" ({what})" if what else ""
            raise ConnectorError(
                OutcomeCode.INVALID_REQUEST,
                f"{self.integration_type} {self.action}: rule metadata.{key}{label} is required",
            )
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    def optional_meta(self, key: str) -> str | None:
        value = self.rule_metadata.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    def api_key(self, key: str = "api_key") -> str:
        value = self.connection_metadata.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConnectorError(
                OutcomeCode.AUTH_FAILED,
                f"{self.integration_type} connection has no {key}: update the connection",
            )
        return value


# -- helpers ---------------------------------------------------------------------------------


def lookup(data: Any, path: str) -> Any:
    """Follow a dot path through nested dicts; None when any step is missing."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and len(part) < 10 and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def render_template(template: str, *contexts: Mapping[str, Any]) -> str:
    """Replace `{{path}}` with the first context's value at that path; missing -> ""."""

    def replace(match: re.Match[str]) -> str:
        for context in contexts:
            value = lookup(context, match.group(1))
            if value is not None:
                return _text(value)
        return ""

    return _PLACEHOLDER_RE.sub(replace, template)


def _fields(inp: ConnectorInput, defaults: Mapping[str, str]) -> dict[str, Any]:
    """Destination fields: the mapped ones, or `defaults` (dest <- payload key) if no mapping."""
    if inp.mapped:
        return {k: v for k, v in inp.mapped.items() if v is not None}
    return {dest: inp.payload[src] for dest, src in defaults.items() if inp.payload.get(src)}


def _email_candidates(inp: ConnectorInput) -> tuple[Any, ...]:
    """The mapped email fields, then the payload's root `email`."""
    mapped, email = inp.mapped, inp.payload.get("email")
    if not mapped:
        return (email,)
    return (*map(mapped.get, _EMAIL_KEYS), email)


def contact_email(inp: ConnectorInput) -> str:
    """The contact's email (mapped first, then the payload root); validated."""
    email: str | None = None
    for candidate in _email_candidates(inp):
        if isinstance(candidate, str) and candidate.strip():
            email = candidate
            break
    if email is None:
        raise ConnectorError(
            OutcomeCode.VALIDATION_FAILED,
            f"{inp.integration_type} {inp.action} needs the contact's email: the payload has no "
            "`email` and the mapping produces none",
        )
    email = email.strip()
    if not _EMAIL_RE.match(email):
        raise ConnectorError(
            OutcomeCode.VALIDATION_FAILED,
            f"{inp.integration_type} {inp.action}: {email!r} is not a valid email address",
        )
    return email


def _without(fields: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in keys}


def req(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One recorded provider call."""
    record: dict[str, Any] = {"method": method, "url": mask_url(url),
                              "headers": dict(headers or {})}
    record["body"] = body
    return record


_JSON = {"Content-Type": "application/json"}
_BEARER = {**_JSON, "Authorization": f"Bearer {MASK}"}


# -- per-integration request builders --------------------------------------------------------

_AC_CONTACT = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "phone": "phone",
}


def _activecampaign(inp: ConnectorInput) -> list[dict[str, Any]]:
    base = str(inp.connection_metadata.get("api_url") or "").rstrip("/")
    if not base:
        raise ConnectorError(OutcomeCode.INVALID_REQUEST, "activecampaign connection has no api_url")
    inp.api_key()
    headers = {**_JSON, "Api-Token": MASK}
    contact = _fields(inp, _AC_CONTACT)
    contact["email"] = contact_email(inp)
    calls = [req("POST", f"{base}/api/3/contact/sync", {"contact": contact}, headers)]
    action = inp.action
    if action == "sync_contact":
        return calls
    if action in ("add_to_list", "remove_from_list"):
        status = 1 if action == "add_to_list" else 2
        body = {
            "contactList": {
                "list": inp.meta("id", "list"),
                "contact": "{contact_id}",
                "status": status,
            }
        }
        return [*calls, req("POST", f"{base}/api/3/contactLists", body, headers)]
    if action == "add_tag":
        body = {"contactTag": {"contact": "{contact_id}", "tag": inp.meta("id", "tag")}}
        return [*calls, req("POST", f"{base}/api/3/contactTags", body, headers)]
    if action == "remove_tag":
        inp.meta("id", "tag")
        return [
            *calls,
            req("DELETE", f"{base}/api/3/contactTags/{{contact_tag_id}}", None, headers),
        ]
    raise _unknown_action(inp)


def _aweber(inp: ConnectorInput) -> list[dict[str, Any]]:
    list_id = inp.meta("id", "list")
    email = contact_email(inp)
    base = f"https://api.aweber.com/1.0/accounts/{{account_id}}/lists/{quote(list_id)}/subscribers"
    if inp.action == "add_to_list":
        fields = _fields(inp, {"name": "name"})
        body: dict[str, Any] = {"email": email}
        if fields.get("name"):
            body["name"] = fields["name"]
        extra = _without(fields, "email", "name")
        if extra:
            body["custom_fields"] = extra
        return [req("POST", base, body, _BEARER)]
    if inp.action == "remove_from_list":
        return [req("DELETE", f"{base}?subscriber_email={quote(email)}", None, _BEARER)]
    raise _unknown_action(inp)


def _customer_io(inp: ConnectorInput) -> list[dict[str, Any]]:
    if inp.action != "track_event":
        raise _unknown_action(inp)
    inp.api_key("cdpApiKey")
    region = str(inp.connection_metadata.get("region") or "US").upper()
    host = "https://cdp-eu.customer.io" if region == "EU" else "https://cdp.customer.io"
    headers = {**_JSON, "Authorization": f"Basic {MASK}"}
    traits = _fields(
        inp,
        {
            "email": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "name": "name",
            "phone": "phone",
        },
    )
    user_id = traits.pop("id", None) or inp.payload.get("id")
    email = traits.get("email") or inp.payload.get("email")
    if not user_id and not email:
        raise ConnectorError(
            OutcomeCode.VALIDATION_FAILED,
            "customer_io track_event needs a person identifier: map `id` or `email`",
        )
    if email:
        traits["email"] = contact_email(inp)
    ident: dict[str, Any] = {"userId": _text(user_id)} if user_id else {"anonymousId": traits["email"]}
    name = inp.optional_meta("event_name_override") or str(inp.event.get("event") or "")
    return [
        req("POST", f"{host}/v1/identify", {**ident, "traits": traits}, headers),
        req(
            "POST",
            f"{host}/v1/track",
            {**ident, "event": name, "properties": dict(inp.payload)},
            headers,
        ),
    ]


def _discord(inp: ConnectorInput) -> list[dict[str, Any]]:
    if inp.action != "send_message":
        raise _unknown_action(inp)
    channel = inp.meta("id", "channel")
    title = render_template(inp.meta("title"), inp.payload)
    description = render_template(inp.meta("template"), inp.payload)
    body = {"embeds": [{"title": title, "description": description}]}
    headers = {**_JSON, "Authorization": f"Bot {MASK}"}
    url = f"https://discord.com/api/v10/channels/{quote(channel)}/messages"
    return [req("POST", url, body, headers)]


_HUBSPOT_CONTACT = {
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "phone": "phone",
}


def _hubspot(inp: ConnectorInput) -> list[dict[str, Any]]:
    base = "https://api.hubapi.com"
    email = contact_email(inp)
    properties = _fields(inp, _HUBSPOT_CONTACT)
    properties.pop("Email", None)
    properties.pop("email_address", None)
    properties["email"] = email
    if inp.action == "update_property":
        properties[inp.meta("id", "property")] = inp.meta("value", "option")
    elif inp.action not in ("add_to_list", "remove_from_list"):
        raise _unknown_action(inp)
    upsert = {"inputs": [{"idProperty": "email", "id": email, "properties": properties}]}
    calls = [req("POST", f"{base}/crm/v3/objects/contacts/batch/upsert", upsert, _BEARER)]
    if inp.action == "update_property":
        return calls
    list_id = quote(inp.meta("id", "list"))
    verb = "add" if inp.action == "add_to_list" else "remove"
    url = f"{base}/contacts/v1/lists/{list_id}/{verb}"
    return [*calls, req("POST", url, {"emails": [email]}, _BEARER)]


def _intercom(inp: ConnectorInput) -> list[dict[str, Any]]:
    base = "https://api.intercom.io"
    tag = inp.meta("id", "tag") if inp.action in ("add_tag", "remove_tag") else None
    if tag is None:
        raise _unknown_action(inp)
    contact = _fields(inp, {"email": "email", "name": "name", "phone": "phone", "external_id": "id"})
    contact["email"] = contact_email(inp)
    contact.setdefault("role", "user")
    search = {"query": {"field": "email", "operator": "=", "value": contact["email"]}}
    calls = [
        req("POST", f"{base}/contacts/search", search, _BEARER),
        req("POST", f"{base}/contacts", contact, _BEARER),
    ]
    if inp.action == "add_tag":
        return [*calls, req("POST", f"{base}/contacts/{{contact_id}}/tags", {"id": tag}, _BEARER)]
    url = f"{base}/contacts/{{contact_id}}/tags/{quote(tag)}"
    return [*calls, req("DELETE", url, None, _BEARER)]


_MAILCHIMP_MERGE = {"FNAME": "first_name", "LNAME": "last_name", "PHONE": "phone"}


def _mailchimp(inp: ConnectorInput) -> list[dict[str, Any]]:
    if inp.action not in ("add_to_list", "remove_from_list"):
        raise _unknown_action(inp)
    key = inp.api_key()
    dc = str(inp.connection_metadata.get("data_center") or "").strip()
    if not dc and "-" in key:
        dc = key.rsplit("-", 1)[1]
    if not dc:
        raise ConnectorError(OutcomeCode.INVALID_REQUEST, "mailchimp connection has no data_center")
    list_id = inp.meta("id", "audience")
    email = contact_email(inp)
    subscriber = hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()
    status = "subscribed" if inp.action == "add_to_list" else "unsubscribed"
    fields = _fields(inp, _MAILCHIMP_MERGE)
    body: dict[str, Any] = {"email_address": email, "status_if_new": status, "status": status}
    ip = fields.get("ip_signup") or (None if inp.mapped else inp.payload.get("ip_address"))
    if ip:
        body["ip_signup"] = ip
    merge = _without(fields, *_EMAIL_KEYS, "ip_signup")
    if merge:
        body["merge_fields"] = merge
    url = f"https://{dc}.api.mailchimp.com/3.0/lists/{quote(list_id)}/members/{subscriber}"
    headers = {**_JSON, "Authorization": f"Basic {MASK}"}
    return [req("PUT", url, body, headers)]


def _mailerlite(inp: ConnectorInput) -> list[dict[str, Any]]:
    inp.api_key()
    base = "https://connect.mailerlite.com/api"
    group = inp.meta("id", "group") if inp.action in ("add_to_group", "remove_from_group") else None
    if group is None:
        raise _unknown_action(inp)
    fields = _fields(inp, {"name": "first_name", "last_name": "last_name", "phone": "phone"})
    body: dict[str, Any] = {"email": contact_email(inp)}
    extra = _without(fields, *_EMAIL_KEYS)
    if extra:
        body["fields"] = extra
    if inp.action == "add_to_group":
        body["groups"] = [group]
        return [req("POST", f"{base}/subscribers", body, _BEARER)]
    url = f"{base}/subscribers/{{subscriber_id}}/groups/{quote(group)}"
    return [req("POST", f"{base}/subscribers", body, _BEARER), req("DELETE", url, None, _BEARER)]


def _pipedrive(inp: ConnectorInput) -> list[dict[str, Any]]:
    base = "https://api.pipedrive.com"
    email = contact_email(inp)
    fields = _fields(inp, {"name": "name", "phone": "phone"})
    person: dict[str, Any] = _without(fields, *_EMAIL_KEYS)
    person["email"] = [{"value": email, "primary": True}]
    if not person.get("name"):
        first, last = inp.payload.get("first_name"), inp.payload.get("last_name")
        person["name"] = " ".join(str(p) for p in (first, last) if p) or email
    search = req("GET", f"{base}/v1/persons/search?term={quote(email)}&fields=email", None, _BEARER)
    upsert = req("POST", f"{base}/v1/persons", person, _BEARER)
    person_url = f"{base}/v1/persons/{{person_id}}"
    action = inp.action
    if action == "sync_person":
        return [search, upsert]
    if action == "update_person_field":
        body = {inp.meta("id", "field"): inp.meta("value", "option")}
        return [search, upsert, req("PUT", person_url, body, _BEARER)]
    if action in ("add_label_to_person", "remove_label_from_person"):
        label = inp.meta("id", "label")
        key = "add_label_ids" if action == "add_label_to_person" else "remove_label_ids"
        return [search, upsert, req("PATCH", person_url, {key: [label]}, _BEARER)]
    raise _unknown_action(inp)


def _resend(inp: ConnectorInput) -> list[dict[str, Any]]:
    inp.api_key()
    base = "https://api.resend.com"
    email = contact_email(inp)
    if inp.action == "send_email_template":
        template = inp.meta("id", "template")
        variables = inp.payload.get("template_variables")
        if not isinstance(variables, Mapping):
            variables = _without(inp.mapped or {}, *_EMAIL_KEYS)
        body: dict[str, Any] = {
            "to": [email],
            "template": {"id": template, "variables": dict(variables)},
        }
        for key in ("from", "subject"):
            value = inp.optional_meta(key)
            if value:
                body[key] = render_template(value, inp.payload)
        return [req("POST", f"{base}/emails", body, _BEARER)]
    if inp.action not in ("add_to_segment", "remove_from_segment"):
        raise _unknown_action(inp)
    segment = inp.meta("id", "segment")
    contact = _fields(inp, {"first_name": "first_name", "last_name": "last_name"})
    contact = {**_without(contact, *_EMAIL_KEYS), "email": email, "unsubscribed": False}
    url = f"{base}/contacts/{quote(email)}/segments/{quote(segment)}"
    if inp.action == "add_to_segment":
        return [req("POST", f"{base}/contacts", contact, _BEARER), req("POST", url, None, _BEARER)]
    return [req("DELETE", url, None, _BEARER)]


_SF_CONTACT = {
    "Email": "email",
    "FirstName": "first_name",
    "LastName": "last_name",
    "Phone": "phone",
}


def _salesforce(inp: ConnectorInput) -> list[dict[str, Any]]:
    instance = str(inp.connection_metadata.get("instance_url") or "https://emulated.my.salesforce.com")
    base = f"{instance.rstrip('/')}/services/data/v60.0"
    email = contact_email(inp)
    contact = _without(_fields(inp, _SF_CONTACT), *_EMAIL_KEYS)
    contact.setdefault("LastName", inp.payload.get("last_name") or email.split("@")[0])
    soql = quote(f"SELECT Id FROM Contact WHERE Email = '{email}' LIMIT 1")
    calls = [
        req("GET", f"{base}/query?q={soql}", None, _BEARER),
        req("POST", f"{base}/sobjects/Contact", {**contact, "Email": email}, _BEARER),
    ]
    if inp.action == "add_to_campaign":
        body = {
            "CampaignId": inp.meta("id", "campaign"),
            "ContactId": "{contact_id}",
            "Status": "Responded",
        }
        return [*calls, req("POST", f"{base}/sobjects/CampaignMember", body, _BEARER)]
    if inp.action == "remove_from_campaign":
        inp.meta("id", "campaign")
        url = f"{base}/sobjects/CampaignMember/{{campaign_member_id}}"
        return [*calls, req("DELETE", url, None, _BEARER)]
    if inp.action == "update_property":
        body = {inp.meta("id", "field"): inp.meta("value", "option")}
        return [*calls, req("PATCH", f"{base}/sobjects/Contact/{{contact_id}}", body, _BEARER)]
    raise _unknown_action(inp)


def _sendgrid(inp: ConnectorInput) -> list[dict[str, Any]]:
    inp.api_key()
    url = "https://api.sendgrid.com/v3/mail/send"
    email = contact_email(inp)
    sender = inp.meta("from").strip()
    if not _EMAIL_RE.match(sender):
        raise ConnectorError(
            OutcomeCode.INVALID_REQUEST, f"sendgrid: rule metadata.from {sender!r} is not an email"
        )
    context = {**(inp.mapped or {}), **inp.payload}
    personalization: dict[str, Any] = {"to": [{"email": email}]}
    body: dict[str, Any] = {"from": {"email": sender}}
    if inp.action == "send_email_template":
        variables = inp.payload.get("template_variables")
        if not isinstance(variables, Mapping):
            variables = context
        personalization["dynamic_template_data"] = dict(variables)
        body["template_id"] = inp.meta("id", "template")
        subject = inp.optional_meta("subject")
        if subject:
            personalization["subject"] = render_template(subject, inp.payload, context)
    elif inp.action == "send_email":
        body["subject"] = render_template(inp.meta("subject"), inp.payload, context)
        html = render_template(inp.meta("body"), inp.payload, context)
        body["content"] = [{"type": "text/html", "value": html}]
    else:
        raise _unknown_action(inp)
    body["personalizations"] = [personalization]
    return [req("POST", url, body, _BEARER)]


def _slack(inp: ConnectorInput) -> list[dict[str, Any]]:
    if inp.action != "send_message":
        raise _unknown_action(inp)
    channel = inp.meta("id", "channel")
    text = render_template(inp.meta("template"), inp.payload)
    body = {"channel": channel, "text": text}
    return [req("POST", "https://slack.com/api/chat.postMessage", body, _BEARER)]


def _zoom(inp: ConnectorInput) -> list[dict[str, Any]]:
    kinds = {"add_meeting_registrant": "meetings", "add_webinar_registrant": "webinars"}
    if inp.action not in kinds:
        raise _unknown_action(inp)
    target = inp.meta("id", kinds[inp.action][:-1])
    fields = _fields(inp, {"first_name": "first_name", "last_name": "last_name"})
    body = {**_without(fields, *_EMAIL_KEYS), "email": contact_email(inp)}
    if not body.get("first_name"):
        name = str(inp.payload.get("name") or "").strip()
        if not name:
            raise ConnectorError(
                OutcomeCode.VALIDATION_FAILED,
                "zoom registrants need a first_name: map `first_name` (or send `name`)",
            )
        body["first_name"] = name.split(" ", 1)[0]
        if " " in name:
            body.setdefault("last_name", name.split(" ", 1)[1])
    url = f"https://api.zoom.us/v2/{kinds[inp.action]}/{quote(target)}/registrants"
    return [req("POST", url, body, _BEARER)]


def _unknown_action(inp: ConnectorInput) -> ConnectorError:
    """A rule action outside the catalog (accepted with a warning at rule creation)."""
    known = ", ".join(action_keys(inp.integration_type))
    return ConnectorError(
        OutcomeCode.INVALID_REQUEST,
        f"{inp.integration_type} has no action {inp.action!r} (its actions: {known}); "
        "no provider request can be made for this rule",
    )


BUILDERS: dict[str, Callable[[ConnectorInput], list[dict[str, Any]]]] = {
    "activecampaign": _activecampaign,
    "aweber": _aweber,
    "customer_io": _customer_io,
    "discord": _discord,
    "hubspot": _hubspot,
    "intercom": _intercom,
    "mailchimp": _mailchimp,
    "mailerlite": _mailerlite,
    "pipedrive": _pipedrive,
    "resend": _resend,
    "salesforce": _salesforce,
    "sendgrid": _sendgrid,
    "slack": _slack,
    "zoom": _zoom,
}
SIMULATED_TYPES = frozenset(BUILDERS)
# What every delivered simulated attempt answers (one shared value: never changed)
SIMULATED_RESPONSE = ResponseDetails(200, {"content-type": "application/json"}, '{"simulated":true}')


def build_requests(inp: ConnectorInput) -> list[dict[str, Any]]:
    """The provider calls for this attempt; raises ConnectorError when they cannot be made."""
    builder = BUILDERS.get(inp.integration_type)
    if builder is None:
        raise ConnectorError(
            OutcomeCode.INTERNAL_ERROR, f"no simulated connector for {inp.integration_type!r}"
        )
    return builder(inp)


def simulate(inp: ConnectorInput) -> Outcome:
    """Run one simulated attempt: `delivered` with the recorded requests, or a failure."""
    try:
        calls = build_requests(inp)
    except ConnectorError as exc:
        return Outcome(exc.code, exc.message)
    record = {"integration_type": inp.integration_type, "action": inp.action, "requests": calls}
    summary = f"{inp.integration_type} {inp.action}: {len(calls)} simulated request(s)"
    return Outcome(OutcomeCode.DELIVERED, summary, 200, None, SIMULATED_RESPONSE, record)
