"""Calls that must not run on the calling thread go through a portal.

A portal is anyio's `BlockingPortal`, serving from an event loop on a thread
of its own: a blocking call hands it the coroutine and waits for the result.
anyio's `start_blocking_portal` would start the same, but its context
manager, left behind in a forked child and then finalized, waits forever for
the parent's portal thread; a thread started here can simply be dropped.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from .loops import new_event_loop

T = TypeVar("T")

# Closing waits at most this long for each step (a call that ignores
# cancellation must not hang the caller of `close()`).
_STOP_TIMEOUT = 5.0


class Portal:
    def __init__(self) -> None:
        started: Future[BlockingPortal] = Future()
        self._thread = threading.Thread(
            target=_serve, args=(started,), name="baxcloud-portal", daemon=True
        )
        self._thread.start()
        self._portal = started.result()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the portal's loop and wait for its result.

        If the caller is interrupted (KeyboardInterrupt), the call is cancelled
        on the portal, where it releases its connection.
        """
        try:
            future = self._portal.start_task_soon(_await, coro)
        except BaseException:
            coro.close()  # never started (for instance, called from the portal's own loop)
            raise
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def stop(self, closing: Callable[[], Awaitable[None]]) -> None:
        """Run `closing` on the portal, cancel what still runs there, end the thread."""
        if threading.current_thread() is self._thread:  # finalized on the portal itself
            threading.Thread(
                target=self.stop, args=(closing,), name="baxcloud-portal-stop", daemon=True
            ).start()
            return
        portal = self._portal
        with contextlib.suppress(Exception):
            portal.start_task_soon(closing).result(_STOP_TIMEOUT)
        with contextlib.suppress(Exception):
            portal.start_task_soon(portal.stop, True).result(_STOP_TIMEOUT)
        self._thread.join(_STOP_TIMEOUT)


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _serve(started: Future[BlockingPortal]) -> None:
    async def serve() -> None:
        async with BlockingPortal() as portal:
            started.set_result(portal)
            await portal.sleep_until_stopped()

    try:
        anyio.run(serve, backend="asyncio", backend_options={"loop_factory": new_event_loop})
    except BaseException as exc:
        if not started.done():
            started.set_exception(exc)
        raise
