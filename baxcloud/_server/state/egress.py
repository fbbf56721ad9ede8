"""Egress: a room recorded to a file, streamed out over RTMP, or both; and auto-stream.

Its rows, its JSON (openapi.json's `Egress` and `AutoStreamConfig`), its
status changes and their events; a recording egress moves its recording along
(see `recordings`). Every function runs inside the caller's transaction.

An egress is `starting` until `egress_start_delay` has passed, then `active`;
stopped, it is `ending` for `egress_stop_delay`, then `completed`: the
scheduler applies these when due (see `_scheduler`). A recording completes only
once its file is written: `complete_egress` returns the file still to write.

Stream URLs are stored as given (they hold stream keys) and only ever leave
the database through `redact_url`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from .. import _files, _ids, _storage
from .._clock import whole_seconds
from .._context import MediaSettings
from .._errors import ApiError
from .._stream_urls import redact_url
from . import recordings, rooms
from .events import record_event
from .pages import fetch_page, page_json

logger = logging.getLogger("baxcloud.server")

EGRESS_MODES = ("record", "stream", "both")
EGRESS_LAYOUTS = ("speaker", "grid", "single-speaker")
EGRESS_QUALITIES = ("480p", "720p", "1080p")
EGRESS_STATUSES = ("starting", "active", "ending", "completed", "failed", "aborted")
AUTO_STREAM_META = "auto_stream_config"
DEFAULT_AUTO_STREAM: dict[str, Any] = {
    "enabled": False,
    "mode": "record",
    "quality": "720p",
    "layout": "speaker",
    "minParticipants": 1,
    "fileType": "MP4",
    "streamUrls": [],
}


def records(mode: str) -> bool:
    return mode in ("record", "both")


def streams(mode: str) -> bool:
    return mode in ("stream", "both")


def _destinations(row: sqlite3.Row) -> list[dict[str, Any]]:
    urls: list[str] = json.loads(row["stream_urls"])
    states: list[dict[str, Any]] = json.loads(row["destinations"])
    return [
        {"url": redact_url(url), "status": state["status"], "error": state["error"]}
        for url, state in zip(urls, states, strict=True)
    ]


def egress_json(row: sqlite3.Row) -> dict[str, Any]:
    stream = None
    if row["stream_urls"] is not None:
        urls = json.loads(row["stream_urls"])
        stream = {"urls": [redact_url(u) for u in urls], "destinations": _destinations(row)}
    return {
        "id": row["id"],
        "roomName": row["room_name"],
        "mode": row["mode"],
        "layout": row["layout"],
        "quality": row["quality"],
        "status": row["status"],
        "file": None if row["file_type"] is None else {"fileType": row["file_type"]},
        "stream": stream,
        "recordingId": row["recording_id"],
        "error": row["error"],
        "startedAt": whole_seconds(row["started_at"]),
        "endedAt": whole_seconds(row["ended_at"]),
        "createdAt": row["created_at"],
    }


def require_egress(db: sqlite3.Connection, egress_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM egress WHERE id = ?", (egress_id,)
    ).fetchone()
    if row is None:
        raise ApiError(404, "egress_not_found", f"egress {egress_id!r} does not exist")
    return row


def recording_running(db: sqlite3.Connection, room_name: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM egress WHERE room_name = ? AND status IN ('starting', 'active')"
        " AND mode IN ('record', 'both') LIMIT 1",
        (room_name,),
    ).fetchone()
    return row is not None


def list_egress(
    db: sqlite3.Connection, filters: Mapping[str, str], page: int, limit: int
) -> dict[str, Any]:
    rows, total = fetch_page(
        db, "egress", where=filters, order_by="created_at, id", page=page, limit=limit
    )
    return page_json([egress_json(r) for r in rows], page, limit, total)


# ---- lifecycle ----------------------------------------------------------------------------


def start_egress(
    db: sqlite3.Connection,
    now: float,
    media: MediaSettings,
    *,
    room_name: str,
    mode: str,
    layout: str = "speaker",
    quality: str = "720p",
    file_type: str | None = None,
    stream_urls: list[str] | None = None,
) -> sqlite3.Row:
    """Create an egress in `starting` (and its recording).

    404 `room_not_found`; 409 `recording_already_active` for a second running recording.
    """
    rooms.require_room(db, room_name)
    if records(mode) and recording_running(db, room_name):
        raise ApiError(
            409,
            "recording_already_active",
            f"room {room_name!r} already has a running recording",
        )
    egress_id = _ids.egress_id()
    recording_id = _ids.recording_id() if records(mode) else None
    destinations = (
        None
        if stream_urls is None
        else json.dumps([{"status": "connecting", "error": None} for _ in stream_urls])
    )
    db.execute(
        "INSERT INTO egress (id, room_name, mode, layout, quality, status, file_type,"
        " stream_urls, destinations, recording_id, created_at, due_at)"
        " VALUES (?, ?, ?, ?, ?, 'starting', ?, ?, ?, ?, ?, ?)",
        (
            egress_id,
            room_name,
            mode,
            layout,
            quality,
            file_type if records(mode) else None,
            None if stream_urls is None else json.dumps(stream_urls),
            destinations,
            recording_id,
            int(now),
            now + media.egress_start_delay,
        ),
    )
    if recording_id is not None:
        recordings.create(
            db,
            now,
            recording_id=recording_id,
            egress_id=egress_id,
            room_name=room_name,
            file_type=file_type or "MP4",
        )
    return require_egress(db, egress_id)


def _set_destinations(
    db: sqlite3.Connection, egress: sqlite3.Row, status: str, error: str | None
) -> None:
    """Move every destination that is not already finished/failed to `status`."""
    if egress["destinations"] is None:
        return
    states = json.loads(egress["destinations"])
    for state in states:
        if state["status"] not in ("finished", "failed"):
            state["status"] = status
            state["error"] = error
    db.execute(
        "UPDATE egress SET destinations = ? WHERE id = ?", (json.dumps(states), egress["id"])
    )


def _stream_event(db: sqlite3.Connection, t: float, egress_id: str) -> None:
    row = require_egress(db, egress_id)
    record_event(
        db,
        t,
        "stream.updated",
        {
            "egressId": row["id"],
            "roomName": row["room_name"],
            "status": row["status"],
            "destinations": _destinations(row),
        },
    )


def activate_egress(
    db: sqlite3.Connection, t: float, media: MediaSettings, egress: sqlite3.Row
) -> None:
    """`starting` -> `active`: destinations connect; `recording.started`, `stream.started`.

    A recording egress falls due again when its file would outgrow
    `recording_max_bytes`: it then stops by itself (see `_scheduler`).
    """
    limit_ms = None
    if egress["recording_id"] is not None:
        limit_ms = recordings.max_duration_ms(media, egress["file_type"], t)
    db.execute(
        "UPDATE egress SET status = 'active', started_at = ?, due_at = ? WHERE id = ?",
        (t, None if limit_ms is None else t + limit_ms / 1000, egress["id"]),
    )
    _set_destinations(db, egress, "active", None)
    if egress["recording_id"] is not None:
        recordings.activate(db, t, egress)
    if egress["stream_urls"] is not None:
        record_event(
            db,
            t,
            "stream.started",
            {
                "egressId": egress["id"],
                "roomName": egress["room_name"],
                "mode": egress["mode"],
                "urls": [redact_url(u) for u in json.loads(egress["stream_urls"])],
            },
        )


def stop_egress(
    db: sqlite3.Connection, t: float, media: MediaSettings, egress: sqlite3.Row, reason: str
) -> None:
    """`active` -> `ending` (completes after the stop delay); `starting` -> `aborted`.

    409 `egress_not_active` in any other state.
    """
    if egress["status"] == "starting":
        _end_badly(db, t, egress, "aborted", reason)
        return
    if egress["status"] != "active":
        raise ApiError(
            409,
            "egress_not_active",
            f"egress {egress['id']!r} is {egress['status']}, not running",
        )
    db.execute(
        "UPDATE egress SET status = 'ending', ended_at = ?, due_at = ? WHERE id = ?",
        (t, t + media.egress_stop_delay, egress["id"]),
    )
    if egress["recording_id"] is not None:
        recordings.end(db, t, egress["recording_id"])
    if egress["stream_urls"] is not None:
        _stream_event(db, t, egress["id"])


def complete_egress(
    db: sqlite3.Connection, t: float, media: MediaSettings, egress: sqlite3.Row
) -> _files.RecordingFile | None:
    """`ending` -> `completed`: the recording gets its file; destinations finish.

    Returns the file still to write (nothing changes until it is written).
    """
    recording_id = egress["recording_id"]
    if recording_id is not None:
        recording = recordings.require_recording(db, recording_id)
        spec = recordings.recording_file(media, recording)
        result = media.files.take_result(spec)
        if result is None:
            return spec
        if isinstance(result, OSError):
            logger.error("could not write recording %s: %s", recording_id, result)
            fail_egress(db, t, egress, "the recording file could not be written")
            return None
        recordings.complete(db, t, egress, recording, spec, result)
    db.execute(
        "UPDATE egress SET status = 'completed', due_at = NULL WHERE id = ?", (egress["id"],)
    )
    _set_destinations(db, egress, "finished", None)
    if egress["stream_urls"] is not None:
        record_event(
            db, t, "stream.completed", {"egressId": egress["id"], "roomName": egress["room_name"]}
        )
    return None


def _end_badly(
    db: sqlite3.Connection, t: float, egress: sqlite3.Row, status: str, error: str
) -> None:
    """-> `failed` (destinations failed too) or `aborted` (it never produced anything)."""
    db.execute(
        "UPDATE egress SET status = ?, error = ?, ended_at = COALESCE(ended_at, ?),"
        " due_at = NULL WHERE id = ?",
        (status, error, t, egress["id"]),
    )
    if status == "failed":
        _set_destinations(db, egress, "failed", error)
    else:
        _set_destinations(db, egress, "finished", None)
    if egress["recording_id"] is not None:
        recordings.end_badly(db, t, egress, status, error)
    if egress["stream_urls"] is not None:
        record_event(
            db,
            t,
            "stream.failed",
            {"egressId": egress["id"], "roomName": egress["room_name"], "error": error},
        )


def fail_egress(db: sqlite3.Connection, t: float, egress: sqlite3.Row, error: str) -> None:
    """Any unfinished state -> `failed` (recording failed, destinations failed)."""
    if egress["status"] not in ("starting", "active", "ending"):
        raise ApiError(
            409, "egress_not_active", f"egress {egress['id']!r} has already {egress['status']}"
        )
    _end_badly(db, t, egress, "failed", error)


def delete_egress(db: sqlite3.Connection, egress: sqlite3.Row) -> None:
    """Forget a finished egress; its recording (and file) stays."""
    if egress["status"] in ("starting", "active", "ending"):
        raise ApiError(
            409,
            "egress_active",
            f"egress {egress['id']!r} is {egress['status']}; stop it and wait until it ends",
        )
    db.execute("DELETE FROM egress WHERE id = ?", (egress["id"],))


# ---- with the room's life ------------------------------------------------------------------


def _claim_auto_start(db: sqlite3.Connection, room_sid: str, kind: str) -> bool:
    """True the first time per room session (a new room row is a new session)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO auto_starts (room_sid, kind) VALUES (?, ?)", (room_sid, kind)
    )
    return cursor.rowcount == 1


