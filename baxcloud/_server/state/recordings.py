"""Recordings: the file output of an egress of mode `record` or `both`.

A recording always has its egress's status; `egress` moves it along and this
module owns its rows, its JSON (openapi.json's `Recording`), its events and
what its file holds. Every function runs inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from .. import _files
from .._clock import whole_seconds
from .._context import MediaSettings
from .._errors import ApiError
from .events import record_event
from .pages import fetch_page, page_json


def recording_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "egressId": row["egress_id"],
        "roomName": row["room_name"],
        "status": row["status"],
        "fileType": row["file_type"],
        "filename": row["filename"],
        "sizeBytes": row["size_bytes"],
        "durationSeconds": row["duration_seconds"],
        "error": row["error"],
        "startedAt": whole_seconds(row["started_at"]),
        "endedAt": whole_seconds(row["ended_at"]),
        "createdAt": row["created_at"],
    }


def find_recording(db: sqlite3.Connection, recording_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM recordings WHERE id = ?", (recording_id,)
    ).fetchone()
    return row


def require_recording(db: sqlite3.Connection, recording_id: str) -> sqlite3.Row:
    row = find_recording(db, recording_id)
    if row is None:
        raise ApiError(404, "recording_not_found", f"recording {recording_id!r} does not exist")
    return row


def recording_of(db: sqlite3.Connection, egress: sqlite3.Row) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM recordings WHERE egress_id = ?", (egress["id"],)
    ).fetchone()
    if row is None:
        raise ApiError(
            404,
            "recording_not_found",
            f"egress {egress['id']!r} (mode {egress['mode']!r}) produces no recording",
        )
    return row


def list_recordings(
    db: sqlite3.Connection, filters: Mapping[str, str], page: int, limit: int
) -> dict[str, Any]:
    rows, total = fetch_page(
        db, "recordings", where=filters, order_by="created_at, id", page=page, limit=limit
    )
    return page_json([recording_json(r) for r in rows], page, limit, total)


def active_recordings(db: sqlite3.Connection, room_name: str | None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM recordings WHERE status IN ('starting', 'active')"
    args: tuple[str, ...] = ()
    if room_name is not None:
        sql += " AND room_name = ?"
        args = (room_name,)
    rows = db.execute(sql + " ORDER BY created_at, id", args).fetchall()
    return [recording_json(r) for r in rows]


# ---- its egress moves it along ----------------------------------------------------------


def create(
    db: sqlite3.Connection,
    now: float,
    *,
    recording_id: str,
    egress_id: str,
    room_name: str,
    file_type: str,
) -> None:
    """A new recording, `starting` with its egress."""
    db.execute(
        "INSERT INTO recordings (id, egress_id, room_name, status, file_type, created_at)"
        " VALUES (?, ?, ?, 'starting', ?, ?)",
        (recording_id, egress_id, room_name, file_type, int(now)),
    )


def activate(db: sqlite3.Connection, t: float, egress: sqlite3.Row) -> None:
    """`starting` -> `active`: `recording.started`."""
    db.execute(
        "UPDATE recordings SET status = 'active', started_at = ? WHERE id = ?",
        (t, egress["recording_id"]),
    )
    record_event(
        db,
        t,
        "recording.started",
        {
            "recordingId": egress["recording_id"],
            "egressId": egress["id"],
            "roomName": egress["room_name"],
            "fileType": egress["file_type"],
        },
    )


def end(db: sqlite3.Connection, t: float, recording_id: str) -> None:
    """`active` -> `ending`: its file is written once its egress completes."""
    db.execute(
        "UPDATE recordings SET status = 'ending', ended_at = ? WHERE id = ?", (t, recording_id)
    )


def complete(
    db: sqlite3.Connection,
    t: float,
    egress: sqlite3.Row,
    recording: sqlite3.Row,
    spec: _files.RecordingFile,
    size: int,
) -> None:
    """`ending` -> `completed` with its written file: `recording.completed`."""
    db.execute(
        "UPDATE recordings SET status = 'completed', filename = ?, size_bytes = ?,"
        " duration_seconds = ? WHERE id = ?",
        (spec.filename, size, spec.duration, recording["id"]),
    )
    record_event(
        db,
        t,
        "recording.completed",
        {
            "recordingId": recording["id"],
            "egressId": egress["id"],
            "roomName": egress["room_name"],
            "fileType": recording["file_type"],
            "filename": spec.filename,
            "sizeBytes": size,
            "durationSeconds": spec.duration,
        },
    )


def end_badly(
    db: sqlite3.Connection, t: float, egress: sqlite3.Row, status: str, error: str
) -> None:
    """-> `failed` or `aborted` with its egress: `recording.failed`."""
    db.execute(
        "UPDATE recordings SET status = ?, error = ?, ended_at = COALESCE(ended_at, ?)"
        " WHERE id = ?",
        (status, error, t, egress["recording_id"]),
    )
    record_event(
        db,
        t,
        "recording.failed",
        {
            "recordingId": egress["recording_id"],
            "egressId": egress["id"],
            "roomName": egress["room_name"],
            "error": error,
        },
    )


# ---- its file -----------------------------------------------------------------------------


def max_duration_ms(media: MediaSettings, file_type: str, started_at: float) -> int | None:
    """How long a recording may run before its file would outgrow `recording_max_bytes`."""
    return _files.max_duration_ms(
        file_type,
        max_bytes=media.recording_max_bytes,
        bytes_per_second=media.recording_bytes_per_second,
        created_at=started_at,
    )


def recording_file(media: MediaSettings, recording: sqlite3.Row) -> _files.RecordingFile:
    """What the file of an `ending` recording holds: its duration, at most the size cap."""
    duration_ms = round(max(0.0, recording["ended_at"] - recording["started_at"]) * 1000)
    limit_ms = max_duration_ms(media, recording["file_type"], recording["started_at"])
    if limit_ms is not None:
        duration_ms = min(duration_ms, limit_ms)
    return _files.RecordingFile(
        recording_id=recording["id"],
        file_type=recording["file_type"],
        duration_ms=duration_ms,
        payload_bytes=_files.payload_for(duration_ms, media.recording_bytes_per_second),
        created_at=recording["started_at"],
    )


def discard_unclaimed_files(db: sqlite3.Connection, media: MediaSettings) -> None:
    """Delete written files whose recording stopped waiting for them (it failed meanwhile)."""
    for spec in media.files.unclaimed():
        recording = find_recording(db, spec.recording_id)
        if recording is None or recording["status"] != "ending":
            media.files.discard(spec)
