"""Cancellation, timeouts and pool exhaustion: no leaked connection, no hang.

Calls are cancelled mid-flight (the server holds them with `slow` faults) in
every way a program can cancel them: anyio cancel scopes and deadlines,
`asyncio.wait_for` / `asyncio.timeout` / task cancellation on asyncio, trio's own
cancel scopes and nurseries on trio, and for the blocking client a real
SIGINT (KeyboardInterrupt) delivered to the waiting thread. Afterwards the
client still serves normal calls and its open connections stay bounded. Every
test runs under an overall deadline, so a hang fails instead of blocking.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
import trio
from helpers import close_blocking_with_users_client
from reliability.rel_support import asettle, client_sockets, server_port, settle

from baxcloud import (
    APIConnectionError,
    APITimeoutError,
    AsyncBaxCloud,
    BaxCloud,
)
from baxcloud._core.pools import DEFAULT_LIMITS
from baxcloud.testing import LocalServer

CANCEL_AFTER = 0.02


def pool_connections(client: AsyncBaxCloud) -> int:
    """Connections held by the running loop's httpx pool (async client)."""
    transport: Any = client._http.get()._transport
    return len(transport._pool.connections)


async def cancel_with_move_on_after(call: Callable[[], Awaitable[Any]]) -> bool:
    with anyio.move_on_after(CANCEL_AFTER) as scope:
        await call()
    return scope.cancelled_caught


async def cancel_with_scope_from_another_task(call: Callable[[], Awaitable[Any]]) -> bool:
    async with anyio.create_task_group() as tg:

        async def run(task_status: Any) -> None:
            with anyio.CancelScope() as scope:
                task_status.started(scope)
                await call()

        scope: anyio.CancelScope = await tg.start(run)
        await anyio.sleep(CANCEL_AFTER)
        scope.cancel()
    return scope.cancelled_caught


async def cancel_with_wait_for(call: Callable[[], Awaitable[Any]]) -> bool:
    try:
        await asyncio.wait_for(call(), CANCEL_AFTER)
    except TimeoutError:
        return True
    return False


async def cancel_with_asyncio_timeout(call: Callable[[], Awaitable[Any]]) -> bool:
    try:
        async with asyncio.timeout(CANCEL_AFTER):
            await call()
    except TimeoutError:
        return True
    return False


async def cancel_task(call: Callable[[], Awaitable[Any]]) -> bool:
    task = asyncio.ensure_future(call())
    await asyncio.sleep(CANCEL_AFTER)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


async def cancel_with_trio_move_on_after(call: Callable[[], Awaitable[Any]]) -> bool:
    with trio.move_on_after(CANCEL_AFTER) as scope:
        await call()
    return scope.cancelled_caught


async def cancel_with_trio_fail_after(call: Callable[[], Awaitable[Any]]) -> bool:
    try:
        with trio.fail_after(CANCEL_AFTER):
            await call()
    except trio.TooSlowError:
        return True
    return False


async def cancel_nursery(call: Callable[[], Awaitable[Any]]) -> bool:
    async def run() -> None:
        await call()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        await trio.sleep(CANCEL_AFTER)
        nursery.cancel_scope.cancel()
    return nursery.cancel_scope.cancelled_caught


ANYIO_STYLES = [cancel_with_move_on_after, cancel_with_scope_from_another_task]
STYLES = {
    "asyncio": [*ANYIO_STYLES, cancel_with_wait_for, cancel_with_asyncio_timeout, cancel_task],
    "trio": [
        *ANYIO_STYLES,
        cancel_with_trio_move_on_after,
        cancel_with_trio_fail_after,
        cancel_nursery,
    ],
}


