"""The attempt deadline in an asyncio task (`asyncio.timeout`, `_core/pipeline.py`).

What anyio's cancel scope did that asyncio's timeout does not do by itself: a
shielded close is not cut short, and a call made while its task is being
cancelled still times out as a timeout. asyncio alone (trio keeps anyio's scope).
"""

from __future__ import annotations

import asyncio
import asyncio.timeouts
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from hostile import hostile_server, trickle

from baxcloud import APIResponseValidationError, APITimeoutError, AsyncBaxCloud

API_KEY = "bax_sk_deadline_" + "K" * 40
ROOM = b'{"sid":"RM_1","name":"r"}'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _SlowCloseBody(httpx.AsyncByteStream):
    def __init__(self, closed: list[str]) -> None:
        self.closed = closed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"[" * (2 << 20)  # past max_response_bytes at once

    async def aclose(self) -> None:
        self.closed.append("started")
        await anyio.sleep(0.5)  # a transport whose close takes a while
        self.closed.append("finished")


class _SlowCloseTransport(httpx.AsyncBaseTransport):
    def __init__(self, closed: list[str]) -> None:
        self.closed = closed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.1)
        return httpx.Response(200, stream=_SlowCloseBody(self.closed))


async def test_a_shielded_close_is_not_cut_short_by_the_attempt_deadline() -> None:
    # `_exchange` closes a response it gave up on inside anyio.CancelScope(shield=True)
    # so that the deadline cannot cut the close short. anyio's shield stops anyio's
    # cancellation, not a native task.cancel(), which is what asyncio.timeout does:
    # unless the deadline is disarmed first, the close is abandoned and the body
    # error becomes a timeout (and is retried).
    closed: list[str] = []
    async with httpx.AsyncClient(transport=_SlowCloseTransport(closed)) as http:
        client = AsyncBaxCloud(
            api_key=API_KEY,
            base_url="http://deadline.invalid",
            http_client=http,
            timeout=0.3,
            max_retries=0,
            max_response_bytes=1 << 20,
        )
        with pytest.raises(APIResponseValidationError):
            await client.rooms.get("r")
        await client.aclose()
    assert closed == ["started", "finished"]


async def _pre_3_11_3_aexit(self: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
    """asyncio.Timeout.__aexit__ as CPython 3.11.0-3.11.2 shipped it (python/cpython#102780,
    fixed in 3.11.3): a timeout only counts as its own if no cancel is pending at all."""
    state: Any = getattr(asyncio.timeouts, "_State")  # noqa: B009 (private, not in the stubs)
    if self._timeout_handler is not None:
        self._timeout_handler.cancel()
        self._timeout_handler = None
    if self._state is state.EXPIRING:
        self._state = state.EXPIRED
        if self._task.uncancel() == 0 and exc_type is asyncio.CancelledError:
            raise TimeoutError
    elif self._state is state.ENTERED:
        self._state = state.EXITED


async def test_a_call_in_cleanup_after_a_cancel_times_out_on_python_3_11_0_to_3_11_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pyproject allows Python >= 3.11, so 3.11.0-3.11.2 too. There, asyncio.timeout
    # inside a task that has a cancel pending (the usual `finally:` cleanup after
    # task.cancel(), or an anyio shielded scope in a cancelled one) lets the
    # CancelledError through instead of raising TimeoutError: the SDK's attempt
    # deadline would reach the caller as a cancellation. Such a call uses anyio's scope.
    monkeypatch.setattr(asyncio.timeouts.Timeout, "__aexit__", _pre_3_11_3_aexit)
    outcome: list[str] = []
    with hostile_server(trickle(ROOM + b" " * 200, every=0.05)) as server:

        async def worker() -> None:
            try:
                await asyncio.sleep(30)
            finally:
                async with AsyncBaxCloud(
                    api_key=API_KEY, base_url=server.base_url, timeout=0.3, max_retries=0
                ) as client:
                    try:
                        await client.rooms.get("r")
                    except APITimeoutError:
                        outcome.append("APITimeoutError")
                    except asyncio.CancelledError:
                        outcome.append("CancelledError")
                        raise

        task = asyncio.create_task(worker())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert outcome == ["APITimeoutError"]
