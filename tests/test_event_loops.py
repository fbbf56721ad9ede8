"""One `AsyncBaxCloud` across event loops: asyncio's loops and trio's runs.

Connections belong to the loop (or trio run) that opened them, so the client
keeps a pool per loop; a pool whose loop has finished is dropped when the next
loop makes its own.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
import trio

from baxcloud import AsyncBaxCloud
from baxcloud.testing import LocalServer

T = TypeVar("T")

pytestmark = pytest.mark.sdk_pool  # about the SDK's own pools


def run_asyncio(fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await fn()

    return asyncio.run(main())


def run_trio(fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await fn()

    return trio.run(main)


RUNNERS = {"asyncio": run_asyncio, "trio": run_trio}


def pools_held(client: AsyncBaxCloud) -> list[httpx.AsyncClient]:
    pools: dict[Any, httpx.AsyncClient] = client._http._by_loop.get()._pools
    return list(pools.values())


@pytest.mark.parametrize("first", ["asyncio", "trio"])
@pytest.mark.parametrize("second", ["asyncio", "trio"])
def test_each_run_has_a_pool_of_its_own(server: LocalServer, first: str, second: str) -> None:
    client = server.async_client()

    async def call() -> httpx.AsyncClient:
        await client.rooms.list(limit=1)
        await client.rooms.list(limit=1)  # the same run's pool again
        return client._http.get()

    async def call_and_close() -> tuple[httpx.AsyncClient, list[httpx.AsyncClient]]:
        pool = await call()
        held = pools_held(client)
        await client.aclose()
        return pool, held

    one = RUNNERS[first](call)
    two, held = RUNNERS[second](call_and_close)
    assert one is not two
    # The finished run's pool was dropped when the second run made its own ...
    assert held == [two]
    # ... and `aclose` closed the pool of the run it was awaited in.
    assert two.is_closed and not one.is_closed
    assert pools_held(client) == []
    # The first run's pool cannot be closed now that its run has finished (docs/trio.md,
    # "One client, several runs"): its connection goes when it is collected, here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "unclosed", ResourceWarning)
        del one
        gc.collect()


def test_trio_runs_at_the_same_time_in_two_threads_use_two_pools(server: LocalServer) -> None:
    client = server.async_client()
    seen: list[httpx.AsyncClient] = []
    barrier = threading.Barrier(2, timeout=30)  # both runs are alive at once

    async def call() -> None:
        await client.rooms.list(limit=1)
        await trio.to_thread.run_sync(barrier.wait)
        seen.append(client._http.get())
        await client.rooms.list(limit=1)
        await trio.to_thread.run_sync(barrier.wait)  # neither run has finished yet
        await client._http.get().aclose()

    threads = [threading.Thread(target=trio.run, args=(call,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(seen) == 2 and seen[0] is not seen[1]
    assert all(pool.is_closed for pool in seen)
