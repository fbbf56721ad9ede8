"""`baxcloud demo`: the Node SDK's quick start, step by step, on a local server.

On a server that is already running (BAXCLOUD_BASE_URL) the tour works whatever was
done there before: its room has a name of its own, server-wide settings that would
change its outcome (auto-stream, injected faults) are off while it runs and put
back afterwards, a manual clock is moved along, and its webhook endpoint is
disabled at the end (the receiver answers 410 Gone to its last event).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .._core.errors import BaxCloudError, ConflictError, NotFoundError
from .._sync.client import BaxCloud
from ..testing import LocalServer
from .output import table_time

T = TypeVar("T")
WAIT_SECONDS = 15.0


class _TourFailed(BaxCloudError):
    pass


def _step(number: int, text: str) -> None:
    print(f"\n[{number}] {text}")


def run_demo() -> int:
    if os.environ.get("BAXCLOUD_BASE_URL"):
        server = LocalServer.connect()
        print(f"Using the BaxCloud server at {server.base_url}")
    else:
        server = LocalServer().start()
        print(f"Started an embedded local BaxCloud server at {server.base_url}")
    try:
        with server.client() as client, _Settings(server, client) as settings:
            _tour(server, client, settings)
    except BaxCloudError as exc:
        print(f"\nFAILED: {exc}")
        return 1
    finally:
        server.stop()
    print("\nDone: every step succeeded.")
    return 0


class _Settings:
    """The server-wide state the tour depends on: neutral while it runs, then put back."""

    def __init__(self, server: LocalServer, client: BaxCloud) -> None:
        self._server, self._client = server, client
        self._faults: dict[str, Any] | None = None
        self._auto_stream: tuple[bool, int] | None = None
        self._put_back: list[str] = []
        self.manual_clock = False

    def __enter__(self) -> _Settings:
        faults = self._server.faults()
        if faults["rate"] > 0:
            self._faults = faults
            self._server.set_faults()
            self._put_back.append("fault injection")
            print(f"This server injects faults (rate {faults['rate']:g}): off during the tour.")
        config = self._client.egress.get_auto_stream_config()
        self._auto_stream = (config.enabled, config.min_participants)
        if config.enabled:
            self._client.egress.update_auto_stream_config(enabled=False)
            self._put_back.append("auto-stream")
            print("This server has auto-stream on: off during the tour.")
        try:
            self._server.advance_clock(0)
            self.manual_clock = True
            print("This server runs on a manual clock: the tour moves it along.")
        except ConflictError:  # 409 clock_not_manual: a real clock
            pass
        return self

    def __exit__(self, *exc: object) -> None:
        if self._auto_stream is not None:  # the tour changes it (step 10)
            enabled, min_participants = self._auto_stream
            self._client.egress.update_auto_stream_config(
                enabled=enabled, min_participants=min_participants
            )
        if self._faults is not None:
            self._server.set_faults(
                rate=self._faults["rate"],
                kinds=self._faults["kinds"],
                seed=self._faults["seed"],
                slow_seconds=self._faults["slowSeconds"],
            )
        if self._put_back:
            print(f"\nPut back this server's {' and '.join(self._put_back)}.")

    def pause(self, seconds: float) -> None:
        """Let `seconds` of server time pass."""
        if self.manual_clock:
            self._server.advance_clock(seconds)
        else:
            time.sleep(seconds)

    def wait(self, fetch: Callable[[], T], status: str) -> T:
        """Poll until the resource reaches `status` (lifecycles take a moment)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            current = fetch()
            found = getattr(current, "status", None)
            if found == status:
                return current
            if time.monotonic() > deadline:
                raise _TourFailed(f"still {found} after {WAIT_SECONDS:g} s, not {status}")
            self.pause(0.1)


