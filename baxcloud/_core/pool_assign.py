"""A cheaper connection-assignment pass for the httpcore pools the SDK makes itself.

httpcore (1.0.x) runs `_assign_requests_to_connections` each time a request
joins its pool and each time one finishes. That pass rescans every connection
for every idle connection and for every queued request, and hands a newly idle
HTTP/1.1 connection to *every* queued request at once: all of them wake, one
wins, the rest fail with `ConnectionNotAvailable`, queue again and run the pass
again. With tens of requests in flight that bookkeeping is most of what a call
costs, and how much of it a burst pays swings with timing (encode/httpcore#1035
and pydantic/httpx2#974/#1075 describe and fix it upstream).

`speed_up(pool)` gives one pool a pass that does the same job in one walk over
the connections and the queue: closed connections dropped, expired ones closed,
idle ones beyond `max_keepalive_connections` closed, and each queued request
given its own idle connection to its origin, else a new connection while the
pool has room, else room made by closing an idle connection to another origin.
A connection already handed to a request that has not started on it yet still
looks idle; it is spoken for, so it is neither given to a second request nor
closed to make room or to keep the keep-alive limit (an expired one is closed, as
httpcore does, and its request is sent again). Only HTTP/1.1-only pools get it
(HTTP/2 connections are shared, which this pass does not model), and only on the
httpcore it was written against: anywhere else the pool keeps httpcore's own pass.
"""

from __future__ import annotations

import types
from typing import Any

__all__ = ["speed_up", "speed_up_client"]

_NEEDED = ("_connections", "_requests", "_max_connections", "_max_keepalive_connections")


def speed_up_client(client: Any) -> int:
    """`speed_up` the pools of an `httpx.Client` or `httpx.AsyncClient` the SDK made;
    how many it did."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    return sum(speed_up(getattr(t, "_pool", None)) for t in transports)


def speed_up(pool: Any) -> bool:
    """Give `pool` the pass above if it is a pool it fits; whether it did."""
    if not _fits(pool):
        return False
    pool._assign_requests_to_connections = types.MethodType(_assign, pool)
    return True


def _fits(pool: Any) -> bool:
    import httpcore  # httpx's own dependency, loaded with it

    return (
        httpcore.__version__.startswith("1.0.")
        and isinstance(pool, httpcore.ConnectionPool | httpcore.AsyncConnectionPool)
        and getattr(pool, "_http2", True) is False
        and all(hasattr(pool, name) for name in _NEEDED)
        and callable(getattr(type(pool), "_assign_requests_to_connections", None))
    )


def _assign(pool: Any) -> list[Any]:
    """The connections to close (by the caller, outside the pool's lock)."""
    closing: list[Any] = []
    connections: list[Any] = []
    for connection in pool._connections:
        if connection.is_closed():
            continue
        if connection.has_expired():
            closing.append(connection)
        else:
            connections.append(connection)

    spoken_for = {id(r.connection) for r in pool._requests if r.connection is not None}
    idle = [c for c in connections if c.is_idle() and id(c) not in spoken_for]
    surplus = len(idle) - pool._max_keepalive_connections
    if surplus > 0:
        evicted, idle = idle[:surplus], idle[surplus:]
        closing += evicted
        gone = {id(c) for c in evicted}
        connections = [c for c in connections if id(c) not in gone]

    for request in pool._requests:
        if request.connection is not None:
            continue
        origin = request.request.url.origin
        connection = next((c for c in idle if c.can_handle_request(origin)), None)
        if connection is not None:
            idle.remove(connection)
        else:
            if len(connections) >= pool._max_connections:
                if not idle:
                    break  # full and nothing to close: the rest wait, as httpcore's do
                victim = idle.pop(0)
                connections.remove(victim)
                closing.append(victim)
            connection = pool.create_connection(origin)
            connections.append(connection)
        request.assign_to_connection(connection)

    pool._connections = connections
    return closing
