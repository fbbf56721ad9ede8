"""Webhook delivery by the local server (the OpenAPI document's `webhooks` and
`/_dev/webhook-*` operations), to real receivers.

Each receiver is a small ASGI app served by uvicorn on loopback in a thread; it
records every request and answers what the test tells it to. Nothing here
asserts a tight wall-clock bound: waits are generous and ordering claims are
made causal by the receivers themselves (a receiver that refuses room A until
room B has arrived, a receiver that stays blocked until the test releases it).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import pathlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import standardwebhooks
from helpers import WAIT, asgi_body, serve_asgi, wait_until

from baxcloud import BaxCloud, UnprocessableEntityError, WebhookVerificationError
from baxcloud._cli.main import build_parser, main
from baxcloud._server import LocalBaxCloudApp, ServerConfig, generate_webhook_secret
from baxcloud._server._webhooks import user_agent
from baxcloud._server.handlers.webhooks import URL_FIELDS
from baxcloud.testing import LocalServer
from baxcloud.webhooks import ParticipantJoinedEvent, RoomStartedEvent, sign, verify


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    attempt: int  # 1 + earlier requests with the same webhook-id
    status: int | None = None  # what the receiver answered (None while it is deciding)

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


Respond = Callable[[Received], Awaitable[int]]


class Receiver:
    """An ASGI app recording every request; `respond` picks each answer's status."""

    def __init__(self, respond: Respond | None = None) -> None:
        self.requests: list[Received] = []
        self._respond = respond
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = await asgi_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            ident = headers.get("webhook-id")
            attempt = 1 + sum(1 for r in self.requests if r.headers.get("webhook-id") == ident)
            request = Received(body, headers, attempt)
            self.requests.append(request)
        status = 204 if self._respond is None else await self._respond(request)
        request.status = status
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def delivered(self) -> list[Received]:
        """The requests answered 2xx, in arrival order, first per event id."""
        seen: set[str] = set()
        out = []
        for request in list(self.requests):
            if request.ok and request.event["id"] not in seen:
                seen.add(request.event["id"])
                out.append(request)
        return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def join(server: LocalServer, client: BaxCloud, room: str, identity: str) -> None:
    server.join(client.tokens.create(room_name=room, participant_identity=identity))


def attempts_of(server: LocalServer, event_id: str) -> list[dict[str, Any]]:
    return [d for d in server.webhook_deliveries() if d["eventId"] == event_id]


def settled(server: LocalServer) -> bool:
    return server.pending_webhook_deliveries() == 0


# ---- signatures and body -----------------------------------------------------------------


def test_events_are_delivered_signed_with_the_server_secret() -> None:
    receiver = Receiver()
    with (
        serve_asgi(receiver, path="/hooks") as url,
        LocalServer(manual_clock=True, webhook_urls=[url]) as server,
        server.client() as client,
    ):
        server.advance_clock(1800)  # createdAt moves; webhook-timestamp stays real
        client.rooms.create(name="signed", metadata="m")
        join(server, client, "signed", "ann")
        server.publish_track("signed", "ann", kind="audio")
        events = server.events()
        assert [e["event"] for e in events] == [
            "room.started",
            "participant.joined",
            "track.published",
        ]
        wait_until(lambda: len(receiver.requests) == 3 and settled(server), "3 deliveries")
        secret = server.webhook_secret
        assert secret is not None
        for request, expected in zip(receiver.requests, events, strict=True):
            # Exactly the `Event` schema's body, as compact UTF-8 JSON, key order included.
            assert list(request.event) == ["id", "event", "createdAt", "data"]
            assert request.event == expected
            compact = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
            assert request.body == compact.encode()
            assert request.headers["webhook-id"] == expected["id"]
            assert request.headers["content-type"] == "application/json"
            assert request.headers["user-agent"] == user_agent()
            assert request.headers["user-agent"].startswith("baxcloud-local-server/")
            assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 120
            assert expected["createdAt"] > time.time() + 1000
            assert request.headers["webhook-signature"].count("v1,") == 1
            event = verify(request.body, request.headers, secret)
            assert event.id == expected["id"] and event.event == expected["event"]
            # The reference implementation agrees.
            standardwebhooks.Webhook(secret).verify(request.body, request.headers)
            with pytest.raises(WebhookVerificationError):
                verify(request.body, request.headers, generate_webhook_secret())
        first = verify(receiver.requests[0].body, receiver.requests[0].headers, secret)
        assert isinstance(first, RoomStartedEvent) and first.data.metadata == "m"
        joined = verify(receiver.requests[1].body, receiver.requests[1].headers, secret)
        assert isinstance(joined, ParticipantJoinedEvent) and joined.data.identity == "ann"

        deliveries = server.webhook_deliveries()
        assert [d["eventId"] for d in deliveries] == [e["id"] for e in events]
        for d, e in zip(deliveries, events, strict=True):
            assert d["event"] == e["event"] and d["endpointUrl"] == url
            assert (d["attempt"], d["status"], d["error"], d["outcome"]) == (
                1,
                204,
                None,
                "delivered",
            )
            assert d["latencyMs"] >= 0 and d["deliveredAt"] == d["attemptedAt"]
            assert d["nextAttemptAt"] is None
        (endpoint,) = server.webhook_endpoints()
        assert endpoint["url"] == url and endpoint["enabled"] is True
        assert endpoint["id"] == deliveries[0]["endpointId"]


