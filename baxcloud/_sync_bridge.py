"""Run the async client's coroutines for blocking callers.

Each `BaxCloud` client owns one event loop on one daemon thread, started on
first use; that loop owns the httpx connection pool. Callers in any thread
(including threads that are themselves running an event loop, as in Jupyter)
hand a coroutine to it and block on the result. After `os.fork()` the child
starts a fresh loop thread on its first call.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

_SHUTDOWN_TIMEOUT = 5.0


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


class SyncBridge:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._stopped = False

    def _start(self) -> asyncio.AbstractEventLoop:
        if self._pid != os.getpid():
            # Forked: the parent's loop thread does not exist here, and its lock
            # may have been held by a thread that was not copied.
            self._lock = threading.Lock()
            self._loop, self._thread, self._pid = None, None, os.getpid()
        with self._lock:
            if self._stopped:
                from ._errors import BaxCloudError

                raise BaxCloudError("this BaxCloud client has been closed")
            if self._loop is None:
                import asyncio  # deferred: only blocking clients that run calls need it

                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_run_loop, args=(loop,), name="baxcloud-sync", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run `awaitable` on the bridge's loop and block until it finishes.

        If the waiting thread is interrupted (KeyboardInterrupt), the call is
        cancelled on the loop so that it releases its connection.
        """
        loop = self._loop if self._pid == os.getpid() and self._loop is not None else None
        if loop is None:
            loop = self._start()
        if threading.current_thread() is self._thread:
            raise RuntimeError("a blocking BaxCloud call cannot run on its own event loop")
        import asyncio

        coro: Coroutine[Any, Any, T] = (
            awaitable if asyncio.iscoroutine(awaitable) else _await(awaitable)
        )
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def stop(self, final: Coroutine[Any, Any, Any] | None = None) -> None:
        """Run `final` (closing the pool), then stop the loop and its thread."""
        with self._lock:
            self._stopped = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or self._pid != os.getpid():
            if final is not None:
                final.close()
            return
        import asyncio

        on_loop_thread = threading.current_thread() is thread
        if final is not None:
            if on_loop_thread:
                loop.create_task(final)
            else:
                # Closing must never raise from a finalizer.
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(final, loop).result(_SHUTDOWN_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        if not on_loop_thread:
            thread.join(_SHUTDOWN_TIMEOUT)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
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
