"""Output of the resource commands: tables for people, JSON for scripts, a progress bar.

Standard library only (plus attrs, a core dependency), so the command line needs
nothing beyond the core install.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .spec import Column

__all__ = [
    "MASK",
    "ProgressBar",
    "print_json",
    "render_detail",
    "render_table",
    "table_data",
    "table_time",
    "to_data",
]

MASK = "****"
MAX_CELL = 48


def _iso(value: datetime) -> str:
    return value.isoformat()


def table_time(value: datetime) -> str:
    """ISO 8601 in UTC to the second, with its zone: `2026-05-04T09:30:00Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_data(obj: Any, *, datetime_format: Callable[[datetime], str] = _iso) -> Any:
    """A model as JSON-ready data: attrs classes become dicts with their snake_case
    field names, tuples become lists and datetimes ISO 8601 strings (UTC)."""
    import attrs

    if attrs.has(type(obj)):
        return {
            field.name: to_data(getattr(obj, field.name), datetime_format=datetime_format)
            for field in attrs.fields(type(obj))
        }
    if isinstance(obj, datetime):
        return datetime_format(obj)
    if isinstance(obj, list | tuple):
        return [to_data(item, datetime_format=datetime_format) for item in obj]
    if isinstance(obj, Mapping):
        return {str(k): to_data(v, datetime_format=datetime_format) for k, v in obj.items()}
    return obj


def table_data(obj: Any, shown_as: Mapping[str, Mapping[Any, str]] | None = None) -> Any:
    """A model as `to_data`, for people: times to the second, and the values
    named in `shown_as` (field -> {value: word}) as words (0 as `unlimited`, say)."""
    data = to_data(obj, datetime_format=table_time)
    for name, words in (shown_as or {}).items():
        value = data.get(name)
        if type(value) is int and value in words:
            data[name] = words[value]
    return data


def print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) if value else "-"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    # Server-supplied strings (metadata, names) must not drive the terminal.
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    if key.startswith("#"):
        return len(data.get(key[1:]) or ())
    for alternative in key.split("|"):
        value: Any = data
        for part in alternative.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            return value
    return None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "\u2026"


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], out: TextIO) -> None:
    """Rows (as from `table_data`) as aligned columns under a header line."""
    cells = [[h for h, _ in columns]]
    cells += [[_clip(_text(_lookup(row, key))) for _, key in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = prefix + key
        if isinstance(value, Mapping):
            rows += _flatten(value, name + ".")
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for index, item in enumerate(value):
                rows += _flatten(item, f"{name}[{index}].")
        else:
            rows.append((name, value))
    return rows


def render_detail(data: Mapping[str, Any], out: TextIO) -> None:
    """One object (as from `table_data`) as `field  value` lines; nested fields dotted."""
    rows = _flatten(data)
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        out.write(f"{name.ljust(width)}  {_text(value)}".rstrip() + "\n")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


class ProgressBar:
    """`progress(done, total)` callback drawing one self-overwriting line on a stream."""

    def __init__(
        self, out: TextIO, label: str, *, width: int = 30, min_interval: float = 0.1
    ) -> None:
        self._out = out
        self._label = label
        self._width = width
        self._min_interval = min_interval
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._last: tuple[int, int] | None = None
        self._last_drawn: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        self._last = (done, total)
        now = time.monotonic()
        if done < total and now - self._last_draw < self._min_interval:
            return
        self._last_draw = now
        self._draw(done, total, now)

    def _draw(self, done: int, total: int, now: float) -> None:
        fraction = 1.0 if total <= 0 else min(done / total, 1.0)
        filled = int(fraction * self._width)
        rate = done / max(now - self._started, 1e-6)
        bar = "#" * filled + "-" * (self._width - filled)
        self._out.write(
            f"\r{self._label} [{bar}] {fraction:6.1%} "
            f"{_size(done)} / {_size(total)} {_size(rate)}/s"
        )
        self._out.flush()
        self._last_drawn = (done, total)

    def finish(self) -> None:
        """Draw the final state (if not drawn yet) and end the line."""
        if self._last is not None and self._last != self._last_drawn:
            self._draw(*self._last, time.monotonic())
        if self._last_drawn is not None:
            self._out.write("\n")
            self._out.flush()
