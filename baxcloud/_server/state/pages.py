"""The one page query behind every paginated list (openapi.json's `RoomPage`, `EgressPage`, ...)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any


def fetch_page(
    db: sqlite3.Connection,
    source: str,
    *,
    order_by: str,
    page: int,
    limit: int,
    where: Mapping[str, str] | None = None,
    columns: str = "*",
    total: int | None = None,
) -> tuple[list[sqlite3.Row], int]:
    """Page `page` (from 1) of `limit` rows of `source`, and how many rows there are in all.

    `where` maps columns to the values they must equal; `total`, when the
    caller already knows it, saves counting.
    """
    filters = where or {}
    condition = ""  # no WHERE at all without filters: SQLite counts a whole table faster
    if filters:
        condition = " WHERE " + " AND ".join(f"{column} = ?" for column in filters)
    args = tuple(filters.values())
    if total is None:
        count = f"SELECT COUNT(*) FROM {source}{condition}"  # noqa: S608
        total = int(db.execute(count, args).fetchone()[0])
    offset = (page - 1) * limit
    if offset >= total:
        return [], total
    rows = db.execute(
        f"SELECT {columns} FROM {source}{condition} ORDER BY {order_by} LIMIT ? OFFSET ?",  # noqa: S608
        (*args, limit, offset),
    ).fetchall()
    return rows, total


def page_json(items: list[dict[str, Any]], page: int, limit: int, total: int) -> dict[str, Any]:
    return {
        "items": items,
        "page": page,
        "limit": limit,
        "total": total,
        "hasMore": page * limit < total,
    }
