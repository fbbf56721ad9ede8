"""The internal event log (A.12 event names and data), recorded as things happen.

A later webhook-delivery feature reads this table; nothing is delivered yet.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ._ids import event_id


def record_event(db: sqlite3.Connection, now: float, name: str, data: dict[str, Any]) -> str:
    """Append an event inside the caller's transaction; returns its id."""
    eid = event_id()
    db.execute(
        "INSERT INTO events (id, name, created_at, data) VALUES (?, ?, ?, ?)",
        (eid, name, int(now), json.dumps(data, ensure_ascii=False, separators=(",", ":"))),
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
