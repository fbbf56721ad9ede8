"""Rooms: rows, JSON (openapi.json's `Room`), changes and their events.

Every function runs inside the caller's transaction and records the event of
each change (openapi.json's `Event`) at the moment it happens. A room closes
in steps across resources (participants leave, egress stops, then
`delete_room`): see `cascade.close_room`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import _ids
from .._errors import ApiError, room_not_found
from .events import record_event
from .pages import fetch_page, page_json

DEFAULT_EMPTY_TIMEOUT = 300

# A room row with the counts and flag its JSON shows (`rooms r`).
_ROOM_COLUMNS = """r.*,
  (SELECT COUNT(*) FROM participants p WHERE p.room_sid = r.sid) AS num_participants,
  (SELECT COUNT(*) FROM participants p WHERE p.room_sid = r.sid
     AND EXISTS (SELECT 1 FROM tracks t WHERE t.participant_sid = p.sid)) AS num_publishers,
  EXISTS (SELECT 1 FROM egress e WHERE e.room_name = r.name
     AND e.status IN ('starting', 'active') AND e.mode IN ('record', 'both'))
     AS active_recording"""
_ROOM_SELECT = f"SELECT {_ROOM_COLUMNS} FROM rooms r"  # noqa: S608 (constant text)


# ---- rooms --------------------------------------------------------------------


def find_room(db: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(_ROOM_SELECT + " WHERE r.name = ?", (name,)).fetchone()
    return row


def room_by_sid(db: sqlite3.Connection, sid: str) -> sqlite3.Row:
    """The room with this sid, which the caller knows exists (it has a row referring to it)."""
    row: sqlite3.Row = db.execute(_ROOM_SELECT + " WHERE r.sid = ?", (sid,)).fetchone()
    return row


def require_room(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    row = find_room(db, name)
    if row is None:
        raise room_not_found(name)
    return row


def room_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "sid": row["sid"],
        "name": row["name"],
        "maxParticipants": row["max_participants"],
        "emptyTimeout": row["empty_timeout"],
        "metadata": row["metadata"],
        "enableRecording": bool(row["enable_recording"]),
        "numParticipants": row["num_participants"],
        "numPublishers": row["num_publishers"],
        "activeRecording": bool(row["active_recording"]),
        "createdAt": row["created_at"],
    }


def list_rooms(db: sqlite3.Connection, page: int, limit: int) -> dict[str, Any]:
    rows, total = fetch_page(
        db,
        "rooms r",
        columns=_ROOM_COLUMNS,
        order_by="r.created_at, r.sid",
        page=page,
        limit=limit,
    )
    return page_json([room_json(row) for row in rows], page, limit, total)


def create_room(
    db: sqlite3.Connection,
    now: float,
    *,
    name: str,
    max_participants: int = 0,
    empty_timeout: int = DEFAULT_EMPTY_TIMEOUT,
    metadata: str = "",
    enable_recording: bool = False,
) -> sqlite3.Row:
    """Create a room (empty since now) and record `room.started`; 409 if the name is taken."""
    sid = _ids.room_sid()
    try:
        db.execute(
            "INSERT INTO rooms (sid, name, max_participants, empty_timeout, metadata,"
            " enable_recording, created_at, empty_since, closes_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                name,
                max_participants,
                empty_timeout,
                metadata,
                int(enable_recording),
                int(now),
                now,
                now + empty_timeout,
            ),
        )
    except sqlite3.IntegrityError:
        raise ApiError(409, "room_already_exists", f"room {name!r} already exists") from None
    record_event(db, now, "room.started", {"roomName": name, "roomSid": sid, "metadata": metadata})
    return require_room(db, name)


def update_room(db: sqlite3.Connection, room: sqlite3.Row, changes: dict[str, Any]) -> None:
    """Apply `metadata`, `maxParticipants`, `emptyTimeout` (already validated)."""
    if "metadata" in changes:
        db.execute(
            "UPDATE rooms SET metadata = ? WHERE sid = ?", (changes["metadata"], room["sid"])
        )
    if "maxParticipants" in changes:
        db.execute(
            "UPDATE rooms SET max_participants = ? WHERE sid = ?",
            (changes["maxParticipants"], room["sid"]),
        )
    if "emptyTimeout" in changes:
        # A room that is empty right now keeps its empty-since time; only the deadline moves.
        db.execute(
            "UPDATE rooms SET empty_timeout = ?,"
            " closes_at = CASE WHEN empty_since IS NULL THEN NULL ELSE empty_since + ? END"
            " WHERE sid = ?",
            (changes["emptyTimeout"], changes["emptyTimeout"], room["sid"]),
        )


def stop_empty_timeout(db: sqlite3.Connection, room: sqlite3.Row) -> None:
    """Someone joined: the room no longer closes by itself."""
    db.execute(
        "UPDATE rooms SET empty_since = NULL, closes_at = NULL WHERE sid = ?", (room["sid"],)
    )


def start_empty_timeout_if_empty(db: sqlite3.Connection, now: float, room: sqlite3.Row) -> None:
    """Someone left: if nobody is left, the room closes `emptyTimeout` seconds from now."""
    remaining = db.execute(
        "SELECT COUNT(*) FROM participants WHERE room_sid = ?", (room["sid"],)
    ).fetchone()[0]
    if remaining == 0:
        db.execute(
            "UPDATE rooms SET empty_since = ?, closes_at = ? + empty_timeout WHERE sid = ?",
            (now, now, room["sid"]),
        )


def delete_room(db: sqlite3.Connection, now: float, room: sqlite3.Row, reason: str) -> None:
    """The last step of closing a room, once its participants left: `room.finished`."""
    db.execute("DELETE FROM rooms WHERE sid = ?", (room["sid"],))
    record_event(
        db,
        now,
        "room.finished",
        {"roomName": room["name"], "roomSid": room["sid"], "reason": reason},
    )
