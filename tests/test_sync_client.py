"""The generated blocking client: parity with the async one, threads, loops, fork, cleanup."""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import os
import subprocess
import sys
import threading
import time
import traceback
import warnings
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from helpers import FORKS_WITH_THREADS, unique, wait_until

import baxcloud
from baxcloud import AsyncBaxCloud, BaxCloud, BaxCloudError
from baxcloud._sync import bridge as bridge_module
from baxcloud._sync import client as sync_client_module
from baxcloud._sync import loops as loops_module
from baxcloud._sync.base import SyncResource
from baxcloud._sync.portal import Portal
from baxcloud._sync.transport import BlockingPool
from baxcloud.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent
NAMESPACES = sorted(
    name
    for name, attr in vars(AsyncBaxCloud).items()
    if isinstance(attr, cached_property) and name != "with_raw_response"
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


def paragraphs(doc: str | None) -> list[str]:
    return (doc or "").split("\n\n")


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_signatures_and_docstrings_match(namespace: str) -> None:
    key = "bax_sk_abcd_" + "s" * 40
    async_ns = getattr(AsyncBaxCloud(api_key=key), namespace)
    with BaxCloud(api_key=key) as client:
        sync_ns = getattr(client, namespace)
        async_methods = public_methods(async_ns)
        sync_methods = public_methods(sync_ns)
        assert sorted(async_methods) == sorted(sync_methods)
        assert inspect.getdoc(type(async_ns)) == inspect.getdoc(type(sync_ns))
        for name, async_method in async_methods.items():
            sync_method = sync_methods[name]
            a, s = inspect.signature(async_method), inspect.signature(sync_method)
            assert list(a.parameters.values()) == list(s.parameters.values()), name
            assert inspect.iscoroutinefunction(sync_method) is False
            expected = str(a.return_annotation).replace("AsyncPager", "SyncPage")
            assert str(s.return_annotation) == expected, name
            async_doc = paragraphs(inspect.getdoc(async_method))
            sync_doc = paragraphs(inspect.getdoc(sync_method))
            if "AsyncPager" not in str(a.return_annotation):
                assert sync_doc == async_doc, name
                continue
            # A list call: the same text, but a `Returns:` section for the blocking page.
            item = str(a.return_annotation).removeprefix("AsyncPager[").removesuffix("]")
            returns = f"The first page; iterating it walks every `{item}` of every page."
            sections = {"sync": sync_doc, "async": async_doc}
            kept = {k: [p for p in v if not p.startswith("Returns:")] for k, v in sections.items()}
            assert kept["sync"] == kept["async"], name
            assert f"Returns:\n    {returns}" in sync_doc, name
            assert f"Returns:\n    {returns}" not in async_doc, name


def test_blocking_docstrings_never_ask_for_await() -> None:
    namespaces = [
        cls
        for cls in vars(sync_client_module).values()
        if isinstance(cls, type) and issubclass(cls, SyncResource) and cls is not SyncResource
    ]
    raw = [cls for cls in namespaces if cls.__name__.endswith("WithRawResponse")]
    assert len(namespaces) - len(raw) == len(NAMESPACES)
    docs = [inspect.getdoc(BaxCloud)]
    for namespace in namespaces:
        docs.append(inspect.getdoc(namespace))
        docs += [inspect.getdoc(method) for method in public_methods(namespace).values()]
    for doc in docs:
        assert doc is not None
        assert "await" not in doc and "async for" not in doc, doc


def test_client_docstring_is_built_for_the_blocking_client() -> None:
    sync_doc, async_doc = paragraphs(BaxCloud.__doc__), paragraphs(AsyncBaxCloud.__doc__)
    assert sync_doc[0].startswith("The blocking BaxCloud client")
    assert sync_doc[-1] == async_doc[-1] and sync_doc[-1].strip().startswith("Args:")


def test_the_async_core_knows_nothing_of_the_blocking_client() -> None:
    """`_sync` depends on the core, never the other way round (not even for typing)."""
    package = ROOT / "baxcloud"
    core = [
        *sorted((package / "_core").glob("*.py")),
        *sorted((package / "_resources").glob("*.py")),
        *(package / name for name in ("_client.py", "_models.py", "_media_models.py")),
    ]
    for path in core:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(alias.name for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any("_sync" in name.split(".") for name in names), path


def test_client_constructors_match() -> None:
    """The same parameters; the blocking client's http_client also takes blocking clients."""
    a = inspect.signature(AsyncBaxCloud.__init__).parameters
    s = inspect.signature(BaxCloud.__init__).parameters
    assert list(a) == list(s)
    for name, parameter in a.items():
        if name == "http_client":
            assert parameter.annotation == "httpx.AsyncClient | httpx2.AsyncClient | None"
            blocking = (
                "httpx.Client | httpx2.Client | httpx.AsyncClient | httpx2.AsyncClient | None"
            )
            parameter = parameter.replace(annotation=blocking)
        assert s[name] == parameter


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
    anyio.get_current_task()  # we are inside a running loop (asyncio's or trio's), as in Jupyter
    with server.client() as client:
        room = client.rooms.create(name=unique())
        assert client.rooms.get(room.name) == room
        assert room.name in [r.name for r in client.rooms.list(limit=100)]


def test_closed_client_refuses_calls(server: LocalServer) -> None:
    client = server.client()
    client.rooms.list()
    client.close()
    client.close()
    gc.collect()  # earlier tests' garbage is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(BaxCloudError, match="closed"):
            client.rooms.list()
        with pytest.raises(BaxCloudError, match="closed"):
            client.rooms.get("x")
        gc.collect()
    never_awaited = [w for w in caught if "was never awaited" in str(w.message)]
    assert never_awaited == []


def test_no_thread_is_left_behind(server: LocalServer) -> None:
    gc.collect()
    before = set(threading.enumerate())  # others' threads may end meanwhile: not counted
    for _ in range(20):
        with server.client() as client:
            client.rooms.list()
    for _ in range(20):
        dropped = server.client()
        dropped.rooms.list()
        del dropped
    gc.collect()
    deadline = time.monotonic() + 10
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [t.name for t in set(threading.enumerate()) - before] == []


def test_unused_client_starts_no_thread(server: LocalServer) -> None:
    before = threading.active_count()
    clients = [server.client() for _ in range(10)]
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]
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


@FORKS_WITH_THREADS
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


@pytest.mark.sdk_pool  # a user's blocking client adds worker threads (test_http_clients.py)
async def test_portal_threads_are_not_left_behind(server: LocalServer) -> None:
    # Inside a running loop, blocking calls go through a portal thread per client.
    gc.collect()
    before = set(threading.enumerate())

    def started() -> list[str]:  # the threads started since, still running
        return sorted(t.name for t in set(threading.enumerate()) - before)

    for _ in range(10):
        dropped = server.client()
        dropped.rooms.list()
        assert started() == ["baxcloud-portal"]
        collected = weakref.ref(dropped)
        del dropped
        gc.collect()
        assert collected() is None
        # The client's finalizer stops its portal, on this thread or (when the
        # collection happened on the portal thread) on a thread of its own: wait
        # for every thread it started to end, however slow the machine.
        wait_until(lambda: not started(), "the dropped client's threads to end")


def test_an_async_generator_a_call_leaves_unfinished_is_closed_before_it_returns(
    server: LocalServer,
) -> None:
    """Its finalizer schedules `aclose()` on the thread's loop, which may never run again."""
    closed: list[bool] = []

    async def numbers() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    async def leave_unfinished() -> None:
        async for _ in numbers():
            break  # like a download that stops reading httpx's body iterator early

    with server.client() as client:
        client._bridge.run(leave_unfinished())
        assert closed == [True]


def test_threads_share_one_pool_and_each_thread_loop_closes_with_its_thread(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loops: list[asyncio.AbstractEventLoop] = []
    pools: list[BlockingPool] = []

    def new_event_loop() -> asyncio.AbstractEventLoop:
        loops.append(real_new_event_loop())
        return loops[-1]

    def new_pool(*args: Any) -> BlockingPool:
        pools.append(BlockingPool(*args))
        return pools[-1]

    real_new_event_loop = loops_module.new_event_loop
    monkeypatch.setattr(loops_module, "new_event_loop", new_event_loop)
    monkeypatch.setattr(bridge_module, "BlockingPool", new_pool)
    with server.client() as client:
        for _ in range(3):
            worker = threading.Thread(target=client.rooms.list)
            worker.start()
            worker.join()
        assert len(loops) == 3 and all(loop.is_closed() for loop in loops)
        client.rooms.list()
        client.rooms.list()
        assert len(loops) == 4 and not loops[-1].is_closed()  # this thread's, reused
        assert len(pools) == 1
    assert loops[-1].is_closed()


class LoopRecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.loops: set[int] = set()
        self.threads: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.loops.add(id(asyncio.get_running_loop()))
        self.threads.add(threading.current_thread().name)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_users_http_client_stays_on_one_loop(server: LocalServer) -> None:
    transport = LoopRecordingTransport()
    http = httpx.AsyncClient(transport=transport)
    with server.client(http_client=http) as client:
        threads = [threading.Thread(target=client.rooms.list) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.rooms.list()
        client._bridge.run(http.aclose())  # on the loop that used it
    assert len(transport.loops) == 1
    assert transport.threads == {"baxcloud-portal"}
    assert http.is_closed


@pytest.mark.sdk_pool  # a user's blocking client adds worker threads (test_http_clients.py)
async def test_calls_from_a_running_loop_go_through_the_portal(server: LocalServer) -> None:
    before = set(threading.enumerate())
    with server.client() as client:
        client.rooms.list()
        started = [t for t in threading.enumerate() if t not in before]
        assert [t.name for t in started] == ["baxcloud-portal"]
    assert not started[0].is_alive()  # stopped by close()


def test_portal_finalized_on_its_own_thread_stops_cleanly() -> None:
    """A client garbage-collected on its portal's thread still closes everything."""
    portal = Portal()
    closed: list[str] = []

    async def closing() -> None:
        closed.append(threading.current_thread().name)

    async def stop_from_the_portal() -> None:
        portal.stop(closing)

    portal.run(stop_from_the_portal())
    wait_until(lambda: not portal._thread.is_alive(), "the portal thread ends")
    assert closed == ["baxcloud-portal"]


@FORKS_WITH_THREADS
@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
async def test_forked_child_leaves_the_parents_portal_alone(server: LocalServer) -> None:
    """The child drops the parent's portal and loops; the parent's portal keeps serving."""
    with server.client() as client:
        client.rooms.list()  # inside a running loop: through the portal
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                code = 0 if isinstance(client.rooms.list().items, list) else 2
                gc.collect()  # the parent's portal, pool and loops are finalized here
            finally:
                os._exit(code)
        deadline = time.monotonic() + 60
        while not os.waitpid(pid, os.WNOHANG)[0]:  # noqa: ASYNC222 (WNOHANG never blocks)
            if time.monotonic() > deadline:  # pragma: no cover - a hang fails the test
                os.kill(pid, 9)
                pytest.fail("forked child hung")
            await anyio.sleep(0.01)
        created: list[str] = []

        async def calls_in_a_running_loop() -> None:
            for _ in range(5):
                created.append(client.rooms.create(name=unique("after-fork")).name)

        # In a thread of its own, so that a portal that stopped serving fails the test.
        worker = threading.Thread(
            target=asyncio.run, args=(calls_in_a_running_loop(),), daemon=True
        )
        worker.start()
        worker.join(60)
        assert not worker.is_alive(), "the parent's portal stopped serving"
        assert len(created) == 5


# ---- tracebacks ----------------------------------------------------------------------


def _frames_below(error: BaseException, caller: str) -> list[traceback.FrameSummary]:
    """The traceback's frames after the caller's own (the test function's)."""
    frames = traceback.extract_tb(error.__traceback__)
    assert frames[0].name == caller
    return frames[1:]


def test_an_api_error_ends_two_frames_below_the_callers_line(server: LocalServer) -> None:
    sync_dir = str(ROOT / "baxcloud" / "_sync")
    name = unique("tb")
    with server.client() as client:
        client.rooms.create(name=name)
        with pytest.raises(baxcloud.ConflictError) as created_twice:
            client.rooms.create(name=name)
        with pytest.raises(baxcloud.NotFoundError) as listed:
            client.participants.list(name + "-missing")
        with pytest.raises(baxcloud.NotFoundError) as requested:
            client._request("GET", "/v1/rooms/" + name + "-missing", cast_to=dict)
    caller = "test_an_api_error_ends_two_frames_below_the_callers_line"
    for caught in (created_twice, listed, requested):
        frames = _frames_below(caught.value, caller)
        assert len(frames) <= 2, traceback.format_list(frames)
        assert all(frame.filename.startswith(sync_dir) for frame in frames)
    error = created_twice.value
    assert type(error).__module__ == "baxcloud"
    assert error.code == "room_already_exists" and error.request_id
    assert error.__cause__ is None


def test_a_trimmed_error_keeps_its_cause_and_the_causes_traceback() -> None:
    api_key = "bax_sk_trace1234_" + "t" * 32
    client = BaxCloud(api_key=api_key, base_url="http://127.0.0.1:9", max_retries=0)
    with client, pytest.raises(baxcloud.APIConnectionError) as caught:
        client.rooms.get("any")
    caller = "test_a_trimmed_error_keeps_its_cause_and_the_causes_traceback"
    frames = _frames_below(caught.value, caller)
    assert len(frames) <= 2
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert cause.__traceback__ is not None  # the transport's frames, for whoever needs them


def test_a_thread_loop_cut_short_before_its_loop_existed_is_dropped_quietly() -> None:
    """A KeyboardInterrupt inside `_ThreadLoop.__init__` leaves an object with no loop;
    dropping it must not raise from `__del__` (an unraisable-exception warning)."""
    from baxcloud._sync.loops import _ThreadLoop

    unraisable: list[object] = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        half_made = _ThreadLoop.__new__(_ThreadLoop)
        del half_made
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []


@pytest.mark.parametrize("when", ["before the call", "as the call starts", "while it waits"])
def test_a_pool_closed_by_another_thread_opens_no_connection_for_a_late_call(
    server: LocalServer, when: str
) -> None:
    # The blocking client checks that it is open before a call; another thread may
    # close it right after. The transport itself must then refuse, and a connection
    # the closed pool opened meanwhile must not outlive the call. A call already
    # waiting when its socket is closed under it says the client was closed too.
    pool = BlockingPool()
    inner: Any = pool._transport._client
    real_handle = inner._transport.handle_request
    if when == "before the call":
        pool.close()
    elif when == "while it waits":

        def socket_closed_under_it(request: httpx.Request) -> httpx.Response:
            inner.close()  # what a recv on the closed socket then reports (EBADF):
            raise httpx.ReadError("[Errno 9] Bad file descriptor", request=request)

        inner._transport.handle_request = socket_closed_under_it
    else:

        def closed_by_another_thread_first(request: httpx.Request) -> httpx.Response:
            other = threading.Thread(target=inner.close)
            other.start()
            other.join()
            response: httpx.Response = real_handle(request)  # the closed pool still connects
            return response

        inner._transport.handle_request = closed_by_another_thread_first
    request = httpx.Request(
        "GET", server.base_url + "/v1/rooms", headers={"authorization": "Bearer x"}
    )
    with pytest.raises(BaxCloudError, match="closed"):
        asyncio.run(pool._transport.handle_async_request(request))
    assert inner._transport._pool.connections == []
