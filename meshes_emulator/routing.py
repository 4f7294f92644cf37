"""A Starlette Router that tries only the routes whose first path segment can match.

Starlette's Router tries every route in order (a regular expression each): `POST /api/v1/events`
was the 24th of 40 public routes. `IndexedRouter` groups routes by the literal first segment of
their path (`/events/{event_id}` -> `events`) and tries, in the original order, only the group
of the request's first segment plus the routes without a literal first segment. A route outside
that group cannot match the path, so the first full match is the one the plain Router would pick;
anything unmatched goes through the plain Router (404). Three departures from the plain Router:
a path with a trailing slash is the path without it (Starlette answers a 307 redirect without a
body, docs/behaviour.md); a 405 lists in `Allow` the methods of every route of the path
(Starlette names only the first route's); and a literal path that matches but not by method
(`/events/bulk` for GET) answers 405 rather than letting a later parameter route
(`/events/{event_id}`) take the URL.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.exceptions import HTTPException
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
            route_path = get_route_path(scope)
            if len(route_path) > 1 and route_path.endswith("/"):
                scope["path"] = scope["path"].rstrip("/")  # `/workspaces/` is `/workspaces`
            segment = route_path.lstrip("/").split("/", 1)[0]
            partials: list[tuple[Route, Scope]] = []
            for route in self._groups.get(segment, self._any):
                match, child_scope = route.matches(scope)
                if match is Match.FULL and not _shadowed(route, partials):
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
                if match is not Match.NONE and isinstance(route, Route):
                    partials.append((route, child_scope))
            if partials:
                _method_not_allowed(self, scope, partials)
        await super().app(scope, receive, send)


def _params(route: Route) -> int:
    return route.path.count("{")


def _shadowed(route: BaseRoute, partials: list[tuple[Route, Scope]]) -> bool:
    """A parameter route matched, but an earlier literal path matched the URL too.

    `GET /events/bulk` matches `GET /events/{event_id}` only because `bulk` fills the
    parameter; the URL names the `/events/bulk` resource, whose methods answer 405.
    """
    if not partials or not isinstance(route, Route):
        return False
    params = _params(route)
    return params > 0 and any(_params(other) < params for other, _ in partials)


def _method_not_allowed(router: Router, scope: Scope, partials: list[tuple[Route, Scope]]) -> None:
    """405 with every method of the URL's resource in `Allow` (all routes of that path)."""
    first, child_scope = partials[0]
    methods = {method for route, _ in partials if route.path == first.path
               for method in route.methods or ()}
    scope.setdefault("router", router)
    scope["route"] = first
    scope.update(child_scope)
    raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(methods))})
