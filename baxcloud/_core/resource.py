"""Base class of the async resource namespaces (`client.rooms`, ...)."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from . import tracing
from .arguments import check_int, did_you_mean
from .options import OPTION_NAMES, RequestOptions
from .pagination import AsyncPage, AsyncPager, make_page_fetcher

if TYPE_CHECKING:
    from .pipeline import AsyncAPIClient

T = TypeVar("T")

MAX_PAGE_LIMIT = 100
_modules = sys.modules


class AsyncResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        namespace = _namespace_name(cls.__name__)
        for name, method in list(vars(cls).items()):
            if not name.startswith("_") and inspect.isfunction(method):
                setattr(cls, name, _with_keyword_check(method, f"{namespace}.{name}"))

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
        call = tracing.list_call()

        async def request(page_number: int, parse: Callable[[Any], AsyncPage[T]]) -> AsyncPage[T]:
            def send() -> Awaitable[AsyncPage[T]]:
                return self._client._request(
                    "GET",
                    path,
                    cast_to=AsyncPage,
                    params={**base_params, "page": page_number},
                    options=options,
                    parse=parse,
                )

            return await (send() if call is None else tracing.traced(call, send))

        return AsyncPager(make_page_fetcher(request, item_type), first)


def _namespace_name(class_name: str) -> str:
    """`AsyncRooms` -> `rooms`: the attribute users reach the namespace by."""
    return class_name.removeprefix("Async").lower()


def _with_keyword_check(method: Callable[..., T], call: str) -> Callable[..., T]:
    """`method`, refusing a misspelled keyword as Python would, with a suggestion.

    A method's `**options` would otherwise take any misspelled argument as an
    unknown request option. With tracing on (`tracing.py`), a coroutine method runs
    in a span of its own, and a list method names the spans of its page fetches.
    """
    parameters = inspect.signature(method).parameters
    named = [n for n, p in parameters.items() if n != "self" and p.kind is not p.VAR_KEYWORD]
    takes_options = len(named) < len(parameters) - 1
    options = OPTION_NAMES if takes_options else frozenset()
    accepted = frozenset(named) | options

    @functools.wraps(method)
    def checked(*args: Any, **kwargs: Any) -> T:
        if not accepted.issuperset(kwargs):
            unexpected = sorted(set(kwargs) - accepted)[0]
            hint = did_you_mean(unexpected, [*named, *options])
            raise TypeError(f"{call}() got an unexpected keyword argument {unexpected!r}{hint}")
        if tracing.API_MODULE not in _modules:  # tracing is off: the usual, cheapest path
            return method(*args, **kwargs)
        if is_coroutine:
            return tracing.traced(call, functools.partial(method, *args, **kwargs))  # type: ignore[arg-type,return-value]
        with tracing.naming_list_call(call):
            return method(*args, **kwargs)

    is_coroutine = inspect.iscoroutinefunction(method)
    if is_coroutine and hasattr(inspect, "markcoroutinefunction"):
        inspect.markcoroutinefunction(checked)  # Python 3.12+
    return checked
