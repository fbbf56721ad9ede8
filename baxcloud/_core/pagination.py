"""Pages of list results: the OpenAPI document's `*Page` schemas (`RoomPage`, ...).

`AsyncPager` is what an async list call returns: await it for one page, or
iterate it with `async for` for every item of every page, fetched lazily.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

from .converter import converter

T = TypeVar("T")

PageFetcher = Callable[[int], Awaitable["AsyncPage[T]"]]


class AsyncPage(Generic[T]):
    """One page of results; `async for` over it walks this page and the rest."""

    # A plain slotted class rather than attrs: it is built on every list call.
    __slots__ = ("_fetch", "has_more", "items", "limit", "page", "total")

    def __init__(
        self,
        *,
        items: list[T],
        page: int,
        limit: int,
        total: int,
        has_more: bool,
        fetch: PageFetcher[T],
    ) -> None:
        self.items = items
        self.page = page
        self.limit = limit
        self.total = total
        self.has_more = has_more
        self._fetch = fetch

    def __repr__(self) -> str:
        return (
            f"AsyncPage(page={self.page}, limit={self.limit}, total={self.total}, "
            f"has_more={self.has_more}, items={self.items!r})"
        )

    async def next_page(self) -> AsyncPage[T] | None:
        """The following page, or None after the last one."""
        if not self.has_more or not self.items:
            return None
        return await self._fetch(self.page + 1)

    async def __aiter__(self) -> AsyncIterator[T]:
        page: AsyncPage[T] | None = self
        while page is not None:
            for item in page.items:
                yield item
            page = await page.next_page()


class AsyncPager(Generic[T]):
    """The result of an async list call: awaitable and async-iterable."""

    __slots__ = ("_fetch", "_first")

    def __init__(self, fetch: PageFetcher[T], first: int) -> None:
        self._fetch = fetch
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._fetch(self._first).__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for item in await self:
            yield item


PageRequest = Callable[[int, Callable[[Any], "AsyncPage[T]"]], Awaitable["AsyncPage[T]"]]


def make_page_fetcher(request: PageRequest[T], item_type: type[T]) -> PageFetcher[T]:
    """Turn a raw page request into a fetcher of pages of `item_type`.

    `request(page_number, parse)` sends the call and hands the decoded JSON to
    `parse`, so that a body that is not a page fails like any invalid response.
    """
    # The converter's hook, called directly: this runs for every item of every page.
    structure_item = converter.get_structure_hook(item_type)

    async def fetch(page_number: int) -> AsyncPage[T]:
        def parse(data: Any) -> AsyncPage[T]:
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise TypeError("expected a page: an object with an `items` list")
            return AsyncPage(
                items=[structure_item(item, item_type) for item in items],
                page=_count(data, "page", page_number),
                limit=_count(data, "limit", 0),
                total=_count(data, "total", 0),
                has_more=_flag(data, "hasMore"),
                fetch=fetch,
            )

        return await request(page_number, parse)

    return fetch


def _count(data: dict[str, Any], key: str, default: int) -> int:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"page field {key!r} must be an integer")
    return value


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise TypeError(f"page field {key!r} must be a boolean")
    return value
