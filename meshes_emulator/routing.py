"""A Starlette Router that tries only the routes whose first path segment can match.

Starlette's Router tries every route in order (a regular expression each): `POST /api/v1/events`
was the 24th of 40 public routes. `IndexedRouter` groups routes by the literal first segment of
their path (`/events/{event_id}` -> `events`) and tries, in the original order, only the group
of the request's first segment plus the routes without a literal first segment. A route outside
that group cannot match the path, so the first full (or partial: 405) match is the one the plain
Router would pick; anything unmatched goes through the plain Router (404, slash redirects).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send


def _first_segment(route: BaseRoute) -> str | None:
    """The literal first path segment of a Route, or None (a parameter, or not a Route)."""
    if not isinstance(route, Route):
        return None
    segment = route.path.lstrip("/").split("/", 1)[0]
    return None if "{" in segment else segment


class IndexedRouter(Router):
    """Router with routes grouped by first path segment (same matching result, fewer tries)."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        super().__init__(routes=list(routes))
        keys = [_first_segment(route) for route in self.routes]
        self._any = [route for route, key in zip(self.routes, keys, strict=True) if key is None]
        self._groups = {
            segment: [route for route, key in zip(self.routes, keys, strict=True) if key in (segment, None)]
            for segment in {key for key in keys if key is not None}
        }

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            segment = get_route_path(scope).lstrip("/").split("/", 1)[0]
            partial: BaseRoute | None = None
            partial_scope: Scope = {}
            for route in self._groups.get(segment, self._any):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
                if match is Match.PARTIAL and partial is None:
                    partial, partial_scope = route, child_scope
            if partial is not None:
                scope.setdefault("router", self)
                scope["route"] = partial
                scope.update(partial_scope)
                await partial.handle(scope, receive, send)
                return
        await super().app(scope, receive, send)
