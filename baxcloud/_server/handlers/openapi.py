"""`GET /openapi.json` (operation getOpenApi): the document every route is described in."""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any

from .._context import Reply, RequestContext


@functools.cache
def _document() -> Any:
    text = importlib.resources.files("baxcloud._server").joinpath("openapi.json").read_text("utf-8")
    return json.loads(text)


def get_openapi(ctx: RequestContext) -> Reply:
    return Reply(200, _document())
