"""Ingress: a stream sent in (RTMP or WHIP) that appears in its room as a participant.

Its rows, its JSON (openapi.json's `Ingress`; the stream key or WHIP token in
full only when created), its status changes and their events. Every function
runs inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from .. import _ids
from .._errors import ApiError
from .._stream_urls import REDACTED
from . import participants, rooms
from .events import record_event
from .pages import fetch_page, page_json

INGRESS_TYPES = ("RTMP_INPUT", "WHIP_INPUT")
INGRESS_LIVE = ("BUFFERING", "ACTIVE")


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


def require_ingress(db: sqlite3.Connection, ingress_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM ingress WHERE id = ?", (ingress_id,)
    ).fetchone()
    if row is None:
        raise ApiError(404, "ingress_not_found", f"ingress {ingress_id!r} does not exist")
    return row


def list_ingress(
    db: sqlite3.Connection, filters: Mapping[str, str], page: int, limit: int
) -> dict[str, Any]:
    rows, total = fetch_page(
        db, "ingress", where=filters, order_by="created_at, id", page=page, limit=limit
    )
    return page_json([ingress_json(r) for r in rows], page, limit, total)


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


def connect_ingress(db: sqlite3.Connection, now: float, ingress: sqlite3.Row) -> None:
    """A stream arrives: its participant joins; `BUFFERING` now (`live.started`).

    It becomes `ACTIVE` when due (see `_scheduler`).
    """
    if ingress["status"] in INGRESS_LIVE:
        raise ApiError(
            409,
            "ingress_already_active",
            f"ingress {ingress['id']!r} is already {ingress['status']}",
        )
    participant = participants.join(
        db,
        now,
        room_name=ingress["room_name"],
        identity=ingress["participant_identity"],
        name=ingress["participant_name"],
        metadata="",
        permission=participants.Permission(),
        participant_left=end_for_participant,
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


def activate_ingress(db: sqlite3.Connection, t: float, ingress: sqlite3.Row) -> None:
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
    room = rooms.find_room(db, ingress["room_name"])
    participant = None
    if room is not None:
        participant = participants.participant_by_sid(db, ingress["participant_sid"])
    if room is None or participant is None:
        return
    for kind, source in (("video", "camera"), ("audio", "microphone")):
        participants.publish_track(db, t, room, participant, kind=kind, source=source, name=kind)


def _leave_room(db: sqlite3.Connection, t: float, participant_sid: str | None) -> None:
    if participant_sid is None:
        return
    participant = participants.participant_by_sid(db, participant_sid)
    if participant is None:
        return
    room = rooms.room_by_sid(db, participant["room_sid"])
    participants.remove_participant(
        db, t, room, participant, "disconnected", participant_left=end_for_participant
    )


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


def end_for_participant(db: sqlite3.Connection, t: float, participant_sid: str) -> None:
    """An ingress whose participant left (API, room closing, same identity) ends."""
    row = db.execute(
        "SELECT * FROM ingress WHERE participant_sid = ?", (participant_sid,)
    ).fetchone()
    if row is not None and row["status"] in INGRESS_LIVE:
        end_ingress(db, t, row)


def delete_ingress(db: sqlite3.Connection, t: float, ingress: sqlite3.Row) -> None:
    if ingress["status"] in INGRESS_LIVE:
        end_ingress(db, t, ingress)
    db.execute("DELETE FROM ingress WHERE id = ?", (ingress["id"],))
