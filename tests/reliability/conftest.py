"""Shared fixtures for the reliability suite (the guarantees listed in README's "Reliability")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from baxcloud._core import retry as _retry
from baxcloud.testing import LocalServer


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait ~ms instead of 0.5 s doubling (Retry-After hints are still honoured)."""
    monkeypatch.setattr(_retry, "INITIAL_DELAY", 0.002)
    monkeypatch.setattr(_retry, "MAX_DELAY", 0.05)


@pytest.fixture
def fault_server() -> Iterator[LocalServer]:
    """A server of its own whose faults a test may turn on (they start off)."""
    with LocalServer() as srv:
        yield srv
