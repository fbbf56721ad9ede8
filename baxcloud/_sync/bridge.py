"""Run the async client's coroutines for blocking callers.

Two ways, one result: the very same coroutine runs to completion.

- A thread with no event loop of its own (the usual case) runs the call on a
  private event loop kept for that thread: no hand-off between threads, and
  each thread gets its own connection pool (see `_http`).
- A thread that is already running an event loop (Jupyter, async frameworks
  calling blocking code) cannot block that loop, and a user-supplied
  `httpx.AsyncClient` must stay on one loop: such calls go to a "portal", one
  daemon thread per client running one loop, started on first use.

Closing the client (or garbage-collecting it) closes every pool on its own loop
and stops the portal thread. After `os.fork()` the child starts afresh.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .._core.errors import BaxCloudError
from .._core.pools import HTTPPools, running_loop

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

_SHUTDOWN_TIMEOUT = 5.0


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _closed_error() -> BaxCloudError:
    return BaxCloudError("this BaxCloud client has been closed")


class SyncBridge:
    def __init__(self, pools: HTTPPools) -> None:
        self._pools = pools
        # A user's own AsyncClient belongs to one loop, so it always uses the portal.
        self._per_thread = pools.owned
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._thread_loops: list[tuple[weakref.ref[threading.Thread], asyncio.AbstractEventLoop]]
        self._thread_loops = []
        self._portal_loop: asyncio.AbstractEventLoop | None = None
        self._portal_thread: threading.Thread | None = None
        self._stopped = False

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run `awaitable` to completion and return its result.

        If the caller is interrupted (KeyboardInterrupt), the call is cancelled
        and given the chance to release its connection before the error propagates.
        """
        if self._pid != os.getpid():
            self._reset()  # forked: nothing of the parent's loops is usable here
        if self._stopped:
            raise _closed_error()
        import asyncio  # deferred: async-only programs never need it

        coro: Coroutine[Any, Any, T] = (
            awaitable if asyncio.iscoroutine(awaitable) else _await(awaitable)
        )
        if self._per_thread and running_loop() is None:
            return self._run_here(coro)
        return self._run_on_portal(coro)

    # ---- per-thread loops -----------------------------------------------------

    def _thread_loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is not None:
            return loop
        import asyncio

        loop = asyncio.new_event_loop()
        self._local.loop = loop
        self._pools.blocking_loops.add(loop)
        with self._lock:
            dead = [e for e in self._thread_loops if not _alive(e[0])]
            self._thread_loops = [e for e in self._thread_loops if _alive(e[0])]
            self._thread_loops.append((weakref.ref(threading.current_thread()), loop))
        for _, stale in dead:  # loops of threads that have ended: close their pools
            self._close_loop(stale)
        return loop

    def _run_here(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._thread_loop()
        task = loop.create_task(coro)
        try:
            return loop.run_until_complete(task)
        except BaseException:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(task)
            raise

    def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop.is_closed() or loop.is_running():
            return
        try:
            with contextlib.suppress(Exception):
                loop.run_until_complete(self._pools.aclose_running_loop_pool())
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    # ---- the portal thread -------------------------------------------------------

    def _start_portal(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._stopped:
                raise _closed_error()
            if self._portal_loop is None:
                import asyncio

                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_run_forever, args=(loop,), name="baxcloud-sync", daemon=True
                )
                thread.start()
                self._portal_loop, self._portal_thread = loop, thread
            return self._portal_loop

    def _run_on_portal(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._portal_loop or self._start_portal()
        if threading.current_thread() is self._portal_thread:
            coro.close()
            raise RuntimeError("a blocking BaxCloud call cannot run on its own event loop")
        import asyncio

        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    # ---- shutdown -----------------------------------------------------------------

    def stop(self) -> None:
        """Close every pool on its own loop, stop the portal thread (idempotent)."""
        with self._lock:
            if self._stopped and not self._thread_loops and self._portal_loop is None:
                self._pools.closed = True
                return
            self._stopped = True
            thread_loops, self._thread_loops = self._thread_loops, []
            portal_loop, portal_thread = self._portal_loop, self._portal_thread
            self._portal_loop = self._portal_thread = None
        if self._pid == os.getpid():
            self._close_thread_loops([loop for _, loop in thread_loops])
            if portal_loop is not None and portal_thread is not None:
                self._stop_portal(portal_loop, portal_thread)
        self._pools.closed = True

    def _close_thread_loops(self, loops: list[asyncio.AbstractEventLoop]) -> None:
        def close_all() -> None:
            for loop in loops:
                self._close_loop(loop)

        if running_loop() is None:
            close_all()
        else:  # a running loop in this thread forbids running another one here
            helper = threading.Thread(target=close_all, name="baxcloud-close", daemon=True)
            helper.start()
            helper.join(_SHUTDOWN_TIMEOUT)

    def _stop_portal(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        import asyncio

        on_portal = threading.current_thread() is thread
        closing = self._pools.aclose_running_loop_pool()
        if on_portal:
            loop.create_task(closing)
        else:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(closing, loop).result(_SHUTDOWN_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        if not on_portal:
            thread.join(_SHUTDOWN_TIMEOUT)


def _alive(ref: weakref.ref[threading.Thread]) -> bool:
    thread = ref()
    return thread is not None and thread.is_alive()


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    import asyncio

    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
