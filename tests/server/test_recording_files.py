"""Simulated recording files: the size cap, and writing them off the event loop."""

from __future__ import annotations

import pathlib
import struct
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from helpers import WAIT, asgi_client, wait_until

from baxcloud import BaxCloud
from baxcloud._cli.main import main as cli_main
from baxcloud._server import LocalBaxCloudApp, ServerConfig, _files
from baxcloud._server.handlers import simulation
from baxcloud._server.state import recordings
from baxcloud.testing import LocalServer

T0 = 1_764_460_800.0
BPS = 1000
CAP = 100_000
MIB = 1024 * 1024


def make_app(**overrides: Any) -> LocalBaxCloudApp:
    config: dict[str, Any] = {
        "manual_clock": True,
        "start_time": T0,
        "egress_start_delay": 1.0,
        "egress_stop_delay": 2.0,
        "recording_bytes_per_second": BPS,
        "recording_max_bytes": CAP,
        **overrides,
    }
    return LocalBaxCloudApp(ServerConfig(**config))


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def advance(client: httpx.AsyncClient, seconds: float) -> None:
    await ok(await client.post("/_dev/clock/advance", json={"seconds": seconds}))


async def record(client: httpx.AsyncClient, file_type: str = "MP4", **body: Any) -> Any:
    """A week-long room and a recording of it (or an egress, given `mode`)."""
    await ok(await client.post("/v1/rooms", json={"name": "r", "emptyTimeout": 604800}), 201)
    if "mode" in body:
        return await ok(await client.post("/v1/egress", json={"roomName": "r", **body}), 201)
    payload = {"roomName": "r", "fileType": file_type}
    return await ok(await client.post("/v1/recordings", json=payload), 201)


async def download(client: httpx.AsyncClient, recording_id: str, **headers: str) -> bytes:
    body = await ok(await client.get(f"/v1/recordings/{recording_id}/download-url"))
    response = await client.get(body["downloadUrl"], headers=headers)
    assert response.status_code in (200, 206), response.text
    return response.content


def mp4_duration(header: bytes) -> float:
    """The duration in mvhd (version 0) of a file this server wrote."""
    at = header.index(b"mvhd") + 4
    version = header[at]
    assert version == 0
    timescale, ticks = struct.unpack(">II", header[at + 12 : at + 20])
    return float(ticks / timescale)


def reference_file(tmp: pathlib.Path, recording: dict[str, Any], bps: int) -> bytes:
    """The file the API's own numbers describe, written independently of the server."""
    duration_ms = round(recording["durationSeconds"] * 1000)
    path = tmp / "reference"
    _files.write_recording(
        path,
        recording["fileType"],
        duration=recording["durationSeconds"],
        payload_bytes=duration_ms * bps // 1000,
        created_at=recording["startedAt"],
        seed=recording["id"],
    )
    return path.read_bytes()


# ---- the setting ----------------------------------------------------------------------


def test_recording_max_bytes_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ServerConfig().recording_max_bytes == 64 * MIB
    assert ServerConfig(recording_max_bytes=4096).recording_max_bytes == 4096
    cases: list[tuple[Any, type[Exception]]] = [
        (4095, ValueError),
        (0, ValueError),
        (-1, ValueError),
        (True, TypeError),
        (1e6, TypeError),
        ("1000000", TypeError),
    ]
    for bad, error in cases:
        with pytest.raises(error, match="recording_max_bytes"):
            ServerConfig(recording_max_bytes=bad)
    assert LocalServer()._config.recording_max_bytes == 64 * MIB
    assert LocalServer(recording_max_bytes=5000)._config.recording_max_bytes == 5000

    import baxcloud._server as server_pkg

    seen: list[ServerConfig] = []
    monkeypatch.setattr(server_pkg, "serve", lambda config, **kwargs: seen.append(config))
    assert cli_main(["dev"]) == 0
    assert cli_main(["dev", "--recording-max-bytes", "1048576"]) == 0
    assert [config.recording_max_bytes for config in seen] == [64 * MIB, MIB]
    assert cli_main(["dev", "--recording-max-bytes", "12"]) == 2
    assert "recording_max_bytes" in capsys.readouterr().err


