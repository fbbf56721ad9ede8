"""Stream out (egress) and stream in (ingress) through both clients."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from helpers import collect, resolve

from baxcloud import (
    AutoStreamConfig,
    ConflictError,
    Egress,
    EgressStream,
    Ingress,
    NotFoundError,
    UnprocessableEntityError,
)
from baxcloud.testing import LocalServer

YOUTUBE = "rtmp://a.rtmp.youtube.com/live2/YT-SECRET-KEY-1234"
TWITCH = "rtmps://live.twitch.tv/app/TWITCH-SECRET-KEY-5678"
SECRETS = ("YT-SECRET-KEY-1234", "TWITCH-SECRET-KEY-5678")


async def room(client: Any, name: str) -> str:
    await resolve(client.rooms.create(name=name, empty_timeout=3600))
    return name


async def test_stream_and_record_lifecycle(
    media: Any, media_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="baxcloud")
    await room(media, "show")
    egress = await resolve(
        media.egress.start(
            room_name="show",
            mode="both",
            layout="grid",
            quality="1080p",
            file={"file_type": "MP4"},
            stream={"urls": [YOUTUBE, TWITCH]},
        )
    )
    assert isinstance(egress, Egress)
    assert egress.id.startswith("EG_")
    assert (egress.mode, egress.layout, egress.quality, egress.status) == (
        "both",
        "grid",
        "1080p",
        "starting",
    )
    assert egress.file is not None and egress.file.file_type == "MP4"
    assert egress.recording_id and egress.recording_id.startswith("rec_")
    assert egress.stream is not None
    assert egress.stream.urls == (
        "rtmp://a.rtmp.youtube.com/live2/****",
        "rtmps://live.twitch.tv/app/****",
    )
    media_server.advance_clock(1)
    active = await resolve(media.egress.get(egress.id))
    assert active.status == "active"
    assert active.stream is not None
    assert [d.status for d in active.stream.destinations] == ["active", "active"]
    with pytest.raises(ConflictError) as running:
        await resolve(media.egress.delete(egress.id))
    assert running.value.code == "egress_active"

    stopping = await resolve(media.egress.stop(egress.id))
    assert stopping.status == "ending"
    media_server.advance_clock(1)
    done = await resolve(media.egress.get(egress.id))
    assert done.status == "completed" and done.ended_at is not None
    assert done.stream is not None
    assert [d.status for d in done.stream.destinations] == ["finished", "finished"]
    recording = await resolve(media.recordings.get(egress.recording_id))
    assert recording.status == "completed"
    with pytest.raises(ConflictError) as inactive:
        await resolve(media.egress.stop(egress.id))
    assert inactive.value.code == "egress_not_active"

    assert await resolve(media.egress.delete(egress.id)) is None
    with pytest.raises(NotFoundError) as gone:
        await resolve(media.egress.get(egress.id))
    assert gone.value.code == "egress_not_found"

    texts = [r.getMessage() for r in caplog.records] + [repr(egress), repr(active), str(done)]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


async def test_stream_failure(media: Any, media_server: LocalServer) -> None:
    await room(media, "flaky")
    egress = await resolve(
        media.egress.start(room_name="flaky", mode="stream", stream=EgressStream(urls=[YOUTUBE]))
    )
    media_server.advance_clock(1)
    failed = media_server.fail_egress(egress.id, "rtmp handshake refused")
    assert failed.status == "failed"
    fetched = await resolve(media.egress.get(egress.id))
    assert fetched.error == "rtmp handshake refused"
    assert fetched.stream is not None
    assert [d.status for d in fetched.stream.destinations] == ["failed"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "stream"},
        {"mode": "record"},
        {"mode": "stream", "stream": {"urls": []}},
        {"mode": "stream", "stream": {"urls": [YOUTUBE] * 6}},
        {"mode": "stream", "stream": {"urls": ["http://example.com/live/key"]}},
    ],
)
async def test_invalid_egress_is_422(media: Any, kwargs: dict[str, Any]) -> None:
    await room(media, "bad")
    with pytest.raises(UnprocessableEntityError) as info:
        await resolve(media.egress.start(room_name="bad", **kwargs))
    assert info.value.code == "validation_failed"
    assert info.value.details


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "teleport", "file": {"file_type": "MP4"}}, "^mode must be one of"),
        ({"mode": "record", "file": {"file_type": "AVI"}}, r"^file\.file_type must be one of"),
        ({"mode": "record", "file": {"file_type": "MP4"}, "quality": "4k"}, "^quality must be"),
    ],
)
async def test_unknown_egress_settings_fail_before_sending(
    media: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await resolve(media.egress.start(room_name="bad", **kwargs))


async def test_egress_arguments_are_checked_locally(media: Any) -> None:
    with pytest.raises(TypeError, match="file_typ"):
        await resolve(media.egress.start(room_name="x", mode="record", file={"file_typ": "MP4"}))
    with pytest.raises(TypeError, match="stream"):
        await resolve(media.egress.start(room_name="x", mode="stream", stream="rtmp://x/y"))
    with pytest.raises(TypeError, match="urls"):
        await resolve(media.egress.start(room_name="x", mode="stream", stream={"urls": YOUTUBE}))
    with pytest.raises(ValueError, match="min_participants"):
        await resolve(media.egress.update_auto_stream_config(min_participants=0))


async def test_egress_list_filters(media: Any, media_server: LocalServer) -> None:
    for name in ("one", "two"):
        await room(media, name)
        await resolve(media.egress.start(room_name=name, mode="stream", stream={"urls": [YOUTUBE]}))
    media_server.advance_clock(1)
    first = await resolve(media.egress.list(limit=1))
    assert (first.total, first.has_more) == (2, True)
    assert [e.room_name for e in await collect(media.egress.list(limit=1))] == ["one", "two"]
    assert [e.room_name for e in await collect(media.egress.list(room_name="two"))] == ["two"]
    assert len(await collect(media.egress.list(status="active"))) == 2
    assert await collect(media.egress.list(status="completed")) == []


async def test_auto_stream_config_partial_update_and_trigger(
    media: Any, media_server: LocalServer
) -> None:
    default = await resolve(media.egress.get_auto_stream_config())
    assert default == AutoStreamConfig()
    updated = await resolve(
        media.egress.update_auto_stream_config(enabled=True, min_participants=2)
    )
    assert updated.enabled is True and updated.min_participants == 2
    assert (updated.mode, updated.quality, updated.layout) == ("record", "720p", "speaker")
    streaming = await resolve(
        media.egress.update_auto_stream_config(mode="stream", stream_urls=[TWITCH])
    )
    assert streaming.min_participants == 2 and streaming.enabled is True
    assert streaming.stream_urls == ("rtmps://live.twitch.tv/app/****",)
    assert "TWITCH-SECRET" not in repr(streaming)

    await room(media, "auto")
    for identity in ("a", "b", "c"):
        media_server.join(media.tokens.create(room_name="auto", participant_identity=identity))
        started = await collect(media.egress.list(room_name="auto"))
        assert len(started) == (0 if identity == "a" else 1)  # once per room session
    assert started[0].mode == "stream"


async def test_deleting_a_room_stops_its_egress(media: Any, media_server: LocalServer) -> None:
    await room(media, "doomed")
    egress = await resolve(
        media.egress.start(room_name="doomed", mode="record", file={"file_type": "WEBM"})
    )
    media_server.advance_clock(1)
    await resolve(media.rooms.delete("doomed"))
    media_server.advance_clock(1)
    stopped = await resolve(media.egress.get(egress.id))
    assert stopped.status in ("ending", "completed")


async def test_rtmp_and_whip_ingress(media: Any, media_server: LocalServer) -> None:
    await room(media, "stage")
    rtmp = await resolve(
        media.ingress.create(
            input_type="RTMP_INPUT",
            room_name="stage",
            participant_identity="obs-streamer",
            participant_name="OBS Studio",
            enable_transcoding=True,
        )
    )
    assert isinstance(rtmp, Ingress)
    assert rtmp.id.startswith("IN_") and rtmp.status == "INACTIVE"
    assert rtmp.rtmps_url and rtmp.rtmps_url.startswith("rtmps://")
    assert rtmp.stream_key and rtmp.stream_key != "****"
    assert rtmp.stream_key not in repr(rtmp)
    whip = await resolve(
        media.ingress.create(
            input_type="WHIP_INPUT",
            room_name="stage",
            participant_identity="whip-streamer",
            bypass_transcoding=True,
        )
    )
    assert whip.whip_url and whip.token and whip.token not in repr(whip)
    assert whip.bypass_transcoding is True

    live = media_server.connect_ingress(rtmp.id)
    assert live.status in ("BUFFERING", "ACTIVE")
    media_server.advance_clock(1)
    assert (await resolve(media.ingress.get(rtmp.id))).status == "ACTIVE"
    streamer = await resolve(media.participants.get("stage", "obs-streamer"))
    assert streamer.name == "OBS Studio"

    media_server.disconnect_ingress(rtmp.id)
    with pytest.raises(NotFoundError):
        await resolve(media.participants.get("stage", "obs-streamer"))

    media_server.connect_ingress(whip.id)
    failed = media_server.fail_ingress(whip.id, "bad codec")
    assert failed.status == "ERROR" and failed.error == "bad codec"

    listed = await collect(media.ingress.list(room_name="stage", limit=1))
    assert [i.id for i in listed] == [rtmp.id, whip.id]
    media_server.connect_ingress(rtmp.id)
    assert await resolve(media.ingress.delete(rtmp.id)) is None
    with pytest.raises(NotFoundError) as gone:
        await resolve(media.ingress.get(rtmp.id))
    assert gone.value.code == "ingress_not_found"
    ended = [e for e in media_server.events() if e["event"] == "live.ended"]
    assert rtmp.id in [e["data"]["ingressId"] for e in ended]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_type": "RTMP_INPUT", "bypass_transcoding": True},
        {"input_type": "WHIP_INPUT", "bypass_transcoding": True, "enable_transcoding": True},
    ],
)
async def test_invalid_ingress_is_422(media: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(UnprocessableEntityError):
        await resolve(media.ingress.create(room_name="stage", participant_identity="p", **kwargs))


async def test_an_unknown_input_type_fails_before_sending(media: Any) -> None:
    with pytest.raises(ValueError, match=r"^input_type must be one of 'RTMP_INPUT', 'WHIP_INPUT'"):
        await resolve(
            media.ingress.create(room_name="stage", participant_identity="p", input_type="SRT")
        )
    whip = await resolve(
        media.ingress.create(room_name="stage", participant_identity="w", input_type="whip_input")
    )
    assert whip.input_type == "WHIP_INPUT"
