"""JSON as the server writes it: compact, UTF-8, with one encoder built once.

`json.dumps(value, separators=..., ensure_ascii=False)` builds a new encoder on
every call; a request writes JSON up to three times (answer, event, check), so
the encoder is built once here.
"""

from __future__ import annotations

import json
from typing import Any

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def compact_json(value: Any) -> str:
    """`value` as compact JSON text (non-ASCII kept as is)."""
    return _COMPACT.encode(value)


def json_bytes(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON (UnicodeEncodeError for a lone surrogate)."""
    return _COMPACT.encode(value).encode("utf-8")
