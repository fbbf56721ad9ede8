"""Idempotency keys (openapi.json's `IdempotencyKey` parameter), kept in SQLite.

They survive a restart. Scope: per API key id. Fingerprint: method, raw path
and the body (JSON bodies canonicalised so key order does not matter). A
finished request's status and body are replayed with `Idempotent-Replayed:
true` for 24 hours of server time; 5xx answers are not stored. Requests still
running are tracked in memory only, so a crash never leaves a key stuck
"in use".
"""

from __future__ import annotations

import hashlib
import re
import sqlite3

import attrs

from ._errors import ApiError, invalid_request

RETENTION_SECONDS = 24 * 3600
_KEY_RE = re.compile(r"[\x20-\x7e]{1,255}")
MUTATING_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@attrs.frozen
class StoredResponse:
    status: int
    body: bytes


def check_key(value: str) -> str:
    if _KEY_RE.fullmatch(value) is None:
        raise invalid_request("Idempotency-Key must be 1-255 printable ASCII characters")
    return value


def fingerprint(method: str, raw_path: bytes, canonical_body: bytes) -> str:
    """SHA-256 of each part preceded by its length (8 bytes, big-endian), in hex."""
    method_bytes = method.encode()
    return hashlib.sha256(
        b"".join(
            (
                len(method_bytes).to_bytes(8, "big"),
                method_bytes,
                len(raw_path).to_bytes(8, "big"),
                raw_path,
                len(canonical_body).to_bytes(8, "big"),
                canonical_body,
            )
        )
    ).hexdigest()


class IdempotencyStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._in_flight: dict[tuple[str, str], str] = {}

    def begin(self, key_id: str, key: str, print_: str, now: float) -> StoredResponse | None:
        """Return the stored response to replay, raise 409, or mark the key in flight."""
        scope = (key_id, key)
        running = self._in_flight.get(scope)
        if running is not None:
            raise _conflict(running == print_)
        row = self._db.execute(
            "SELECT fingerprint, status, body, created_at FROM idempotency"
            " WHERE key_id = ? AND idem_key = ?",
            scope,
        ).fetchone()
        if row is not None and row["created_at"] > now - RETENTION_SECONDS:
            if row["fingerprint"] != print_:
                raise _conflict(same_request=False)
            return StoredResponse(int(row["status"]), bytes(row["body"]))
        self._in_flight[scope] = print_
        return None

    def save(
        self, key_id: str, key: str, print_: str, now: float, status: int, body: bytes
    ) -> None:
        """Store a finished answer (inside the request's transaction); 5xx are skipped."""
        if status >= 500:
            return
        self._db.execute(
            "INSERT OR REPLACE INTO idempotency"
            " (key_id, idem_key, fingerprint, status, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, key, print_, status, body, now),
        )

    def finish(self, key_id: str, key: str) -> None:
        self._in_flight.pop((key_id, key), None)

    def purge(self, now: float) -> None:
        self._db.execute(
            "DELETE FROM idempotency WHERE created_at <= ?", (now - RETENTION_SECONDS,)
        )


def _conflict(same_request: bool) -> ApiError:
    if same_request:
        return ApiError(
            409,
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed; retry later",
        )
    return ApiError(
        409,
        "idempotency_key_reused",
        "this Idempotency-Key was already used for a different request",
    )
