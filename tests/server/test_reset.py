"""`LocalServer.reset()` / `POST /_dev/reset` (operation devReset): a running server back
to its just-started state, each kind of state checked on its own.

Waits on the real clock are hang guards or "nothing happens within a while" windows
(several times the retry or start delay involved), never performance assertions.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import asgi_body, serve_asgi, wait_until

from baxcloud import BaxCloud, NotFoundError
from baxcloud.testing import LocalServer
from baxcloud.webhooks import verify


def _join(server: LocalServer, client: BaxCloud, room: str, identity: str) -> None:
    server.join(client.tokens.create(room_name=room, participant_identity=identity))


def _files(server: LocalServer) -> list[Path]:
    app = server._running_app()
    return [p for p in app.media.files.directory().iterdir() if p.is_file()]


def _dev(server: LocalServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.api_key}", **kwargs.pop("headers", {})}
    return httpx.request(method, server.base_url + path, headers=headers, **kwargs)


class Hooks:
    """A webhook receiver: counts requests, answers `status`; `gate` (if set) holds them."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.gate: threading.Event | None = None
        self.arrived = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = await asgi_body(receive)
        self.bodies.append(body)
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        self.arrived.set()
        if self.gate is not None:
            await asyncio.to_thread(self.gate.wait, 30)
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


# ---- each kind of state ----------------------------------------------------------------


def test_rooms_participants_and_tracks_are_gone(fresh_server: LocalServer) -> None:
    server = fresh_server
    with server.client() as client:
        client.rooms.create(name="a")
        _join(server, client, "a", "ann")
        server.publish_track("a", "ann", kind="audio")
        server.reset()
        assert client.rooms.list().items == []
        with pytest.raises(NotFoundError):
            client.participants.get("a", "ann")
        # The name is free again, and the room is new (nobody in it).
        room = client.rooms.create(name="a")
        assert room.num_participants == 0
        assert client.participants.list("a").items == []


def test_egress_recordings_ingress_and_files_are_gone(media_server: LocalServer) -> None:
    server = media_server
    with server.client() as client:
        client.rooms.create(name="a")
        done = client.recordings.start(room_name="a")
        server.advance_clock(1)
        client.recordings.stop(done.egress_id)
        server.advance_clock(1)
        assert client.recordings.get(done.id).status == "completed"
        url = client.recordings.get_download_url(done.id).download_url
        assert httpx.get(url).status_code == 200
        client.recordings.start(room_name="a", file_type="OGG")  # left running
        ingress = client.ingress.create(
            input_type="RTMP_INPUT", room_name="live", participant_identity="obs"
        )
        server.connect_ingress(ingress.id)
        assert _files(server)
        server.reset()
        assert client.recordings.list().items == []
        assert client.egress.list().items == []
        assert client.ingress.list().items == []
        with pytest.raises(NotFoundError):
            client.recordings.get(done.id)
        assert _files(server) == []
        assert httpx.get(url).status_code == 404  # a download URL signed before: nothing


def test_events_are_gone(fresh_server: LocalServer) -> None:
    with fresh_server.client() as client:
        client.rooms.create(name="a")
        assert fresh_server.events()
        fresh_server.reset()
        assert fresh_server.events() == []
        client.rooms.create(name="b")
        assert [e["event"] for e in fresh_server.events()] == ["room.started"]


def test_idempotency_records_are_gone(fresh_server: LocalServer) -> None:
    with fresh_server.client() as client:
        first = client.rooms.create(name="a", idempotency_key="same-key")
        fresh_server.reset()
        # Not a replay of the old answer: the room is created again, with a new sid.
        again = client.rooms.create(name="a", idempotency_key="same-key")
        assert again.sid != first.sid
        assert [r.sid for r in client.rooms.list().items] == [again.sid]


def test_the_reset_itself_is_not_recorded_under_its_idempotency_key(
    fresh_server: LocalServer,
) -> None:
    key = {"Idempotency-Key": "reset-key"}
    assert _dev(fresh_server, "POST", "/_dev/reset", headers=key).status_code == 204
    with fresh_server.client() as client:
        client.rooms.create(name="a")
        answer = _dev(fresh_server, "POST", "/_dev/reset", headers=key)
        assert answer.status_code == 204
        assert "Idempotent-Replayed" not in answer.headers
        assert client.rooms.list().items == []


