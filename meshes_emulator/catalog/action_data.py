"""Deterministic, realistic live action data for a connection (reference §7.6, inferred shape).

`generate_action_data(type, seed)` returns an object keyed by action-data key (the `key` of the
catalog's `simple`/`advanced` action inputs): each value is a list of items
`{id, name, options?: [{value, label}]}`. Ids follow each provider's style (HubSpot numeric list
ids, Mailchimp 10-hex audience ids, Slack `C…` channel ids, Discord snowflakes, SendGrid `d-…`
template ids, Salesforce 18-character `701…` campaign ids...). Everything derives from a local
`random.Random` seeded with the type and `seed` (e.g. the connection id plus the emulator seed),
so the same inputs always give the same data. Types without live data (customer_io, webhook)
give `{}`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from meshes_emulator.ids import uuid4_from

__all__ = ["ACTION_DATA_KEYS", "generate_action_data"]

Item = dict[str, Any]
Generator = Callable[[random.Random], dict[str, list[Item]]]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

_LIST_NAMES = [
    "Newsletter",
    "Product Updates",
    "Trial Users",
    "Customers",
    "Beta Testers",
    "Webinar Attendees",
    "Churned Users",
    "Onboarding",
    "VIP Customers",
    "Partners",
    "Unit Test List",
    "Leads - Inbound",
    "Event Signups",
    "Weekly Digest",
]
_TAG_NAMES = [
    "new-user",
    "trial",
    "paying",
    "churn-risk",
    "enterprise",
    "vip",
    "beta",
    "onboarded",
    "newsletter",
    "webinar",
    "upgraded",
    "inactive",
    "lead",
    "support",
]
_CHANNEL_NAMES = [
    "general",
    "signups",
    "sales",
    "alerts",
    "payments",
    "growth",
    "support",
    "product-updates",
    "announcements",
    "customer-success",
    "ops",
]
_TEMPLATE_NAMES = [
    "Welcome",
    "Password Reset",
    "Trial Ending",
    "Payment Failed",
    "Receipt",
    "Onboarding Day 3",
    "Invitation",
    "Weekly Summary",
    "Account Verified",
    "Win-back",
]
_CAMPAIGN_NAMES = [
    "Q3 Webinar Series",
    "Spring Product Launch",
    "Enterprise Nurture",
    "Trial Conversion",
    "Customer Advocacy",
    "Partner Referral Program",
    "Annual Conference",
    "Re-engagement",
]
_MEETING_TOPICS = [
    "Product Demo",
    "Onboarding Office Hours",
    "Customer Kickoff",
    "Quarterly Business Review",
    "Sales Discovery Call",
    "Implementation Workshop",
]
_WEBINAR_TOPICS = [
    "Getting Started",
    "Advanced Workflows",
    "Scaling Event Pipelines",
    "What's New",
    "Customer Success Stories",
    "Security Deep Dive",
]

_HUBSPOT_PROPERTIES: list[tuple[str, str, list[str]]] = [
    (
        "lifecycle_stage",
        "Lifecycle Stage",
        [
            "subscriber",
            "lead",
            "marketingqualifiedlead",
            "salesqualifiedlead",
            "opportunity",
            "customer",
            "evangelist",
            "other",
        ],
    ),
    (
        "hs_lead_status",
        "Lead Status",
        [
            "NEW",
            "OPEN",
            "IN_PROGRESS",
            "OPEN_DEAL",
            "UNQUALIFIED",
            "ATTEMPTED_TO_CONTACT",
            "CONNECTED",
            "BAD_TIMING",
        ],
    ),
    ("plan_tier", "Plan Tier", ["free", "starter", "pro", "enterprise"]),
    ("onboarding_status", "Onboarding Status", ["not_started", "in_progress", "completed"]),
]
_SALESFORCE_PROPERTIES: list[tuple[str, str, list[str]]] = [
    (
        "LeadSource",
        "Lead Source",
        ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"],
    ),
    ("Level__c", "Level", ["Primary", "Secondary", "Tertiary"]),
    ("Customer_Status__c", "Customer Status", ["Prospect", "Trial", "Active", "Churned"]),
    ("Plan__c", "Plan", ["Free", "Starter", "Pro", "Enterprise"]),
]
_PIPEDRIVE_FIELDS: list[tuple[str, str, list[str]]] = [
    ("plan", "Plan", ["Free", "Starter", "Pro", "Enterprise"]),
    ("lifecycle", "Lifecycle", ["Lead", "Trial", "Customer", "Churned"]),
    ("source", "Source", ["Website", "Referral", "Event", "Outbound"]),
]
_PIPEDRIVE_LABELS = ["Customer", "Hot lead", "Warm lead", "Cold lead", "VIP", "Partner"]
_OPTION_LABELS = {
    "marketingqualifiedlead": "Marketing Qualified Lead",
    "salesqualifiedlead": "Sales Qualified Lead",
    "NEW": "New",
    "OPEN": "Open",
}


def _option_label(value: str) -> str:
    return _OPTION_LABELS.get(value) or value.replace("_", " ").title()


def _digits(rng: random.Random, length: int, first_nonzero: bool = True) -> str:
    first = str(rng.randint(1, 9)) if first_nonzero else str(rng.randint(0, 9))
    return first + "".join(str(rng.randint(0, 9)) for _ in range(length - 1))


def _chars(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _hex(rng: random.Random, length: int) -> str:
    return _chars(rng, "0123456789abcdef", length)


def _pick(rng: random.Random, pool: list[str], low: int, high: int) -> list[str]:
    return rng.sample(pool, rng.randint(low, min(high, len(pool))))


def _items(names: list[str], make_id: Callable[[], str]) -> list[Item]:
    ids: set[str] = set()
    items: list[Item] = []
    for name in names:
        item_id = make_id()
        while item_id in ids:
            item_id = make_id()
        ids.add(item_id)
        items.append({"id": item_id, "name": name})
    return items


def _options_items(
    rng: random.Random, table: list[tuple[str, str, list[str]]], low: int, keep_first: bool
) -> list[Item]:
    chosen = table[:1] + rng.sample(table[1:], rng.randint(low, len(table) - 1))
    if not keep_first:
        chosen = rng.sample(table, rng.randint(low + 1, len(table)))
    return [
        {
            "id": prop_id,
            "name": label,
            "options": [{"value": v, "label": _option_label(v)} for v in values],
        }
        for prop_id, label, values in chosen
    ]


def _activecampaign(rng: random.Random) -> dict[str, list[Item]]:
    return {
        "lists": _items(_pick(rng, _LIST_NAMES, 3, 6), lambda: str(rng.randint(1, 60))),
        "tags": _items(_pick(rng, _TAG_NAMES, 4, 8), lambda: str(rng.randint(1, 300))),
    }


def _aweber(rng: random.Random) -> dict[str, list[Item]]:
    names = [n.lower().replace(" ", "-")[:16] for n in _pick(rng, _LIST_NAMES, 2, 5)]
    return {"lists": _items(names, lambda: _digits(rng, 7))}


def _discord(rng: random.Random) -> dict[str, list[Item]]:
    return {"channels": _items(_pick(rng, _CHANNEL_NAMES, 3, 6), lambda: _digits(rng, 19))}


def _hubspot(rng: random.Random) -> dict[str, list[Item]]:
    return {
        "lists": _items(_pick(rng, _LIST_NAMES, 3, 6), lambda: str(rng.randint(2, 400))),
        "properties": _options_items(rng, _HUBSPOT_PROPERTIES, 1, keep_first=True),
    }


def _intercom(rng: random.Random) -> dict[str, list[Item]]:
    return {"tags": _items(_pick(rng, _TAG_NAMES, 4, 8), lambda: _digits(rng, 7))}


def _mailchimp(rng: random.Random) -> dict[str, list[Item]]:
    return {"lists": _items(_pick(rng, _LIST_NAMES, 2, 4), lambda: _hex(rng, 10))}


def _mailerlite(rng: random.Random) -> dict[str, list[Item]]:
    return {"groups": _items(_pick(rng, _LIST_NAMES, 3, 6), lambda: _digits(rng, 18))}


def _pipedrive(rng: random.Random) -> dict[str, list[Item]]:
    fields = _options_items(rng, _PIPEDRIVE_FIELDS, 1, keep_first=False)
    for field in fields:
        field["id"] = _hex(rng, 40)  # custom person fields are keyed by a 40-hex hash
    return {
        "properties": fields,
        "labels": _items(_pick(rng, _PIPEDRIVE_LABELS, 3, 6), lambda: str(rng.randint(1, 99))),
    }


def _resend(rng: random.Random) -> dict[str, list[Item]]:
    return {
        "segments": _items(_pick(rng, _LIST_NAMES, 2, 5), lambda: uuid4_from(rng)),
        "templates": _items(_pick(rng, _TEMPLATE_NAMES, 3, 6), lambda: uuid4_from(rng)),
    }


def _salesforce(rng: random.Random) -> dict[str, list[Item]]:
    return {
        "campaigns": _items(
            _pick(rng, _CAMPAIGN_NAMES, 3, 6), lambda: "701" + _chars(rng, _ALNUM, 15)
        ),
        "properties": _options_items(rng, _SALESFORCE_PROPERTIES, 1, keep_first=True),
    }


def _sendgrid(rng: random.Random) -> dict[str, list[Item]]:
    return {"templates": _items(_pick(rng, _TEMPLATE_NAMES, 3, 6), lambda: "d-" + _hex(rng, 32))}


def _slack(rng: random.Random) -> dict[str, list[Item]]:
    return {
        "channels": _items(
            _pick(rng, _CHANNEL_NAMES, 3, 7), lambda: "C0" + _chars(rng, _UPPER_ALNUM, 9)
        )
    }


def _zoom(rng: random.Random) -> dict[str, list[Item]]:
    return {
        "meetings": _items(_pick(rng, _MEETING_TOPICS, 2, 4), lambda: _digits(rng, 11)),
        "webinars": _items(_pick(rng, _WEBINAR_TOPICS, 2, 4), lambda: _digits(rng, 11)),
    }


def _none(rng: random.Random) -> dict[str, list[Item]]:
    return {}


_GENERATORS: dict[str, Generator] = {
    "activecampaign": _activecampaign,
    "aweber": _aweber,
    "customer_io": _none,
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
    "webhook": _none,
    "zoom": _zoom,
}

ACTION_DATA_KEYS: dict[str, tuple[str, ...]] = {
    "activecampaign": ("lists", "tags"),
    "aweber": ("lists",),
    "customer_io": (),
    "discord": ("channels",),
    "hubspot": ("lists", "properties"),
    "intercom": ("tags",),
    "mailchimp": ("lists",),
    "mailerlite": ("groups",),
    "pipedrive": ("properties", "labels"),
    "resend": ("segments", "templates"),
    "salesforce": ("campaigns", "properties"),
    "sendgrid": ("templates",),
    "slack": ("channels",),
    "webhook": (),
    "zoom": ("meetings", "webinars"),
}
"""The action-data keys each type's live data carries (= the catalog's data-input keys)."""


def generate_action_data(integration_type: str, seed: str) -> dict[str, list[Item]]:
    """Live action data for a connection of `integration_type`; same inputs, same output.

    Raises KeyError for an unknown type.
    """
    generator = _GENERATORS[integration_type]
    return generator(random.Random(f"action-data:{integration_type}:{seed}"))
