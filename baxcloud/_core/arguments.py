"""Request building helpers: path segments, JSON bodies, metadata values."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import attrs

from .converter import camel

M = TypeVar("M")

MAX_METADATA_BYTES = 64 * 1024


def segment(value: object, name: str) -> str:
    """One RFC 3986 path segment: every reserved character percent-encoded.

    `.` and `..` are encoded too, because URL normalisation would otherwise
    treat them as relative path steps.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def path(*parts: str) -> str:
    return "/" + "/".join(parts)


def camel_fields(**fields: Any) -> dict[str, Any]:
    """camelCase JSON fields (a body or query) of the arguments given (None means omitted)."""
    return {camel(key): value for key, value in fields.items() if value is not None}


def metadata_text(value: object, name: str = "metadata") -> str:
    """Metadata is a string, or a JSON-serialisable mapping sent as its JSON text."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, Mapping):
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} mapping is not JSON-serialisable: {exc}") from None
    else:
        raise TypeError(f"{name} must be a str or a mapping, not {type(value).__name__}")
    if len(text.encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"{name} is larger than 64 KiB")
    return text


def optional_metadata(value: object) -> str | None:
    return None if value is None else metadata_text(value)


def check_int(value: object, name: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return value


def optional_str(value: object, name: str) -> str | None:
    return None if value is None else check_str(value, name)


def model_argument(value: M | Mapping[str, Any], cls: type[M], name: str) -> M:
    """Accept the model itself, or a mapping of its snake_case fields (unknown keys: TypeError)."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a {cls.__name__} or a mapping, not {type(value).__name__}")
    known = {a.name for a in attrs.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        hints = [did_you_mean(key, known) for key in unknown]
        raise TypeError(
            f"unknown {name} key(s): {', '.join(unknown)}{''.join(hints)};"
            f" expected some of {sorted(known)}"
        )
    try:
        return cls(**value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from None


def choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, matched in any letter case and returned as the API spells it."""
    text = check_str(value, name)
    for option in choices:
        if text.lower() == option.lower():
            return option
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{name} must be one of {listed}, not {text!r}")


def optional_choice(value: object, name: str, choices: tuple[str, ...]) -> str | None:
    return None if value is None else choice(value, name, choices)


# Every id carries its kind as a prefix (see the `id`/`sid` fields in openapi.json).
_ID_KINDS = {
    "rec_": "a recording id",
    "EG_": "an egress id",
    "IN_": "an ingress id",
    "RM_": "a room sid",
    "PA_": "a participant sid",
    "TR_": "a track sid",
    "evt_": "an event id",
}


def resource_id(value: object, name: str, prefix: str, call: str, hint: str = "") -> str:
    """An id argument; an id of another kind (by its prefix) fails before any request."""
    text = check_str(value, name)
    for other, kind in _ID_KINDS.items():
        if other != prefix and text.startswith(other):
            raise ValueError(
                f"{call} takes the {name} ({prefix}...), not {kind} ({other}...){hint}"
            )
    return text


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`" (did you mean 'x'?)"` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
