"""Helpers shared by the tests (import as `from helpers import ...`)."""

from __future__ import annotations

import inspect
import itertools
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