# ---- retries -------------------------------------------------------------------------------


def test_retries_after_errors_and_timeouts_and_gives_up() -> None:
    async def respond(request: Received) -> int:
        name, room = request.event["event"], request.event["data"]["roomName"]
        if room == "doomed":
            return 500
        if name == "room.started":
            return {1: 500, 2: 503}.get(request.attempt, 200)
        if name == "participant.joined" and request.attempt == 1:
            await asyncio.sleep(4.0)  # longer than webhook_timeout
        return 204

    receiver = Receiver(respond)
    with (
        serve_asgi(receiver, path="/hooks") as url,
        LocalServer(
            webhook_urls=[url],
            webhook_retry_schedule=(0.05, 0.05, 0.05),
            webhook_timeout=2.0,  # only the slow answer exceeds it, even on a busy machine
        ) as server,
        server.client() as client,
    ):
        client.rooms.create(name="flaky")
        join(server, client, "flaky", "ann")
        client.rooms.create(name="doomed")
        started, joined, doomed = server.events()
        wait_until(lambda: settled(server), "every delivery to settle")

        tries = attempts_of(server, started["id"])
        assert [(d["attempt"], d["status"], d["outcome"]) for d in tries] == [
            (1, 500, "retrying"),
            (2, 503, "retrying"),
            (3, 200, "delivered"),
        ]
        assert [d["error"] for d in tries] == ["HTTP 500", "HTTP 503", None]
        assert tries[0]["nextAttemptAt"] >= tries[0]["attemptedAt"]
        assert tries[2]["deliveredAt"] is not None and tries[0]["deliveredAt"] is None

        tries = attempts_of(server, joined["id"])
        assert [(d["attempt"], d["status"], d["outcome"]) for d in tries] == [
            (1, None, "retrying"),
            (2, 204, "delivered"),
        ]
        assert "timed out" in tries[0]["error"]

        # 1 attempt + 3 retries, then given up.
        tries = attempts_of(server, doomed["id"])
        assert [(d["attempt"], d["status"]) for d in tries] == [(i, 500) for i in (1, 2, 3, 4)]
        assert [d["outcome"] for d in tries] == ["retrying"] * 3 + ["failed"]
        assert sum(1 for r in receiver.requests if r.event["id"] == doomed["id"]) == 4

        # The receiver saw every attempt, and the same event id each time (dedupe key).
        assert [r.attempt for r in receiver.requests if r.event["id"] == started["id"]] == [
            1,
            2,
            3,
        ]


