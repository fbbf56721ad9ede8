"""Prefixed identifiers: `RM_`, `PA_`, `TR_`, `rec_`, `EG_`, `IN_`, `evt_`, `we_`, `req_`.

Ids sort in creation order (a microsecond timestamp, strictly increasing in
this process, then random characters), so that lists ordered by `createdAt`,
then id (openapi.json's pagination order) keep creation order within the same second.
"""

from __future__ import annotations

import os
import random
import threading
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# Random bytes below 248 (4 * 62) map uniformly onto the alphabet; the rest are dropped.
_BYTE_TO_CHAR = bytes(_ALPHABET.encode()[b % 62] for b in range(248)) + bytes(8)
_REJECTED = bytes(range(248, 256))


def random_token(length: int) -> str:
    """`length` random base62 characters from the OS CSPRNG."""
    chars = b""
    while len(chars) < length:
        chars += os.urandom(length + 8).translate(_BYTE_TO_CHAR, _REJECTED)
    return chars[:length].decode("ascii")


_TIME_DIGITS = 10  # base62: enough microseconds for the next 25,000 years
_last_micros = 0
_lock = threading.Lock()


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # two digits per division


def _base62(value: int, width: int) -> str:
    digits = []
    for _ in range(width // 2):
        value, pair = divmod(value, 3844)
        digits.append(_PAIRS[pair])
    if width % 2:
        digits.append(_ALPHABET[value % 62])
    return "".join(reversed(digits))


def _next_micros() -> int:
    global _last_micros
    with _lock:
        _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
        return _last_micros


def new_id(prefix: str, length: int = 12) -> str:
    """`prefix`, a sortable timestamp, then `length` random characters."""
    return prefix + _base62(_next_micros(), _TIME_DIGITS) + random_token(length)


def room_sid() -> str:
    return new_id("RM_")


def participant_sid() -> str:
    return new_id("PA_")


def track_sid() -> str:
    return new_id("TR_")


def recording_id() -> str:
    return new_id("rec_")


def egress_id() -> str:
    return new_id("EG_")


def ingress_id() -> str:
    return new_id("IN_")


def event_id() -> str:
    return new_id("evt_", 20)


# Request ids only name a request in logs: an in-process generator, seeded from the OS.
_request_ids = random.Random(os.urandom(32))


def request_id() -> str:
    return f"req_{_request_ids.getrandbits(96):024x}"