def test_container_size_is_exact_and_the_limit_is_the_last_fitting_millisecond(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "f"
    for file_type in _files.FILE_TYPES:
        for payload in (0, 1, 254, 255, 65024, 65025, 65026, 2 * 65025, 2 * 65025 + 7):
            for duration in (0.0, 1.5, 6e6):  # 6e6 s: MP4 needs 64-bit ticks
                written = _files.write_recording(
                    path,
                    file_type,
                    duration=duration,
                    payload_bytes=payload,
                    created_at=T0,
                    seed="s",
                )
                assert written == path.stat().st_size
                size = _files.container_size(
                    file_type, duration=duration, payload_bytes=payload, created_at=T0
                )
                assert size == written, (file_type, payload, duration)

        def size_at(duration_ms: int, file_type: str = file_type) -> int:
            return _files.container_size(
                file_type,
                duration=duration_ms / 1000,
                payload_bytes=_files.payload_for(duration_ms, BPS),
                created_at=T0,
            )

        limit = _files.max_duration_ms(
            file_type, max_bytes=CAP, bytes_per_second=BPS, created_at=T0
        )
        assert limit is not None
        assert size_at(limit) <= CAP < size_at(limit + 1)
    assert _files.max_duration_ms("MP4", max_bytes=CAP, bytes_per_second=0, created_at=T0) is None


# ---- the cap, over HTTP ---------------------------------------------------------------


@pytest.mark.parametrize("file_type", _files.FILE_TYPES)
async def test_a_recording_stops_by_itself_when_its_file_reaches_the_cap(
    file_type: str, tmp_path: pathlib.Path
) -> None:
    app = make_app()
    try:
        async with asgi_client(app, app.api_key) as client:
            rec = await record(client, file_type)
            await advance(client, 1)  # active at T0 + 1
            await advance(client, 10_000)  # far past the cap (~100 s of 1000 B/s)
            done = await ok(await client.get(f"/v1/recordings/{rec['id']}"))
            limit = _files.max_duration_ms(
                file_type, max_bytes=CAP, bytes_per_second=BPS, created_at=T0 + 1
            )
            assert limit is not None
            assert done["status"] == "completed"
            assert done["durationSeconds"] == limit / 1000
            assert CAP - 1000 < done["sizeBytes"] <= CAP
            served = await download(client, rec["id"])
            assert len(served) == done["sizeBytes"]
            assert app.media.files.path(done["filename"]).stat().st_size == done["sizeBytes"]
            assert served == reference_file(tmp_path, done, BPS)
            if file_type == "MP4":
                assert mp4_duration(served[:200]) == done["durationSeconds"]

            egress = await ok(await client.get(f"/v1/egress/{rec['egressId']}"))
            assert egress["status"] == "completed"
            assert egress["error"] is None
            assert egress["endedAt"] == int(T0 + 1 + limit / 1000)
            assert done["endedAt"] == egress["endedAt"]
            stop = await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]})
            assert stop.status_code == 409
            events = (await ok(await client.get("/_dev/events")))["items"]
            completed = [e for e in events if e["event"] == "recording.completed"]
            assert [(e["data"]["sizeBytes"], e["data"]["durationSeconds"]) for e in completed] == [
                (done["sizeBytes"], done["durationSeconds"])
            ]
            assert completed[0]["createdAt"] == int(T0 + 1 + limit / 1000 + 2)  # + stop delay
    finally:
        app.close()


