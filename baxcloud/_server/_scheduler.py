"""The scheduler: timed changes, applied when they fall due, each at its own due time.

Rooms close after their empty timeout; egress goes `starting` -> `active`
and `ending` -> `completed`, and a recording egress stops by itself when its
file reaches `recording_max_bytes`; ingress goes `BUFFERING` -> `ACTIVE`.
`run_due` applies them in the order they fall due, so a big jump of the
manual clock gives the same history as waiting would.

A `Scheduler` runs them at the start of every request, after every change
(a clock jump, say), and every `SWEEP_INTERVAL_SECONDS` in the background
with the real clock; it also purges expired idempotency keys. `run_due` never
writes recording files: it stops at the first completion whose file is not
written yet and returns it; the scheduler writes it on a worker thread, off
the event loop, between transactions, and runs `run_due` again, so a big clock
jump does not stop the server from answering.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3

import anyio.to_thread

from ._clock import Clock
from ._context import MediaSettings
from ._files import RecordingFile, WriteResult
from ._idempotency import IdempotencyStore
from ._storage import Storage
from ._webhooks import WebhookDelivery
from .state import cascade, egress, ingress, recordings, rooms

logger = logging.getLogger("baxcloud.server")

# Short, so that egress with small start/stop delays move on time; a sweep with
# nothing due is three indexed queries.
SWEEP_INTERVAL_SECONDS = 0.1
PURGE_INTERVAL_SECONDS = 60.0
MAX_SIZE_REASON = "the recording reached the maximum file size"

# The earliest due time of each kind, and the key of what falls due then.
_NEXT_DUE = (
    (
        "room",
        "SELECT closes_at, sid FROM rooms WHERE closes_at IS NOT NULL"
        " ORDER BY closes_at, sid LIMIT 1",
    ),
    (
        "egress",
        "SELECT due_at, id FROM egress WHERE due_at IS NOT NULL ORDER BY due_at, id LIMIT 1",
    ),
    (
        "ingress",
        "SELECT due_at, id FROM ingress WHERE due_at IS NOT NULL ORDER BY due_at, id LIMIT 1",
    ),
)


# Only the earliest due time, in one cheap statement (no tie-break, so no sort).
_EARLIEST_DUE = """SELECT min(
    coalesce((SELECT closes_at FROM rooms WHERE closes_at IS NOT NULL
        ORDER BY closes_at LIMIT 1), 'inf'),
    coalesce((SELECT due_at FROM egress WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1), 'inf'),
    coalesce((SELECT due_at FROM ingress WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1), 'inf')
)"""


def _next_due(db: sqlite3.Connection) -> tuple[float, str, str] | None:
    best: tuple[float, str, str] | None = None
    for kind, sql in _NEXT_DUE:
        row = db.execute(sql).fetchone()
        if row is not None and (best is None or row[0] < best[0]):
            best = (float(row[0]), kind, str(row[1]))
    return best


def run_due(db: sqlite3.Connection, now: float, media: MediaSettings) -> RecordingFile | None:
    """Apply every timed change due by `now`, earliest first, each at its due time.

    Runs inside the caller's transaction. Stops before a completion whose file
    is not written yet and returns that file (None when everything due is applied).
    """
    while True:
        due = _next_due(db)
        if due is None or due[0] > now:
            return None
        t, kind, key = due
        if kind == "room":
            cascade.close_room(db, t, media, rooms.room_by_sid(db, key), "empty_timeout")
        elif kind == "egress":
            row = egress.require_egress(db, key)
            if row["status"] == "starting":
                egress.activate_egress(db, t, media, row)
            elif row["status"] == "active":  # its file reached recording_max_bytes
                egress.stop_egress(db, t, media, row, MAX_SIZE_REASON)
            elif row["status"] == "ending":
                pending = egress.complete_egress(db, t, media, row)
                if pending is not None:
                    return pending
            else:  # pragma: no cover - a due time is only set in those three states
                db.execute("UPDATE egress SET due_at = NULL WHERE id = ?", (key,))
        else:
            ingress.activate_ingress(db, t, ingress.require_ingress(db, key))


class Scheduler:
    """Runs `run_due` when needed, and writes recording files on worker threads."""

    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        media: MediaSettings,
        idempotency: IdempotencyStore,
        webhooks: WebhookDelivery,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._media = media
        self._idempotency = idempotency
        self._webhooks = webhooks
        self._next_purge = -math.inf
        self._writes: dict[RecordingFile, asyncio.Task[None]] = {}
        self._generation = 0  # bumped by `reset`
        # The earliest due time as of the connection's `total_changes`: every request
        # sweeps, and that time cannot move until some row changes.
        self._earliest_as_of: tuple[sqlite3.Connection | None, int] = (None, -1)
        self._earliest = math.inf

    def reset(self) -> None:
        """Forget pending work (a server reset, after the tables were emptied).

        A file still being written on a worker thread cannot be stopped: when it
        is done it is deleted rather than handed to a recording that no longer exists.
        """
        self._generation += 1
        self._next_purge = -math.inf
        self._earliest_as_of = (None, -1)

    def _earliest_due(self, db: sqlite3.Connection) -> float:
        as_of = (db, db.total_changes)
        if as_of[0] is not self._earliest_as_of[0] or as_of[1] != self._earliest_as_of[1]:
            self._earliest = float(db.execute(_EARLIEST_DUE).fetchone()[0])
            self._earliest_as_of = as_of
        return self._earliest

    def sweep(self) -> RecordingFile | None:
        """Apply due timed changes in one transaction; purge expired idempotency keys.

        Stops at the first recording whose file is not written yet, and returns it.
        """
        db = self._storage.db
        now = self._clock.now()
        purge = now >= self._next_purge
        if not purge and self._earliest_due(db) > now and not self._media.files.unclaimed():
            return None
        with self._storage.transaction():
            pending = run_due(db, now, self._media)
            recordings.discard_unclaimed_files(db, self._media)
            if purge:
                self._idempotency.purge(now)
                self._next_purge = now + PURGE_INTERVAL_SECONDS
        self._webhooks.wake()
        return pending

    async def catch_up(self, *, wait_for_other_writes: bool = True) -> None:
        """Sweep until everything due is applied, writing recording files on worker threads.

        The event loop stays free meanwhile. With `wait_for_other_writes=False`,
        return instead of waiting for a file that another caller is already writing.
        """
        while True:
            pending = self.sweep()
            if pending is None:
                return
            task = self._writes.get(pending)
            if task is None:
                task = asyncio.create_task(self._write(pending))
                self._writes[pending] = task
            elif not wait_for_other_writes:
                return
            await asyncio.shield(task)  # a caller that gives up does not stop the write

    async def run_forever(self) -> None:
        """Catch up every `SWEEP_INTERVAL_SECONDS` (the real clock moves by itself)."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
            try:
                await self.catch_up()
            except Exception:
                logger.exception("background sweep failed")

    async def finish_writes(self) -> None:
        while self._writes:
            await asyncio.gather(*self._writes.values(), return_exceptions=True)

    async def _write(self, spec: RecordingFile) -> None:
        result: WriteResult
        generation = self._generation
        try:
            try:
                result = await anyio.to_thread.run_sync(self._media.files.write, spec)
            except OSError as exc:
                result = exc
            except Exception as exc:
                logger.exception("writing recording %s failed", spec.recording_id)
                result = OSError(str(exc))
            if generation == self._generation:
                self._media.files.put_result(spec, result)
            elif isinstance(result, int):  # written for a recording that a reset removed
                self._media.files.path(spec.filename).unlink(missing_ok=True)
        finally:
            self._writes.pop(spec, None)