def test_the_auto_stream_config_goes_back_to_its_default(fresh_server: LocalServer) -> None:
    with fresh_server.client() as client:
        default = client.egress.get_auto_stream_config()
        client.egress.update_auto_stream_config(enabled=True, min_participants=1)
        fresh_server.reset()
        assert client.egress.get_auto_stream_config() == default
        _join(fresh_server, client, "a", "ann")
        assert client.egress.list().items == []


def test_faults_go_back_to_the_start_configuration() -> None:
    start = "rate=0.5,kinds=500,seed=3"
    with LocalServer(faults=start) as server, server.client(max_retries=0) as client:

        def outcomes() -> list[bool]:
            got = []
            for _ in range(12):
                try:
                    client.rooms.list()
                    got.append(True)
                except Exception:
                    got.append(False)
            return got

        first = outcomes()
        assert False in first and True in first
        server.set_faults(rate=1.0, kinds=["503"])
        server.reset()
        state = server.faults()
        assert (state["rate"], state["kinds"], state["seed"]) == (0.5, ["500"], 3)
        assert state["requests"] == 0
        assert sum(state["injected"].values()) == 0
        # The generator restarts too: the same seed gives the same faults again.
        assert outcomes() == first


def test_a_manual_clock_goes_back_to_its_first_reading(clock_server: LocalServer) -> None:
    def now() -> float:
        return float(_dev(clock_server, "GET", "/_dev/clock").json()["now"])

    start = now()
    clock_server.advance_clock(3600)
    clock_server.reset()
    assert now() == start
    assert clock_server.advance_clock(5) == start + 5


def test_base_url_api_key_and_clients_survive(fresh_server: LocalServer) -> None:
    base_url, api_key = fresh_server.base_url, fresh_server.api_key
    with fresh_server.client() as client:
        client.rooms.create(name="a")
        fresh_server.reset()
        assert (fresh_server.base_url, fresh_server.api_key) == (base_url, api_key)
        assert client.rooms.create(name="a").name == "a"  # the same client, still accepted


def test_a_reset_takes_no_body_fields(fresh_server: LocalServer) -> None:
    answer = _dev(fresh_server, "POST", "/_dev/reset", json={"everything": True})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unknown_field"


def test_a_reset_needs_the_api_key(fresh_server: LocalServer) -> None:
    with fresh_server.client() as client:
        client.rooms.create(name="a")
        answer = httpx.post(fresh_server.base_url + "/_dev/reset")
        assert answer.status_code == 401
        assert [r.name for r in client.rooms.list().items] == ["a"]


# ---- webhooks ---------------------------------------------------------------------------


def test_webhook_endpoints_and_deliveries_go_back_to_the_start() -> None:
    start_hooks, added_hooks = Hooks(), Hooks()
    with (
        serve_asgi(start_hooks, path="/hooks") as start_url,
        serve_asgi(added_hooks, path="/hooks") as added_url,
        LocalServer(webhook_urls=[start_url]) as server,
        server.client() as client,
    ):
        server.add_webhook_endpoint(added_url)
        client.rooms.create(name="a")
        wait_until(lambda: len(server.webhook_deliveries()) == 2, "two deliveries")
        started_with = server.webhook_endpoints()[0]
        server.reset()
        assert server.webhook_deliveries() == []
        assert server.pending_webhook_deliveries() == 0
        [endpoint] = server.webhook_endpoints()
        assert (endpoint["url"], endpoint["enabled"]) == (start_url, True)
        assert endpoint["id"] != started_with["id"]
        client.rooms.create(name="b")
        [delivery] = wait_until(server.webhook_deliveries, "a delivery")
        assert (delivery["id"], delivery["endpointUrl"]) == (1, start_url)  # ids restart
        assert len(added_hooks.bodies) == 1  # nothing for the endpoint added at run time


def test_a_rotated_webhook_secret_goes_back_to_the_start_secret() -> None:
    hooks = Hooks()
    with (
        serve_asgi(hooks, path="/hooks") as url,
        LocalServer(webhook_urls=[url]) as server,
        server.client() as client,
    ):
        secret = server.webhook_secret
        assert secret is not None
        server.rotate_webhook_secret()
        assert server.webhook_secret != secret
        server.reset()
        assert server.webhook_secret == secret
        client.rooms.create(name="a")
        wait_until(lambda: hooks.bodies, "a delivery")
        signature = hooks.headers[0]["webhook-signature"]
        assert len(signature.split()) == 1  # no previous secret signing along
        verify(hooks.bodies[0], hooks.headers[0], secret)


