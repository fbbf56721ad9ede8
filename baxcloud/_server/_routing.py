"""Routing on the raw (still percent-encoded) request path.

Each path parameter is exactly one segment (as openapi.json says): the raw path is
split on `/` first and each segment is percent-decoded afterwards, so a room
named `a/b` arrives as `a%2Fb` and stays one segment. (Starlette's router
matches on the decoded path, which would split it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

import attrs

from ._context import Handler
from ._errors import ApiError


@attrs.frozen
class Route:
    template: str  # "/v1/rooms/{name}"
    segments: tuple[str, ...]
    methods: Mapping[str, Handler]

    def match(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, part in zip(self.segments, parts, strict=True):
            if pattern.startswith("{"):
                if not part:
                    return None
                params[pattern[1:-1]] = part
            elif pattern != part:
                return None
        return params


@attrs.frozen
class Match:
    route: Route
    handler: Handler
    params: dict[str, str]


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._by_length: dict[int, list[Route]] = {}  # only these can match a path

    def add(self, template: str, methods: Mapping[str, Handler]) -> None:
        segments = tuple(template.strip("/").split("/"))
        route = Route(template, segments, dict(methods))
        self.routes.append(route)
        self._by_length.setdefault(len(segments), []).append(route)

    def resolve(self, method: str, parts: tuple[str, ...]) -> Match:
        """Find the handler; 404 `not_found` or 405 `method_not_allowed` otherwise."""
        for route in self._by_length.get(len(parts), ()):
            params = route.match(parts)
            if params is None:
                continue
            handler = route.methods.get(method)
            if handler is None:
                allowed = ", ".join(sorted(route.methods))
                raise ApiError(
                    405,
                    "method_not_allowed",
                    f"{method} is not allowed on {route.template}; allowed: {allowed}",
                    headers={"Allow": allowed},
                )
            return Match(route, handler, params)
        raise ApiError(404, "not_found", "no such API endpoint")


def split_raw_path(raw_path: bytes) -> tuple[str, ...]:
    """`/v1/rooms/a%2Fb` -> ("v1", "rooms", "a/b"). 400 if a segment is not UTF-8."""
    path = raw_path.split(b"?", 1)[0]
    if path.startswith(b"/"):
        path = path[1:]
    try:
        if b"%" not in path:  # nothing to unquote
            return tuple(path.decode("utf-8").split("/"))
        return tuple(unquote_to_bytes(seg).decode("utf-8") for seg in path.split(b"/"))
    except UnicodeDecodeError:
        raise ApiError(
            400, "invalid_request", "path segments must be percent-encoded UTF-8"
        ) from None
