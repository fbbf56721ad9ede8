from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from cli.dev_process import Dev, Receiver


@pytest.fixture
def dev(tmp_path: pathlib.Path) -> Iterator[list[Dev]]:
    """The `baxcloud dev` processes a test starts (see `dev_process.start`); killed after."""
    started: list[Dev] = []
    yield started
    for each in started:
        each.kill()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    """The webhook receivers a test opens; closed after."""
    opened: list[Receiver] = []
    yield opened
    for each in opened:
        each.close()