def test_a_pending_webhook_retry_does_not_fire_after_reset() -> None:
    hooks = Hooks(status=500)
    retry = 1.0  # far longer than from seeing "retrying" to the reset, even on a busy machine
    with (
        serve_asgi(hooks, path="/hooks") as url,
        LocalServer(webhook_urls=[url], webhook_retry_schedule=[retry]) as server,
        server.client() as client,
    ):
        client.rooms.create(name="a")
        wait_until(
            lambda: [d["outcome"] for d in server.webhook_deliveries()] == ["retrying"],
            "the first attempt to fail",
        )
        server.reset()
        time.sleep(retry * 2)
        assert len(hooks.bodies) == 1
        assert server.webhook_deliveries() == []
        # The worker still runs: an event after the reset is delivered (and retried).
        hooks.status = 204
        client.rooms.create(name="b")
        wait_until(lambda: len(hooks.bodies) == 2, "the new event")
        assert b'"b"' in hooks.bodies[1]


def test_an_attempt_in_flight_during_reset_is_cancelled_and_not_recorded() -> None:
    hooks = Hooks()
    hooks.gate = threading.Event()
    with (
        serve_asgi(hooks, path="/hooks") as url,
        LocalServer(webhook_urls=[url], webhook_retry_schedule=[0.1, 0.1]) as server,
        server.client() as client,
    ):
        client.rooms.create(name="a")
        assert hooks.arrived.wait(30)
        server.reset()
        hooks.gate.set()
        time.sleep(0.5)  # several retry delays: a retry of the cut attempt would show
        assert len(hooks.bodies) == 1
        assert server.webhook_deliveries() == []
        assert server.pending_webhook_deliveries() == 0


# ---- timed changes ------------------------------------------------------------------------


def test_a_starting_recording_does_not_start_after_reset(media_server: LocalServer) -> None:
    with media_server.client() as client:
        client.rooms.create(name="a")
        client.recordings.start(room_name="a")
        media_server.reset()
        media_server.advance_clock(3600)
        assert media_server.events() == []
        assert client.egress.list().items == []
        assert _files(media_server) == []


def test_a_recording_in_progress_does_not_complete_after_reset_real_clock() -> None:
    with (
        LocalServer(egress_start_delay=0.05, egress_stop_delay=0.05) as server,
        server.client() as client,
    ):
        client.rooms.create(name="a")
        recording = client.recordings.start(room_name="a")
        wait_until(lambda: client.recordings.get(recording.id).status == "active", "active")
        client.recordings.stop(recording.egress_id)
        server.reset()
        time.sleep(0.5)  # ten stop delays
        assert server.events() == []
        assert _files(server) == []


def test_an_empty_room_timeout_does_not_fire_after_reset(clock_server: LocalServer) -> None:
    with clock_server.client() as client:
        client.rooms.create(name="a", empty_timeout=10)
        clock_server.reset()
        clock_server.advance_clock(60)
        assert clock_server.events() == []


def test_auto_stream_of_a_room_does_not_start_after_reset(media_server: LocalServer) -> None:
    with media_server.client() as client:
        client.egress.update_auto_stream_config(enabled=True, min_participants=2)
        _join(media_server, client, "a", "ann")
        media_server.reset()
        _join(media_server, client, "a", "ann")
        _join(media_server, client, "a", "bob")  # would have reached min_participants
        media_server.advance_clock(10)
        assert client.egress.list().items == []


def test_a_file_written_while_the_server_resets_is_deleted(media_server: LocalServer) -> None:
    """A recording file being written (off the event loop) when the reset comes is
    removed when done, not handed to a recording that no longer exists."""
    with media_server.client() as client:
        client.rooms.create(name="a")
        recording = client.recordings.start(room_name="a")
        media_server.advance_clock(1)
        client.recordings.stop(recording.egress_id)
        app = media_server._running_app()
        files = app.media.files
        release = threading.Event()
        writing = threading.Event()
        original = files.write

        def slow_write(spec: Any) -> int:
            writing.set()
            assert release.wait(30)
            return original(spec)

        files.write = slow_write  # type: ignore[method-assign]
        advance = threading.Thread(target=media_server.advance_clock, args=(1,))
        advance.start()
        assert writing.wait(30)
        media_server.reset()
        release.set()
        advance.join(30)
        files.write = original  # type: ignore[method-assign]
        wait_until(lambda: not app.scheduler._writes, "the write to finish")
        assert _files(media_server) == []
        assert client.recordings.list().items == []
        assert files.unclaimed() == []


