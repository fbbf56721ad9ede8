"""Helpers shared by the tests (import as `from helpers import ...`)."""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import AsyncIterator
from typing import Any

_names = itertools.count()


async def resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def collect(pager: Any) -> list[Any]:
    """Every item of every page, through the client's own iteration."""
    if hasattr(pager, "__aiter__"):
        return [item async for item in pager]
    return list(pager)


def unique(prefix: str = "room") -> str:
    return f"{prefix}-{next(_names)}"


# How fast the media fixtures' recording files grow (bytes per second of server clock).
MEDIA_BYTES_PER_SECOND = 32 * 1024


@contextlib.asynccontextmanager
async def either_client(server: Any, kind: str) -> AsyncIterator[Any]:
    """A blocking (`kind="sync"`) or async client for `server`, closed afterwards."""
    if kind == "sync":
        with server.client() as client:
            yield client
    else:
        async with server.async_client() as client:
            yield client
