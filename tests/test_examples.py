"""The examples/ programs, run for real against a local server (no mocks).

The web apps are served over HTTP on loopback (uvicorn for FastAPI, werkzeug for Flask)
so that the local server delivers its signed webhooks to them like BaxCloud would; the
download script runs as a subprocess, the way a user runs it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from helpers import WAIT, serve_asgi, wait_until
from werkzeug.serving import make_server

from baxcloud import BaxCloud, BaxCloudError, Recording
from baxcloud.testing import LocalServer
from baxcloud.webhooks import sign

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def load_example(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import examples/<name>.py by path (the environment must be set first)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # removed again after the test
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A local server on a manual clock, with BAXCLOUD_* pointing at it."""
    with LocalServer(manual_clock=True, egress_start_delay=1, egress_stop_delay=1) as server:
        assert server.webhook_secret is not None
        monkeypatch.setenv("BAXCLOUD_API_KEY", server.api_key)
        monkeypatch.setenv("BAXCLOUD_BASE_URL", server.base_url)
        monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", server.webhook_secret)
        yield server


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI app with werkzeug (threaded) on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="example-flask", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(WAIT)
        server.server_close()


def other_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def complete_recording(server: LocalServer, client: BaxCloud, room: str, seconds: int) -> Recording:
    """Record `room` for `seconds` of server time and return the completed recording."""
    recording = client.recordings.start(room_name=room)
    server.advance_clock(1)  # starting -> active
    server.advance_clock(seconds)
    client.recordings.stop(recording.egress_id)
    server.advance_clock(1)  # ending -> completed
    done = wait_until(
        lambda: (r := client.recordings.get(recording.id)).status == "completed" and r,
        f"recording {recording.id} to complete",
    )
    assert isinstance(done, Recording) and done.size_bytes
    return done