async def cancelled_calls(server: LocalServer, total: int, concurrency: int, backend: str) -> None:
    server.set_faults(rate=1, kinds=["slow"], slow_seconds=0.5)
    port = server_port(server)
    baseline = client_sockets(port)  # the LocalServer's own admin connection
    with anyio.fail_after(120):
        async with server.async_client(max_retries=0) as client:
            calls: list[Callable[[], Awaitable[Any]]] = [
                lambda: client.rooms.get("x"),
                lambda: client.rooms.list(),
                lambda: client.rooms.create(name="never-acknowledged"),
                lambda: client.rooms.update_metadata("x", "m"),
            ]
            cancelled = 0
            peak = 0

            async def one(i: int) -> None:
                nonlocal cancelled, peak
                styles = STYLES[backend]
                style = styles[i % len(styles)]
                if await style(calls[i % len(calls)]):
                    cancelled += 1
                peak = max(peak, pool_connections(client))

            for start in range(0, total, concurrency):
                async with anyio.create_task_group() as tg:
                    for i in range(start, min(start + concurrency, total)):
                        tg.start_soon(one, i)
            assert cancelled == total
            assert DEFAULT_LIMITS.max_connections is not None
            assert peak <= DEFAULT_LIMITS.max_connections
            # Cancelled requests do not stay in the pool: it is (nearly) empty ...
            assert pool_connections(client) <= concurrency
            server.set_faults()
            # ... and serves normal calls again, reusing one connection.
            for _ in range(20):
                await client.rooms.list()
            assert pool_connections(client) == 1
            assert client_sockets(port) <= baseline + 1
    await asettle(lambda: client_sockets(port) <= baseline, "client sockets closed by aclose")


@pytest.mark.sdk_pool  # counts the connections in the SDK's own pool
async def test_cancelled_calls_leak_no_connection(
    fault_server: LocalServer, anyio_backend: str
) -> None:
    await cancelled_calls(fault_server, total=1000, concurrency=50, backend=anyio_backend)


@pytest.mark.slow
async def test_soak_cancelled_calls(fault_server: LocalServer, anyio_backend: str) -> None:
    await cancelled_calls(fault_server, total=10_000, concurrency=100, backend=anyio_backend)


async def test_cancelled_mutation_never_acknowledged_is_safe_to_retry(
    fault_server: LocalServer,
) -> None:
    """A create cancelled while the server holds it may still commit; the same key replays it."""
    fault_server.set_faults(rate=1, kinds=["slow"], slow_seconds=0.3)
    with anyio.fail_after(30):
        async with fault_server.async_client(max_retries=0) as client:
            with anyio.move_on_after(CANCEL_AFTER):
                await client.rooms.create(name="cancelled-create", idempotency_key="cc-1")
            fault_server.set_faults()
            retrying = client.with_options(max_retries=100)
            room = await retrying.rooms.create(name="cancelled-create", idempotency_key="cc-1")
            assert room.name == "cancelled-create"


# ---- pool exhaustion and timeouts ------------------------------------------------


async def test_exhausted_pool_and_slow_server_end_in_timeouts_not_hangs(
    fault_server: LocalServer,
) -> None:
    fault_server.set_faults(rate=1, kinds=["slow"], slow_seconds=1)
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    errors: list[BaseException] = []
    with anyio.fail_after(30):
        async with fault_server.async_client(http_client=http, timeout=0.2) as client:

            async def call(retries: int) -> None:
                try:
                    await client.rooms.get("x", max_retries=retries)
                except APIConnectionError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                for i in range(8):
                    tg.start_soon(call, i % 3)
            assert len(errors) == 8
            assert all(isinstance(e, APITimeoutError) for e in errors)
            # Waiting for the pool's only connection counts against each attempt's timeout.
            assert any(
                isinstance(e.__cause__, httpx.PoolTimeout) or "timeout of 0.2 s" in str(e)
                for e in errors
            )
            fault_server.set_faults()
            # The pool's only slot came back (a generous timeout: the machine may be busy).
            patient = client.with_options(timeout=10)
            await patient.rooms.create(name="after-exhaustion")
            assert [room.name for room in (await patient.rooms.list()).items] == [
                "after-exhaustion"
            ]
        await http.aclose()


async def test_pool_slots_survive_timeouts_under_contention_round_after_round(
    fault_server: LocalServer,
) -> None:
    """Timeouts racing a freed pool slot must not lose the slot (encode/httpcore#1093).

    A request that times out just as the pool hands it a new connection used to
    leave that connection unopened in the pool for good; with one slot, every later
    call then failed with PoolTimeout. The race is timing-dependent, so it is run
    many times: without the SDK's reclaiming it shows within a few rounds.
    """
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    with anyio.fail_after(120):
        async with fault_server.async_client(http_client=http, timeout=0.2) as client:
            for _ in range(12):
                fault_server.set_faults(rate=1, kinds=["slow"], slow_seconds=0.5)
                outcomes: list[BaseException] = []

                async def call(into: list[BaseException]) -> None:
                    try:
                        await client.rooms.get("x", max_retries=0)
                    except APIConnectionError as exc:
                        into.append(exc)

                async with anyio.create_task_group() as tg:
                    for _ in range(4):
                        tg.start_soon(call, outcomes)
                assert len(outcomes) == 4
                assert all(isinstance(e, APITimeoutError) for e in outcomes)
                fault_server.set_faults()
                page = await client.with_options(timeout=10).rooms.list(limit=1)
                assert page.limit == 1
        await http.aclose()