async def test_a_recording_and_stream_egress_ends_at_the_cap() -> None:
    app = make_app()
    try:
        async with asgi_client(app, app.api_key) as client:
            body: dict[str, Any] = {"mode": "both", "file": {"fileType": "MP4"}}
            body["stream"] = {"urls": ["rtmp://a.rtmp.youtube.com/live2/KEY"]}
            egress = await record(client, **body)
            await advance(client, 1)
            await advance(client, 1000)
            done = await ok(await client.get(f"/v1/egress/{egress['id']}"))
            assert done["status"] == "completed"
            assert [d["status"] for d in done["stream"]["destinations"]] == ["finished"]
            recording = await ok(await client.get(f"/v1/recordings/{egress['recordingId']}"))
            assert recording["status"] == "completed"
            assert recording["sizeBytes"] <= CAP
            names = [e["event"] for e in (await ok(await client.get("/_dev/events")))["items"]]
            streams = [n for n in names if n.startswith("stream.")]
            assert streams == ["stream.started", "stream.updated", "stream.completed"]
    finally:
        app.close()


async def test_a_recording_stopped_before_the_cap_keeps_its_length() -> None:
    app = make_app()
    try:
        async with asgi_client(app, app.api_key) as client:
            rec = await record(client)
            await advance(client, 1)
            await advance(client, 60)
            await ok(await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]}))
            await advance(client, 10_000)
            done = await ok(await client.get(f"/v1/recordings/{rec['id']}"))
            assert (done["status"], done["durationSeconds"]) == ("completed", 60)
            assert done["sizeBytes"] == _files.container_size(
                "MP4", duration=60, payload_bytes=60 * BPS, created_at=T0 + 1
            )
    finally:
        app.close()


async def test_the_largest_clock_jump_writes_at_most_the_cap(tmp_path: pathlib.Path) -> None:
    """Default settings (64 KiB/s, 64 MiB cap) and a ten-year jump: one bounded file."""
    app = LocalBaxCloudApp(ServerConfig(manual_clock=True, start_time=T0, data_dir=tmp_path))
    cap = app.config.recording_max_bytes
    try:
        async with asgi_client(app, app.api_key) as client:
            rec = await record(client)
            tracemalloc.start()
            try:
                with anyio.fail_after(WAIT * 5):  # a hang guard, not a speed check
                    await advance(client, simulation.MAX_ADVANCE_SECONDS)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            done = await ok(await client.get(f"/v1/recordings/{rec['id']}"))
            assert done["status"] == "completed"
            assert cap - 65536 < done["sizeBytes"] <= cap
            header = await download(client, rec["id"], Range="bytes=0-199")
            assert len(header) == 200
            assert mp4_duration(header) == done["durationSeconds"]
            assert done["durationSeconds"] * 65536 <= cap
    finally:
        app.close()
    files = list((tmp_path / "recordings").iterdir())
    assert [f.name for f in files] == [done["filename"]]
    assert files[0].stat().st_size == done["sizeBytes"]
    assert peak < 16 * MIB, peak  # the file is written in chunks, never held whole


async def test_a_file_that_cannot_be_written_fails_the_recording(tmp_path: pathlib.Path) -> None:
    (tmp_path / "recordings").write_text("not a directory")
    app = make_app(data_dir=tmp_path)
    try:
        async with asgi_client(app, app.api_key) as client:
            rec = await record(client)
            await advance(client, 1)
            await ok(await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]}))
            await advance(client, 5)
            failed = await ok(await client.get(f"/v1/recordings/{rec['id']}"))
            assert (failed["status"], failed["error"]) == (
                "failed",
                "the recording file could not be written",
            )
            assert failed["sizeBytes"] is None
    finally:
        app.close()


async def test_a_written_file_nobody_claims_is_deleted() -> None:
    """A file finished after its recording failed meanwhile does not linger."""
    app = make_app()
    try:
        async with asgi_client(app, app.api_key) as client:
            rec = await record(client)
            await advance(client, 1)
            await advance(client, 5)
            await ok(await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]}))
            row = recordings.require_recording(app._storage.db, rec["id"])
            spec = recordings.recording_file(app.media, row)  # what completion would write
            fail = {"egressId": rec["egressId"], "error": "encoder crashed"}
            await ok(await client.post("/_dev/fail-egress", json=fail))
            app.media.files.put_result(spec, app.media.files.write(spec))
            path = app.media.files.path(spec.filename)
            assert path.exists()
            await ok(await client.get("/v1/rooms"))  # any request sweeps
            assert not path.exists()
            assert app.media.files.unclaimed() == []
    finally:
        app.close()