def exercise_receiver(
    server: LocalServer, base_url: str, error_of: Callable[[httpx.Response], Any]
) -> None:
    """The same scenario for both web apps: join through the app, then check its webhooks."""
    room = "example-standup"
    endpoint = server.add_webhook_endpoint(f"{base_url}/webhooks/baxcloud")
    assert endpoint["enabled"] is True

    with server.client() as client, httpx.Client(base_url=base_url, timeout=WAIT) as http:
        # The join endpoint creates the room, then finds it already there.
        answer = http.post(f"/rooms/{room}/join", json={"identity": "ann", "name": "Ann"})
        assert answer.status_code == 200, answer.text
        ann = answer.json()
        assert set(ann) == {"token", "room", "identity", "expiresAt"}
        assert (ann["room"], ann["identity"]) == (room, "ann")
        assert client.rooms.get(room).max_participants == 50
        answer = http.post(f"/rooms/{room}/join", json={"identity": "bob"})
        assert answer.status_code == 200, answer.text
        bob = answer.json()
        assert http.post(f"/rooms/{room}/join", json={"name": "no identity"}).status_code == 422
        assert http.post(f"/rooms/{room}/join", json={"identity": ""}).status_code == 422

        # The tokens are real: signed with the API key, for this room, with the app's grants.
        claims = client.tokens.verify(ann["token"])
        assert (claims.identity, claims.name, claims.room_name) == ("ann", "Ann", room)
        assert claims.expires_at == datetime.fromisoformat(ann["expiresAt"])
        assert (claims.expires_at - claims.not_before).total_seconds() == 2 * 60 * 60
        grants = claims.grants
        assert (grants.can_publish, grants.can_subscribe, grants.can_publish_data) == (
            True,
            True,
            True,
        )
        assert grants.can_update_own_metadata is False
        assert client.tokens.verify(bob["token"]).identity == "bob"

        # What the client apps and the room do: BaxCloud sends the webhooks.
        assert server.join(ann["token"]).identity == "ann"
        assert server.join(bob["token"]).identity == "bob"
        recording = complete_recording(server, client, room, seconds=3)
        server.leave(room, "ann")

        def received() -> list[dict[str, Any]]:
            events: list[dict[str, Any]] = http.get("/events").json()["events"]
            return events

        def saw_everything() -> bool:
            names = [(e["event"], e.get("identity")) for e in received()]
            return (
                ("participant.joined", "ann") in names
                and ("participant.joined", "bob") in names
                and ("participant.left", "ann") in names
                and ("recording.completed", None) in names
                and server.pending_webhook_deliveries() == 0
            )

        wait_until(saw_everything, "the webhooks at the example app")
        events = received()
        recorded = server.events()

        # Each event the server recorded was received, verified, typed and kept once.
        assert [e["id"] for e in events] == [e["id"] for e in recorded]
        assert [e["event"] for e in events] == [e["event"] for e in recorded]
        deliveries = [d for d in server.webhook_deliveries() if d["endpointId"] == endpoint["id"]]
        assert deliveries and all(d["outcome"] == "delivered" for d in deliveries)
        by_kind = {(e["event"], e.get("identity")): e for e in events}
        joined = by_kind["participant.joined", "ann"]
        assert (joined["type"], joined["room"], joined["name"]) == (
            "ParticipantJoinedEvent",
            room,
            "Ann",
        )
        assert by_kind["participant.joined", "bob"]["type"] == "ParticipantJoinedEvent"
        left = by_kind["participant.left", "ann"]
        assert (left["type"], left["room"], left["reason"]) == (
            "ParticipantLeftEvent",
            room,
            "disconnected",
        )
        completed = by_kind["recording.completed", None]
        assert completed["type"] == "RecordingCompletedEvent"
        assert (completed["recordingId"], completed["filename"], completed["sizeBytes"]) == (
            recording.id,
            recording.filename,
            recording.size_bytes,
        )
        assert completed["durationSeconds"] == recording.duration_seconds == 3.0
        assert by_kind["room.started", None]["type"] == "RoomStartedEvent"

        # A redelivery of an event already handled is acknowledged and ignored.
        secret = server.webhook_secret
        assert secret is not None
        raw_join = next(e for e in recorded if e["event"] == "participant.joined")
        replay = json.dumps(raw_join).encode()
        answer = http.post("/webhooks/baxcloud", content=replay, headers=sign(replay, secret))
        assert answer.status_code == 204
        # A new event, even one this SDK does not know, is accepted and kept.
        unknown = json.dumps(
            {"id": "evt_example_new", "event": "room.renamed", "createdAt": 0, "data": {}}
        ).encode()
        answer = http.post("/webhooks/baxcloud", content=unknown, headers=sign(unknown, secret))
        assert answer.status_code == 204

        # Forged, tampered and unsigned deliveries are refused with 400.
        forged = http.post(
            "/webhooks/baxcloud", content=unknown, headers=sign(unknown, other_secret())
        )
        tampered = http.post(
            "/webhooks/baxcloud",
            content=unknown.replace(b"room.renamed", b"room.started"),
            headers=sign(unknown, secret),
        )
        unsigned = http.post("/webhooks/baxcloud", content=unknown)
        for refused in (forged, tampered, unsigned):
            assert refused.status_code == 400, refused.text
            assert error_of(refused) == "webhook_verification_failed"

        after = http.get("/events").json()
        assert [e["id"] for e in after["events"]] == [e["id"] for e in events] + ["evt_example_new"]
        assert after["events"][-1]["type"] == "UnknownWebhookEvent"
        assert after["duplicates"] == 1


