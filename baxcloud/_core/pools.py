"""The httpx connection pools behind a client and its `with_options` copies.

httpx's async pools belong to the event loop that opened their connections,
so the SDK keeps one pool per event loop (an asyncio loop, or a trio run); an
async program normally has one.
Pools are created on first use (building an SSL context is not free). A client
passed in by the user is used as is, for every call. Code that runs calls on
an event loop of its own may give them a pool of its choosing
(`HTTPPools.context_using`).

Sockets, event loops and threads belong to the process that made them:
`ProcessBound` holds such state, so that a child after `os.fork()` starts afresh.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from .direct_client import DirectClient
from .errors import BaxCloudError

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

# Keep-alive for as many connections as may be open: bulk jobs then never churn sockets.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)

# A request extension: the `time.monotonic()` by which the attempt must be over,
# for transports that the attempt's cancel scope cannot interrupt.
DEADLINE = "baxcloud.deadline"

# Pools whose transport enforces `DEADLINE` itself and never lets the loop run while
# it waits (the blocking client's): a cancel scope around their attempts could never
# fire, so the pipeline spares its timer.
SELF_TIMED: weakref.WeakSet[httpx.AsyncClient] = weakref.WeakSet()


def running_loop() -> Any:
    """The running event loop: asyncio's loop, trio's run (its token), or None."""
    asyncio = sys.modules.get("asyncio")
    loop = None if asyncio is None else asyncio._get_running_loop()
    if loop is None and (trio := sys.modules.get("trio")) is not None:
        with contextlib.suppress(RuntimeError):  # not in a trio run
            loop = trio.lowlevel.current_trio_token()
    return loop


def running_asyncio_task() -> asyncio.Task[Any] | None:
    """The asyncio task running (None under trio, trio's guest mode on asyncio included)."""
    module = sys.modules.get("asyncio")  # not imported by `import baxcloud`
    if module is None or module._get_running_loop() is None:
        return None
    task: asyncio.Task[Any] | None = module.current_task()
    return task


def closed_client_error() -> BaxCloudError:
    return BaxCloudError("this BaxCloud client has been closed")


class ProcessBound(Generic[T]):
    """State that belongs to the process that made it: sockets, event loops, threads.

    After `os.fork()` the child makes its own on first use and drops the
    parent's unclosed: its connections and threads are the parent's.
    """

    __slots__ = ("_make", "_pid", "_value")

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._pid = os.getpid()
        self._value = make()

    def get(self) -> T:
        pid = os.getpid()
        if self._pid != pid:
            self._value, self._pid = self._make(), pid
        return self._value


# The pool chosen for the calls of a context, and the pools it was chosen for.
_chosen_pool: contextvars.ContextVar[tuple[HTTPPools, httpx.AsyncClient] | None]
_chosen_pool = contextvars.ContextVar("baxcloud_chosen_pool", default=None)


class HTTPPools:
    def __init__(self, client: httpx.AsyncClient | None, proxy: httpx.Proxy | None = None) -> None:
        self._user_client = client
        self.owned = client is None
        self.proxy = proxy  # for the pools the SDK makes
        self._closed = False
        self._by_loop = ProcessBound(lambda: _PoolPerLoop(proxy))

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def users_client(self) -> httpx.AsyncClient | None:
        """The user's async client (as the pipeline sees it), if one was given."""
        return self._user_client

    def check_open(self) -> None:
        if self._closed:
            raise closed_client_error()

    def get(self) -> httpx.AsyncClient:
        """The pool for the current call."""
        if self._closed:
            raise closed_client_error()
        if self._user_client is not None:
            return self._user_client
        chosen = _chosen_pool.get()
        if chosen is not None and chosen[0] is self:
            return chosen[1]
        return self._by_loop.get().get(running_loop())

    def context_using(self, pool: httpx.AsyncClient) -> contextvars.Context:
        """A copy of the current context in which calls through these pools use `pool`.

        For code that runs calls on an event loop of its own, with a pool suited
        to that loop; calls in any other context are unaffected.
        """
        context = contextvars.copy_context()
        context.run(_chosen_pool.set, (self, pool))
        return context

    def close(self) -> None:
        """Refuse further calls; the pools are closed by `aclose` on their own loops."""
        self._closed = True

    async def aclose(self) -> None:
        """Refuse further calls, close the running loop's pool and forget the others."""
        self.close()
        pool = self._by_loop.get().clear(running_loop())
        if pool is not None:
            await pool.aclose()


class _PoolPerLoop:
    """One process's pools, by event loop."""

    def __init__(self, proxy: httpx.Proxy | None) -> None:
        self._proxy = proxy
        self._lock = threading.Lock()
        self._pools: dict[Any, httpx.AsyncClient] = {}
        self._last: tuple[Any, httpx.AsyncClient] | None = None

    def get(self, loop: Any) -> httpx.AsyncClient:
        last = self._last
        if last is not None and last[0] is loop:
            return last[1]
        with self._lock:
            pool = self._pools.get(loop)
            if pool is None:
                # Pools of loops that were closed without closing us cannot be
                # closed any more; drop them so they do not pile up.
                for stale in [k for k in self._pools if _is_closed(k)]:
                    del self._pools[stale]
                pool = DirectClient(
                    limits=DEFAULT_LIMITS, follow_redirects=False, proxy=self._proxy
                )
                self._pools[loop] = pool
            self._last = (loop, pool)
            return pool

    def clear(self, loop: Any) -> httpx.AsyncClient | None:
        """Forget every pool; return the one of `loop`, if any, for closing."""
        with self._lock:
            pool = self._pools.pop(loop, None)
            self._pools.clear()
            self._last = None
        return pool


def _is_closed(loop: Any) -> bool:
    is_closed = getattr(loop, "is_closed", None)
    if is_closed is not None:
        return bool(is_closed())
    trio = sys.modules.get("trio")
    if trio is not None and isinstance(loop, trio.lowlevel.TrioToken):
        try:
            loop.run_sync_soon(_nothing)
        except trio.RunFinishedError:
            return True
    return False


def _nothing() -> None:
    pass


def reclaim_orphaned_connections(client: Any) -> None:
    """Give back pool slots held by connections that no request will ever use.

    httpcore (1.0.9) creates a connection for a queued request when a slot frees
    up; if that request then times out or is cancelled before it starts using the
    connection, the connection stays in the pool unopened, never reusable and
    never closed, and holds its slot for good: enough of them and every later call
    fails with PoolTimeout (encode/httpcore#1093). Likewise a request cancelled
    just after its connection opened, before the request took it: the connection
    stays open in state NEW, never reused, never closed. Called after a failed
    send, this marks the first kind failed and the second expired, so the pool
    drops (and closes) them at its next request. Through a proxy the pool's
    connections wrap the connection to the proxy (or, once a tunnel is up, the
    one through it); the same checks apply one level down. It reads httpcore's
    internals defensively and does nothing if they change.
    """
    for transport in _transports(client):
        pool = getattr(transport, "_pool", None)
        # A blocking pool is shared by threads: another one may be handing a connection
        # to its request right now, under this lock (a no-op in an async pool).
        with getattr(pool, "_optional_thread_lock", contextlib.nullcontext()):
            connections = getattr(pool, "_connections", None)
            requests = getattr(pool, "_requests", None)
            if not isinstance(connections, list) or not isinstance(requests, list):
                continue
            in_use = {id(getattr(request, "connection", None)) for request in requests}
            for connection in connections:
                if id(connection) not in in_use:
                    _reclaim_unused(connection, outermost=True)


def _reclaim_unused(connection: Any, *, outermost: bool) -> None:
    opened = getattr(connection, "_connection", True)
    if opened is None or (
        getattr(getattr(opened, "_state", None), "name", None) == "NEW"
        and getattr(opened, "_request_count", None) == 0
    ):
        _expire(connection)  # never opened, or opened and never used
    elif outermost and opened is not True and not hasattr(connection, "_connect_failed"):
        # httpcore's AsyncForwardHTTPConnection / AsyncTunnelHTTPConnection: the
        # connection to the proxy is inside, and their state is its state.
        if getattr(connection, "_connected", None) is False:
            # A tunnel no request holds, not established: its CONNECT or TLS handshake
            # failed or was cancelled, and its connection to the proxy, busy with the
            # CONNECT for good, would never be available again.
            _expire(opened)
        else:
            _reclaim_unused(opened, outermost=False)


def _expire(connection: Any) -> None:
    """Make an `AsyncHTTPConnection` report itself expired (or failed, if never
    opened): `has_expired()` is then true, and the pool closes it."""
    opened = getattr(connection, "_connection", True)
    if opened is None and getattr(connection, "_connect_failed", None) is False:
        connection._connect_failed = True
    elif hasattr(opened, "_expire_at"):
        opened._expire_at = 0.0


async def release_connections(client: Any) -> None:
    """Close the connections of a user's async client's pools; the client stays open.

    For a user's client that the blocking `BaxCloud` used on its portal's event
    loop, as that loop ends: connections made on it could not be closed from any
    other loop later (the user's own `aclose()` would fail with "Event loop is
    closed" and leave their sockets to the garbage collector). httpcore's pools
    (httpx's and httpx2's) stay usable after `aclose()`: the client opens new
    connections on whichever loop uses it next. Other transports are left alone.
    """
    for transport in _transports(client):
        inner = getattr(transport, "users_client", None)
        if inner is not None:  # the SDK's shell around a user's httpx2 client
            await release_connections(inner)
            continue
        aclose = getattr(getattr(transport, "_pool", None), "aclose", None)
        if aclose is not None:
            await aclose()


def _transports(client: Any) -> list[Any]:
    """The transports an httpx (or httpx2) client may send through: default and mounted."""
    mounted = getattr(client, "_mounts", {}).values()
    return [t for t in (getattr(client, "_transport", None), *mounted) if t is not None]
