"""Egress, recordings and ingress: state changes over time, and their events.

Like `_state`, every function runs inside the caller's transaction and
records the A.12 event of each change when it happens. Timed transitions
(egress `starting` -> `active` and `ending` -> `completed`, ingress
`BUFFERING` -> `ACTIVE`, empty rooms closing, a recording reaching
`recording_max_bytes`) are processed by `run_due` in the order they fall due,
each at its own due time, so that a big jump of the manual clock gives the
same history as waiting would.

A recording completes only once its file is written. `run_due` never writes
files: it stops at the first completion whose file is not ready and returns
what to write; the server writes it on a worker thread, off the event loop,
and runs `run_due` again (see `LocalBaxCloudApp.catch_up`).

Stream URLs are stored as given (they hold stream keys) and only ever leave
the database through `redact_url`.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from collections.abc import Mapping
from typing import Any

from . import _files, _ids, _state, _storage
from ._context import MediaSettings
from ._errors import ApiError
from ._events import record_event
from ._validation import parse_pagination, parse_query_choice

logger = logging.getLogger("baxcloud.server")

EGRESS_MODES = ("record", "stream", "both")
EGRESS_LAYOUTS = ("speaker", "grid", "single-speaker")
EGRESS_QUALITIES = ("480p", "720p", "1080p")
EGRESS_STATUSES = ("starting", "active", "ending", "completed", "failed", "aborted")
RUNNING = ("starting", "active")
INGRESS_TYPES = ("RTMP_INPUT", "WHIP_INPUT")
INGRESS_STATUSES = ("INACTIVE", "BUFFERING", "ACTIVE", "ERROR", "COMPLETE")
INGRESS_LIVE = ("BUFFERING", "ACTIVE")
REDACTED = "****"
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


def _ts(value: float | None) -> int | None:
    return None if value is None else math.floor(value)


def _records(mode: str) -> bool:
    return mode in ("record", "both")


def _streams(mode: str) -> bool:
    return mode in ("stream", "both")


# ---- secrets in URLs --------------------------------------------------------------


def redact_url(url: str) -> str:
    """Replace the last path segment (the stream key), any password and query by `****`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return REDACTED
    rest = rest.split("#", 1)[0]
    rest, qmark, _ = rest.partition("?")
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        user = userinfo.split(":", 1)[0]
        authority = f"{user}:{REDACTED}@{hostport}"
    if slash:
        head, _, _ = path.rpartition("/")
        path = f"{head}/{REDACTED}" if head else REDACTED
    return f"{scheme}://{authority}{slash}{path}" + (f"?{REDACTED}" if qmark else "")


# ---- JSON views ---------------------------------------------------------------------


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
        "startedAt": _ts(row["started_at"]),
        "endedAt": _ts(row["ended_at"]),
        "createdAt": row["created_at"],
    }


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
        "startedAt": _ts(row["started_at"]),
        "endedAt": _ts(row["ended_at"]),
        "createdAt": row["created_at"],
    }


def ingress_json(row: sqlite3.Row, *, reveal_secret: bool = False) -> dict[str, Any]:
    """The Ingress; its stream key / WHIP token only in full when `reveal_secret`."""
    secret = row["secret"] if reveal_secret else REDACTED
    rtmp = row["input_type"] == "RTMP_INPUT"
    return {
        "id": row["id"],
        "inputType": row["input_type"],
        "roomName": row["room_name"],
        "participantIdentity": row["participant_identity"],
        "participantName": row["participant_name"],
        "enableTranscoding": bool(row["enable_transcoding"]),
        "bypassTranscoding": bool(row["bypass_transcoding"]),
        "status": row["status"],
        "rtmpsUrl": row["url"] if rtmp else None,
        "streamKey": secret if rtmp else None,
        "whipUrl": None if rtmp else row["url"],
        "token": None if rtmp else secret,
        "error": row["error"],
        "createdAt": row["created_at"],
    }


# ---- lookups ----------------------------------------------------------------------------


def find_egress(db: sqlite3.Connection, egress_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM egress WHERE id = ?", (egress_id,)
    ).fetchone()
    return row


def require_egress(db: sqlite3.Connection, egress_id: str) -> sqlite3.Row:
    row = find_egress(db, egress_id)
    if row is None:
        raise ApiError(404, "egress_not_found", f"egress {egress_id!r} does not exist")
    return row


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


