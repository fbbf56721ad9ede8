"""Durability: `baxcloud dev --data DIR`, SIGKILLed mid-burst, loses no acknowledged write."""

from __future__ import annotations

import concurrent.futures
import pathlib
import sqlite3
import threading

import pytest
from cli.dev_process import Dev

from baxcloud import BaxCloud, BaxCloudError
from baxcloud._server import generate_api_key
from baxcloud._server._storage import DB_FILENAME


def dev_server(data: pathlib.Path, api_key: str) -> Dev:
    """`baxcloud dev --data DATA` on a free port, serving."""
    return Dev(data, "--data", str(data), "--api-key", api_key).wait_ready()


@pytest.fixture
def api_key() -> str:
    return generate_api_key()


def burst_then_kill(
    data: pathlib.Path, api_key: str, kill_after: int, threads: int, prefix: str = "durable"
) -> set[str]:
    server = dev_server(data, api_key)
    acked: set[str] = set()
    lock = threading.Lock()
    enough = threading.Event()
    try:
        with BaxCloud(
            api_key=api_key, base_url=server.settings["BAXCLOUD_BASE_URL"], max_retries=0
        ) as client:

            def writer(t: int) -> None:
                i = 0
                while True:
                    name = f"{prefix}-{t}-{i}"
                    i += 1
                    try:
                        client.rooms.create(name=name, metadata="x" * 200)
                    except BaxCloudError:
                        return  # the server is gone
                    with lock:
                        acked.add(name)
                        if len(acked) >= kill_after:
                            enough.set()

            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                futures = [pool.submit(writer, t) for t in range(threads)]
                if not enough.wait(60):
                    pytest.fail("the burst never reached its size")
                server.kill()  # SIGKILL while writes are in flight
                for future in futures:
                    future.result(timeout=60)
    finally:
        server.kill()
    return acked


def check_after_restart(data: pathlib.Path, api_key: str, acked: set[str]) -> None:
    db = sqlite3.connect(data / DB_FILENAME)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    server = dev_server(data, api_key)  # same DIR: same credentials, same state
    try:
        with BaxCloud(api_key=api_key, base_url=server.settings["BAXCLOUD_BASE_URL"]) as client:
            stored = {room.name for room in client.rooms.list(limit=100)}
    finally:
        server.kill()
    assert acked <= stored, sorted(acked - stored)[:10]


def test_acknowledged_writes_survive_sigkill(tmp_path: pathlib.Path, api_key: str) -> None:
    acked = burst_then_kill(tmp_path, api_key, kill_after=150, threads=8)
    assert len(acked) >= 150
    check_after_restart(tmp_path, api_key, acked)


@pytest.mark.slow
def test_soak_repeated_sigkills(tmp_path: pathlib.Path, api_key: str) -> None:
    everything: set[str] = set()
    for round_ in range(10):
        acked = burst_then_kill(tmp_path, api_key, 500, 16, prefix=f"round{round_}")
        everything |= acked
        check_after_restart(tmp_path, api_key, everything)
