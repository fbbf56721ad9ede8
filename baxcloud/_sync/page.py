"""The blocking client's page of list results.

It wraps the async client's `AsyncPage` and fetches the following pages through
the client, so iterating it walks every item of every page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from .._core.pagination import AsyncPage

T = TypeVar("T")


class SyncPage(Generic[T]):
    """One page of results for the blocking client; iterating walks every page."""

    __slots__ = ("_page", "_run")

    def __init__(
        self,
        *,
        page: AsyncPage[T],
        run: Callable[[Awaitable[AsyncPage[T] | None]], AsyncPage[T] | None],
    ) -> None:
        self._page = page
        # The client's `_run`: holding it keeps the client alive while the page is iterated.
        self._run = run

    @property
    def items(self) -> list[T]:
        return self._page.items

    @property
    def page(self) -> int:
        return self._page.page

    @property
    def limit(self) -> int:
        return self._page.limit

    @property
    def total(self) -> int:
        return self._page.total

    @property
    def has_more(self) -> bool:
        return self._page.has_more

    def next_page(self) -> SyncPage[T] | None:
        """The following page, or None after the last one."""
        following = self._run(self._page.next_page())
        return None if following is None else SyncPage(page=following, run=self._run)

    def __iter__(self) -> Iterator[T]:
        page: SyncPage[T] | None = self
        while page is not None:
            yield from page.items
            page = page.next_page()

    def __repr__(self) -> str:
        return (
            f"SyncPage(page={self.page}, limit={self.limit}, total={self.total}, "
            f"has_more={self.has_more}, items={self.items!r})"
        )