def test_a_410_disables_the_endpoint() -> None:
    async def gone(request: Received) -> int:
        return 410

    gone_receiver, ok_receiver = Receiver(gone), Receiver()
    with (
        serve_asgi(gone_receiver, path="/hooks") as gone_url,
        serve_asgi(ok_receiver, path="/hooks") as ok_url,
        LocalServer() as server,
        server.client() as client,
    ):
        endpoint = server.add_webhook_endpoint(gone_url)
        assert set(endpoint) == {"id", "url", "enabled", "disabledReason", "createdAt"}
        assert endpoint["id"].startswith("we_") and endpoint["url"] == gone_url
        assert endpoint["enabled"] is True and endpoint["disabledReason"] is None
        assert isinstance(endpoint["createdAt"], int)
        assert server.add_webhook_endpoint(gone_url) == endpoint  # unique by URL
        other = server.add_webhook_endpoint(ok_url)
        assert other["id"] != endpoint["id"]

        client.rooms.create(name="first")

        def disabled() -> dict[str, Any] | None:
            found = {e["id"]: e for e in server.webhook_endpoints()}[endpoint["id"]]
            return None if found["enabled"] else found

        found = wait_until(disabled, "the endpoint to be disabled")
        assert "410" in found["disabledReason"]
        (attempt,) = [d for d in server.webhook_deliveries() if d["endpointId"] == endpoint["id"]]
        assert (attempt["status"], attempt["outcome"], attempt["error"]) == (
            410,
            "disabled",
            "HTTP 410",
        )

        client.rooms.create(name="second")
        wait_until(lambda: len(ok_receiver.delivered()) == 2 and settled(server), "2 events")
        assert len(gone_receiver.requests) == 1  # nothing more after the 410
        assert [r.event["data"]["roomName"] for r in ok_receiver.delivered()] == [
            "first",
            "second",
        ]

        again = server.add_webhook_endpoint(gone_url)  # re-enables it
        assert again["id"] == endpoint["id"] and again["enabled"] is True
        assert again["disabledReason"] is None
        client.rooms.create(name="third")
        wait_until(lambda: len(gone_receiver.requests) == 2, "the re-enabled endpoint")
        assert gone_receiver.requests[1].event["data"]["roomName"] == "third"

        with pytest.raises(UnprocessableEntityError) as bad:
            server.add_webhook_endpoint("ftp://example.com/hooks")
        assert bad.value.code == "validation_failed"


# ---- ordering ------------------------------------------------------------------------------


def test_order_per_room_under_retries_other_rooms_not_blocked() -> None:
    # Room "a"'s first event is refused until room "b" has been delivered: so "b" must
    # not wait behind "a", while "a"'s later events must wait behind its first one.
    receiver: Receiver

    async def respond(request: Received) -> int:
        data = request.event["data"]
        if data["roomName"] == "a" and not any(
            r.ok and r.event["data"]["roomName"] == "b" for r in receiver.requests
        ):
            return 500
        return 204

    receiver = Receiver(respond)
    with (
        serve_asgi(receiver, path="/hooks") as url,
        LocalServer(webhook_urls=[url], webhook_retry_schedule=(0.02,) * 500) as server,
        server.client() as client,
    ):
        client.rooms.create(name="a")
        for who in ("ann", "bob", "cy"):
            join(server, client, "a", who)
            server.publish_track("a", who, kind="video")
        server.leave("a", "bob")
        wait_until(lambda: len(receiver.requests) >= 3, "room a to be refused a few times")
        client.rooms.create(name="b")
        join(server, client, "b", "dee")
        events = server.events()
        wait_until(lambda: settled(server), "every delivery")

        def order(room: str) -> list[str]:
            return [e["id"] for e in events if e["data"]["roomName"] == room]

        delivered = receiver.delivered()
        for room in ("a", "b"):
            got = [r.event["id"] for r in delivered if r.event["data"]["roomName"] == room]
            assert got == order(room), room
        first_a = order("a")[0]
        first_ok = next(
            i for i, r in enumerate(receiver.requests) if r.event["id"] == first_a and r.ok
        )
        # Nothing of room "a" but its first event was sent before that one got through.
        assert {
            r.event["id"]
            for r in receiver.requests[:first_ok]
            if r.event["data"]["roomName"] == "a"
        } == {first_a}
        assert any(r.event["data"]["roomName"] == "b" for r in receiver.requests[:first_ok])
        assert all(r.ok for r in receiver.requests if r.event["data"]["roomName"] == "b")


