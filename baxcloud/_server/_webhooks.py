"""Webhook delivery: endpoints, a persistent queue, a background worker.

Every event `record_event` writes is queued, in the same transaction, for each
enabled endpoint (table `webhook_queue`). A background task on the server's
event loop POSTs queued events with an `httpx.AsyncClient`:

* body: `{"id","event","createdAt","data"}` as compact UTF-8 JSON; headers from
  `baxcloud.webhooks.sign` (the primary secret, plus the previous one during a
  rotation's grace period), `webhook-timestamp` = real current time;
* at least once, in order per room per endpoint: the next event of a room
  (its `roomName`; events without one are unordered) for an endpoint waits
  until the previous one was delivered or given up; different rooms and
  endpoints are delivered concurrently;
* a non-2xx answer, a timeout or a connection error is retried after
  `webhook_retry_schedule[n]` seconds of *wall* time (the manual clock drives
  API semantics only, so retries never wait for `advance_clock`); once the
  schedule is exhausted the event is given up for that endpoint; a 410 answer
  disables the endpoint (its queue is dropped, `disabledReason` says why);
* the endpoint's host is resolved and checked at every attempt and the
  request goes to the checked address (`_webhook_targets`); a refused address
  fails the delivery at once; at most `MAX_RESPONSE_BYTES` of an answer's body
  are read;
* every attempt is recorded (`webhook_attempts`, the newest 10000 kept).

The queue lives in SQLite, so with a data directory undelivered events survive
a restart (an attempt cut short by shutdown is simply made again). Nothing
here awaits inside a transaction, and nothing logs a secret or a signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from .._version import get_version
from ..webhooks import sign
from . import _ids, _storage, _webhook_targets
from ._config import WEBHOOK_SECRET_META

if TYPE_CHECKING:
    from ._clock import Clock

logger = logging.getLogger("baxcloud.server.webhooks")

PREVIOUS_SECRET_META = "webhook_secret_previous"  # noqa: S105 (a meta key, not a secret)
PREVIOUS_UNTIL_META = "webhook_secret_previous_until"
MAX_CONCURRENT_DELIVERIES = 32
MAX_ATTEMPTS_KEPT = 10_000
MAX_ERROR_CHARS = 500
# Of a receiver's answer only the status matters; reading a little of the body lets
# a short answer keep its connection alive, and an endless one cannot cost more.
MAX_RESPONSE_BYTES = 4096


def user_agent() -> str:
    return f"baxcloud-local-server/{get_version()}"


def endpoint_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "enabled": bool(row["enabled"]),
        "disabledReason": row["disabled_reason"],
        "createdAt": row["created_at"],
    }


def attempt_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "eventId": row["event_id"],
        "event": row["event_name"],
        "endpointId": row["endpoint_id"],
        "endpointUrl": row["endpoint_url"],
        "attempt": row["attempt"],
        "status": row["status"],
        "latencyMs": row["latency_ms"],
        "error": row["error"],
        "outcome": row["outcome"],
        "attemptedAt": row["attempted_at"],
        "deliveredAt": row["attempted_at"] if row["outcome"] == "delivered" else None,
        "nextAttemptAt": row["next_attempt_at"],
    }


def upsert_endpoint(db: sqlite3.Connection, now: float, url: str) -> tuple[sqlite3.Row, bool]:
    """Register `url` (or re-enable it if known); returns the row and whether it is new."""
    row = db.execute("SELECT * FROM webhook_endpoints WHERE url = ?", (url,)).fetchone()
    if row is not None:
        if not row["enabled"]:
            db.execute(
                "UPDATE webhook_endpoints SET enabled = 1, disabled_reason = NULL WHERE id = ?",
                (row["id"],),
            )
            row = db.execute(
                "SELECT * FROM webhook_endpoints WHERE id = ?", (row["id"],)
            ).fetchone()
        return row, False
    endpoint_id = _ids.new_id("we_")
    db.execute(
        "INSERT INTO webhook_endpoints (id, url, enabled, disabled_reason, created_at)"
        " VALUES (?, ?, 1, NULL, ?)",
        (endpoint_id, url, int(now)),
    )
    row = db.execute("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()
    return row, True


@attrs.frozen
class _Head:
    """The oldest queued event of one (endpoint, room) lane."""

    seq: int
    event_id: str
    endpoint_id: str
    url: str
    attempts: int


@attrs.frozen(kw_only=True)
class AttemptReport:
    """One finished delivery attempt, as told to `WebhookDelivery.on_attempt`."""

    event: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    outcome: str  # "delivered", "retrying", "failed" or "disabled"
    retry_in: float | None
    latency_ms: float


class WebhookDelivery:
    """Endpoints, secrets and the delivery worker of one server."""

    def __init__(
        self,
        storage: _storage.Storage,
        clock: Clock,
        *,
        retry_schedule: Sequence[float],
        timeout: float,
        grace_period: float,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._schedule = tuple(retry_schedule)
        self._timeout = timeout
        self._grace_period = grace_period
        self._primary = ""
        self._previous: str | None = None
        self._previous_until = -math.inf
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._cancelled: set[asyncio.Task[None]] = set()  # by a reset, still unwinding
        self._client: httpx.AsyncClient | None = None
        self._stopping = False
        self._generation = 0  # bumped by `reset`: older attempts record nothing
        # Replaceable so that tests can make a name resolve anywhere on cue.
        self.resolve: _webhook_targets.Resolver = _webhook_targets.resolve_host
        # Told about every finished attempt when set (`baxcloud dev` prints them).
        self.on_attempt: Callable[[AttemptReport], None] | None = None

    def __repr__(self) -> str:  # never shows a secret
        return f"WebhookDelivery(running={self._task is not None})"

    # ---- set-up and secrets ----------------------------------------------------------

    def setup(self, db: sqlite3.Connection, now: float, primary: str, urls: Sequence[str]) -> None:
        """Inside the start-up transaction: register configured URLs, load the secrets."""
        for url in urls:
            upsert_endpoint(db, now, url)
        # A restart retries the persisted backlog at once rather than at its old schedule.
        db.execute("UPDATE webhook_queue SET next_attempt_at = 0")
        self._primary = primary
        previous = _storage.get_meta(db, PREVIOUS_SECRET_META)
        until = _storage.get_meta(db, PREVIOUS_UNTIL_META)
        if previous is not None and until is not None and previous != primary:
            self._previous, self._previous_until = previous, float(until)

    @property
    def primary_secret(self) -> str:
        """The secret that signs every delivery (and that clients verify with)."""
        return self._primary

    def signing_secrets(self) -> list[str]:
        """The primary secret, then the previous one while its grace period lasts."""
        secrets = [self._primary]
        if self._previous is not None and self._clock.now() < self._previous_until:
            secrets.append(self._previous)
        return secrets

    def rotate(self, db: sqlite3.Connection, now: float, new_secret: str) -> float:
        """Make `new_secret` primary; the old one signs too until the returned time."""
        old = self._primary
        until = now + self._grace_period
        _storage.set_meta(db, WEBHOOK_SECRET_META, new_secret)
        _storage.set_meta(db, PREVIOUS_SECRET_META, old)
        _storage.set_meta(db, PREVIOUS_UNTIL_META, repr(until))
        self._primary, self._previous, self._previous_until = new_secret, old, until
        return until

    def reset(self, db: sqlite3.Connection, now: float, primary: str, urls: Sequence[str]) -> None:
        """A server reset, inside its transaction, once the tables are emptied.

        Attempts in flight are cancelled and never recorded, so nothing queued
        before the reset is delivered after it; the secret goes back to `primary`
        (a rotation is forgotten) and the endpoints to `urls`.
        """
        self._generation += 1
        for task in self._inflight.values():
            task.cancel()
            self._cancelled.add(task)
            task.add_done_callback(self._cancelled.discard)
        self._inflight.clear()
        _storage.set_meta(db, WEBHOOK_SECRET_META, primary)
        self._primary, self._previous, self._previous_until = primary, None, -math.inf
        for url in urls:
            upsert_endpoint(db, now, url)
        self.wake()

    # ---- the worker --------------------------------------------------------------------

    def wake(self) -> None:
        """Something may have been queued: look now (call on the loop thread)."""
        # With an empty queue a look finds nothing (no endpoint, or all delivered):
        # most changes queue nothing, and waking the worker costs more than asking.
        if self._wake is not None and not self._wake.is_set() and self._anything_queued():
            self._wake.set()

    def _anything_queued(self) -> bool:
        return (
            self._storage.db.execute("SELECT 1 FROM webhook_queue LIMIT 1").fetchone() is not None
        )

    async def start(self) -> None:
        """Start the worker on the running loop (from the ASGI lifespan)."""
        if self._task is not None:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": user_agent()},
        )
        self._task = asyncio.create_task(self._run(), name="baxcloud-webhook-delivery")

    async def stop(self) -> None:
        """Stop the worker and cancel attempts in flight; queued events stay queued."""
        self._stopping = True
        tasks = [*self._inflight.values(), *self._cancelled]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._inflight.clear()
        self._task = None
        self._wake = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while not self._stopping:
            wake.clear()
            try:
                delay = self._dispatch()
            except Exception:
                logger.exception("webhook dispatch failed")
                delay = 1.0
            if delay is None:
                await wake.wait()
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)

    def _dispatch(self) -> float | None:
        """Start an attempt for every due lane head; seconds until the next one is due."""
        rows = self._storage.db.execute(
            "SELECT q.seq, q.event_id, q.endpoint_id, q.attempts, q.next_attempt_at, e.url"
            " FROM webhook_queue q JOIN webhook_endpoints e ON e.id = q.endpoint_id"
            " WHERE q.seq IN (SELECT MIN(seq) FROM webhook_queue"
            " GROUP BY endpoint_id, ordering_key) ORDER BY q.seq"
        ).fetchall()
        now = time.time()
        next_due: float | None = None
        for row in rows:
            seq = row["seq"]
            if seq in self._inflight:
                continue
            due = row["next_attempt_at"]
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            if len(self._inflight) >= MAX_CONCURRENT_DELIVERIES:
                return None  # a finishing attempt wakes the worker
            head = _Head(
                seq=seq,
                event_id=row["event_id"],
                endpoint_id=row["endpoint_id"],
                url=row["url"],
                attempts=row["attempts"],
            )
            task = asyncio.create_task(self._attempt(head))
            self._inflight[seq] = task
            task.add_done_callback(functools.partial(self._finished, seq))
        return None if next_due is None else max(0.0, next_due - time.time())

    def _finished(self, seq: int, task: asyncio.Task[None]) -> None:
        if self._inflight.get(seq) is task:  # after a reset, `seq` may be another task's
            del self._inflight[seq]
        if not self._stopping:
            self.wake()

    def _body(self, event_id: str) -> tuple[str, bytes] | None:
        row = self._storage.db.execute(
            "SELECT id, name, created_at, data FROM events WHERE id = ?", (event_id,)
        ).fetchone()
        if row is None:
            return None
        head = json.dumps(
            {"id": row["id"], "event": row["name"], "createdAt": row["created_at"]},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        # The stored data is already compact JSON: splice it in unchanged.
        return row["name"], f'{head[:-1]},"data":{row["data"]}}}'.encode()

    async def _attempt(self, head: _Head) -> None:
        assert self._client is not None
        generation = self._generation
        found = self._body(head.event_id)
        if found is None:  # cannot happen (events are never deleted); do not spin on it
            with self._storage.transaction() as db:
                db.execute("DELETE FROM webhook_queue WHERE seq = ?", (head.seq,))
            return
        name, body = found
        headers = sign(body, self.signing_secrets(), msg_id=head.event_id, timestamp=time.time())
        status: int | None = None
        error: str | None = None
        refused = False
        attempted_at = time.time()
        started = time.perf_counter()
        try:
            status = await asyncio.wait_for(self._send(head.url, body, headers), self._timeout)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except _webhook_targets.TargetRefused as exc:
            error, refused = f"refused: {exc}"[:MAX_ERROR_CHARS], True
        except (TimeoutError, httpx.TimeoutException):
            error = f"timed out after {self._timeout:g} s"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        if generation != self._generation:  # the server was reset meanwhile
            return
        self._record(head, name, status, error, latency_ms, attempted_at, give_up=refused)

    async def _send(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST to the first checked address of `url` that accepts a connection."""
        assert self._client is not None
        targets = await _webhook_targets.pinned_targets(url, self.resolve)
        for index, target in enumerate(targets):
            request = self._client.build_request(
                "POST",
                target.url,
                content=body,
                headers={**headers, "host": target.host_header},
                extensions={"sni_hostname": target.sni_hostname},
            )
            try:
                response = await self._client.send(request, stream=True)
            except httpx.ConnectError:
                if index == len(targets) - 1:
                    raise
                continue
            try:
                read = 0
                with contextlib.suppress(httpx.HTTPError):  # the status is the answer
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= MAX_RESPONSE_BYTES:
                            break
            finally:
                await response.aclose()  # unread body left: the connection is closed
            return response.status_code
        raise AssertionError("pinned_targets returns at least one target")

    def _record(
        self,
        head: _Head,
        name: str,
        status: int | None,
        error: str | None,
        latency_ms: float,
        attempted_at: float,
        *,
        give_up: bool = False,
    ) -> None:
        attempt = head.attempts + 1
        next_at: float | None = None
        with self._storage.transaction() as db:
            queued = db.execute("SELECT 1 FROM webhook_queue WHERE seq = ?", (head.seq,)).fetchone()
            if error is None:
                outcome = "delivered"
                db.execute("DELETE FROM webhook_queue WHERE seq = ?", (head.seq,))
            elif status == 410:
                outcome = "disabled"
                db.execute(
                    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ?",
                    (f"the endpoint answered 410 Gone to event {head.event_id}", head.endpoint_id),
                )
                db.execute("DELETE FROM webhook_queue WHERE endpoint_id = ?", (head.endpoint_id,))
            elif give_up or queued is None or head.attempts >= len(self._schedule):
                outcome = "failed"
                db.execute("DELETE FROM webhook_queue WHERE seq = ?", (head.seq,))
            else:
                outcome = "retrying"
                next_at = time.time() + self._schedule[head.attempts]
                db.execute(
                    "UPDATE webhook_queue SET attempts = ?, next_attempt_at = ? WHERE seq = ?",
                    (attempt, next_at, head.seq),
                )
            cursor = db.execute(
                "INSERT INTO webhook_attempts (event_id, event_name, endpoint_id, endpoint_url,"
                " attempt, status, latency_ms, error, outcome, attempted_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    head.event_id,
                    name,
                    head.endpoint_id,
                    head.url,
                    attempt,
                    status,
                    latency_ms,
                    error,
                    outcome,
                    attempted_at,
                    next_at,
                ),
            )
            last = cursor.lastrowid
            if last is not None and last > MAX_ATTEMPTS_KEPT:
                db.execute(
                    "DELETE FROM webhook_attempts WHERE id <= ?", (last - MAX_ATTEMPTS_KEPT,)
                )
        log = logger.debug if outcome == "delivered" else logger.info
        log(
            "webhook %s (%s) to endpoint %s: attempt %d %s%s",
            head.event_id,
            name,
            head.endpoint_id,
            attempt,
            outcome,
            "" if error is None else f" ({error})",
        )
        if self.on_attempt is not None:
            self.on_attempt(
                AttemptReport(
                    event=name,
                    url=head.url,
                    attempt=attempt,
                    status=status,
                    error=error,
                    outcome=outcome,
                    retry_in=None if next_at is None else self._schedule[head.attempts],
                    latency_ms=latency_ms,
                )
            )
