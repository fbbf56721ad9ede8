"""The generated blocking client: parity with the async one, threads, loops, fork, cleanup."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from helpers import unique

from baxcloud import AsyncBaxCloud, BaxCloud, BaxCloudError
from baxcloud.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent
NAMESPACES = sorted(
    name for name, attr in vars(AsyncBaxCloud).items() if isinstance(attr, cached_property)
)


def test_every_namespace_is_covered() -> None:
    assert {"rooms", "participants", "tokens", "recordings", "egress", "ingress"} <= set(NAMESPACES)


def public_methods(obj: object) -> dict[str, Callable[..., Any]]:
    return {
        name: getattr(obj, name)
        for name in dir(obj)
        if not name.startswith("_") and callable(getattr(obj, name))
    }


def test_generated_client_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/generate_sync.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_signatures_and_docstrings_match(namespace: str) -> None:
    key = "bax_sk_abcd_" + "s" * 40
    async_ns = getattr(AsyncBaxCloud(api_key=key), namespace)
    with BaxCloud(api_key=key) as client:
        sync_ns = getattr(client, namespace)
        async_methods = public_methods(async_ns)
        sync_methods = public_methods(sync_ns)
        assert sorted(async_methods) == sorted(sync_methods)
        for name, async_method in async_methods.items():
            sync_method = sync_methods[name]
            a, s = inspect.signature(async_method), inspect.signature(sync_method)
            assert list(a.parameters.values()) == list(s.parameters.values()), name
            assert inspect.getdoc(async_method) == inspect.getdoc(sync_method), name
            assert inspect.iscoroutinefunction(sync_method) is False
            expected = str(a.return_annotation).replace("AsyncPager", "SyncPage")
            assert str(s.return_annotation) == expected, name


def test_client_constructors_match() -> None:
    a = inspect.signature(AsyncBaxCloud.__init__)
    s = inspect.signature(BaxCloud.__init__)
    assert list(a.parameters.values()) == list(s.parameters.values())


def test_many_threads_share_one_client(server: LocalServer) -> None:
    prefix = unique("threads")
    with server.client() as client:

        def work(worker: int) -> list[str]:
            sids = []
            for i in range(10):
                room = client.rooms.create(name=f"{prefix}-{worker}-{i}")
                assert client.rooms.get(room.name).sid == room.sid
                sids.append(room.sid)
            return sids

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(8)))
    sids = [sid for batch in results for sid in batch]
    assert len(sids) == 80 and len(set(sids)) == 80


async def test_works_inside_a_running_event_loop(server: LocalServer) -> None:
    asyncio.get_running_loop()  # we are inside one, as in Jupyter
    with server.client() as client:
        room = client.rooms.create(name=unique())
        assert client.rooms.get(room.name) == room
        assert room.name in [r.name for r in client.rooms.list(limit=100)]


def test_closed_client_refuses_calls(server: LocalServer) -> None:
    client = server.client()
    client.rooms.list()
    client.close()
    client.close()
    with pytest.raises(BaxCloudError, match="closed"):
        client.rooms.list()


def test_no_thread_is_left_behind(server: LocalServer) -> None:
    gc.collect()
    before = threading.active_count()
    for _ in range(20):
        with server.client() as client:
            client.rooms.list()
    for _ in range(20):
        dropped = server.client()
        dropped.rooms.list()
        del dropped
    gc.collect()
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before


def test_unused_client_starts_no_thread(server: LocalServer) -> None:
    before = threading.active_count()
    clients = [server.client() for _ in range(10)]
    assert threading.active_count() == before
    for c in clients:
        c.close()


def test_with_options_copy_keeps_working_after_original_is_dropped(server: LocalServer) -> None:
    copy = server.client().with_options(max_retries=0)
    gc.collect()
    assert copy.rooms.create(name=unique()).sid.startswith("RM_")


def test_page_iteration_outlives_a_temporary_client(fresh_server: LocalServer) -> None:
    with fresh_server.client() as client:
        for i in range(5):
            client.rooms.create(name=f"r{i}")
    page = fresh_server.client().rooms.list(limit=2)
    gc.collect()
    assert [r.name for r in page] == [f"r{i}" for i in range(5)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_client_works_in_a_forked_child(server: LocalServer) -> None:
    with server.client() as client:
        client.rooms.list()  # the parent's loop thread and pool are live
        name = unique("forked")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                room = client.rooms.create(name=name)
                code = 0 if client.rooms.get(name).sid == room.sid else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        assert client.rooms.get(name).name == name  # the parent's client still works


async def test_portal_threads_are_not_left_behind(server: LocalServer) -> None:
    # Inside a running loop, blocking calls go through a portal thread per client.
    gc.collect()
    before = threading.active_count()
    for _ in range(10):
        dropped = server.client()
        dropped.rooms.list()
        assert threading.active_count() == before + 1
        del dropped
        gc.collect()
    for _ in range(200):  # portal threads stop as their clients are collected
        if threading.active_count() == before:
            break
        await asyncio.sleep(0.05)
    assert threading.active_count() == before


def test_each_thread_gets_its_own_pool_and_ended_threads_release_theirs(
    server: LocalServer,
) -> None:
    with server.client() as client:
        pools = client._async._http

        def call() -> None:
            client.rooms.list()

        workers = [threading.Thread(target=call) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(pools._by_loop) == 3
        call()  # a new thread-loop (this thread's) sweeps the ended threads' pools
        assert len(pools._by_loop) == 1
    assert pools.closed and pools._by_loop == {}


def test_a_users_http_client_stays_on_one_loop(server: LocalServer) -> None:
    import httpx

    http = httpx.AsyncClient()
    with server.client(http_client=http) as client:
        threads = [threading.Thread(target=client.rooms.list) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.rooms.list()
        assert client._bridge._portal_thread is not None
        assert client._async._http._by_loop == {}