def _tour(server: LocalServer, client: BaxCloud, settings: _Settings) -> None:
    room_name = f"team-standup-{secrets.token_hex(3)}"  # never one left by an earlier run
    with _WebhookReceiver(server.webhook_secret, room_name) as receiver:
        server.add_webhook_endpoint(receiver.url)
        print(f"Webhooks go to a local receiver at {receiver.url}")

        _step(1, "Create a room")
        room = client.rooms.create(
            name=room_name,
            max_participants=20,
            empty_timeout=300,
            metadata={"type": "standup"},
        )
        print(f"    created {room.name!r} ({room.sid}), max {room.max_participants} participants")

        _step(2, "Mint a host token and a viewer token (locally signed JWTs, no network)")
        host = client.tokens.create(
            room_name=room.name,
            participant_identity="host-1",
            participant_name="Room Host",
            ttl=7200,
            grants={"can_update_own_metadata": True},
        )
        viewer = client.tokens.create(
            room_name=room.name,
            participant_identity="viewer-42",
            participant_name="Viewer",
            grants={"can_publish": False},
        )
        print(f"    host token for {host.identity!r} expires {table_time(host.expires_at)}")
        print(f"    viewer token for {viewer.identity!r} expires {table_time(viewer.expires_at)}")
        claims = client.tokens.verify(viewer.token)
        print(f"    verified viewer token: can_publish={claims.grants.can_publish}")

        _step(3, "Both join the room through the local server (it checks the tokens)")
        for token in (host, viewer):
            joined = server.join(token)
            print(f"    {joined.name} ({joined.identity}) joined as {joined.sid}, {joined.state}")
        track = server.publish_track(room.name, "host-1", kind="video", source="camera")
        print(f"    host-1 published a {track.kind} track ({track.sid})")

        _step(4, "List participants")
        for p in client.participants.list(room.name):
            print(f"    {p.name} ({p.identity}) - {p.state}, publisher={p.is_publisher}")

        _step(5, "Update a participant's metadata")
        updated = client.participants.update_metadata(room.name, "host-1", {"role": "moderator"})
        print(f"    host-1 metadata is now {updated.metadata}")

        _step(6, "Remove the viewer")
        client.participants.remove(room.name, "viewer-42")
        remaining = [p.identity for p in client.participants.list(room.name)]
        print(f"    participants now: {remaining}")

        _step(7, "Update the room's metadata and read it back")
        client.rooms.update_metadata(room.name, '{"status": "active"}')
        room = client.rooms.get(room.name)
        print(f"    {room.name!r}: metadata={room.metadata}, participants={room.num_participants}")

        _step(8, "List rooms")
        others = 0
        for r in client.rooms.list():
            if r.name == room.name:
                print(f"    {r.name} ({r.sid})")
            else:
                others += 1
        if others:
            print(f"    and {others} other room(s) already on this server")

        _step(9, "Record the room, then download the recording")
        recording = client.recordings.start(room_name=room.name, file_type="MP4")
        print(f"    recording {recording.id} (egress {recording.egress_id}): {recording.status}")
        recording = settings.wait(lambda: client.recordings.get(recording.id), "active")
        print(
            f"    {recording.status}; active recordings in the room: "
            f"{len(client.recordings.list_active(room.name))}"
        )
        settings.pause(1)
        client.recordings.stop(recording.egress_id)
        recording = settings.wait(lambda: client.recordings.get(recording.id), "completed")
        print(
            f"    {recording.status}: {recording.filename}, {recording.size_bytes} bytes, "
            f"{recording.duration_seconds:.0f} s"
        )
        url = client.recordings.get_download_url(recording.id, expires_in=600)
        print(f"    pre-signed download URL valid until {table_time(url.expires_at)}")
        with tempfile.TemporaryDirectory() as folder:
            path = client.recordings.download(recording.id, folder)
            print(f"    downloaded {path.name}: {path.stat().st_size} bytes")

        _step(10, "Stream out to two RTMP destinations (stream keys stay secret)")
        egress = client.egress.start(
            room_name=room.name,
            mode="stream",
            quality="1080p",
            stream={
                "urls": [
                    "rtmp://a.rtmp.youtube.com/live2/YOUTUBE_KEY",
                    "rtmp://live.twitch.tv/app/TWITCH_KEY",
                ]
            },
        )
        egress = settings.wait(lambda: client.egress.get(egress.id), "active")
        assert egress.stream is not None
        for destination in egress.stream.destinations:
            print(f"    {destination.url}: {destination.status}")
        egress = client.egress.stop(egress.id)
        print(f"    stopped: {egress.status}")
        config = client.egress.update_auto_stream_config(enabled=True, min_participants=2)
        print(
            f"    auto-stream: enabled={config.enabled}, mode={config.mode}, "
            f"min_participants={config.min_participants}"
        )
        client.egress.update_auto_stream_config(enabled=False)

        _step(11, "Stream in from OBS (RTMP) and a browser (WHIP)")
        obs = client.ingress.create(
            input_type="RTMP_INPUT",
            room_name=room.name,
            participant_identity="obs-streamer",
            participant_name="OBS Studio",
            enable_transcoding=True,
        )
        print(f"    RTMPS URL: {obs.rtmps_url} (stream key issued, not printed)")
        whip = client.ingress.create(
            input_type="WHIP_INPUT",
            room_name=room.name,
            participant_identity="whip-streamer",
            bypass_transcoding=True,
        )
        print(f"    WHIP URL: {whip.whip_url} (bearer token issued, not printed)")
        server.connect_ingress(obs.id)
        obs = settings.wait(lambda: client.ingress.get(obs.id), "ACTIVE")
        streamer = client.participants.get(room.name, "obs-streamer")
        print(f"    OBS is {obs.status}; {streamer.name} is in the room")
        client.ingress.delete(obs.id)
        client.ingress.delete(whip.id)
        print(f"    ingress endpoints left: {len(client.ingress.list(room_name=room.name).items)}")

        _step(12, "Delete the room")
        client.rooms.delete(room.name)
        try:
            client.rooms.get(room.name)
        except NotFoundError as exc:
            print(f"    gone: {exc.code}")

        _step(13, "Webhooks received and verified by the local receiver")
        deadline = time.monotonic() + WAIT_SECONDS
        while "room.finished" not in receiver.names() and time.monotonic() < deadline:
            time.sleep(0.1)
        names = receiver.names()
        print(f"    {len(names)} deliveries verified, {receiver.rejected} rejected:")
        for name in sorted(set(names), key=names.index):
            print(f"    {names.count(name):3d} x {name}")


class _WebhookReceiver:
    """A tiny HTTP endpoint (standard library) that verifies deliveries as an app would.

    It keeps the events of `room_name` only (a shared server has others). It answers
    the room's last event, `room.finished`, with 410 Gone, which disables its endpoint
    on the server: nothing is delivered to it after the tour.
    """

    def __init__(self, secret: str | None, room_name: str) -> None:
        self._secret = secret
        self._room_name = room_name
        self._events: list[str] = []
        self.rejected = 0
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        with self._lock:
            return list(self._events)

    def _receive(self, body: bytes, headers: dict[str, str]) -> int:
        from .. import webhooks

        try:
            event = webhooks.verify(body, headers, self._secret or "")
        except webhooks.WebhookVerificationError:
            with self._lock:
                self.rejected += 1
            return 400
        with self._lock:
            if getattr(event.data, "room_name", None) != self._room_name:
                return 204  # another room's, on a shared server
            self._events.append(event.event)
        if event.event == "room.finished":
            return 410  # the tour is over: the server disables this endpoint
        return 204

    def __enter__(self) -> _WebhookReceiver:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(receiver._receive(body, dict(self.headers.items())))
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the tour's output readable

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/webhooks"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()
