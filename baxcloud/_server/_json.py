"""JSON as the server writes it: compact UTF-8 (the core's encoder, built once)."""

from __future__ import annotations

from typing import Any

from .._core.compact_json import compact_json

__all__ = ["compact_json", "json_bytes"]


def json_bytes(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON (UnicodeEncodeError for a lone surrogate)."""
    return compact_json(value).encode("utf-8")
