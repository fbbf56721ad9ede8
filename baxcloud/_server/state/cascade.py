"""Changes that reach across resources, wired in one place.

Participants and rooms know nothing of egress and ingress (see
`participants`); these functions add what follows in them: a participant that
leaves ends the ingress streaming as it; a room that closes stops its running
egress; a participant that joins may auto-start egress (`enableRecording`,
auto-stream).
"""

from __future__ import annotations

import sqlite3

from .._context import MediaSettings
from . import egress, ingress, participants, rooms


def join(
    db: sqlite3.Connection,
    now: float,
    media: MediaSettings,
    *,
    room_name: str,
    identity: str,
    name: str,
    metadata: str,
    permission: participants.Permission,
) -> sqlite3.Row:
    """A participant joins (see `participants.join`); egress may start with it."""
    participant = participants.join(
        db,
        now,
        room_name=room_name,
        identity=identity,
        name=name,
        metadata=metadata,
        permission=permission,
        participant_left=ingress.end_for_participant,
    )
    egress.start_on_join(db, now, media, room_name)
    return participant


def connect_ingress(
    db: sqlite3.Connection, now: float, media: MediaSettings, row: sqlite3.Row
) -> None:
    """A stream arrives (see `ingress.connect_ingress`); egress may start with its participant."""
    ingress.connect_ingress(db, now, row)
    egress.start_on_join(db, now, media, row["room_name"])


def leave(
    db: sqlite3.Connection, now: float, room: sqlite3.Row, participant: sqlite3.Row, reason: str
) -> None:
    """A participant leaves (see `participants.remove_participant`), ending its ingress if any."""
    participants.remove_participant(
        db, now, room, participant, reason, participant_left=ingress.end_for_participant
    )


def close_room(
    db: sqlite3.Connection, now: float, media: MediaSettings, room: sqlite3.Row, reason: str
) -> None:
    """A room closes: everyone leaves (`room_deleted`), its egress stops, `room.finished`."""
    for participant in participants.participants_of(db, room):
        participants.remove_participant(
            db,
            now,
            room,
            participant,
            "room_deleted",
            participant_left=ingress.end_for_participant,
            room_closing=True,
        )
    egress.stop_for_closing_room(db, now, media, room)
    rooms.delete_room(db, now, room, reason)
