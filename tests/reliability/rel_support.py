"""Helpers for the reliability suite: settle loops and resource counters.

Resource checks (threads, sockets) wait for the process to settle instead of
asserting wall-clock times: they poll a condition with garbage collection in
between and fail only if it never holds within a generous bound.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable

import psutil
import pytest

from baxcloud.testing import LocalServer

SETTLE_SECONDS = 20.0


def settle(condition: Callable[[], bool], what: str) -> None:
    """Collect garbage and poll until `condition()` holds; fail if it never does."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        gc.collect()
        if condition():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"never settled: {what}")
        time.sleep(0.02)


def thread_count() -> int:
    return threading.active_count()


def open_fds() -> int:
    return (
        len(os.listdir("/proc/self/fd"))
        if os.path.isdir("/proc/self/fd")
        else len(psutil.Process().open_files())
    )


def client_sockets(port: int) -> int:
    """This process's sockets connected *to* the server port (client side only)."""
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port
    )


def server_port(server: LocalServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


async def asettle(condition: Callable[[], bool], what: str) -> None:
    """`settle` for async tests: lets the event loop run (closing transports) while waiting."""
    import anyio

    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        gc.collect()
        if condition():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"never settled: {what}")
        await anyio.sleep(0.02)
