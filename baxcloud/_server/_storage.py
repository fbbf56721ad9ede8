"""SQLite storage: one connection, used only from the event loop thread.

In memory by default; with a data directory, `DIR/baxcloud.sqlite3` in WAL
mode so that state (credentials included) survives a restart or a crash, and
the directory locked for as long as the storage is open (see `_lock`).
Every request runs in one explicit transaction (see `Storage.transaction`).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sqlite3
from collections.abc import Iterable, Iterator

from ._lock import DataDirectoryLock, lock_data_dir

DB_FILENAME = "baxcloud.sqlite3"
SCHEMA_VERSION = "3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rooms (
    sid TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    max_participants INTEGER NOT NULL,
    empty_timeout INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    enable_recording INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    empty_since REAL,
    closes_at REAL
);
CREATE INDEX IF NOT EXISTS rooms_by_created ON rooms (created_at, sid);
CREATE INDEX IF NOT EXISTS rooms_by_closes ON rooms (closes_at) WHERE closes_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS participants (
    sid TEXT PRIMARY KEY,
    room_sid TEXT NOT NULL REFERENCES rooms (sid) ON DELETE CASCADE,
    identity TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    metadata TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    can_publish INTEGER NOT NULL,
    can_subscribe INTEGER NOT NULL,
    can_publish_data INTEGER NOT NULL,
    can_update_own_metadata INTEGER NOT NULL,
    can_publish_sources TEXT,
    UNIQUE (room_sid, identity)
);
CREATE INDEX IF NOT EXISTS participants_by_joined ON participants (room_sid, joined_at, sid);
CREATE TABLE IF NOT EXISTS tracks (
    sid TEXT PRIMARY KEY,
    participant_sid TEXT NOT NULL REFERENCES participants (sid) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    muted INTEGER NOT NULL,
    published_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tracks_by_participant ON tracks (participant_sid);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX IF NOT EXISTS idempotency_by_created ON idempotency (created_at);
CREATE TABLE IF NOT EXISTS egress (
    id TEXT PRIMARY KEY,
    room_name TEXT NOT NULL,
    mode TEXT NOT NULL,
    layout TEXT NOT NULL,
    quality TEXT NOT NULL,
    status TEXT NOT NULL,
    file_type TEXT,
    stream_urls TEXT,
    destinations TEXT,
    recording_id TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at REAL,
    ended_at REAL,
    due_at REAL
);
CREATE INDEX IF NOT EXISTS egress_by_created ON egress (created_at, id);
CREATE INDEX IF NOT EXISTS egress_by_room ON egress (room_name, status);
CREATE INDEX IF NOT EXISTS egress_by_due ON egress (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    egress_id TEXT NOT NULL UNIQUE,
    room_name TEXT NOT NULL,
    status TEXT NOT NULL,
    file_type TEXT NOT NULL,
    filename TEXT,
    size_bytes INTEGER,
    duration_seconds REAL,
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at REAL,
    ended_at REAL
);
CREATE INDEX IF NOT EXISTS recordings_by_created ON recordings (created_at, id);
CREATE INDEX IF NOT EXISTS recordings_by_room ON recordings (room_name, status);
CREATE TABLE IF NOT EXISTS ingress (
    id TEXT PRIMARY KEY,
    input_type TEXT NOT NULL,
    room_name TEXT NOT NULL,
    participant_identity TEXT NOT NULL,
    participant_name TEXT NOT NULL,
    enable_transcoding INTEGER NOT NULL,
    bypass_transcoding INTEGER NOT NULL,
    status TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    error TEXT,
    participant_sid TEXT,
    due_at REAL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ingress_by_created ON ingress (created_at, id);
CREATE INDEX IF NOT EXISTS ingress_by_participant ON ingress (participant_sid)
    WHERE participant_sid IS NOT NULL;
CREATE INDEX IF NOT EXISTS ingress_by_due ON ingress (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS auto_starts (
    room_sid TEXT NOT NULL REFERENCES rooms (sid) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    PRIMARY KEY (room_sid, kind)
);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    ordering_key TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS webhook_queue_by_lane ON webhook_queue (endpoint_id, ordering_key, seq);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    endpoint_url TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status INTEGER,
    latency_ms REAL NOT NULL,
    error TEXT,
    outcome TEXT NOT NULL,
    attempted_at REAL NOT NULL,
    next_attempt_at REAL
);
CREATE INDEX IF NOT EXISTS webhook_attempts_by_event ON webhook_attempts (event_id);
"""


class Storage:
    def __init__(self, data_dir: pathlib.Path | None) -> None:
        self._lock: DataDirectoryLock | None = None
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock = lock_data_dir(data_dir)  # before the database is touched
        try:
            self._open(data_dir)
        except BaseException:
            if hasattr(self, "db"):
                self.db.close()
            if self._lock is not None:
                self._lock.release()
            raise

    def _open(self, data_dir: pathlib.Path | None) -> None:
        if data_dir is None:
            target = ":memory:"
        else:
            path = data_dir / DB_FILENAME
            path.touch(mode=0o600, exist_ok=True)  # it holds the API key
            target = str(path)
        self.db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        if data_dir is not None:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (SCHEMA_VERSION,),
            )
        if data_dir is not None:
            with contextlib.suppress(OSError):
                os.chmod(data_dir / DB_FILENAME, 0o600)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN ... COMMIT, or ROLLBACK on any exception. Must not span an await."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            self._lock.release()


def clear(db: sqlite3.Connection, keep_meta: Iterable[str]) -> None:
    """Delete every row of every table (inside the caller's transaction), and restart
    the AUTOINCREMENT sequences, keeping only the `meta` rows named in `keep_meta`."""
    kept = tuple(keep_meta)
    tables = [
        str(row[0])
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in tables:
        if table != "meta":
            db.execute(f'DELETE FROM "{table}"')  # noqa: S608 (names from sqlite_master)
    marks = ", ".join("?" * len(kept))
    db.execute(f"DELETE FROM meta WHERE key NOT IN ({marks})", kept)  # noqa: S608
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        db.execute("DELETE FROM sqlite_sequence")


def get_meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
