"""The server's clock: wall time, or a manual clock that moves only when told."""

from __future__ import annotations

import math
import time

MANUAL_CLOCK_META = "manual_clock_now"  # a manual clock's reading, kept with `--data`


class Clock:
    """Unix seconds as a float. With `manual=True` time stands still until `advance`."""

    def __init__(self, *, manual: bool = False, start: float | None = None) -> None:
        self.manual = manual
        self._now = time.time() if start is None else float(start)
        self.start = self._now  # where `reset` puts a manual clock back

    def reset(self) -> float:
        """Put a manual clock back to its first reading; returns the reading."""
        if self.manual:
            self._now = self.start
        return self.now()

    def now(self) -> float:
        return self._now if self.manual else time.time()

    def advance(self, seconds: float) -> float:
        if not self.manual:
            raise RuntimeError("the clock is not manual")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        self._now += seconds
        return self._now


def whole_seconds(reading: float | None) -> int | None:
    """A clock reading as the API shows it (`startedAt`, `endedAt`): whole seconds, rounded down."""
    return None if reading is None else math.floor(reading)
