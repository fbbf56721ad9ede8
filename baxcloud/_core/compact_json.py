"""Compact JSON (`separators=(",", ":")`, non-ASCII kept) from an encoder built once.

`json.dumps(...)` and `JSONEncoder.encode` build a C encoder on every call; this
one is built once, with no circular-reference check: for plain data that the SDK
or the local server builds itself (token claims, answers, event rows).
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any


def _make(sort_keys: bool) -> Callable[[Any], str]:
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # no C accelerator (PyPy, say)
        return encoder.encode
    escape = json.encoder.encode_basestring
    chunks = make_encoder(None, encoder.default, escape, None, ":", ",", sort_keys, False, True)
    return lambda value: "".join(chunks(value, 0))


compact_json: Callable[[Any], str] = _make(sort_keys=False)
"""`value` as compact JSON text."""

sorted_compact_json: Callable[[Any], str] = _make(sort_keys=True)
"""`compact_json` with every object's keys sorted: the same text for the same data."""
