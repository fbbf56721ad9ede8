"""Run the async client's coroutines for blocking callers.

Two ways, one result: the very same coroutine runs to completion.

- From a thread with no running event loop (the usual case), on that
  thread's own loop (`loops.py`) with the blocking pool (`transport.py`),
  which every such thread shares: no hand-off between threads. A user's
  blocking client (`httpx.Client`, `httpx2.Client`) is that pool's client.
- From inside a running event loop (Jupyter, async frameworks calling blocking
  code), which must not be blocked, and for a user-supplied async client,
  which must stay on one loop: on the client's portal (`portal.py`: anyio's
  `BlockingPortal` on a thread of its own), started on first use. A user's
  blocking client serves these calls too, its I/O on worker threads.

Closing the client (or garbage-collecting it) closes its pools, its loops and
its portal. A child after `os.fork()` starts afresh (`ProcessBound`).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Coroutine
from types import CoroutineType
from typing import TYPE_CHECKING, Any, TypeVar

from .._core.pools import HTTPPools, ProcessBound, release_connections, running_loop
from .loops import ThreadLoops
from .transport import BlockingPool

if TYPE_CHECKING:
    from .portal import Portal

T = TypeVar("T")


class SyncBridge:
    def __init__(self, pools: HTTPPools, blocking_client: Any = None) -> None:
        """`blocking_client`: the user's `httpx.Client` (or httpx2's), if given."""
        self._pools = pools
        # A user's own AsyncClient belongs to one loop, so it always uses the portal.
        self._on_calling_thread = pools.owned
        self._runners = ProcessBound(lambda: _Runners(blocking_client))

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run `awaitable` to completion and return its result."""
        coro: Coroutine[Any, Any, T] = (
            awaitable if isinstance(awaitable, CoroutineType) else _await(awaitable)
        )
        runners = self._runners.get()
        if self._on_calling_thread and running_loop() is None:
            return runners.on_calling_thread(coro, self._pools)
        return runners.on_portal(coro, self._pools)

    def stop(self) -> None:
        """Close the pools, the loops and the portal (idempotent)."""
        self._pools.close()
        self._runners.get().stop(self._pools)


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


class _Runners:
    """What runs one client's calls in one process, each part made on first use."""

    def __init__(self, blocking_client: Any) -> None:
        self._blocking_client = blocking_client
        self._lock = threading.Lock()
        self._loops: ThreadLoops | None = ThreadLoops()
        self._pool: BlockingPool | None = None
        self._portal: Portal | None = None
        self._portal_pool: BlockingPool | None = None

    def on_calling_thread(self, coro: Coroutine[Any, Any, T], pools: HTTPPools) -> T:
        try:
            pools.check_open()
            loops, pool = self._loops, self._pool
            if loops is None or pool is None:
                loops, pool = self._make_blocking_pool(pools)
            task = loops.start(coro, pools.context_using(pool.client))
        except BaseException:  # closed, or interrupted before the call started
            coro.close()
            raise
        return loops.finish(task)

    def on_portal(self, coro: Coroutine[Any, Any, T], pools: HTTPPools) -> T:
        try:
            pools.check_open()
            portal = self._portal or self._start_portal(pools)
        except BaseException:
            coro.close()
            raise
        if self._portal_pool is not None:
            return pools.context_using(self._portal_pool.client).run(portal.run, coro)
        return portal.run(coro)

    def _make_blocking_pool(self, pools: HTTPPools) -> tuple[ThreadLoops, BlockingPool]:
        with self._lock:
            pools.check_open()
            assert self._loops is not None  # only `stop` drops it, after closing the pools
            if self._pool is None:
                self._pool = BlockingPool(pools.proxy, self._blocking_client)
            return self._loops, self._pool

    def _start_portal(self, pools: HTTPPools) -> Portal:
        from .portal import Portal  # deferred: most programs never need it

        with self._lock:
            pools.check_open()
            if self._portal is None:
                if self._blocking_client is not None:
                    self._portal_pool = BlockingPool(None, self._blocking_client, offload=True)
                self._portal = Portal()
            return self._portal

    def stop(self, pools: HTTPPools) -> None:
        with self._lock:
            pool, portal = self._pool, self._portal
            self._loops = self._pool = self._portal = None  # each thread's loop closes with it
            self._portal_pool = None  # over the user's client, which stays theirs to close
        if portal is not None:
            portal.stop(closing=lambda: _close_on_portal(pools))
        if pool is not None:
            pool.close()


async def _close_on_portal(pools: HTTPPools) -> None:
    await pools.aclose()
    if pools.users_client is not None:
        # The user's async client made its connections on the portal's loop, which
        # ends now: close them here, where they can be (the client itself is theirs).
        await release_connections(pools.users_client)
