"""Events, rule events and attempts (reference §10). PLACEHOLDER: issue 4."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api._placeholder import empty_workspace_page, not_built


async def list_workspace_events(request: Request) -> Response:
    return await empty_workspace_page(request)


async def list_events(request: Request) -> Response:
    raise not_built("getEvents")


async def create_event(request: Request) -> Response:
    raise not_built("createEvent")


async def create_bulk_events(request: Request) -> Response:
    raise not_built("createBulkEvent")


async def get_event(request: Request) -> Response:
    raise not_built("getEvent")


async def get_event_payload(request: Request) -> Response:
    raise not_built("getEventPayload")


async def cancel_event(request: Request) -> Response:
    raise not_built("cancelEvent")


async def retry_rule_event(request: Request) -> Response:
    raise not_built("retryEventRule")


async def cancel_rule_event(request: Request) -> Response:
    raise not_built("cancelEventRule")


async def list_attempts(request: Request) -> Response:
    raise not_built("listEventRuleAttempts")


async def get_attempt(request: Request) -> Response:
    raise not_built("getEventRuleAttempt")


async def get_attempt_response_details(request: Request) -> Response:
    raise not_built("getEventRuleAttemptResponseDetails")