# ---- requests in flight ---------------------------------------------------------------------


def test_a_request_in_flight_runs_wholly_after_the_reset() -> None:
    """A change waiting (here: a slow fault) when the reset comes runs after it, whole."""
    with LocalServer(faults="rate=1,kinds=slow,slow_seconds=0.5") as server:
        result: list[Any] = []

        def create() -> None:
            with server.client(max_retries=0) as client:
                result.append(client.rooms.create(name="late"))

        thread = threading.Thread(target=create)
        thread.start()
        wait_until(lambda: server.faults()["injected"]["slow"] == 1, "the slow request")
        server.reset()
        thread.join(30)
        [room] = result
        server.set_faults()
        with server.client() as client:
            assert [r.sid for r in client.rooms.list().items] == [room.sid]
        [event] = server.events()
        assert (event["event"], event["data"]["roomSid"]) == ("room.started", room.sid)


async def test_resets_amid_concurrent_requests_leave_consistent_state(
    fresh_server: LocalServer,
) -> None:
    server = fresh_server
    async with server.async_client() as client:

        async def work(n: int) -> None:
            name = f"r{n}"
            await client.rooms.create(name=name)
            token = client.tokens.create(room_name=name, participant_identity="ann")
            await asyncio.to_thread(server.join, token)

        async def resets() -> None:
            for _ in range(10):
                await asyncio.to_thread(server.reset)
                await asyncio.sleep(0.005)

        outcomes = await asyncio.gather(
            resets(), *(work(n) for n in range(40)), return_exceptions=True
        )
        # A join whose room a reset removed creates the room again: nothing fails.
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        rooms = {r.name: r async for r in client.rooms.list(limit=100)}
        events = server.events()
        started = {e["data"]["roomName"] for e in events if e["event"] == "room.started"}
        joined = {e["data"]["roomName"] for e in events if e["event"] == "participant.joined"}
        # Every room has its room.started event and vice versa; every join its room.
        assert started == set(rooms)
        assert joined <= set(rooms)
        for name in joined:
            assert [p.identity for p in (await client.participants.list(name)).items] == ["ann"]
        server.reset()
        assert [r async for r in client.rooms.list()] == []


# ---- data directory and connected servers ---------------------------------------------------


def test_reset_clears_the_persisted_state_of_a_data_dir(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, manual_clock=True, egress_start_delay=0) as server:
        api_key, secret = server.api_key, server.webhook_secret
        with server.client() as client:
            client.rooms.create(name="a")
            recording = client.recordings.start(room_name="a")
            client.rooms.list()
            client.recordings.stop(recording.egress_id)
            server.advance_clock(2)
            assert client.recordings.get(recording.id).status == "completed"
            assert list((tmp_path / "recordings").iterdir())
            server.reset()
    assert list((tmp_path / "recordings").iterdir()) == []
    with LocalServer(data_dir=tmp_path) as again, again.client() as client:
        assert (again.api_key, again.webhook_secret) == (api_key, secret)
        assert client.rooms.list().items == []
        assert client.recordings.list().items == []
        assert again.events() == []


def test_a_connected_server_can_be_reset(fresh_server: LocalServer) -> None:
    remote = LocalServer.connect(
        fresh_server.base_url,
        api_key=fresh_server.api_key,
        webhook_secret=fresh_server.webhook_secret,
    )
    with fresh_server.client() as client:
        client.rooms.create(name="a")
        rotated = remote.rotate_webhook_secret()
        assert remote.webhook_secret == rotated
        remote.reset()
        assert client.rooms.list().items == []
        assert remote.webhook_secret == fresh_server.webhook_secret != rotated


def test_a_reset_logs_and_answers_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with LocalServer() as server:
        start_secret = server.webhook_secret
        rotated = server.rotate_webhook_secret()
        answer = _dev(server, "POST", "/_dev/reset")
        assert answer.status_code == 204
        assert answer.content == b""
        shown = caplog.text + repr(server) + repr(server._running_app()) + str(answer.headers)
        for secret in (server.api_key, start_secret, rotated):
            assert secret is not None
            assert secret not in shown
