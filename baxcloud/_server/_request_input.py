"""A request's input, parsed and checked: the JSON body, its fields, query parameters.

Order of checks (documented in openapi.json): malformed JSON or a non-object
body -> 400 `invalid_request`; unknown fields -> 400 `unknown_field`; wrong
JSON types -> 400 `invalid_request` (with details); missing required fields
and range/format violations -> 422 `validation_failed` (with details).
An explicit `null` for an optional field means "not given".
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from .._core.compact_json import sorted_compact_json
from ._errors import ApiError, Detail, invalid_request, validation_failed
from ._json import json_bytes

MAX_BODY_BYTES = 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024
MAX_NAME_CHARS = 256
MAX_URL_CHARS = 2048

# The local server's own bounds, documented in openapi.json.
MAX_MAX_PARTICIPANTS = 100_000
MAX_EMPTY_TIMEOUT = 7 * 24 * 3600

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
}

Check = Callable[[Any], "str | None"]


@attrs.frozen
class Field:
    """One body field: its JSON type, whether required, and an optional value check."""

    name: str
    type: str
    required: bool = False
    check: Check | None = None


def _reject_constant(value: str) -> Any:
    raise ValueError(f"{value} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # built once, not per call


def decode_json(raw: bytes) -> Any:
    """Decode a request body; empty means None. Raises 400 `invalid_request`."""
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):  # as json.loads does
            raise ValueError("Unexpected UTF-8 BOM (decode using utf-8-sig)")
        value = _DECODER.decode(text)
        # Lone surrogates (from \ud800 escapes) cannot be stored: refuse them here.
        # Valid UTF-8 holds none, so only a body with a \u escape can bring one.
        if "\\u" in text:
            json_bytes(value)
    except UnicodeError:
        raise invalid_request("request body is not valid UTF-8 JSON") from None
    except RecursionError:
        raise invalid_request("request body is nested too deeply") from None
    except ValueError as exc:
        raise invalid_request(f"request body is not valid JSON: {exc}") from None
    return value


def canonical_json(value: Any) -> bytes:
    """Key-order-independent encoding (idempotency fingerprints)."""
    return sorted_compact_json(value).encode()


def _type_ok(value: Any, json_type: str) -> bool:
    if isinstance(value, bool):
        return json_type == "boolean"
    return isinstance(value, _JSON_TYPES[json_type])


_ARTICLE = {
    "integer": "an integer",
    "string": "a string",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}


def parse_body(body: Any, fields: Sequence[Field]) -> dict[str, Any]:
    """Check `body` against `fields`; return the given (non-null) values by name."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise invalid_request("request body must be a JSON object")
    known = {f.name: f for f in fields}
    unknown = [key for key in body if key not in known]
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        raise ApiError(
            400,
            "unknown_field",
            f"unknown field {names}" if len(unknown) == 1 else f"unknown fields {names}",
            details=[Detail(k, "unknown field") for k in unknown],
        )
    values: dict[str, Any] = {}
    type_errors: list[Detail] = []
    for f in fields:
        value = body.get(f.name)
        if value is None:
            continue
        if not _type_ok(value, f.type):
            type_errors.append(Detail(f.name, f"must be {_ARTICLE.get(f.type, 'a ' + f.type)}"))
            continue
        values[f.name] = value
    if type_errors:
        raise invalid_request("request body has fields of the wrong type", type_errors)
    problems: list[Detail] = []
    for f in fields:
        if f.name not in values:
            if f.required:
                problems.append(Detail(f.name, "is required"))
            continue
        if f.check is not None:
            message = f.check(values[f.name])
            if message is not None:
                problems.append(Detail(f.name, message))
    if problems:
        raise validation_failed(problems)
    return values


# ---- value checks ---------------------------------------------------------------


def has_control_chars(value: str) -> bool:
    if value.isprintable():  # the usual case: control characters are not printable
        return False
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def check_name(value: str) -> str | None:
    """Room names, identities, track and participant display names."""
    if not 1 <= len(value) <= MAX_NAME_CHARS:
        return f"must be 1-{MAX_NAME_CHARS} characters"
    if has_control_chars(value):
        return "must not contain control characters"
    return None


def check_display_name(value: str) -> str | None:
    if len(value) > MAX_NAME_CHARS:
        return f"must be at most {MAX_NAME_CHARS} characters"
    if has_control_chars(value):
        return "must not contain control characters"
    return None


def check_metadata(value: str) -> str | None:
    if len(value.encode("utf-8")) > MAX_METADATA_BYTES:
        return f"must be at most {MAX_METADATA_BYTES} bytes (UTF-8)"
    return None


def int_range(low: int, high: int) -> Check:
    def check(value: int) -> str | None:
        if not low <= value <= high:
            return f"must be between {low} and {high}"
        return None

    return check


def one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        if value not in choices:
            return "must be one of " + ", ".join(choices)
        return None

    return check


# ---- query parameters -------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,30}")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def parse_query_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """One integer query parameter in [low, high]; 422 otherwise."""
    problems: list[Detail] = []
    value = _query_int(query, name, default, low, high, problems)
    if problems:
        raise validation_failed(problems)
    return value


def parse_query_choice(query: Mapping[str, str], name: str, choices: Sequence[str]) -> str | None:
    """An optional enumerated query parameter (a filter); 422 for an unknown value."""
    value = query.get(name)
    if value is not None and value not in choices:
        raise validation_failed([Detail(name, "must be one of " + ", ".join(choices))])
    return value


def parse_pagination(query: Mapping[str, str]) -> tuple[int, int]:
    """`page` (>= 1, default 1) and `limit` (1-100, default 20); 422 otherwise."""
    problems: list[Detail] = []
    page = _query_int(query, "page", 1, 1, None, problems)
    limit = _query_int(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, problems)
    if problems:
        raise validation_failed(problems)
    return page, limit


def _query_int(
    query: Mapping[str, str],
    name: str,
    default: int,
    low: int,
    high: int | None,
    problems: list[Detail],
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    bound = f"between {low} and {high}" if high is not None else f">= {low}"
    if _DIGITS.fullmatch(raw) is None:
        problems.append(Detail(name, f"must be an integer {bound}"))
        return default
    value = int(raw)
    if value < low or (high is not None and value > high):
        problems.append(Detail(name, f"must be an integer {bound}"))
        return default
    return value


def parse_list_query(
    query: Mapping[str, str], statuses: Sequence[str] | None = None
) -> tuple[dict[str, str], int, int]:
    """A list's filters by column (`roomName`; `status` when `statuses` are given) and page."""
    status = None if statuses is None else parse_query_choice(query, "status", statuses)
    page, limit = parse_pagination(query)
    filters = {"status": status, "room_name": query.get("roomName")}
    return {column: value for column, value in filters.items() if value is not None}, page, limit
