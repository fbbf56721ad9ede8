"""Participants in rooms, with their tracks: rows, JSON, changes and their events.

Every function runs inside the caller's transaction and records the event of
each change (openapi.json's `Event`) at the moment it happens. Participants
know nothing of egress and ingress: what one leaving sets off there is passed
in by the caller (`participant_left`; see `cascade`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import attrs

from .. import _ids
from .._errors import ApiError, participant_not_found
from . import rooms
from .events import record_event
from .pages import fetch_page, page_json

PARTICIPANT_STATE_AFTER_JOIN = "ACTIVE"

ParticipantLeft = Callable[[sqlite3.Connection, float, str], object]
"""Told the sid of each participant that left, right after its `participant.left`."""


@attrs.frozen(kw_only=True)
class Permission:
    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    can_update_own_metadata: bool = False
    can_publish_sources: tuple[str, ...] | None = None


# ---- participants ---------------------------------------------------------------


def find_participant(
    db: sqlite3.Connection, room: sqlite3.Row, identity: str
) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM participants WHERE room_sid = ? AND identity = ?", (room["sid"], identity)
    ).fetchone()
    return row


def require_participant(db: sqlite3.Connection, room: sqlite3.Row, identity: str) -> sqlite3.Row:
    row = find_participant(db, room, identity)
    if row is None:
        raise participant_not_found(room["name"], identity)
    return row


def participants_of(db: sqlite3.Connection, room: sqlite3.Row) -> list[sqlite3.Row]:
    """Everyone in `room`, in the order they joined."""
    rows: list[sqlite3.Row] = db.execute(
        "SELECT * FROM participants WHERE room_sid = ? ORDER BY joined_at, sid", (room["sid"],)
    ).fetchall()
    return rows


def participant_by_sid(db: sqlite3.Connection, sid: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM participants WHERE sid = ?", (sid,)
    ).fetchone()
    return row


def _tracks_by_participant(
    db: sqlite3.Connection, sids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {sid: [] for sid in sids}
    if not sids:
        return result
    marks = ",".join("?" * len(sids))
    for row in db.execute(
        f"SELECT * FROM tracks WHERE participant_sid IN ({marks}) ORDER BY rowid",  # noqa: S608
        sids,
    ).fetchall():
        result[row["participant_sid"]].append(track_json(row))
    return result


def track_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "sid": row["sid"],
        "kind": row["kind"],
        "source": row["source"],
        "name": row["name"],
        "muted": bool(row["muted"]),
    }


def _participant_json(row: sqlite3.Row, tracks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "sid": row["sid"],
        "identity": row["identity"],
        "name": row["name"],
        "state": row["state"],
        "metadata": row["metadata"],
        "joinedAt": row["joined_at"],
        "isPublisher": bool(tracks),
        "permission": {
            "canPublish": bool(row["can_publish"]),
            "canSubscribe": bool(row["can_subscribe"]),
            "canPublishData": bool(row["can_publish_data"]),
            "canUpdateOwnMetadata": bool(row["can_update_own_metadata"]),
        },
        "tracks": tracks,
    }


def participant_json(db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    return _participant_json(row, _tracks_by_participant(db, [row["sid"]])[row["sid"]])


def list_participants(
    db: sqlite3.Connection, room: sqlite3.Row, page: int, limit: int
) -> dict[str, Any]:
    rows, total = fetch_page(
        db,
        "participants",
        where={"room_sid": room["sid"]},
        order_by="joined_at, sid",
        page=page,
        limit=limit,
        total=int(room["num_participants"]),
    )
    tracks = _tracks_by_participant(db, [row["sid"] for row in rows])
    items = [_participant_json(row, tracks[row["sid"]]) for row in rows]
    return page_json(items, page, limit, total)


def update_participant(
    db: sqlite3.Connection, participant: sqlite3.Row, changes: dict[str, Any]
) -> None:
    if "metadata" in changes:
        db.execute(
            "UPDATE participants SET metadata = ? WHERE sid = ?",
            (changes["metadata"], participant["sid"]),
        )
    if "name" in changes:
        db.execute(
            "UPDATE participants SET name = ? WHERE sid = ?", (changes["name"], participant["sid"])
        )


def join(
    db: sqlite3.Connection,
    now: float,
    *,
    room_name: str,
    identity: str,
    name: str,
    metadata: str,
    permission: Permission,
    participant_left: ParticipantLeft,
) -> sqlite3.Row:
    """A participant joins (creating the room if needed); returns the participant row.

    One already there with the same identity leaves first (`duplicate_identity`).
    """
    room = rooms.find_room(db, room_name)
    if room is None:
        room = rooms.create_room(db, now, name=room_name)
    previous = find_participant(db, room, identity)
    others = room["num_participants"] - (1 if previous is not None else 0)
    if room["max_participants"] and others >= room["max_participants"]:
        raise ApiError(
            403,
            "room_full",
            f"room {room_name!r} is full ({room['max_participants']} participants)",
        )
    if previous is not None:
        remove_participant(
            db, now, room, previous, "duplicate_identity", participant_left=participant_left
        )
    sid = _ids.participant_sid()
    sources = (
        None
        if permission.can_publish_sources is None
        else json.dumps(list(permission.can_publish_sources))
    )
    db.execute(
        "INSERT INTO participants (sid, room_sid, identity, name, state, metadata, joined_at,"
        " can_publish, can_subscribe, can_publish_data, can_update_own_metadata,"
        " can_publish_sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sid,
            room["sid"],
            identity,
            name,
            PARTICIPANT_STATE_AFTER_JOIN,
            metadata,
            int(now),
            int(permission.can_publish),
            int(permission.can_subscribe),
            int(permission.can_publish_data),
            int(permission.can_update_own_metadata),
            sources,
        ),
    )
    rooms.stop_empty_timeout(db, room)
    record_event(
        db,
        now,
        "participant.joined",
        {
            "roomName": room["name"],
            "roomSid": room["sid"],
            "identity": identity,
            "participantSid": sid,
            "name": name,
            "metadata": metadata,
        },
    )
    row: sqlite3.Row = db.execute("SELECT * FROM participants WHERE sid = ?", (sid,)).fetchone()
    return row


def remove_participant(
    db: sqlite3.Connection,
    now: float,
    room: sqlite3.Row,
    participant: sqlite3.Row,
    reason: str,
    *,
    participant_left: ParticipantLeft,
    room_closing: bool = False,
) -> None:
    """The participant leaves: tracks unpublished, `participant.left`, `participant_left(sid)`.

    Then an emptied room starts its empty timeout, unless it is closing.
    """
    for track in db.execute(
        "SELECT * FROM tracks WHERE participant_sid = ? ORDER BY rowid", (participant["sid"],)
    ).fetchall():
        _delete_track(db, now, room, participant, track)
    db.execute("DELETE FROM participants WHERE sid = ?", (participant["sid"],))
    record_event(
        db,
        now,
        "participant.left",
        {
            "roomName": room["name"],
            "roomSid": room["sid"],
            "identity": participant["identity"],
            "participantSid": participant["sid"],
            "reason": reason,
        },
    )
    participant_left(db, now, participant["sid"])
    if not room_closing:
        rooms.start_empty_timeout_if_empty(db, now, room)


# ---- tracks ---------------------------------------------------------------------

DEFAULT_SOURCE = {"video": "camera", "audio": "microphone", "data": "unknown"}


def publish_track(
    db: sqlite3.Connection,
    now: float,
    room: sqlite3.Row,
    participant: sqlite3.Row,
    *,
    kind: str,
    source: str | None,
    name: str,
) -> dict[str, Any]:
    """Publish a track, enforcing the participant's grants; returns the Track."""
    if kind == "data":
        if not participant["can_publish_data"]:
            raise ApiError(
                403, "grant_missing", "participant may not publish data (canPublishData)"
            )
    elif not participant["can_publish"]:
        raise ApiError(403, "grant_missing", "participant may not publish tracks (canPublish)")
    source = source or DEFAULT_SOURCE[kind]
    allowed = participant["can_publish_sources"]
    if allowed is not None and kind != "data" and source not in json.loads(allowed):
        raise ApiError(
            403,
            "grant_missing",
            f"participant may not publish source {source!r} (canPublishSources)",
        )
    sid = _ids.track_sid()
    db.execute(
        "INSERT INTO tracks (sid, participant_sid, kind, source, name, muted, published_at)"
        " VALUES (?, ?, ?, ?, ?, 0, ?)",
        (sid, participant["sid"], kind, source, name, now),
    )
    record_event(
        db,
        now,
        "track.published",
        {
            "roomName": room["name"],
            "identity": participant["identity"],
            "participantSid": participant["sid"],
            "trackSid": sid,
            "kind": kind,
            "source": source,
            "name": name,
        },
    )
    return {"sid": sid, "kind": kind, "source": source, "name": name, "muted": False}


def unpublish_track(
    db: sqlite3.Connection,
    now: float,
    room: sqlite3.Row,
    participant: sqlite3.Row,
    track_sid: str,
) -> None:
    track = db.execute(
        "SELECT * FROM tracks WHERE sid = ? AND participant_sid = ?",
        (track_sid, participant["sid"]),
    ).fetchone()
    if track is None:
        raise ApiError(
            404,
            "track_not_found",
            f"participant {participant['identity']!r} has no track {track_sid!r}",
        )
    _delete_track(db, now, room, participant, track)


def _delete_track(
    db: sqlite3.Connection,
    now: float,
    room: sqlite3.Row,
    participant: sqlite3.Row,
    track: sqlite3.Row,
) -> None:
    db.execute("DELETE FROM tracks WHERE sid = ?", (track["sid"],))
    record_event(
        db,
        now,
        "track.unpublished",
        {
            "roomName": room["name"],
            "identity": participant["identity"],
            "participantSid": participant["sid"],
            "trackSid": track["sid"],
            "kind": track["kind"],
            "source": track["source"],
        },
    )