# ---- writing off the event loop -------------------------------------------------------


class GatedWrites:
    """Wraps `_files.write_recording` so that a write waits until the test releases it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.threads: list[str] = []
        real: Callable[..., int] = _files.write_recording

        def gated(*args: Any, **kwargs: Any) -> int:
            self.threads.append(threading.current_thread().name)
            self.started.set()
            assert self.release.wait(WAIT), "the test never released the write"
            return real(*args, **kwargs)

        monkeypatch.setattr(_files, "write_recording", gated)


def test_requests_are_answered_while_a_clock_jump_writes_a_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = GatedWrites(monkeypatch)
    with (
        LocalServer(manual_clock=True, recording_max_bytes=MIB) as server,  # ~16 s at 64 KiB/s
        server.client(max_retries=0, timeout=20) as client,
    ):
        client.rooms.create(name="jump", empty_timeout=604800)
        recording = client.recordings.start(room_name="jump")
        jumped: list[float] = []
        jump = threading.Thread(target=lambda: jumped.append(server.advance_clock(3600)))
        other: list[str] = []

        def create_room_meanwhile() -> None:
            with server.client(max_retries=0, timeout=WAIT) as late:
                other.append(late.rooms.create(name="meanwhile").name)

        change = threading.Thread(target=create_room_meanwhile)
        try:
            jump.start()
            assert gate.started.wait(WAIT), "the jump never started writing the file"
            # The file is being written (and cannot finish): reads are still answered.
            assert [room.name for room in client.rooms.list()] == ["jump"]
            assert client.recordings.get(recording.id).status == "ending"
            assert jump.is_alive()  # ... before the jump itself has answered
            change.start()
        finally:
            gate.release.set()
        jump.join(WAIT)
        change.join(WAIT)
        assert not jump.is_alive() and not change.is_alive()
        assert jumped and other == ["meanwhile"]
        assert "baxcloud-local-server" not in gate.threads  # not on the event loop's thread
        done = client.recordings.get(recording.id)
        assert done.status == "completed"
        assert done.size_bytes == len(download_all(client, recording.id))
        # A change made during the jump comes after the jump's own history.
        events = server.events()
        stamps = [event["createdAt"] for event in events]
        assert stamps == sorted(stamps)
        names = [event["event"] for event in events]
        assert names.index("recording.completed") < len(names) - 1
        assert names[-1] == "room.started"


def download_all(client: BaxCloud, recording_id: str) -> bytes:
    url = client.recordings.get_download_url(recording_id).download_url
    with httpx.Client() as plain:
        response = plain.get(url)
    assert response.status_code == 200
    return response.content


def test_a_background_sweep_writes_files_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real clock: the background sweep completes a recording without any request."""
    gate = GatedWrites(monkeypatch)
    with (
        LocalServer(
            egress_start_delay=0, egress_stop_delay=0.2, recording_bytes_per_second=BPS
        ) as server,
        server.client(max_retries=0, timeout=20) as client,
    ):
        client.rooms.create(name="bg")
        recording = client.recordings.start(room_name="bg")
        wait_until(lambda: client.recordings.get(recording.id).status == "active", "active")
        client.recordings.stop(recording.egress_id)  # completes 0.2 s later, unasked
        try:
            assert gate.started.wait(WAIT)
            assert client.rooms.get("bg").name == "bg"  # answered while the file is written
        finally:
            gate.release.set()
        wait_until(lambda: client.recordings.get(recording.id).status == "completed", "completed")
        assert "baxcloud-local-server" not in gate.threads