async def test_unreachable_server_is_a_connection_error() -> None:
    with anyio.fail_after(30):
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
        await listener.aclose()  # nobody listens there any more
        key = "bax_sk_abcd1234_" + "x" * 40
        async with AsyncBaxCloud(api_key=key, base_url=f"http://127.0.0.1:{port}") as client:
            with pytest.raises(APIConnectionError) as info:
                await client.rooms.list(max_retries=1)
            assert not isinstance(info.value, APITimeoutError)


def test_blocking_client_timeouts_and_tiny_pool(fault_server: LocalServer) -> None:
    fault_server.set_faults(rate=1, kinds=["slow"], slow_seconds=1)
    with (
        fault_server.client(timeout=0.2, max_retries=1) as client,
        pytest.raises(APITimeoutError),
    ):
        client.rooms.get("x")
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    client = fault_server.client(http_client=http, timeout=0.2, max_retries=0)
    try:
        results: list[BaseException] = []

        def call() -> None:
            try:
                client.rooms.list()
            except APIConnectionError as exc:
                results.append(exc)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        assert len(results) == 4 and all(isinstance(e, APITimeoutError) for e in results)
        fault_server.set_faults()
        client.with_options(timeout=10).rooms.list()
    finally:
        close_blocking_with_users_client(client, http)


# ---- the blocking client interrupted (KeyboardInterrupt) ----------------------------


@contextlib.contextmanager
def sigint_raises_keyboard_interrupt() -> Iterator[None]:
    """Python's own SIGINT handler (asyncio runners install a gentler one while running).

    Garbage collection is paused meanwhile: a KeyboardInterrupt raised inside a gc
    callback (hypothesis installs one) is reported as unraisable and lost, and the
    call it was meant for then runs to the end.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            gc.enable()
        signal.signal(signal.SIGINT, previous)


def interrupt_main_after(seconds: float) -> threading.Timer:
    """Deliver a real SIGINT to the main thread (interrupting a blocking socket wait)."""
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    return timer


def interrupted_calls(server: LocalServer, client: BaxCloud, count: int) -> None:
    assert threading.current_thread() is threading.main_thread()
    server.set_faults(rate=1, kinds=["slow"], slow_seconds=1)
    port = server_port(server)
    baseline = client_sockets(port)  # the LocalServer's own admin connection
    for i in range(count):
        with sigint_raises_keyboard_interrupt():
            timer = interrupt_main_after(0.05)
            try:
                if i % 2:
                    client.rooms.get("x")
                else:
                    client.rooms.create(name=f"interrupted-{i}")
            except KeyboardInterrupt:
                pass
            else:  # pragma: no cover - would mean the call ignored the slow fault
                pytest.fail("the call returned although the server held it")
            finally:
                timer.join()
        assert client_sockets(port) <= baseline + 1
    server.set_faults()
    for _ in range(10):
        client.rooms.list()
    assert client_sockets(port) <= baseline + 1


def test_keyboard_interrupt_cancels_blocking_call(fault_server: LocalServer) -> None:
    port = server_port(fault_server)
    fault_server.set_faults()
    baseline = client_sockets(port)
    with fault_server.client(max_retries=0) as client:
        interrupted_calls(fault_server, client, count=10)
    settle(lambda: client_sockets(port) <= baseline, "sockets closed by close()")


# With a blocking client of the user's, an interrupted request finishes in the
# background (tests/test_http_clients.py holds that one to its own promise).
@pytest.mark.sdk_pool
async def test_keyboard_interrupt_inside_a_running_loop(fault_server: LocalServer) -> None:
    """Inside a running loop the blocking client waits on its portal thread; still clean."""
    port = server_port(fault_server)
    fault_server.set_faults()
    baseline = client_sockets(port)
    with fault_server.client(max_retries=0) as client:
        interrupted_calls(fault_server, client, count=10)
    await asettle(lambda: client_sockets(port) <= baseline, "sockets closed by close()")
