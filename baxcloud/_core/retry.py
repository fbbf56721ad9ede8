"""The retry policy, one for API calls and downloads: what retries, how long to wait,
and `Retries`, the budget of one call (docs/configuration.md, "Retries and idempotency")."""

from __future__ import annotations

import email.utils
import random
import time

import anyio
import httpx

from . import tracing
from .log import logger

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def should_retry(response: httpx.Response, code: str | None) -> bool:
    if response.status_code in RETRYABLE_STATUSES:
        return True
    return response.status_code == 409 and code == "idempotency_key_in_use"


def parse_retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is None:
            return None
        seconds = float(parsed.timestamp() - time.time())
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0
    return min(seconds, MAX_RETRY_AFTER)


def backoff_delay(retries_done: int, retry_after: float | None = None) -> float:
    """Delay before the next attempt: the server's hint, else jittered doubling."""
    if retry_after is not None:
        return retry_after
    delay = min(INITIAL_DELAY * 2.0**retries_done, MAX_DELAY)
    return delay * (1 - 0.25 * random.random())


class Retries:
    """The retries one call has left, and the pause before each (`backoff_delay`)."""

    __slots__ = ("_what", "limit", "used")

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.used = 0
        self._what = what

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit

    async def pause(self, reason: str, retry_after: float | None = None) -> None:
        """Wait before the next attempt and spend one retry."""
        delay = backoff_delay(self.used, retry_after)
        logger.info("retrying %s in %.2fs after %s", self._what, delay, reason)
        await anyio.sleep(delay)
        self.used += 1
        tracing.retried()

    def reset(self) -> None:
        """Progress was made (a download received data): the budget starts again."""
        self.used = 0