def test_fastapi_app(local: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_example("fastapi_app", monkeypatch)
    with serve_asgi(module.app, lifespan="on") as base_url:
        client = module.app.state.baxcloud  # created by the app's lifespan
        exercise_receiver(local, base_url, lambda r: r.json()["detail"]["error"])
    # ... and closed at shutdown.
    with pytest.raises(BaxCloudError, match="closed"):
        asyncio.run(client.rooms.get("example-standup"))


async def test_fastapi_app_refuses_to_start_without_a_webhook_secret(
    local: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("fastapi_app", monkeypatch)
    monkeypatch.delenv("BAXCLOUD_WEBHOOK_SECRET")
    with pytest.raises(RuntimeError, match="BAXCLOUD_WEBHOOK_SECRET"):
        async with module.lifespan(module.app):
            pass


def test_flask_app(local: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_example("flask_app", monkeypatch)
    app = module.create_app()
    try:
        with serve_wsgi(app) as base_url:
            exercise_receiver(local, base_url, lambda r: r.json()["error"])
    finally:
        app.extensions["baxcloud"].close()


def test_flask_app_refuses_to_start_without_a_webhook_secret(
    local: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("flask_app", monkeypatch)
    monkeypatch.delenv("BAXCLOUD_WEBHOOK_SECRET")
    with pytest.raises(RuntimeError, match="BAXCLOUD_WEBHOOK_SECRET"):
        module.create_app()


# ---- download_all.py ------------------------------------------------------------------


def run_download_all(
    server: LocalServer, destination: Path, *, api_key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAXCLOUD_")}
    env["BAXCLOUD_API_KEY"] = api_key or server.api_key
    env["BAXCLOUD_BASE_URL"] = server.base_url
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "download_all.py"), str(destination), "--concurrency", "2"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def three_recordings(local: LocalServer) -> Iterator[tuple[LocalServer, BaxCloud, list[Recording]]]:
    with local.client() as client:
        recordings = []
        for index, seconds in enumerate((2, 3, 5)):
            room = f"download-{index}"
            client.rooms.create(name=room)
            recordings.append(complete_recording(local, client, room, seconds))
        # One that is still running: not downloaded.
        client.rooms.create(name="download-live")
        client.recordings.start(room_name="download-live")
        yield local, client, recordings


def test_download_all(
    three_recordings: tuple[LocalServer, BaxCloud, list[Recording]], tmp_path: Path
) -> None:
    server, client, recordings = three_recordings
    destination = tmp_path / "recordings"

    first = run_download_all(server, destination)
    assert first.returncode == 0, first.stderr
    files = sorted(p.name for p in destination.iterdir())
    assert files == sorted(str(r.filename) for r in recordings)
    for recording in recordings:
        path = destination / str(recording.filename)
        assert path.stat().st_size == recording.size_bytes
        direct = client.recordings.download(recording.id, tmp_path / f"direct-{recording.id}")
        assert path.read_bytes() == direct.read_bytes()
        assert f"done {recording.filename}" in first.stderr
    assert "100% of" in first.stderr
    assert "overall 3/3 files, 100%" in first.stderr
    assert "3 downloaded, 0 skipped, 0 failed" in first.stdout
    assert server.api_key not in first.stdout + first.stderr

    written = {p.name: p.stat().st_mtime_ns for p in destination.iterdir()}
    again = run_download_all(server, destination)
    assert again.returncode == 0, again.stderr
    assert "0 downloaded, 3 skipped, 0 failed" in again.stdout
    assert again.stderr.count("already downloaded") == 3
    assert "done " not in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in destination.iterdir()} == written


def test_download_all_exits_non_zero_when_a_download_fails(
    three_recordings: tuple[LocalServer, BaxCloud, list[Recording]], tmp_path: Path
) -> None:
    server, _, recordings = three_recordings
    destination = tmp_path / "recordings"
    broken = recordings[1]
    # A directory where the download's .part file must go: writing it fails.
    blocker = destination / f"{broken.filename}.part"
    blocker.mkdir(parents=True)

    result = run_download_all(server, destination)
    assert result.returncode == 1
    assert "2 downloaded, 0 skipped, 1 failed" in result.stdout
    assert f"failed: {broken.id}" in result.stdout
    assert f"FAILED {broken.filename}" in result.stderr
    for recording in recordings:
        assert (destination / str(recording.filename)).is_file() == (recording is not broken)

    blocker.rmdir()
    retry = run_download_all(server, destination)
    assert retry.returncode == 0, retry.stderr
    assert "1 downloaded, 2 skipped, 0 failed" in retry.stdout
    assert (destination / str(broken.filename)).stat().st_size == broken.size_bytes


def test_download_all_exits_2_when_it_cannot_list(local: LocalServer, tmp_path: Path) -> None:
    prefix, _, secret = local.api_key.rpartition("_")
    wrong_key = f"{prefix}_{'x' * len(secret)}"
    result = run_download_all(local, tmp_path / "recordings", api_key=wrong_key)
    assert result.returncode == 2
    assert "cannot list recordings: AuthenticationError" in result.stderr
    assert wrong_key not in result.stdout + result.stderr
