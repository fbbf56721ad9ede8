"""`LocalServer(data_dir=...)` holds its directory: a second server there fails clearly.

`tests/cli/test_dev_command.py` checks the same through `baxcloud dev` processes
(and that a SIGKILLed holder leaves no stale lock).
"""

from __future__ import annotations

import os
import pathlib

import pytest

from baxcloud import BaxCloudError
from baxcloud._server import DataDirectoryInUse, LocalBaxCloudApp, ServerConfig
from baxcloud._server._lock import LOCK_FILENAME
from baxcloud.testing import LocalServer


def test_a_second_local_server_on_the_same_dir_is_refused(tmp_path: pathlib.Path) -> None:
    with LocalServer(data_dir=tmp_path) as first:
        first.client().rooms.create(name="mine")
        second = LocalServer(data_dir=tmp_path)
        with pytest.raises(DataDirectoryInUse) as refused:
            second.start()
        assert isinstance(refused.value, BaxCloudError)
        assert refused.value.pid == os.getpid()
        assert refused.value.data_dir == tmp_path
        message = str(refused.value)
        assert str(tmp_path) in message and f"process {os.getpid()}" in message
        assert "\n" not in message and first.api_key not in message
        # The app itself (what `baxcloud dev` runs) is refused the same way.
        with pytest.raises(DataDirectoryInUse):
            LocalBaxCloudApp(ServerConfig(data_dir=tmp_path))
        assert [room.name for room in first.client().rooms.list()] == ["mine"]
        assert (tmp_path / LOCK_FILENAME).read_text().strip() == str(os.getpid())
    # Stopped: the directory is free again, with its state.
    with LocalServer(data_dir=tmp_path) as again:
        assert [room.name for room in again.client().rooms.list()] == ["mine"]


def test_a_relative_dir_is_named_in_full(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with LocalServer(data_dir="state"), pytest.raises(DataDirectoryInUse) as refused:
        LocalServer(data_dir="state").start()
    assert f"data directory {tmp_path / 'state'} is in use" in str(refused.value)


def test_a_failed_start_releases_the_dir(tmp_path: pathlib.Path) -> None:
    with pytest.raises(BaxCloudError, match="secret key"):
        LocalServer(data_dir=tmp_path, api_key="bax_pk_abcdefghijkl_" + "a" * 48).start()
    with LocalServer(data_dir=tmp_path) as server:
        assert server.client().rooms.list().items == []


def test_a_lock_file_left_by_a_dead_server_does_not_block(tmp_path: pathlib.Path) -> None:
    (tmp_path / LOCK_FILENAME).write_text("2147483646\n")  # a pid, but nobody holds the lock
    with LocalServer(data_dir=tmp_path) as server:
        assert server.client().rooms.list().items == []
        assert (tmp_path / LOCK_FILENAME).read_text().strip() == str(os.getpid())