# ---- rotation ------------------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_for_the_grace_period() -> None:
    receiver = Receiver()
    with (
        serve_asgi(receiver, path="/hooks") as url,
        LocalServer(manual_clock=True, webhook_urls=[url]) as server,
        server.client() as client,
    ):
        old = server.webhook_secret
        assert old is not None
        new = server.rotate_webhook_secret()
        assert new.startswith("whsec_") and new != old
        assert server.webhook_secret == new
        assert len(base64.b64decode(new.removeprefix("whsec_"))) == 32

        client.rooms.create(name="rotated")
        (request,) = wait_until(lambda: receiver.delivered(), "a delivery")
        entries = request.headers["webhook-signature"].split(" ")
        assert len(entries) == 2 and all(e.startswith("v1,") for e in entries)
        ident, ts = request.headers["webhook-id"], int(request.headers["webhook-timestamp"])
        for secret, entry in ((new, entries[0]), (old, entries[1])):
            expected = sign(request.body, secret, msg_id=ident, timestamp=ts)
            assert expected["webhook-signature"] == entry
            single = {**request.headers, "webhook-signature": entry}
            assert verify(request.body, single, secret).id == ident
            assert verify(request.body, request.headers, secret).id == ident
        with pytest.raises(WebhookVerificationError):
            verify(request.body, request.headers, generate_webhook_secret())
        with server.client() as fresh:  # clients made now get the new secret
            assert fresh.webhooks.verify(request.body, request.headers).id == ident

        server.advance_clock(24 * 3600 + 1)  # the grace period ends (server clock)
        client.rooms.create(name="later")
        wait_until(
            lambda: any(r.event["data"]["roomName"] == "later" for r in receiver.delivered()),
            "the later delivery",
        )
        later = next(r for r in receiver.delivered() if r.event["data"]["roomName"] == "later")
        assert later.headers["webhook-signature"].count("v1,") == 1
        assert verify(later.body, later.headers, new).event == "room.started"
        with pytest.raises(WebhookVerificationError):
            verify(later.body, later.headers, old)


# ---- restarts ------------------------------------------------------------------------------