def start_on_join(db: sqlite3.Connection, now: float, media: MediaSettings, room_name: str) -> None:
    """`enableRecording` on first join; auto-stream once `minParticipants` is reached."""
    room = rooms.require_room(db, room_name)
    if (
        room["enable_recording"]
        and _claim_auto_start(db, room["sid"], "recording")
        and not recording_running(db, room_name)
    ):
        start_egress(db, now, media, room_name=room_name, mode="record", file_type="MP4")
    config = auto_stream_config(db)
    if (
        config["enabled"]
        and room["num_participants"] >= config["minParticipants"]
        and _claim_auto_start(db, room["sid"], "auto_stream")
    ):
        mode = config["mode"]
        if records(mode) and recording_running(db, room_name):
            return  # the room is already being recorded: this session's auto-start is spent
        if streams(mode) and not config["streamUrls"]:
            return
        start_egress(
            db,
            now,
            media,
            room_name=room_name,
            mode=mode,
            layout=config["layout"],
            quality=config["quality"],
            file_type=config["fileType"] if records(mode) else None,
            stream_urls=list(config["streamUrls"]) if streams(mode) else None,
        )


def stop_for_closing_room(
    db: sqlite3.Connection, t: float, media: MediaSettings, room: sqlite3.Row
) -> None:
    """Running egress of a closing room stop (`active`) or abort (`starting`)."""
    for egress in db.execute(
        "SELECT * FROM egress WHERE room_name = ? AND status IN ('starting', 'active')"
        " ORDER BY created_at, id",
        (room["name"],),
    ).fetchall():
        stop_egress(db, t, media, egress, "the room closed before the egress started")


# ---- auto-stream config -------------------------------------------------------------------


def auto_stream_config(db: sqlite3.Connection) -> dict[str, Any]:
    """The stored config, real URLs included (never send it as is)."""
    raw = _storage.get_meta(db, AUTO_STREAM_META)
    config = dict(DEFAULT_AUTO_STREAM)
    if raw is not None:
        config.update(json.loads(raw))
    return config


def auto_stream_json(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "streamUrls": [redact_url(u) for u in config["streamUrls"]]}


def save_auto_stream_config(db: sqlite3.Connection, config: dict[str, Any]) -> None:
    _storage.set_meta(db, AUTO_STREAM_META, json.dumps(config, separators=(",", ":")))
