"""Secrets sweep: no secret in any log record, error text or returned object's repr/str.

Every public method of both clients (all namespaces) and the LocalServer
simulation calls run at DEBUG logging (root, `baxcloud`, `httpx`, `httpcore`),
errors included. The API key's secret part, RTMP stream keys (egress and
auto-stream URLs), the ingress stream key and WHIP token, the webhook secret
and every minted token must appear nowhere but in the attribute values
themselves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from helpers import collect, either_client, resolve

import baxcloud
from baxcloud import AsyncBaxCloud, BaxCloud, BaxCloudError
from baxcloud.testing import LocalServer

STREAM_KEYS = ["liveKEYyoutube0123456789abcdef", "liveKEYtwitch9876543210zyxwvu"]
URLS = [
    f"rtmp://a.rtmp.youtube.com/live2/{STREAM_KEYS[0]}",
    f"rtmps://live.twitch.tv/app/{STREAM_KEYS[1]}",
]
AUTO_KEY = "autoKEYfacebook55555555555555"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        self.texts.append(repr(record.args))


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    names = ["baxcloud", "baxcloud.server", "httpx", "httpcore", "uvicorn", "uvicorn.error"]
    levels = {name: logging.getLogger(name).level for name in names}
    old_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_root)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, media_server: LocalServer) -> AsyncIterator[Any]:
    async with either_client(media_server, request.param) as either:
        yield either


class Sweep:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.errors = 0
        self.secrets: set[str] = set()

    def look(self, value: Any) -> Any:
        self.texts += [repr(value), str(value)]
        if isinstance(value, (list, tuple)):
            for item in value:
                self.look(item)
        return value

    def look_error(self, exc: BaseException) -> None:
        self.errors += 1
        seen: BaseException | None = exc
        while seen is not None:
            self.texts += [str(seen), repr(seen), repr(seen.args)]
            seen = seen.__cause__ or seen.__context__

    async def call(self, thunk: Callable[[], Any], *, fails: bool = False) -> Any:
        try:
            result = await resolve(thunk())
        except (BaxCloudError, TypeError, ValueError) as exc:
            if not fails:
                raise
            self.look_error(exc)
            return None
        assert not fails, "expected an error"
        return self.look(result)


async def test_every_public_method_keeps_secrets(
    client: Any, media_server: LocalServer, capture: Capture, tmp_path: Path
) -> None:
    s = Sweep()
    server = media_server
    api_secret = server.api_key.rsplit("_", 1)[1]
    webhook_secret = server.webhook_secret
    assert webhook_secret is not None
    s.secrets |= {api_secret, webhook_secret, webhook_secret.removeprefix("whsec_"), *STREAM_KEYS}
    s.secrets.add(AUTO_KEY)
    s.look(client)
    s.look(server)

    # rooms
    room = await s.call(
        lambda: client.rooms.create(name="sweep", empty_timeout=3600, metadata={"a": 1})
    )
    await s.call(lambda: client.rooms.create(name="sweep"), fails=True)
    await s.call(lambda: client.rooms.get("sweep"))
    await s.call(lambda: client.rooms.get("nope"), fails=True)
    s.look(await collect(client.rooms.list(limit=1)))
    await s.call(lambda: client.rooms.list(limit=1))
    await s.call(lambda: client.rooms.update_metadata("sweep", "meta"))
    assert room is not None

    # tokens (and the simulation surface)
    token = client.tokens.create(room_name="sweep", participant_identity="ann", ttl=600)
    other = client.tokens.create(
        room_name="sweep", participant_identity="bob", grants={"can_publish": False}
    )
    s.secrets |= {token.token, other.token}
    s.look(token)
    s.look(client.tokens.verify(token.token))
    await s.call(lambda: client.tokens.verify(token.token[:-4] + "AAAA"), fails=True)
    await s.call(lambda: client.tokens.verify(token.token + "x"), fails=True)
    s.look(server.join(token))
    s.look(server.join(other))
    s.look(server.publish_track("sweep", "ann", kind="video"))
    track = server.publish_track("sweep", "ann", kind="audio")
    server.unpublish_track("sweep", "ann", track.sid)
    await s.call(lambda: server.publish_track("sweep", "bob"), fails=True)
    s.look(server.events())
    s.look(server.faults())

    # participants
    s.look(await collect(client.participants.list("sweep")))
    await s.call(lambda: client.participants.get("sweep", "ann"))
    await s.call(lambda: client.participants.get("sweep", "zed"), fails=True)
    await s.call(lambda: client.participants.update_metadata("sweep", "ann", "m"))
    await s.call(lambda: client.participants.remove("sweep", "bob"))
    await s.call(lambda: client.participants.remove("sweep", "bob"), fails=True)

    # egress with stream keys in the URLs (and bad ones, which the server rejects)
    egress = await s.call(
        lambda: client.egress.start(room_name="sweep", mode="stream", stream={"urls": URLS})
    )
    await s.call(
        lambda: client.egress.start(
            room_name="sweep", mode="stream", stream={"urls": [f"http://x.test/{STREAM_KEYS[0]}"]}
        ),
        fails=True,
    )
    await s.call(
        lambda: client.egress.start(room_name="nope", mode="stream", stream={"urls": URLS}),
        fails=True,
    )
    server.advance_clock(1)
    await s.call(lambda: client.egress.get(egress.id))
    s.look(await collect(client.egress.list()))
    await s.call(lambda: client.egress.stop(egress.id))
    await s.call(lambda: client.egress.delete(egress.id), fails=True)
    server.advance_clock(1)
    await s.call(lambda: client.egress.delete(egress.id))
    await s.call(lambda: client.egress.get_auto_stream_config())
    await s.call(
        lambda: client.egress.update_auto_stream_config(
            enabled=True, mode="stream", stream_urls=[f"rtmp://live.fb.test/app/{AUTO_KEY}"]
        )
    )
    await s.call(lambda: client.egress.get_auto_stream_config())
    await s.call(
        lambda: client.egress.update_auto_stream_config(
            enabled=False, mode="stream", stream_urls=[]
        )
    )

    # recordings (including download and failures)
    rec = await s.call(lambda: client.recordings.start(room_name="sweep"))
    server.advance_clock(1)
    server.advance_clock(5)
    await s.call(lambda: client.recordings.list_active("sweep"))
    await s.call(lambda: client.recordings.stop(rec.egress_id))
    server.advance_clock(1)
    await s.call(lambda: client.recordings.get(rec.id))
    await s.call(lambda: client.recordings.get("rec_nope"), fails=True)
    s.look(await collect(client.recordings.list(status="completed")))
    await s.call(lambda: client.recordings.get_download_url(rec.id, expires_in=60))
    target = tmp_path / "rec.mp4"
    await s.call(lambda: client.recordings.download(rec.id, target))
    assert target.stat().st_size > 0
    await s.call(lambda: client.recordings.download("rec_nope", tmp_path / "x"), fails=True)
    failing = await s.call(
        lambda: client.egress.start(room_name="sweep", mode="stream", stream={"urls": URLS})
    )
    server.advance_clock(1)
    s.look(server.fail_egress(failing.id, "network down"))

    # ingress: the create answer holds the stream key / WHIP token
    rtmp = await s.call(
        lambda: client.ingress.create(
            input_type="RTMP_INPUT", room_name="sweep", participant_identity="obs"
        )
    )
    whip = await s.call(
        lambda: client.ingress.create(
            input_type="WHIP_INPUT", room_name="sweep", participant_identity="web"
        )
    )
    assert rtmp.stream_key and whip.token
    s.secrets |= {rtmp.stream_key, whip.token}
    await s.call(lambda: client.ingress.get(rtmp.id))
    s.look(await collect(client.ingress.list(room_name="sweep")))
    s.look(server.connect_ingress(rtmp.id))
    server.advance_clock(1)
    s.look(server.disconnect_ingress(rtmp.id))
    s.look(server.connect_ingress(whip.id))
    s.look(server.fail_ingress(whip.id, "boom"))
    await s.call(lambda: client.ingress.delete(rtmp.id))
    await s.call(lambda: client.ingress.get(rtmp.id), fails=True)
    await s.call(
        lambda: client.ingress.create(
            input_type="NOPE", room_name="sweep", participant_identity="x"
        ),
        fails=True,
    )

    # webhooks.verify, success and every kind of failure
    payload = json.dumps(
        {
            "id": "evt_1",
            "event": "room.started",
            "createdAt": 1,
            "data": {"roomName": "x", "roomSid": "RM_x"},
        }
    )
    headers = baxcloud.webhooks.sign(payload, webhook_secret, msg_id="evt_1")
    s.look(client.webhooks.verify(payload, headers))
    wrong = "whsec_" + "A" * 44
    for bad_payload, bad_headers, secret in [
        (payload + " ", headers, None),
        (payload, {**headers, "webhook-signature": "v1,AAAA"}, None),
        (payload, headers, wrong),
        (payload, {}, None),
        (payload, {**headers, "webhook-timestamp": "1"}, None),
        ("not json", baxcloud.webhooks.sign("not json", webhook_secret), None),
    ]:
        await s.call(
            partial(client.webhooks.verify, bad_payload, bad_headers, secret=secret),
            fails=True,
        )
    await s.call(
        lambda: client.webhooks.verify(payload, headers, secret="not-a-secret"), fails=True
    )

    # deleting, and clients built with malformed keys that embed the secret
    await s.call(lambda: client.rooms.delete("sweep"))
    await s.call(lambda: client.rooms.delete("sweep"), fails=True)
    for cls in (AsyncBaxCloud, BaxCloud):
        await s.call(partial(cls, api_key=f"bax_sk_{api_secret}", base_url="http://x"), fails=True)
        await s.call(
            partial(cls, api_key=f"bax_xx_abcd_{api_secret}", base_url="http://x"), fails=True
        )

    assert s.errors >= 25
    logged = capture.texts
    assert any("POST /v1/rooms" in text for text in logged)  # DEBUG logging did happen
    assert any(text.startswith("httpx ") for text in logged)
    texts = s.texts + logged
    for secret in s.secrets:
        assert len(secret) >= 16
        leaks = [text for text in texts if secret in text]
        assert leaks == [], f"secret of {len(secret)} chars leaked: {leaks[:3]}"
