"""`baxcloud dev` as a user runs it: real subprocesses, real ports, real signals."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from baxcloud import BaxCloud
from baxcloud._server._lock import LOCK_FILENAME
from baxcloud._server._serve import _base_url, exposure_warning
from baxcloud.testing import LocalServer

WAIT = 60.0  # hang guard only
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (what these tests are about)


class Dev:
    """`python -m baxcloud dev ARGS` in a subprocess; stderr goes to a file."""

    def __init__(self, tmp: pathlib.Path, *args: str) -> None:
        self.stderr_path = tmp / f"stderr-{id(self)}.txt"
        with self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "baxcloud", "dev", "--port", "0", *args],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.settings: dict[str, str] = {}
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            name, sep, value = line.strip().partition("=")
            if sep and name.startswith("BAXCLOUD_"):
                self.settings[name] = value
            if line.startswith("Press Ctrl+C"):
                self._ready.set()

    def wait_ready(self) -> Dev:
        if not self._ready.wait(WAIT):
            self.kill()
            pytest.fail(f"baxcloud dev did not start: {self.stderr()}")
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT)

    def client(self) -> BaxCloud:
        return BaxCloud(
            api_key=self.settings["BAXCLOUD_API_KEY"],
            base_url=self.settings["BAXCLOUD_BASE_URL"],
            max_retries=0,
        )


@pytest.fixture
def dev(tmp_path: pathlib.Path) -> Iterator[list[Dev]]:
    started: list[Dev] = []
    yield started
    for each in started:
        each.kill()


def start(dev: list[Dev], tmp: pathlib.Path, *args: str) -> Dev:
    process = Dev(tmp, *args)
    dev.append(process)
    return process


# ---- one server per data directory --------------------------------------------------------


def test_a_second_server_on_the_same_data_dir_exits_naming_the_dir_and_the_holder(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    data = tmp_path / "data"
    first = start(dev, tmp_path, "--data", str(data)).wait_ready()
    with first.client() as client:
        client.rooms.create(name="kept")

    second = start(dev, tmp_path, "--data", str(data))
    try:
        code = second.proc.wait(WAIT)
    except subprocess.TimeoutExpired:
        pytest.fail("a second server on the same data directory kept running")
    assert code != 0
    assert second.settings == {}  # it never served
    lines = second.stderr().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("baxcloud dev: error: ")
    assert str(data) in lines[0] and f"process {first.proc.pid}" in lines[0]
    assert first.settings["BAXCLOUD_API_KEY"] not in lines[0]
    assert (data / LOCK_FILENAME).read_text().strip() == str(first.proc.pid)

    # The first one was not disturbed.
    with first.client() as client:
        assert [room.name for room in client.rooms.list()] == ["kept"]

    # Killed outright, it leaves no stale lock: the next server starts on the same state.
    first.kill()
    third = start(dev, tmp_path, "--data", str(data)).wait_ready()
    assert third.settings["BAXCLOUD_API_KEY"] == first.settings["BAXCLOUD_API_KEY"]
    with third.client() as client:
        assert [room.name for room in client.rooms.list()] == ["kept"]
    assert (data / LOCK_FILENAME).read_text().strip() == str(third.proc.pid)


def test_servers_on_different_data_dirs_run_side_by_side(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    one = start(dev, tmp_path, "--data", str(tmp_path / "one"))
    two = start(dev, tmp_path, "--data", str(tmp_path / "two"))
    for each in (one.wait_ready(), two.wait_ready()):
        with each.client() as client:
            assert client.rooms.list().items == []


# ---- listening beyond loopback ------------------------------------------------------------


def test_listening_on_every_interface_warns_and_prints_a_base_url_that_works(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    server = start(dev, tmp_path, "--host", EVERY_INTERFACE).wait_ready()
    base_url = server.settings["BAXCLOUD_BASE_URL"]
    port = int(base_url.rsplit(":", 1)[1])
    assert base_url == f"http://127.0.0.1:{port}"
    with server.client() as client:
        client.rooms.create(name="reachable")
        assert [room.name for room in client.rooms.list()] == ["reachable"]
    err = server.stderr()
    assert err.startswith("baxcloud dev: warning: listening on 0.0.0.0 (every network interface)")
    assert "full access" in err and f"port {port}" in err and "BAXCLOUD_API_KEY" in err
    assert server.settings["BAXCLOUD_API_KEY"] not in err
    assert server.settings["BAXCLOUD_WEBHOOK_SECRET"] not in err


def test_loopback_serves_without_a_warning(tmp_path: pathlib.Path, dev: list[Dev]) -> None:
    server = start(dev, tmp_path).wait_ready()
    assert server.settings["BAXCLOUD_BASE_URL"].startswith("http://127.0.0.1:")
    assert httpx.get(server.settings["BAXCLOUD_BASE_URL"] + "/openapi.json").status_code == 200
    assert server.stderr() == ""


def test_which_hosts_warn_and_which_base_url_is_printed() -> None:
    assert _base_url(EVERY_INTERFACE, 7880) == "http://127.0.0.1:7880"
    assert _base_url("::", 7880) == "http://[::1]:7880"
    assert _base_url("192.168.1.5", 7880) == "http://192.168.1.5:7880"
    assert _base_url("::1", 7880) == "http://[::1]:7880"
    for loopback in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST."):
        assert exposure_warning(loopback, 7880) is None, loopback
    for exposed in (EVERY_INTERFACE, "::", "192.168.1.5", "10.0.0.1", "fd12::1"):
        warning = exposure_warning(exposed, 7880)
        assert warning is not None and "full access" in warning and "7880" in warning
    everywhere = exposure_warning("::", 1)
    assert everywhere is not None and "every network interface" in everywhere


def test_local_server_on_every_interface_hands_out_a_loopback_base_url() -> None:
    with LocalServer(host=EVERY_INTERFACE) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with server.client() as client:
            assert client.rooms.list().items == []
