"""The fast path: a blocking call runs on an event loop of the calling thread's own.

No hand-off between threads: the calling thread runs the coroutine itself, on
a loop kept for it and closed when the thread ends (its thread-local storage
lets go of it) or when the client lets go of its `ThreadLoops`.
"""

from __future__ import annotations

import contextlib
import selectors
import threading
from collections.abc import Coroutine
from contextvars import Context
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

# poll(2) keeps no kernel object (epoll does): a forked child may then close its
# copy of a loop without touching the parent's.
_Selector = getattr(selectors, "PollSelector", selectors.SelectSelector)


def new_event_loop() -> asyncio.AbstractEventLoop:
    import asyncio  # deferred: `import baxcloud` does not need it

    return asyncio.SelectorEventLoop(_Selector())


class ThreadLoops:
    """One event loop per calling thread, made on the thread's first call."""

    def __init__(self) -> None:
        self._local = threading.local()

    def start(self, coro: Coroutine[Any, Any, T], context: Context) -> asyncio.Task[T]:
        """A task running `coro` in `context` on this thread's loop, once it runs."""
        loop: _ThreadLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = _ThreadLoop()
        return loop.loop.create_task(coro, context=context)

    @staticmethod
    def finish(task: asyncio.Task[T]) -> T:
        """Run the task's loop until the task is done, and return its result.

        If the caller is interrupted (KeyboardInterrupt), the call is cancelled
        and given the chance to release its connection before the error propagates.
        """
        loop = task.get_loop()
        try:
            return loop.run_until_complete(task)
        except BaseException:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(task)
            elif not task.cancelled():
                task.exception()  # retrieved: asyncio need not log it
            raise
        finally:
            if loop._ready:  # type: ignore[attr-defined]
                _run_what_is_left(loop)


def _run_what_is_left(loop: asyncio.AbstractEventLoop) -> None:
    """Run the work a call left scheduled: the loop may never run again.

    An async generator that a call leaves unfinished (httpx's body iterators, when
    a download stops reading early) is closed by a task that its finalizer
    schedules on the loop; closed unrun with the loop, its `aclose()` is never
    awaited (Python 3.14 warns of it).
    """
    for _ in range(_ROUNDS_LEFT):
        if not loop._ready:  # type: ignore[attr-defined]
            return
        with contextlib.suppress(Exception):
            loop.run_until_complete(_checkpoint())


_ROUNDS_LEFT = 10


async def _checkpoint() -> None:
    pass


class _ThreadLoop:
    """A thread's loop, closed when the last reference to it goes."""

    __slots__ = ("loop",)

    def __init__(self) -> None:
        self.loop = new_event_loop()

    def __del__(self) -> None:
        # The last reference goes with the thread's local storage (the thread
        # ended, or the client let go of its `ThreadLoops`): never while it runs.
        # No loop at all if a KeyboardInterrupt cut `__init__` short.
        loop = getattr(self, "loop", None)
        if loop is not None and not loop.is_running():
            loop.close()
