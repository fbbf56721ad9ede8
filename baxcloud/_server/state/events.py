"""The event log: every state change appends its event (openapi.json's `Event`) as it happens.

Each event is also queued, in the same transaction, for every enabled webhook
endpoint (`webhook_queue`, delivered by `_webhooks.WebhookDelivery`), ordered
per room: its `roomName` is the queue's ordering key.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .._ids import event_id
from .._json import compact_json


def record_event(db: sqlite3.Connection, now: float, name: str, data: dict[str, Any]) -> str:
    """Append an event inside the caller's transaction; returns its id."""
    eid = event_id()
    db.execute(
        "INSERT INTO events (id, name, created_at, data) VALUES (?, ?, ?, ?)",
        (eid, name, int(now), compact_json(data)),
    )
    room = data.get("roomName")
    db.execute(
        "INSERT INTO webhook_queue (event_id, endpoint_id, ordering_key)"
        " SELECT ?, id, ? FROM webhook_endpoints WHERE enabled = 1",
        (eid, room if isinstance(room, str) else eid),
    )
    return eid


def list_events(db: sqlite3.Connection, name: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, name, created_at, data FROM events"
    args: tuple[str, ...] = ()
    if name is not None:
        sql += " WHERE name = ?"
        args = (name,)
    rows = db.execute(sql + " ORDER BY rowid", args).fetchall()
    return [
        {
            "id": row["id"],
            "event": row["name"],
            "createdAt": row["created_at"],
            "data": json.loads(row["data"]),
        }
        for row in rows
    ]