def find_ingress(db: sqlite3.Connection, ingress_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM ingress WHERE id = ?", (ingress_id,)
    ).fetchone()
    return row


def require_ingress(db: sqlite3.Connection, ingress_id: str) -> sqlite3.Row:
    row = find_ingress(db, ingress_id)
    if row is None:
        raise ApiError(404, "ingress_not_found", f"ingress {ingress_id!r} does not exist")
    return row


def recording_running(db: sqlite3.Connection, room_name: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM egress WHERE room_name = ? AND status IN ('starting', 'active')"
        " AND mode IN ('record', 'both') LIMIT 1",
        (room_name,),
    ).fetchone()
    return row is not None


def _page(
    db: sqlite3.Connection,
    table: str,
    filters: dict[str, str],
    page: int,
    limit: int,
) -> tuple[list[sqlite3.Row], int]:
    where = " AND ".join(f"{column} = ?" for column in filters) or "1"
    args = tuple(filters.values())
    total = int(
        db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]  # noqa: S608
    )
    offset = (page - 1) * limit
    rows: list[sqlite3.Row] = []
    if offset < total:
        rows = db.execute(
            f"SELECT * FROM {table} WHERE {where} ORDER BY created_at, id"  # noqa: S608
            " LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
    return rows, total


def list_egress(
    db: sqlite3.Connection, filters: dict[str, str], page: int, limit: int
) -> dict[str, Any]:
    rows, total = _page(db, "egress", filters, page, limit)
    return _state.page_json([egress_json(r) for r in rows], page, limit, total)


def list_recordings(
    db: sqlite3.Connection, filters: dict[str, str], page: int, limit: int
) -> dict[str, Any]:
    rows, total = _page(db, "recordings", filters, page, limit)
    return _state.page_json([recording_json(r) for r in rows], page, limit, total)


def list_ingress(
    db: sqlite3.Connection, filters: dict[str, str], page: int, limit: int
) -> dict[str, Any]:
    rows, total = _page(db, "ingress", filters, page, limit)
    return _state.page_json([ingress_json(r) for r in rows], page, limit, total)


def active_recordings(db: sqlite3.Connection, room_name: str | None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM recordings WHERE status IN ('starting', 'active')"
    args: tuple[str, ...] = ()
    if room_name is not None:
        sql += " AND room_name = ?"
        args = (room_name,)
    rows = db.execute(sql + " ORDER BY created_at, id", args).fetchall()
    return [recording_json(r) for r in rows]


# ---- egress lifecycle -------------------------------------------------------------


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
    """Create an egress in `starting` (and its recording); 404 / 409 as per A.9 / A.10."""
    _state.require_room(db, room_name)
    if _records(mode) and recording_running(db, room_name):
        raise ApiError(
            409,
            "recording_already_active",
            f"room {room_name!r} already has a running recording",
        )
    egress_id = _ids.egress_id()
    recording_id = _ids.recording_id() if _records(mode) else None
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
            file_type if _records(mode) else None,
            None if stream_urls is None else json.dumps(stream_urls),
            destinations,
            recording_id,
            int(now),
            now + media.egress_start_delay,
        ),
    )
    if recording_id is not None:
        db.execute(
            "INSERT INTO recordings (id, egress_id, room_name, status, file_type, created_at)"
            " VALUES (?, ?, ?, 'starting', ?, ?)",
            (recording_id, egress_id, room_name, file_type or "MP4", int(now)),
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


def _max_duration_ms(media: MediaSettings, file_type: str, started_at: float) -> int | None:
    return _files.max_duration_ms(
        file_type,
        max_bytes=media.recording_max_bytes,
        bytes_per_second=media.recording_bytes_per_second,
        created_at=started_at,
    )


def activate_egress(
    db: sqlite3.Connection, t: float, media: MediaSettings, egress: sqlite3.Row
) -> None:
    """`starting` -> `active`: destinations connect; `recording.started`, `stream.started`.

    A recording egress falls due again when its file would outgrow
    `recording_max_bytes`: it then stops by itself (see `run_due`).
    """
    limit_ms = None
    if egress["recording_id"] is not None:
        limit_ms = _max_duration_ms(media, egress["file_type"], t)
    db.execute(
        "UPDATE egress SET status = 'active', started_at = ?, due_at = ? WHERE id = ?",
        (t, None if limit_ms is None else t + limit_ms / 1000, egress["id"]),
    )
    _set_destinations(db, egress, "active", None)
    if egress["recording_id"] is not None:
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
        abort_egress(db, t, egress, reason)
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
        db.execute(
            "UPDATE recordings SET status = 'ending', ended_at = ? WHERE id = ?",
            (t, egress["recording_id"]),
        )
    if egress["stream_urls"] is not None:
        _stream_event(db, t, egress["id"])


def recording_file(media: MediaSettings, recording: sqlite3.Row) -> _files.RecordingFile:
    """What the file of an `ending` recording holds: its duration, at most the size cap."""
    duration_ms = round(max(0.0, recording["ended_at"] - recording["started_at"]) * 1000)
    limit_ms = _max_duration_ms(media, recording["file_type"], recording["started_at"])
    if limit_ms is not None:
        duration_ms = min(duration_ms, limit_ms)
    return _files.RecordingFile(
        recording_id=recording["id"],
        file_type=recording["file_type"],
        duration_ms=duration_ms,
        payload_bytes=_files.payload_for(duration_ms, media.recording_bytes_per_second),
        created_at=recording["started_at"],
    )


def complete_egress(
    db: sqlite3.Connection, t: float, media: MediaSettings, egress: sqlite3.Row
) -> _files.RecordingFile | None:
    """`ending` -> `completed`: the recording gets its file; destinations finish.

    Returns the file still to write (nothing changes until it is written).
    """
    recording_id = egress["recording_id"]
    if recording_id is not None:
        recording = require_recording(db, recording_id)
        spec = recording_file(media, recording)
        result = media.files.take_result(spec)
        if result is None:
            return spec
        if isinstance(result, OSError):
            logger.error("could not write recording %s: %s", recording_id, result)
            fail_egress(db, t, egress, "the recording file could not be written")
            return None
        filename, size, duration = spec.filename, result, spec.duration
        db.execute(
            "UPDATE recordings SET status = 'completed', filename = ?, size_bytes = ?,"
            " duration_seconds = ? WHERE id = ?",
            (filename, size, duration, recording_id),
        )
        record_event(
            db,
            t,
            "recording.completed",
            {
                "recordingId": recording_id,
                "egressId": egress["id"],
                "roomName": egress["room_name"],
                "fileType": recording["file_type"],
                "filename": filename,
                "sizeBytes": size,
                "durationSeconds": duration,
            },
        )
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


def abort_egress(db: sqlite3.Connection, t: float, egress: sqlite3.Row, reason: str) -> None:
    """`starting` -> `aborted`: it never produced anything (no file)."""
    _end_badly(db, t, egress, "aborted", reason)


def delete_egress(db: sqlite3.Connection, egress: sqlite3.Row) -> None:
    """Forget a finished egress; its recording (and file) stays."""
    if egress["status"] in ("starting", "active", "ending"):
        raise ApiError(
            409,
            "egress_active",
            f"egress {egress['id']!r} is {egress['status']}; stop it and wait until it ends",
        )
    db.execute("DELETE FROM egress WHERE id = ?", (egress["id"],))


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


# ---- room integration -----------------------------------------------------------------


def _claim_auto_start(db: sqlite3.Connection, room_sid: str, kind: str) -> bool:
    """True the first time per room session (a new room row is a new session)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO auto_starts (room_sid, kind) VALUES (?, ?)", (room_sid, kind)
    )
    return cursor.rowcount == 1


def on_participant_joined(
    db: sqlite3.Connection, now: float, media: MediaSettings, room_name: str
) -> None:
    """`enableRecording` on first join; auto-stream once `minParticipants` is reached."""
    room = _state.require_room(db, room_name)
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
        if _records(mode) and recording_running(db, room_name):
            return  # the room is already being recorded: this session's auto-start is spent
        if _streams(mode) and not config["streamUrls"]:
            return
        start_egress(
            db,
            now,
            media,
            room_name=room_name,
            mode=mode,
            layout=config["layout"],
            quality=config["quality"],
            file_type=config["fileType"] if _records(mode) else None,
            stream_urls=list(config["streamUrls"]) if _streams(mode) else None,
        )


def on_room_closing(
    db: sqlite3.Connection, t: float, media: MediaSettings, room: sqlite3.Row
) -> None:
    """Running egress of a closing room stops (`active`) or aborts (`starting`)."""
    for egress in db.execute(
        "SELECT * FROM egress WHERE room_name = ? AND status IN ('starting', 'active')"
        " ORDER BY created_at, id",
        (room["name"],),
    ).fetchall():
        stop_egress(db, t, media, egress, "the room closed before the egress started")


def close_room(
    db: sqlite3.Connection, t: float, media: MediaSettings, room: sqlite3.Row, reason: str
) -> None:
    _state.close_room(db, t, room, reason, on_closing=lambda: on_room_closing(db, t, media, room))


# ---- ingress ----------------------------------------------------------------------------


def create_ingress(
    db: sqlite3.Connection,
    now: float,
    *,
    input_type: str,
    room_name: str,
    participant_identity: str,
    participant_name: str,
    enable_transcoding: bool,
    bypass_transcoding: bool,
    hostname: str,
) -> sqlite3.Row:
    ingress_id = _ids.ingress_id()
    if input_type == "RTMP_INPUT":
        url, secret = f"rtmps://{hostname}:443/live", "sk_" + _ids.random_token(32)
    else:
        url, secret = f"https://{hostname}/whip", _ids.random_token(48)
    db.execute(
        "INSERT INTO ingress (id, input_type, room_name, participant_identity,"
        " participant_name, enable_transcoding, bypass_transcoding, status, url, secret,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'INACTIVE', ?, ?, ?)",
        (
            ingress_id,
            input_type,
            room_name,
            participant_identity,
            participant_name,
            int(enable_transcoding),
            int(bypass_transcoding),
            url,
            secret,
            int(now),
        ),
    )
    return require_ingress(db, ingress_id)


def connect_ingress(
    db: sqlite3.Connection, now: float, media: MediaSettings, ingress: sqlite3.Row
) -> None:
    """A stream arrives: `BUFFERING` now (`live.started`), `ACTIVE` at the next sweep."""
    if ingress["status"] in INGRESS_LIVE:
        raise ApiError(
            409,
            "ingress_already_active",
            f"ingress {ingress['id']!r} is already {ingress['status']}",
        )
    participant = _state.join(
        db,
        now,
        room_name=ingress["room_name"],
        identity=ingress["participant_identity"],
        name=ingress["participant_name"],
        metadata="",
        permission=_state.Permission(),
    )
    db.execute(
        "UPDATE ingress SET status = 'BUFFERING', error = NULL, participant_sid = ?,"
        " due_at = ? WHERE id = ?",
        (participant["sid"], now, ingress["id"]),
    )
    record_event(
        db,
        now,
        "live.started",
        {
            "ingressId": ingress["id"],
            "roomName": ingress["room_name"],
            "inputType": ingress["input_type"],
            "status": "BUFFERING",
        },
    )
    on_participant_joined(db, now, media, ingress["room_name"])


def _activate_ingress(db: sqlite3.Connection, t: float, ingress: sqlite3.Row) -> None:
    """`BUFFERING` -> `ACTIVE`: `live.updated`; the participant publishes video and audio."""
    db.execute("UPDATE ingress SET status = 'ACTIVE', due_at = NULL WHERE id = ?", (ingress["id"],))
    record_event(
        db,
        t,
        "live.updated",
        {
            "ingressId": ingress["id"],
            "roomName": ingress["room_name"],
            "status": "ACTIVE",
            "previousStatus": "BUFFERING",
        },
    )
    room = _state.find_room(db, ingress["room_name"])
    participant = None
    if room is not None:
        participant = db.execute(
            "SELECT * FROM participants WHERE sid = ?", (ingress["participant_sid"],)
        ).fetchone()
    if room is None or participant is None:
        return
    for kind, source in (("video", "camera"), ("audio", "microphone")):
        _state.publish_track(db, t, room, participant, kind=kind, source=source, name=kind)


def _leave_room(db: sqlite3.Connection, t: float, participant_sid: str | None) -> None:
    if participant_sid is None:
        return
    participant = db.execute(
        "SELECT * FROM participants WHERE sid = ?", (participant_sid,)
    ).fetchone()
    if participant is None:
        return
    room = db.execute(
        _state.ROOM_SELECT + " WHERE r.sid = ?", (participant["room_sid"],)
    ).fetchone()
    _state.remove_participant(db, t, room, participant, "disconnected")


def _require_live(ingress: sqlite3.Row) -> None:
    if ingress["status"] not in INGRESS_LIVE:
        raise ApiError(
            409,
            "ingress_not_active",
            f"ingress {ingress['id']!r} is {ingress['status']}, not receiving a stream",
        )


def end_ingress(db: sqlite3.Connection, t: float, ingress: sqlite3.Row) -> None:
    """The stream ends: `COMPLETE` (`live.ended`), then its participant leaves."""
    _require_live(ingress)
    db.execute(
        "UPDATE ingress SET status = 'COMPLETE', participant_sid = NULL, due_at = NULL"
        " WHERE id = ?",
        (ingress["id"],),
    )
    record_event(
        db, t, "live.ended", {"ingressId": ingress["id"], "roomName": ingress["room_name"]}
    )
    _leave_room(db, t, ingress["participant_sid"])


def fail_ingress(db: sqlite3.Connection, t: float, ingress: sqlite3.Row, error: str) -> None:
    """The stream breaks: `ERROR` (`live.failed`), then its participant leaves."""
    _require_live(ingress)
    db.execute(
        "UPDATE ingress SET status = 'ERROR', error = ?, participant_sid = NULL, due_at = NULL"
        " WHERE id = ?",
        (error, ingress["id"]),
    )
    record_event(
        db,
        t,
        "live.failed",
        {"ingressId": ingress["id"], "roomName": ingress["room_name"], "error": error},
    )
    _leave_room(db, t, ingress["participant_sid"])


def on_participant_removed(db: sqlite3.Connection, t: float, participant_sid: str) -> None:
    """An ingress whose participant is removed (API, room closing, same identity) ends."""
    row = db.execute(
        "SELECT * FROM ingress WHERE participant_sid = ?", (participant_sid,)
    ).fetchone()
    if row is not None and row["status"] in INGRESS_LIVE:
        end_ingress(db, t, row)


def delete_ingress(db: sqlite3.Connection, t: float, ingress: sqlite3.Row) -> None:
    if ingress["status"] in INGRESS_LIVE:
        end_ingress(db, t, ingress)
    db.execute("DELETE FROM ingress WHERE id = ?", (ingress["id"],))


# ---- timed transitions ------------------------------------------------------------------

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


def _next_due(db: sqlite3.Connection) -> tuple[float, str, str] | None:
    best: tuple[float, str, str] | None = None
    for kind, sql in _NEXT_DUE:
        row = db.execute(sql).fetchone()
        if row is not None and (best is None or row[0] < best[0]):
            best = (float(row[0]), kind, str(row[1]))
    return best


def next_due_time(db: sqlite3.Connection) -> float | None:
    due = _next_due(db)
    return None if due is None else due[0]


MAX_SIZE_REASON = "the recording reached the maximum file size"


def run_due(
    db: sqlite3.Connection, now: float, media: MediaSettings
) -> _files.RecordingFile | None:
    """Apply every timed change due by `now`, earliest first, each at its due time.

    Stops before a completion whose file is not written yet and returns that
    file (None when everything due is applied).
    """
    while True:
        due = _next_due(db)
        if due is None or due[0] > now:
            return None
        t, kind, key = due
        if kind == "room":
            room = db.execute(_state.ROOM_SELECT + " WHERE r.sid = ?", (key,)).fetchone()
            close_room(db, t, media, room, "empty_timeout")
        elif kind == "egress":
            egress = require_egress(db, key)
            if egress["status"] == "starting":
                activate_egress(db, t, media, egress)
            elif egress["status"] == "active":  # its file reached recording_max_bytes
                stop_egress(db, t, media, egress, MAX_SIZE_REASON)
            elif egress["status"] == "ending":
                pending = complete_egress(db, t, media, egress)
                if pending is not None:
                    return pending
            else:  # pragma: no cover - a due time is only set in those three states
                db.execute("UPDATE egress SET due_at = NULL WHERE id = ?", (key,))
        else:
            _activate_ingress(db, t, require_ingress(db, key))


def discard_unclaimed_files(db: sqlite3.Connection, media: MediaSettings) -> None:
    """Delete written files whose recording stopped waiting for them (it failed meanwhile)."""
    for spec in media.files.unclaimed():
        recording = find_recording(db, spec.recording_id)
        if recording is None or recording["status"] != "ending":
            media.files.discard(spec)


def parse_list_query(query: Mapping[str, str]) -> tuple[dict[str, str], int, int]:
    """The `status` and `roomName` filters and the page of a recordings or egress list."""
    status = parse_query_choice(query, "status", EGRESS_STATUSES)
    page, limit = parse_pagination(query)
    filters = {"status": status, "room_name": query.get("roomName")}
    return {k: v for k, v in filters.items() if v is not None}, page, limit