def test_backlog_survives_a_restart(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    with (
        LocalServer(
            data_dir=tmp_path, webhook_urls=[url], webhook_retry_schedule=(0.05, 3600)
        ) as first,
        first.client() as client,
    ):
        client.rooms.create(name="kept")
        join(first, client, "kept", "ann")
        first.publish_track("kept", "ann", kind="video")
        events = first.events()
        head = events[0]["id"]
        # The receiver is down: the first event failed twice and waits an hour; the
        # others queue behind it (same room).
        wait_until(lambda: len(attempts_of(first, head)) == 2, "two failed attempts")
        assert all(d["status"] is None and d["error"] for d in attempts_of(first, head))
        assert first.pending_webhook_deliveries() == 3
        rotated = first.rotate_webhook_secret()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    receiver = Receiver()
    with (
        serve_asgi(receiver, path="/hooks", port=port) as served,
        LocalServer(data_dir=tmp_path, webhook_retry_schedule=(0.05,)) as second,
    ):
        assert served == url
        assert second.webhook_secret == rotated  # persisted
        assert [e["url"] for e in second.webhook_endpoints()] == [url]
        wait_until(lambda: len(receiver.delivered()) == 3 and settled(second), "the backlog")
        assert [r.event for r in receiver.delivered()] == events
        for request in receiver.delivered():
            verify(request.body, request.headers, rotated)
        tries = attempts_of(second, head)
        assert [d["outcome"] for d in tries][-1] == "delivered"
        assert tries[-1]["attempt"] == 3  # counting the attempts made before the restart


def test_an_attempt_cut_short_by_shutdown_is_made_again(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    gate, entered = threading.Event(), threading.Event()

    async def hold(request: Received) -> int:
        entered.set()
        await asyncio.to_thread(gate.wait, WAIT)
        return 204

    receiver = Receiver(hold)
    try:
        with serve_asgi(receiver, path="/hooks") as url:
            with LocalServer(data_dir=tmp_path, webhook_urls=[url], webhook_timeout=120) as first:
                first.client().rooms.create(name="interrupted")
                (event,) = first.events()
                assert entered.wait(WAIT)
                assert first.pending_webhook_deliveries() == 1
            # Stopped mid-attempt: nothing recorded, nothing lost, no task left behind.
            assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
            assert all("Task was destroyed" not in r.getMessage() for r in caplog.records)
            answered = Receiver()
            with (
                serve_asgi(answered, path="/hooks") as other,
                LocalServer(data_dir=tmp_path, webhook_urls=[other]) as second,
            ):
                # The interrupted delivery to the first endpoint is still queued.
                assert second.pending_webhook_deliveries() >= 1
                gate.set()  # the first receiver answers from now on
                wait_until(lambda: settled(second), "the interrupted delivery")
                tries = attempts_of(second, event["id"])
                assert [(d["endpointUrl"], d["outcome"]) for d in tries] == [(url, "delivered")]
                assert answered.requests == []  # it was registered after the event
            ids = [r.event["id"] for r in receiver.requests]
            assert ids == [event["id"], event["id"]]  # at least once: sent again
    finally:
        gate.set()


# ---- never blocking the API ----------------------------------------------------------------


def test_deliveries_never_block_api_calls() -> None:
    gate, entered = threading.Event(), threading.Event()

    async def respond(request: Received) -> int:
        if request.event["data"]["roomName"] == "slow":
            entered.set()
            await asyncio.to_thread(gate.wait, WAIT)
        return 204

    receiver = Receiver(respond)
    with (
        serve_asgi(receiver, path="/hooks") as url,
        LocalServer(webhook_urls=[url], webhook_timeout=120) as server,
        # A blocked API would time out here, long before the delivery could.
        server.client(timeout=10, max_retries=0) as client,
    ):
        try:
            client.rooms.create(name="slow")
            assert entered.wait(WAIT), "the delivery never reached the receiver"
            # The receiver now holds the delivery; the API keeps answering.
            for i in range(10):
                client.rooms.create(name=f"fast-{i}")
            join(server, client, "slow", "ann")
            assert len(client.rooms.list(limit=100).items) == 11
            # Other rooms are delivered meanwhile; room "slow"'s next event waits.
            wait_until(
                lambda: (
                    sum(1 for r in receiver.delivered() if r.event["data"]["roomName"] != "slow")
                    == 10
                ),
                "the other rooms' deliveries",
            )
            assert not gate.is_set()
            assert [
                r.event["event"] for r in receiver.requests if r.event["data"]["roomName"] == "slow"
            ] == ["room.started"]
        finally:
            gate.set()
        wait_until(lambda: settled(server), "everything delivered")
        slow = [
            r.event["event"] for r in receiver.delivered() if r.event["data"]["roomName"] == "slow"
        ]
        assert slow == ["room.started", "participant.joined"]


# ---- logs ------------------------------------------------------------------------------------


def test_secrets_never_appear_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="baxcloud")

    async def respond(request: Received) -> int:
        return 500 if request.attempt == 1 else 204

    receiver = Receiver(respond)
    with (
        serve_asgi(receiver, path="/hooks") as url,
        LocalServer(webhook_urls=[url], webhook_retry_schedule=(0.01, 0.01)) as server,
        server.client() as client,
    ):
        old = server.webhook_secret
        assert old is not None
        client.rooms.create(name="logged")
        wait_until(lambda: len(receiver.delivered()) == 1 and settled(server), "a delivery")
        new = server.rotate_webhook_secret()
        join(server, client, "logged", "ann")
        wait_until(lambda: len(receiver.delivered()) == 2 and settled(server), "a delivery")
        assert server._app is not None
        texts = [repr(server._app), repr(server._app.webhooks), repr(server._config)]
    webhook_logs = [r for r in caplog.records if r.name == "baxcloud.server.webhooks"]
    assert webhook_logs, "the delivery worker logged nothing at DEBUG"
    assert any("retrying" in r.getMessage() for r in webhook_logs)
    texts += [caplog.text] + [r.getMessage() for r in caplog.records]
    signatures = [r.headers["webhook-signature"] for r in receiver.requests]
    for text in texts:
        for secret in (old, new):
            assert secret not in text
            assert secret.removeprefix("whsec_") not in text
        for signature in signatures:
            for entry in signature.split(" "):
                assert entry.removeprefix("v1,") not in text


# ---- configuration, CLI and the HTTP surface ---------------------------------------------


def test_config_and_cli_options() -> None:
    config = ServerConfig(webhook_urls=["http://127.0.0.1:9/a", "https://example.com/b"])
    assert config.webhook_urls == ("http://127.0.0.1:9/a", "https://example.com/b")
    assert ServerConfig(webhook_urls="http://x/y").webhook_urls == ("http://x/y",)
    assert ServerConfig().webhook_retry_schedule == (0.1, 0.5, 2.0, 5.0, 10.0)
    assert ServerConfig().webhook_timeout == 5.0
    for bad in ("ftp://example.com", "http://", "example.com/hook", "http://a b/"):
        with pytest.raises(ValueError, match="webhook_urls"):
            ServerConfig(webhook_urls=[bad])
    with pytest.raises(ValueError, match="webhook_retry_schedule"):
        ServerConfig(webhook_retry_schedule=(1.0, -1.0))
    with pytest.raises(ValueError, match="webhook_timeout"):
        ServerConfig(webhook_timeout=0)

    args = build_parser().parse_args(
        ["dev", "--webhook-url", "http://127.0.0.1:1/a", "--webhook-url", "http://127.0.0.1:1/b"]
    )
    assert args.webhook_url == ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b"]
    assert build_parser().parse_args(["dev"]).webhook_url is None


def test_cli_rejects_a_bad_webhook_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", "--webhook-url", "ftp://example.com/x"]) == 2
    assert "webhook_urls[0]" in capsys.readouterr().err


async def test_dev_endpoints_over_http() -> None:
    app = LocalBaxCloudApp(ServerConfig(webhook_urls=["http://127.0.0.1:9/configured"]))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://local",
            headers={"Authorization": f"Bearer {app.api_key}"},
        ) as http:
            listed = (await http.get("/_dev/webhook-endpoints")).json()["items"]
            assert [e["url"] for e in listed] == ["http://127.0.0.1:9/configured"]
            created = await http.post("/_dev/webhook-endpoints", json={"url": "http://h/x"})
            assert created.status_code == 201
            again = await http.post("/_dev/webhook-endpoints", json={"url": "http://h/x"})
            assert again.status_code == 200 and again.json() == created.json()
            unknown = await http.post("/_dev/webhook-endpoints", json={"url": "http://h", "x": 1})
            assert unknown.status_code == 400
            assert unknown.json()["error"]["code"] == "unknown_field"
            for body in ({}, {"url": "mailto:a@b"}, {"url": "http://h/" + "x" * 3000}):
                bad = await http.post("/_dev/webhook-endpoints", json=body)
                assert bad.status_code == 422, body
            assert (await http.post("/_dev/webhook-endpoints", json={"url": 5})).status_code == 400

            # Without a running worker (no lifespan here) events stay queued.
            await http.post("/v1/rooms", json={"name": "queued"})
            deliveries = (await http.get("/_dev/webhook-deliveries")).json()
            assert deliveries == {"items": [], "pending": 2}

            old = app.webhook_secret
            rotated = await http.post("/_dev/webhook-secret/rotate")
            assert rotated.status_code == 200
            body = rotated.json()
            assert body["webhookSecret"] == app.webhook_secret != old
            assert body["previousSecretExpiresAt"] >= int(time.time()) + 24 * 3600 - 5
            extra = await http.post("/_dev/webhook-secret/rotate", json={"secret": "x"})
            assert extra.status_code == 400

            # The OpenAPI document describes exactly these shapes.
            doc = (await http.get("/openapi.json")).json()
            schemas = doc["components"]["schemas"]
            endpoint = created.json()
            for value, name in [
                (endpoint, "WebhookEndpoint"),
                (body, "RotateWebhookSecretResponse"),
                (deliveries, "WebhookDeliveryList"),
            ]:
                assert set(value) == set(schemas[name]["properties"]), name
                assert set(schemas[name]["required"]) <= set(value), name
            request = schemas["AddWebhookEndpointRequest"]
            assert set(request["properties"]) == {f.name for f in URL_FIELDS}
    finally:
        app.close()


def test_delivery_items_match_the_openapi_schema() -> None:
    receiver = Receiver()
    with serve_asgi(receiver, path="/hooks") as url, LocalServer(webhook_urls=[url]) as server:
        server.client().rooms.create(name="schema")
        (item,) = wait_until(lambda: server.webhook_deliveries(), "a delivery")
        doc = httpx.get(f"{server.base_url}/openapi.json").json()
        schema = doc["components"]["schemas"]["WebhookDelivery"]
        assert set(item) == set(schema["properties"]) == set(schema["required"])
        assert item["outcome"] in schema["properties"]["outcome"]["enum"]
