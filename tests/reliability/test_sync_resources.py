"""The blocking client under load and abuse: many threads, running loops, fork, no close.

Thread counts and open sockets must come back to where they started (after
garbage collection and a settle loop; no wall-clock assertions).
"""

from __future__ import annotations

import concurrent.futures
import gc
import os
import threading
import time

import pytest
from helpers import FORKS_WITH_THREADS, unique
from reliability.rel_support import client_sockets, open_fds, server_port, settle, thread_count

from baxcloud import BaxCloud, NotFoundError
from baxcloud.testing import LocalServer


def hammer(server: LocalServer, threads: int, calls: int) -> None:
    port = server_port(server)
    server.set_faults()  # the admin connection exists before the baseline
    threads_before, sockets_before = thread_count(), client_sockets(port)
    names = [unique("sync-load") for _ in range(threads)]
    with server.client() as client:
        for name in names:
            client.rooms.create(name=name, metadata=name)

        def worker(t: int) -> int:
            done = 0
            for i in range(calls):
                if i % 10 == 9:
                    with pytest.raises(NotFoundError):
                        client.rooms.get(f"missing-{t}-{i}")
                else:
                    room = client.rooms.get(names[(t + i) % threads])
                    assert room.metadata == room.name
                done += 1
            return done

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(worker, range(threads), timeout=120))
        assert results == [calls] * threads
        assert client_sockets(port) <= sockets_before + threads + 1  # one per calling thread
    settle(lambda: thread_count() <= threads_before, "threads back to the start")
    settle(lambda: client_sockets(port) <= sockets_before, "sockets back to the start")


def test_32_threads_x_100_calls(fault_server: LocalServer) -> None:
    hammer(fault_server, threads=32, calls=100)


@pytest.mark.slow
def test_soak_threads(fault_server: LocalServer) -> None:
    hammer(fault_server, threads=64, calls=1000)


async def test_inside_a_running_event_loop(fault_server: LocalServer) -> None:
    """As in Jupyter: blocking calls from a thread whose loop is running."""
    with fault_server.client() as client:
        name = unique()
        assert client.rooms.create(name=name).name == name
        assert name in {room.name for room in client.rooms.list(limit=100)}
        with pytest.raises(NotFoundError):
            client.rooms.get(unique("missing"))


@FORKS_WITH_THREADS
def test_forked_child_uses_its_own_connections(fault_server: LocalServer) -> None:
    with fault_server.client() as client:
        parent_room = client.rooms.create(name=unique("parent")).name
        pid = os.fork()
        if pid == 0:  # child: must neither reuse nor close the parent's sockets
            code = 1
            try:
                child_room = client.rooms.create(name=parent_room + "-child")
                code = 0 if client.rooms.get(child_room.name).name == child_room.name else 3
            finally:
                os._exit(code)
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:  # pragma: no cover - a hang fails the test
                os.kill(pid, 9)
                pytest.fail("forked child hung")
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's client and pool are intact after the child exited.
        assert client.rooms.get(parent_room + "-child").name == parent_room + "-child"
        assert client.rooms.get(parent_room).name == parent_room


def make_and_drop(server: LocalServer, count: int) -> None:
    port = server_port(server)
    server.set_faults()
    gc.collect()
    threads_before, sockets_before, fds_before = thread_count(), client_sockets(port), open_fds()
    for i in range(count):
        client = server.client()
        if i % 2:
            client.rooms.list()
        else:  # from another thread: a per-thread loop whose thread then ends

            def use(c: BaxCloud = client) -> None:
                c.rooms.list()

            t = threading.Thread(target=use)
            t.start()
            t.join(30)
            del use, t
        del client  # dropped without close()
    settle(lambda: thread_count() <= threads_before, "threads back to the start")
    settle(lambda: client_sockets(port) <= sockets_before, "sockets back to the start")
    settle(lambda: open_fds() <= fds_before + 2, "file descriptors back to the start")


def test_clients_dropped_without_close(fault_server: LocalServer) -> None:
    make_and_drop(fault_server, 50)


@pytest.mark.slow
def test_soak_1000_clients_dropped_without_close(fault_server: LocalServer) -> None:
    make_and_drop(fault_server, 1000)
