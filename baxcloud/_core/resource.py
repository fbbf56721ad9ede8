"""Base class of the async resource namespaces (`client.rooms`, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .arguments import check_int
from .converter import converter
from .options import RequestOptions
from .pagination import AsyncPage, AsyncPager, make_page_fetcher

if TYPE_CHECKING:
    from .pipeline import AsyncAPIClient

T = TypeVar("T")

MAX_PAGE_LIMIT = 100


class AsyncResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    def _paginate(
        self,
        path: str,
        item_type: type[T],
        *,
        page: int | None,
        limit: int | None,
        params: dict[str, Any] | None = None,
        options: RequestOptions,
    ) -> AsyncPager[T]:
        """A lazy pager over a list endpoint; arguments are checked now, not when awaited."""
        first = 1 if page is None else check_int(page, "page", minimum=1)
        if limit is not None:
            check_int(limit, "limit", minimum=1, maximum=MAX_PAGE_LIMIT)
        base_params = {**(params or {}), "limit": limit}
        structure_item = converter.get_structure_hook(item_type)

        async def request(page_number: int, parse: Callable[[Any], AsyncPage[T]]) -> AsyncPage[T]:
            return await self._client._request(
                "GET",
                path,
                cast_to=AsyncPage,
                params={**base_params, "page": page_number},
                options=options,
                parse=parse,
            )

        return AsyncPager(
            make_page_fetcher(request, lambda item: structure_item(item, item_type)), first
        )
