"""Bad input to every public method: a clear TypeError/ValueError before any request,
or the server's typed 4xx (400/422); never an unrelated exception (AttributeError,
KeyError, cattrs or httpx errors) and never a request for input the client can judge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from helpers import close_with_users_client, resolve

from baxcloud import (
    BadRequestError,
    NotFoundError,
    TokenVerificationError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from baxcloud.testing import LocalServer

BIG = "x" * 70_000
LONG = "n" * 300


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.count = 0
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def bad_server() -> Any:
    with LocalServer() as server:
        with server.client() as setup:
            setup.rooms.create(name="r")
        yield server


@pytest.fixture(params=["sync", "async"])
async def counted(request: pytest.FixtureRequest, bad_server: LocalServer) -> AsyncIterator[Any]:
    transport = CountingTransport()
    http = httpx.AsyncClient(transport=transport)
    factory = bad_server.client if request.param == "sync" else bad_server.async_client
    client = factory(http_client=http, max_retries=0)
    try:
        yield client, transport
    finally:
        await close_with_users_client(client, http)


Case = tuple[str, Callable[[Any], Any]]

CASES: list[Case] = [
    # rooms
    ("rooms.create name int", lambda c: c.rooms.create(name=123)),
    ("rooms.create name empty", lambda c: c.rooms.create(name="")),
    ("rooms.create name long", lambda c: c.rooms.create(name=LONG)),
    ("rooms.create name control", lambda c: c.rooms.create(name="a\x00b")),
    ("rooms.create max_participants -1", lambda c: c.rooms.create(name="a", max_participants=-1)),
    ("rooms.create max_participants str", lambda c: c.rooms.create(name="a", max_participants="5")),
    (
        "rooms.create max_participants bool",
        lambda c: c.rooms.create(name="a", max_participants=True),
    ),
    (
        "rooms.create max_participants huge",
        lambda c: c.rooms.create(name="a", max_participants=10**9),
    ),
    ("rooms.create empty_timeout -5", lambda c: c.rooms.create(name="a", empty_timeout=-5)),
    ("rooms.create empty_timeout float", lambda c: c.rooms.create(name="a", empty_timeout=1.5)),
    ("rooms.create empty_timeout huge", lambda c: c.rooms.create(name="a", empty_timeout=10**9)),
    ("rooms.create metadata object", lambda c: c.rooms.create(name="a", metadata=object())),
    ("rooms.create metadata big", lambda c: c.rooms.create(name="a", metadata=BIG)),
    (
        "rooms.create metadata unserialisable",
        lambda c: c.rooms.create(name="a", metadata={"x": object()}),
    ),
    (
        "rooms.create enable_recording str",
        lambda c: c.rooms.create(name="a", enable_recording="yes"),
    ),
    ("rooms.get None", lambda c: c.rooms.get(None)),
    ("rooms.get empty", lambda c: c.rooms.get("")),
    ("rooms.get int", lambda c: c.rooms.get(5)),
    ("rooms.get long", lambda c: c.rooms.get(LONG)),
    ("rooms.list page 0", lambda c: c.rooms.list(page=0)),
    ("rooms.list page -1", lambda c: c.rooms.list(page=-1)),
    ("rooms.list limit 0", lambda c: c.rooms.list(limit=0)),
    ("rooms.list limit 101", lambda c: c.rooms.list(limit=101)),
    ("rooms.list limit str", lambda c: c.rooms.list(limit="10")),
    ("rooms.list page float", lambda c: c.rooms.list(page=1.5)),
    ("rooms.delete None", lambda c: c.rooms.delete(None)),
    ("rooms.delete empty", lambda c: c.rooms.delete("")),
    ("rooms.update_metadata None", lambda c: c.rooms.update_metadata("r", None)),
    ("rooms.update_metadata int", lambda c: c.rooms.update_metadata("r", 5)),
    ("rooms.update_metadata big", lambda c: c.rooms.update_metadata("r", BIG)),
    ("rooms.update_metadata empty name", lambda c: c.rooms.update_metadata("", "m")),
    # tokens
    ("tokens.create room empty", lambda c: c.tokens.create(room_name="", participant_identity="a")),
    (
        "tokens.create identity int",
        lambda c: c.tokens.create(room_name="r", participant_identity=5),
    ),
    (
        "tokens.create ttl 0",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", ttl=0),
    ),
    (
        "tokens.create ttl -1",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", ttl=-1),
    ),
    (
        "tokens.create ttl huge",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", ttl=10**12),
    ),
    (
        "tokens.create ttl str",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", ttl="60"),
    ),
    (
        "tokens.create grant unknown",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", grants={"bogus": True}),
    ),
    (
        "tokens.create grant type",
        lambda c: c.tokens.create(
            room_name="r", participant_identity="a", grants={"can_publish": "yes"}
        ),
    ),
    (
        "tokens.create grants int",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", grants=5),
    ),
    (
        "tokens.create sources",
        lambda c: c.tokens.create(
            room_name="r", participant_identity="a", grants={"can_publish_sources": "camera"}
        ),
    ),
    (
        "tokens.create metadata object",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", metadata=object()),
    ),
    (
        "tokens.create name int",
        lambda c: c.tokens.create(room_name="r", participant_identity="a", participant_name=5),
    ),
    ("tokens.verify int", lambda c: c.tokens.verify(5)),
    ("tokens.verify empty", lambda c: c.tokens.verify("")),
    ("tokens.verify garbage", lambda c: c.tokens.verify("a.b.c")),
    # participants
    ("participants.list None", lambda c: c.participants.list(None)),
    ("participants.list limit 0", lambda c: c.participants.list("r", limit=0)),
    ("participants.list page -3", lambda c: c.participants.list("r", page=-3)),
    ("participants.get empty", lambda c: c.participants.get("", "a")),
    ("participants.get identity None", lambda c: c.participants.get("r", None)),
    ("participants.remove int", lambda c: c.participants.remove(5, "a")),
    ("participants.update_metadata int", lambda c: c.participants.update_metadata("r", "a", 5)),
    ("participants.update_metadata big", lambda c: c.participants.update_metadata("r", "a", BIG)),
    # recordings
    ("recordings.start None", lambda c: c.recordings.start(room_name=None)),
    ("recordings.start file_type", lambda c: c.recordings.start(room_name="r", file_type="AVI")),
    ("recordings.start file_type int", lambda c: c.recordings.start(room_name="r", file_type=4)),
    ("recordings.stop None", lambda c: c.recordings.stop(None)),
    ("recordings.stop empty", lambda c: c.recordings.stop("")),
    ("recordings.list status", lambda c: c.recordings.list(status="bogus")),
    ("recordings.list status int", lambda c: c.recordings.list(status=3)),
    ("recordings.list limit", lambda c: c.recordings.list(limit=-2)),
    ("recordings.list_active int", lambda c: c.recordings.list_active(5)),
    ("recordings.get None", lambda c: c.recordings.get(None)),
    (
        "recordings.get_download_url 0",
        lambda c: c.recordings.get_download_url("rec_x", expires_in=0),
    ),
    (
        "recordings.get_download_url -1",
        lambda c: c.recordings.get_download_url("rec_x", expires_in=-1),
    ),
    (
        "recordings.get_download_url str",
        lambda c: c.recordings.get_download_url("rec_x", expires_in="60"),
    ),
    (
        "recordings.get_download_url huge",
        lambda c: c.recordings.get_download_url("rec_x", expires_in=10**9),
    ),
    ("recordings.download destination int", lambda c: c.recordings.download("rec_x", 5)),
    (
        "recordings.download progress str",
        lambda c: c.recordings.download("rec_x", "/tmp/x", progress="p"),
    ),
    ("recordings.download id None", lambda c: c.recordings.download(None, "/tmp/x")),
    # egress
    ("egress.start mode", lambda c: c.egress.start(room_name="r", mode="bogus")),
    ("egress.start mode int", lambda c: c.egress.start(room_name="r", mode=1)),
    (
        "egress.start room None",
        lambda c: c.egress.start(room_name=None, mode="record", file={"file_type": "MP4"}),
    ),
    ("egress.start file int", lambda c: c.egress.start(room_name="r", mode="record", file=5)),
    (
        "egress.start file key",
        lambda c: c.egress.start(room_name="r", mode="record", file={"bogus": 1}),
    ),
    (
        "egress.start file type",
        lambda c: c.egress.start(room_name="r", mode="record", file={"file_type": "AVI"}),
    ),
    (
        "egress.start urls str",
        lambda c: c.egress.start(room_name="r", mode="stream", stream={"urls": "rtmp://x/a/b"}),
    ),
    (
        "egress.start urls empty",
        lambda c: c.egress.start(room_name="r", mode="stream", stream={"urls": []}),
    ),
    (
        "egress.start urls bad",
        lambda c: c.egress.start(room_name="r", mode="stream", stream={"urls": ["ftp://x"]}),
    ),
    ("egress.start stream int", lambda c: c.egress.start(room_name="r", mode="stream", stream=7)),
    (
        "egress.start layout int",
        lambda c: c.egress.start(room_name="r", mode="record", file={"file_type": "MP4"}, layout=5),
    ),
    (
        "egress.start quality",
        lambda c: c.egress.start(
            room_name="r", mode="record", file={"file_type": "MP4"}, quality="4k"
        ),
    ),
    ("egress.stop None", lambda c: c.egress.stop(None)),
    ("egress.get empty", lambda c: c.egress.get("")),
    ("egress.delete int", lambda c: c.egress.delete(5)),
    ("egress.list status int", lambda c: c.egress.list(status=5)),
    ("egress.list status", lambda c: c.egress.list(status="bogus")),
    ("egress.list limit", lambda c: c.egress.list(limit=1000)),
    ("egress.auto enabled str", lambda c: c.egress.update_auto_stream_config(enabled="yes")),
    ("egress.auto min -1", lambda c: c.egress.update_auto_stream_config(min_participants=-1)),
    ("egress.auto min str", lambda c: c.egress.update_auto_stream_config(min_participants="2")),
    (
        "egress.auto urls str",
        lambda c: c.egress.update_auto_stream_config(stream_urls="rtmp://x/a/b"),
    ),
    ("egress.auto urls int", lambda c: c.egress.update_auto_stream_config(stream_urls=[5])),
    ("egress.auto mode", lambda c: c.egress.update_auto_stream_config(mode="x")),
    ("egress.auto file_type", lambda c: c.egress.update_auto_stream_config(file_type="AVI")),
    # ingress
    (
        "ingress.create type",
        lambda c: c.ingress.create(input_type="bogus", room_name="r", participant_identity="a"),
    ),
    (
        "ingress.create type int",
        lambda c: c.ingress.create(input_type=1, room_name="r", participant_identity="a"),
    ),
    (
        "ingress.create room empty",
        lambda c: c.ingress.create(input_type="RTMP_INPUT", room_name="", participant_identity="a"),
    ),
    (
        "ingress.create identity None",
        lambda c: c.ingress.create(
            input_type="RTMP_INPUT", room_name="r", participant_identity=None
        ),
    ),
    (
        "ingress.create transcoding str",
        lambda c: c.ingress.create(
            input_type="RTMP_INPUT",
            room_name="r",
            participant_identity="a",
            enable_transcoding="yes",
        ),
    ),
    (
        "ingress.create bypass rtmp",
        lambda c: c.ingress.create(
            input_type="RTMP_INPUT",
            room_name="r",
            participant_identity="a",
            bypass_transcoding=True,
        ),
    ),
    ("ingress.list room int", lambda c: c.ingress.list(room_name=5)),
    ("ingress.list page 0", lambda c: c.ingress.list(page=0)),
    ("ingress.get None", lambda c: c.ingress.get(None)),
    ("ingress.delete empty", lambda c: c.ingress.delete("")),
    # webhooks
    ("webhooks.verify payload int", lambda c: c.webhooks.verify(5, {}, secret="whsec_" + "A" * 44)),
    (
        "webhooks.verify headers None",
        lambda c: c.webhooks.verify("{}", None, secret="whsec_" + "A" * 44),
    ),
    ("webhooks.verify secret int", lambda c: c.webhooks.verify("{}", {}, secret=5)),
    (
        "webhooks.verify tolerance",
        lambda c: c.webhooks.verify("{}", {}, secret="whsec_" + "A" * 44, tolerance=-1),
    ),
    # per-call options
    ("options timeout str", lambda c: c.rooms.get("r", timeout="fast")),
    ("options max_retries -1", lambda c: c.rooms.get("r", max_retries=-1)),
    ("options idempotency_key empty", lambda c: c.rooms.create(name="ik", idempotency_key="")),
    (
        "options idempotency_key long",
        lambda c: c.rooms.create(name="ik", idempotency_key="k" * 300),
    ),
    (
        "options idempotency_key control",
        lambda c: c.rooms.create(name="ik", idempotency_key="a\nb"),
    ),
    ("options extra_headers", lambda c: c.rooms.get("r", extra_headers=5)),
    ("options unknown", lambda c: c.rooms.get("r", bogus_option=1)),
]

CLIENT_SIDE = (TypeError, ValueError)
SERVER_SIDE = (BadRequestError, UnprocessableEntityError)
# A lookup by a name longer than any room's answers 404, like any unknown name.
LOOKUPS_OF_IMPOSSIBLE_NAMES = {"rooms.get long"}
# Documented errors of the local (no-network) verifiers.
LOCAL_VERIFICATION = (TokenVerificationError, WebhookVerificationError)


async def raised_by(client: Any, call: Callable[[Any], Any]) -> BaseException | None:
    try:
        result = call(client)
        if hasattr(result, "__aiter__") or hasattr(result, "__await__"):
            await resolve(result)
    except BaseException as exc:
        return exc
    return None


@pytest.mark.parametrize(("label", "call"), CASES, ids=[label for label, _ in CASES])
async def test_bad_input_fails_clearly(
    counted: Any, label: str, call: Callable[[Any], Any]
) -> None:
    client, transport = counted
    before = transport.count
    exc = await raised_by(client, call)
    if exc is None:
        pytest.fail(f"{label}: accepted")
    elif isinstance(exc, CLIENT_SIDE + LOCAL_VERIFICATION):
        assert str(exc), f"{label}: an error without a message"
        if isinstance(exc, CLIENT_SIDE):
            assert transport.count == before, f"{label}: {exc!r} raised after a request was sent"
    elif isinstance(exc, NotFoundError):  # a name no room can have simply names no room
        assert label in LOOKUPS_OF_IMPOSSIBLE_NAMES, f"{label}: {exc!r}"
    elif isinstance(exc, SERVER_SIDE):
        assert transport.count > before
        assert exc.code in {"invalid_request", "unknown_field", "validation_failed"}
    else:
        pytest.fail(f"{label}: unrelated {type(exc).__module__}.{type(exc).__name__}: {exc}")
