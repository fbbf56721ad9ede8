"""Recordings, egress, ingress and downloads on the local server, over raw HTTP."""

from __future__ import annotations

import asyncio
import json
import pathlib
import struct
import threading
import time
import tracemalloc
from collections.abc import Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from helpers import asgi_client

from baxcloud._core.api_key import parse_api_key
from baxcloud._core.tokens import mint_token
from baxcloud._server import LocalBaxCloudApp, ServerConfig, _files, create_uvicorn_server
from baxcloud._server.handlers import egress, ingress, recordings, simulation

T0 = 1_764_460_800.0
BPS = 1000
KEY1 = "SECRETKEY1abc"
KEY2 = "SECRETKEY2xyz"
URL1 = f"rtmp://a.rtmp.youtube.com/live2/{KEY1}"
URL2 = f"rtmps://live.twitch.tv:443/app/{KEY2}"
RED1 = "rtmp://a.rtmp.youtube.com/live2/****"
RED2 = "rtmps://live.twitch.tv:443/app/****"


def make_app(**overrides: Any) -> LocalBaxCloudApp:
    config: dict[str, Any] = {
        "manual_clock": True,
        "start_time": T0,
        "egress_start_delay": 1.0,
        "egress_stop_delay": 2.0,
        "recording_bytes_per_second": BPS,
        **overrides,
    }
    return LocalBaxCloudApp(ServerConfig(**config))


@pytest.fixture
def app() -> Iterator[LocalBaxCloudApp]:
    server = make_app()
    yield server
    server.close()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["requestId"] == response.headers["x-request-id"]
    return dict(error)


def detail_fields(error: dict[str, Any]) -> list[str]:
    return [d["field"] for d in error["details"]]


def make_token(app: LocalBaxCloudApp, room: str, identity: str) -> str:
    parsed = parse_api_key(app.api_key)
    token, _ = mint_token(
        key_id=parsed.key_id,
        secret=parsed.secret,
        identity=identity,
        name="",
        video={"room": room, "roomJoin": True},
        ttl=10 * 24 * 3600,
        metadata="",
        now=T0,
    )
    return token


async def join(client: httpx.AsyncClient, app: LocalBaxCloudApp, room: str, who: str) -> None:
    response = await client.post("/_dev/join", json={"token": make_token(app, room, who)})
    assert response.status_code == 201, response.text


async def leave(client: httpx.AsyncClient, room: str, who: str) -> None:
    response = await client.post("/_dev/leave", json={"roomName": room, "identity": who})
    assert response.status_code == 204, response.text


async def events(client: httpx.AsyncClient, name: str | None = None) -> list[dict[str, Any]]:
    response = await client.get("/_dev/events", params={"event": name} if name else None)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def event_names(client: httpx.AsyncClient, prefixes: tuple[str, ...]) -> list[str]:
    return [e["event"] for e in await events(client) if e["event"].startswith(prefixes)]


async def advance(client: httpx.AsyncClient, seconds: float) -> None:
    response = await client.post("/_dev/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


async def room(client: httpx.AsyncClient, name: str = "r") -> dict[str, Any]:
    response = await client.post("/v1/rooms", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def start_recording(
    client: httpx.AsyncClient, room_name: str = "r", **extra: Any
) -> dict[str, Any]:
    response = await client.post("/v1/recordings", json={"roomName": room_name, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def completed_recording(
    client: httpx.AsyncClient, seconds: float, file_type: str = "MP4", room_name: str = "r"
) -> dict[str, Any]:
    """Create the room, record `seconds` of it, and wait until the file is there."""
    if (await client.get(f"/v1/rooms/{room_name}")).status_code == 404:
        created = await client.post("/v1/rooms", json={"name": room_name, "emptyTimeout": 604800})
        assert created.status_code == 201
    rec = await start_recording(client, room_name, fileType=file_type)
    await advance(client, 1)
    await advance(client, seconds)
    stopped = await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]})
    assert stopped.status_code == 200, stopped.text
    await advance(client, 2)
    done = await get(client, f"/v1/recordings/{rec['id']}")
    assert done["status"] == "completed"
    return done


async def download_url(client: httpx.AsyncClient, rec_id: str, **params: Any) -> str:
    query = str(httpx.QueryParams(params))
    body = await get(client, f"/v1/recordings/{rec_id}/download-url?{query}")
    url: str = body["downloadUrl"]
    return url


def assert_no_secrets(value: Any) -> None:
    text = json.dumps(value)
    for secret in (KEY1, KEY2, "hunter2", "tok=abc"):
        assert secret not in text, text


# ---- recordings lifecycle -----------------------------------------------------------------


async def test_recording_lifecycle(app: LocalBaxCloudApp, client: httpx.AsyncClient) -> None:
    await room(client)
    rec = await start_recording(client)
    assert rec == {
        "id": rec["id"],
        "egressId": rec["egressId"],
        "roomName": "r",
        "status": "starting",
        "fileType": "MP4",
        "filename": None,
        "sizeBytes": None,
        "durationSeconds": None,
        "error": None,
        "startedAt": None,
        "endedAt": None,
        "createdAt": int(T0),
    }
    assert rec["id"].startswith("rec_")
    assert rec["egressId"].startswith("EG_")
    eg = await get(client, f"/v1/egress/{rec['egressId']}")
    assert (eg["mode"], eg["status"], eg["recordingId"]) == ("record", "starting", rec["id"])
    assert eg["file"] == {"fileType": "MP4"}
    assert eg["stream"] is None
    assert (await get(client, "/v1/rooms/r"))["activeRecording"] is True

    await advance(client, 0.5)
    assert (await get(client, f"/v1/recordings/{rec['id']}"))["status"] == "starting"
    await advance(client, 0.5)
    active = await get(client, f"/v1/recordings/{rec['id']}")
    assert (active["status"], active["startedAt"]) == ("active", int(T0 + 1))

    await advance(client, 12.25)
    stopped = await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]})
    assert stopped.status_code == 200
    ending = stopped.json()
    assert (ending["status"], ending["endedAt"], ending["filename"]) == (
        "ending",
        int(T0 + 13.25),
        None,
    )
    assert (await get(client, "/v1/rooms/r"))["activeRecording"] is False
    assert_error(
        await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]}),
        409,
        "egress_not_active",
    )
    await advance(client, 1.9)
    assert (await get(client, f"/v1/recordings/{rec['id']}"))["status"] == "ending"
    await advance(client, 0.1)
    done = await get(client, f"/v1/recordings/{rec['id']}")
    assert done["status"] == "completed"
    assert done["filename"] == f"{rec['id']}.mp4"
    assert done["durationSeconds"] == 12.25
    path = app.media.files.path(done["filename"])
    assert done["sizeBytes"] == path.stat().st_size
    assert done["sizeBytes"] >= 12.25 * BPS
    egress_done = await get(client, f"/v1/egress/{rec['egressId']}")
    assert egress_done["status"] == "completed"
    assert (egress_done["startedAt"], egress_done["endedAt"]) == (int(T0 + 1), int(T0 + 13.25))

    recs = await events(client, "recording.completed")
    assert [e["data"] for e in recs] == [
        {
            "recordingId": rec["id"],
            "egressId": rec["egressId"],
            "roomName": "r",
            "fileType": "MP4",
            "filename": done["filename"],
            "sizeBytes": done["sizeBytes"],
            "durationSeconds": 12.25,
        }
    ]
    assert recs[0]["createdAt"] == int(T0 + 15.25)
    started = await events(client, "recording.started")
    assert [(e["createdAt"], e["data"]) for e in started] == [
        (
            int(T0 + 1),
            {
                "recordingId": rec["id"],
                "egressId": rec["egressId"],
                "roomName": "r",
                "fileType": "MP4",
            },
        )
    ]
    assert await event_names(client, ("stream.",)) == []


async def test_recording_file_size_scales_with_duration(client: httpx.AsyncClient) -> None:
    short = await completed_recording(client, 10)
    long = await completed_recording(client, 100)
    assert long["sizeBytes"] - short["sizeBytes"] == 90 * BPS


async def test_one_big_clock_jump_gives_the_same_history(client: httpx.AsyncClient) -> None:
    await room(client)
    rec = await start_recording(client)
    await advance(client, 50)  # started at +1, not at +50
    await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]})
    await advance(client, 1000)
    done = await get(client, f"/v1/recordings/{rec['id']}")
    assert done["durationSeconds"] == 49
    assert done["startedAt"] == int(T0 + 1)
    completed = await events(client, "recording.completed")
    assert completed[0]["createdAt"] == int(T0 + 52)


async def test_recording_errors(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post("/v1/recordings", json={"roomName": "nope"}), 404, "room_not_found"
    )
    await room(client)
    rec = await start_recording(client, fileType="WEBM")
    assert rec["fileType"] == "WEBM"
    assert_error(
        await client.post("/v1/recordings", json={"roomName": "r"}),
        409,
        "recording_already_active",
    )
    both = {"roomName": "r", "mode": "both", "file": {}, "stream": {"urls": [URL1]}}
    assert_error(await client.post("/v1/egress", json=both), 409, "recording_already_active")
    # A stream-only egress is fine alongside.
    stream = {"roomName": "r", "mode": "stream", "stream": {"urls": [URL1]}}
    assert (await client.post("/v1/egress", json=stream)).status_code == 201
    error = assert_error(
        await client.post("/v1/recordings", json={"roomName": "", "fileType": "AVI"}),
        422,
        "validation_failed",
    )
    assert detail_fields(error) == ["roomName", "fileType"]
    assert_error(await client.post("/v1/recordings", json={}), 422, "validation_failed")
    assert_error(
        await client.post("/v1/recordings", json={"roomName": "r", "x": 1}), 400, "unknown_field"
    )
    assert_error(await client.get("/v1/recordings/rec_nope"), 404, "recording_not_found")
    assert_error(
        await client.post("/v1/recordings/stop", json={"egressId": "EG_nope"}),
        404,
        "egress_not_found",
    )
    assert_error(await client.post("/v1/recordings/stop", json={}), 422, "validation_failed")
    stream_id = (await client.get("/v1/egress", params={"status": "starting"})).json()["items"]
    stream_only = next(e for e in stream_id if e["mode"] == "stream")
    assert_error(
        await client.post("/v1/recordings/stop", json={"egressId": stream_only["id"]}),
        404,
        "recording_not_found",
    )
    assert_error(
        await client.get(f"/v1/recordings/{rec['id']}/download-url"), 409, "recording_not_ready"
    )
    # Once the first recording ended, a new one may start.
    await advance(client, 1)
    await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]})
    assert (await client.post("/v1/recordings", json={"roomName": "r"})).status_code == 201


async def test_stop_while_starting_aborts(client: httpx.AsyncClient) -> None:
    await room(client)
    rec = await start_recording(client)
    stopped = (await client.post("/v1/recordings/stop", json={"egressId": rec["egressId"]})).json()
    assert stopped["status"] == "aborted"
    assert stopped["error"]
    assert stopped["endedAt"] == int(T0)
    await advance(client, 10)
    assert (await get(client, f"/v1/recordings/{rec['id']}"))["status"] == "aborted"
    assert (await get(client, f"/v1/egress/{rec['egressId']}"))["status"] == "aborted"
    failed = await events(client, "recording.failed")
    assert [e["data"]["error"] for e in failed] == [stopped["error"]]
    assert await event_names(client, ("recording.started", "recording.completed")) == []


async def test_recordings_list_filters_and_pagination(client: httpx.AsyncClient) -> None:
    first = await completed_recording(client, 5, room_name="a")
    second = await completed_recording(client, 5, room_name="b")
    await room(client, "c")
    running = await start_recording(client, "c")
    await advance(client, 1)
    listed = await get(client, "/v1/recordings")
    assert [r["id"] for r in listed["items"]] == [first["id"], second["id"], running["id"]]
    assert (listed["total"], listed["hasMore"], listed["page"], listed["limit"]) == (
        3,
        False,
        1,
        20,
    )
    page1 = await get(client, "/v1/recordings?limit=2")
    page2 = await get(client, "/v1/recordings?limit=2&page=2")
    page3 = await get(client, "/v1/recordings?limit=2&page=3")
    assert [r["id"] for r in page1["items"] + page2["items"]] == [
        first["id"],
        second["id"],
        running["id"],
    ]
    assert (page1["hasMore"], page2["hasMore"], page3["items"]) == (True, False, [])
    completed = await get(client, "/v1/recordings?status=completed")
    assert [r["id"] for r in completed["items"]] == [first["id"], second["id"]]
    assert completed["total"] == 2
    by_room = await get(client, "/v1/recordings?roomName=b&status=completed")
    assert [r["id"] for r in by_room["items"]] == [second["id"]]
    assert (await get(client, "/v1/recordings?roomName=zz"))["total"] == 0
    error = assert_error(
        await client.get("/v1/recordings?status=done&limit=0"), 422, "validation_failed"
    )
    assert detail_fields(error) == ["status"]
    assert_error(await client.get("/v1/recordings?limit=101"), 422, "validation_failed")

    active = await get(client, "/v1/recordings/active")
    assert set(active) == {"items"}
    assert [r["id"] for r in active["items"]] == [running["id"]]
    assert (await get(client, "/v1/recordings/active?roomName=a"))["items"] == []
    only_c = await get(client, "/v1/recordings/active?roomName=c")
    assert [r["status"] for r in only_c["items"]] == ["active"]


# ---- files and downloads ----------------------------------------------------------------------


def _mp4_boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    boxes: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        assert size >= 8
        boxes.append((kind, data[pos + 8 : pos + size]))
        pos += size
    assert pos == len(data)
    return boxes


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


async def test_download_mp4_is_a_valid_container(
    app: LocalBaxCloudApp, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    done = await completed_recording(client, 7.5)
    url = await download_url(client, done["id"])
    response = await anon.get(url)  # no API key
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == done["sizeBytes"] == len(response.content)
    assert response.content == app.media.files.path(done["filename"]).read_bytes()
    boxes = _mp4_boxes(response.content)
    assert [kind for kind, _ in boxes] == [b"ftyp", b"moov", b"mdat"]
    assert boxes[0][1][:4] == b"isom"
    mvhd = _mp4_boxes(boxes[1][1])
    assert mvhd[0][0] == b"mvhd"
    timescale, duration = struct.unpack(">II", mvhd[0][1][12:20])
    assert duration / timescale == 7.5
    assert len(boxes[2][1]) == 7.5 * BPS


async def test_webm_and_ogg_files(app: LocalBaxCloudApp, client: httpx.AsyncClient) -> None:
    webm = await completed_recording(client, 3, "WEBM", room_name="w")
    assert webm["filename"].endswith(".webm")
    data = app.media.files.path(webm["filename"]).read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3"
    assert b"\x42\x82" + bytes([0x01]) + (4).to_bytes(7, "big") + b"webm" in data
    assert b"\x18\x53\x80\x67" in data
    assert struct.pack(">d", 3000.0) in data  # Info/Duration in ms
    assert len(data) == webm["sizeBytes"]

    ogg = await completed_recording(client, 70, "OGG", room_name="o")  # > one full page
    data = app.media.files.path(ogg["filename"]).read_bytes()
    pos, pages, granule = 0, 0, 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        nseg = data[pos + 26]
        lacing = data[pos + 27 : pos + 27 + nseg]
        end = pos + 27 + nseg + sum(lacing)
        page = bytearray(data[pos:end])
        crc = struct.unpack("<I", bytes(page[22:26]))[0]
        page[22:26] = b"\0\0\0\0"
        assert _ogg_crc(bytes(page)) == crc
        granule = struct.unpack("<q", data[pos + 6 : pos + 14])[0]
        pos, pages = end, pages + 1
    assert pages >= 4
    assert data[28:36] == b"OpusHead"
    assert granule == 70 * 48000 + 312
    assert ogg["sizeBytes"] == len(data)


async def test_download_url_shape_and_expiry(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    done = await completed_recording(client, 3)
    now = int((await get(client, "/_dev/clock"))["now"])
    body = await get(client, f"/v1/recordings/{done['id']}/download-url?expiresIn=60")
    assert body["expiresIn"] == 60
    assert body["expiresAt"] == now + 60
    parts = urlsplit(body["downloadUrl"])
    assert (parts.scheme, parts.netloc) == ("http", "local")
    assert parts.path == f"/downloads/{done['id']}/{done['filename']}"
    query = dict(parse_qsl(parts.query))
    assert set(query) == {"expires", "sig"}
    assert int(query["expires"]) == body["expiresAt"]
    default = await get(client, f"/v1/recordings/{done['id']}/download-url")
    assert (default["expiresIn"], default["expiresAt"]) == (3600, now + 3600)
    for bad in ("59", "604801", "x", "-1"):
        error = assert_error(
            await client.get(f"/v1/recordings/{done['id']}/download-url?expiresIn={bad}"),
            422,
            "validation_failed",
        )
        assert detail_fields(error) == ["expiresIn"]
    big = await get(client, f"/v1/recordings/{done['id']}/download-url?expiresIn=604800")
    assert big["expiresIn"] == 604800
    assert_error(await client.get("/v1/recordings/rec_x/download-url"), 404, "recording_not_found")

    await advance(client, 59)
    assert (await anon.get(body["downloadUrl"])).status_code == 200
    assert (await anon.head(body["downloadUrl"])).status_code == 200
    await advance(client, 1)
    assert_error(await anon.get(body["downloadUrl"]), 403, "download_url_expired")
    assert (await anon.head(body["downloadUrl"])).status_code == 403
    assert (await anon.get(default["downloadUrl"])).status_code == 200


async def test_tampered_download_urls_are_403(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    done = await completed_recording(client, 3)
    other = await completed_recording(client, 3, room_name="other")
    url = await download_url(client, done["id"])
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    base = f"{parts.scheme}://{parts.netloc}"
    sig, expires = query["sig"], query["expires"]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    tampered = [
        f"{base}{parts.path}?expires={int(expires) + 1}&sig={sig}",
        f"{base}{parts.path}?expires={expires}&sig={flipped}",
        f"{base}{parts.path}?expires={expires}&sig={sig.upper()}",
        f"{base}{parts.path}?expires={expires}",
        f"{base}{parts.path}?sig={sig}",
        f"{base}{parts.path}",
        f"{base}{parts.path}?expires={expires}&sig={sig}&extra=1",
        f"{base}{parts.path}?expires={expires}&sig={sig}&sig={sig}",
        f"{base}/downloads/{other['id']}/{other['filename']}?expires={expires}&sig={sig}",
        f"{base}/downloads/{done['id']}/{other['filename']}?expires={expires}&sig={sig}",
        f"{base}/downloads/{done['id']}/x.mp4?expires={expires}&sig={sig}",
    ]
    for bad in tampered:
        error = assert_error(await anon.get(bad), 403, "download_url_invalid")
        assert sig not in error["message"]
    assert (await anon.get(url)).status_code == 200
    # An API key does not replace the signature.
    assert_error(await client.get(parts.path), 403, "download_url_invalid")


async def test_range_requests(
    app: LocalBaxCloudApp, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    done = await completed_recording(client, 300)  # 300 KB: several stream chunks
    url = await download_url(client, done["id"])
    full = (await anon.get(url)).content
    size = len(full)
    assert size == done["sizeBytes"]
    cases = [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=1000-299999", 1000, 299999),
        ("bytes=65521-131042", 65521, 131042),
        (f"bytes={size - 10}-", size - 10, size - 1),
        ("bytes=123456-", 123456, size - 1),
        ("bytes=-500", size - 500, size - 1),
        (f"bytes=-{size + 10}", 0, size - 1),
        (f"bytes=5-{size + 1000}", 5, size - 1),
    ]
    for header, first, last in cases:
        response = await anon.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert int(response.headers["content-length"]) == last - first + 1
        assert response.headers["accept-ranges"] == "bytes"
        assert response.content == full[first : last + 1], header
    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"):
        response = await anon.get(url, headers={"Range": header})
        assert_error(response, 416, "range_not_satisfiable")
        assert response.headers["content-range"] == f"bytes */{size}"
    for ignored in ("bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=abc", "bytes=-"):
        response = await anon.get(url, headers={"Range": ignored})
        assert response.status_code == 200, ignored
        assert response.content == full
    etag = (await anon.head(url)).headers["etag"]
    matching = await anon.get(url, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert matching.status_code == 206
    stale = await anon.get(url, headers={"Range": "bytes=0-3", "If-Range": '"old"'})
    assert (stale.status_code, stale.content) == (200, full)
    head = await anon.head(url, headers={"Range": "bytes=10-19"})
    assert head.status_code == 206
    assert head.headers["content-length"] == "10"
    assert head.content == b""


async def test_large_file_is_streamed_in_chunks(app: LocalBaxCloudApp) -> None:
    """A 20 MB download goes out in bounded chunks, never held in memory whole."""
    big = make_app(recording_bytes_per_second=1024 * 1024)
    try:
        async with asgi_client(big, big.api_key) as c:
            done = await completed_recording(c, 20)
            url = await download_url(c, done["id"])
        size = done["sizeBytes"]
        assert size > 20 * 1024 * 1024
        parts = urlsplit(url)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [(b"host", b"local")],
            "server": ("local", 80),
            "client": ("127.0.0.1", 1234),
        }
        chunks: list[int] = []
        total = 0
        head = bytearray()
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}  # pragma: no cover - never reached

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal total
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                chunks.append(len(body))
                if len(head) < 16:
                    head.extend(body[:16])
                total += len(body)

        tracemalloc.start()
        try:
            await big(scope, receive, send)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert status == [200]
        assert total == size
        assert max(chunks) <= 1024 * 1024
        assert len([n for n in chunks if n]) >= 20
        assert peak < 8 * 1024 * 1024, peak
        assert bytes(head[4:8]) == b"ftyp"
    finally:
        big.close()


async def test_recording_files_location_and_cleanup(tmp_path: pathlib.Path) -> None:
    temp_app = make_app()
    async with asgi_client(temp_app, temp_app.api_key) as c:
        done = await completed_recording(c, 2)
    path = temp_app.media.files.path(done["filename"])
    assert path.exists()
    temp_dir = path.parent
    temp_app.close()
    assert not temp_dir.exists()

    kept = make_app(data_dir=tmp_path)
    try:
        async with asgi_client(kept, kept.api_key) as c:
            done = await completed_recording(c, 2)
            url = await download_url(c, done["id"])
    finally:
        kept.close()
    stored = tmp_path / "recordings" / done["filename"]
    assert stored.stat().st_size == done["sizeBytes"]
    assert not list((tmp_path / "recordings").glob("*.part"))
    again = make_app(data_dir=tmp_path)  # the signing key and the file survive a restart
    try:
        async with asgi_client(again, None) as anon:
            response = await anon.get(url)
            assert response.status_code == 200
            assert len(response.content) == done["sizeBytes"]
    finally:
        again.close()
    assert stored.exists()


# ---- egress -------------------------------------------------------------------------------


async def test_stream_egress_lifecycle_and_redaction(client: httpx.AsyncClient) -> None:
    await room(client)
    response = await client.post(
        "/v1/egress",
        json={
            "roomName": "r",
            "mode": "both",
            "layout": "grid",
            "quality": "1080p",
            "file": {"fileType": "OGG"},
            "stream": {"urls": [URL1, URL2]},
        },
    )
    assert response.status_code == 201
    eg = response.json()
    assert eg["id"].startswith("EG_")
    assert (eg["mode"], eg["layout"], eg["quality"], eg["status"]) == (
        "both",
        "grid",
        "1080p",
        "starting",
    )
    assert eg["file"] == {"fileType": "OGG"}
    assert eg["stream"] == {
        "urls": [RED1, RED2],
        "destinations": [
            {"url": RED1, "status": "connecting", "error": None},
            {"url": RED2, "status": "connecting", "error": None},
        ],
    }
    assert eg["recordingId"].startswith("rec_")
    rec = await get(client, f"/v1/recordings/{eg['recordingId']}")
    assert (rec["egressId"], rec["fileType"]) == (eg["id"], "OGG")
    await advance(client, 1)
    active = await get(client, f"/v1/egress/{eg['id']}")
    assert active["status"] == "active"
    assert {d["status"] for d in active["stream"]["destinations"]} == {"active"}
    stopped = await client.post(f"/v1/egress/{eg['id']}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "ending"
    assert_error(await client.post(f"/v1/egress/{eg['id']}/stop"), 409, "egress_not_active")
    await advance(client, 2)
    done = await get(client, f"/v1/egress/{eg['id']}")
    assert done["status"] == "completed"
    assert {d["status"] for d in done["stream"]["destinations"]} == {"finished"}
    assert (await get(client, f"/v1/recordings/{eg['recordingId']}"))["status"] == "completed"

    names = await event_names(client, ("stream.", "recording."))
    assert names == [
        "recording.started",
        "stream.started",
        "stream.updated",
        "recording.completed",
        "stream.completed",
    ]
    everything = await events(client)
    assert_no_secrets(everything)
    by_name = {e["event"]: e["data"] for e in everything}
    assert by_name["stream.started"] == {
        "egressId": eg["id"],
        "roomName": "r",
        "mode": "both",
        "urls": [RED1, RED2],
    }
    assert by_name["stream.updated"] == {
        "egressId": eg["id"],
        "roomName": "r",
        "status": "ending",
        "destinations": [
            {"url": RED1, "status": "active", "error": None},
            {"url": RED2, "status": "active", "error": None},
        ],
    }
    assert by_name["stream.completed"] == {"egressId": eg["id"], "roomName": "r"}
    assert_no_secrets(await get(client, "/v1/egress"))


async def test_redaction_of_passwords_and_queries(client: httpx.AsyncClient) -> None:
    await room(client)
    url = "rtmp://user:hunter2@host.example:1935/app/key?tok=abc"
    eg = (
        await client.post(
            "/v1/egress", json={"roomName": "r", "mode": "stream", "stream": {"urls": [url]}}
        )
    ).json()
    assert eg["stream"]["urls"] == ["rtmp://user:****@host.example:1935/app/****?****"]
    assert_no_secrets(eg)
    single = "rtmp://host.example/onlykey"
    eg2 = (
        await client.post(
            "/v1/egress", json={"roomName": "r", "mode": "stream", "stream": {"urls": [single]}}
        )
    ).json()
    assert eg2["stream"]["urls"] == ["rtmp://host.example/****"]


async def test_egress_validation(client: httpx.AsyncClient) -> None:
    await room(client)

    async def problem(body: dict[str, Any], status: int = 422) -> list[str]:
        response = await client.post("/v1/egress", json=body)
        code = "validation_failed" if status == 422 else "invalid_request"
        error = assert_error(response, status, code)
        assert KEY1 not in response.text
        return detail_fields(error)

    base = {"roomName": "r"}
    assert await problem({}) == ["roomName", "mode"]
    assert await problem({**base, "mode": "film"}) == ["mode"]
    assert await problem({**base, "mode": "record"}) == ["file"]
    assert await problem({**base, "mode": "stream"}) == ["stream"]
    assert await problem({**base, "mode": "both", "file": {}}) == ["stream"]
    assert await problem({**base, "mode": "stream", "stream": {"urls": [URL1]}, "file": {}}) == [
        "file"
    ]
    assert await problem({**base, "mode": "record", "file": {}, "stream": {"urls": [URL1]}}) == [
        "stream"
    ]
    assert await problem({**base, "mode": "record", "file": {"fileType": "AVI"}}) == [
        "file.fileType"
    ]
    assert await problem(
        {**base, "mode": "record", "file": {}, "layout": "x", "quality": "4k"}
    ) == [
        "layout",
        "quality",
    ]
    stream = {**base, "mode": "stream"}
    assert await problem({**stream, "stream": {"urls": []}}) == ["stream.urls"]
    assert await problem({**stream, "stream": {"urls": [URL1] * 6}}) == ["stream.urls"]
    assert await problem({**stream, "stream": {}}) == ["stream.urls"]
    bad_urls = [
        f"http://host/app/{KEY1}",
        f"rtmp:///app/{KEY1}",
        "rtmp://host/app/",
        "rtmp://host",
        f"rtmp://host/app/{KEY1} x",
        "rtmp://host/app/****",
        f"rtmp://host:99999/app/{KEY1}",
        "rtmp://host/" + "k" * 2048,
    ]
    fields = await problem({**stream, "stream": {"urls": bad_urls[:5]}})
    assert fields == [f"stream.urls[{i}]" for i in range(5)]
    fields = await problem({**stream, "stream": {"urls": bad_urls[5:]}})
    assert fields == [f"stream.urls[{i}]" for i in range(3)]
    assert await problem({**stream, "stream": {"urls": [URL1, 5]}}, 400) == ["stream.urls[1]"]
    assert await problem({**stream, "stream": {"urls": URL1}}, 400) == ["stream.urls"]
    assert await problem({**stream, "stream": "x"}, 400) == ["stream"]
    unknown = await client.post("/v1/egress", json={**stream, "stream": {"urls": [URL1], "k": 1}})
    assert detail_fields(assert_error(unknown, 400, "unknown_field")) == ["stream.k"]
    assert_error(
        await client.post("/v1/egress", json={**stream, "stream": {"urls": [URL1]}, "x": 1}),
        400,
        "unknown_field",
    )
    assert_error(
        await client.post(
            "/v1/egress", json={"roomName": "nope", "mode": "stream", "stream": {"urls": [URL1]}}
        ),
        404,
        "room_not_found",
    )
    ok = await client.post("/v1/egress", json={**base, "mode": "record", "file": {}})
    assert ok.status_code == 201
    assert ok.json()["file"] == {"fileType": "MP4"}
    assert (ok.json()["layout"], ok.json()["quality"]) == ("speaker", "720p")


async def test_egress_get_list_delete(client: httpx.AsyncClient) -> None:
    await room(client, "a")
    await room(client, "b")
    stream = {"mode": "stream", "stream": {"urls": [URL1]}}
    ids = []
    for name in ("a", "b", "a"):
        response = await client.post("/v1/egress", json={"roomName": name, **stream})
        ids.append(response.json()["id"])
    assert_error(await client.get("/v1/egress/EG_nope"), 404, "egress_not_found")
    assert_error(await client.delete("/v1/egress/EG_nope"), 404, "egress_not_found")
    assert_error(await client.post("/v1/egress/EG_nope/stop"), 404, "egress_not_found")
    listed = await get(client, "/v1/egress")
    assert [e["id"] for e in listed["items"]] == ids
    assert [e["id"] for e in (await get(client, "/v1/egress?roomName=a"))["items"]] == [
        ids[0],
        ids[2],
    ]
    paged = await get(client, "/v1/egress?limit=2&page=2")
    assert ([e["id"] for e in paged["items"]], paged["total"], paged["hasMore"]) == (
        [ids[2]],
        3,
        False,
    )
    assert_error(await client.get("/v1/egress?status=nope"), 422, "validation_failed")
    assert_error(await client.delete(f"/v1/egress/{ids[0]}"), 409, "egress_active")
    await advance(client, 1)
    assert_error(await client.delete(f"/v1/egress/{ids[0]}"), 409, "egress_active")
    await client.post(f"/v1/egress/{ids[0]}/stop")
    assert (await get(client, "/v1/egress?status=ending"))["total"] == 1
    assert_error(await client.delete(f"/v1/egress/{ids[0]}"), 409, "egress_active")
    await advance(client, 2)
    assert [e["id"] for e in (await get(client, "/v1/egress?status=completed"))["items"]] == [
        ids[0]
    ]
    assert (await client.delete(f"/v1/egress/{ids[0]}")).status_code == 204
    assert_error(await client.get(f"/v1/egress/{ids[0]}"), 404, "egress_not_found")
    assert (await get(client, "/v1/egress"))["total"] == 2
    # Deleting a recording's egress keeps the recording.
    await room(client, "c")
    rec = await completed_recording(client, 1, room_name="c")
    assert (await client.delete(f"/v1/egress/{rec['egressId']}")).status_code == 204
    assert (await get(client, f"/v1/recordings/{rec['id']}"))["status"] == "completed"


async def test_fail_egress(client: httpx.AsyncClient) -> None:
    await room(client)
    eg = (
        await client.post(
            "/v1/egress",
            json={"roomName": "r", "mode": "both", "file": {}, "stream": {"urls": [URL1, URL2]}},
        )
    ).json()
    await advance(client, 5)
    response = await client.post("/_dev/fail-egress", json={"egressId": eg["id"], "error": "boom"})
    assert response.status_code == 200
    failed = response.json()
    assert (failed["status"], failed["error"], failed["endedAt"]) == ("failed", "boom", int(T0 + 5))
    assert failed["stream"]["destinations"] == [
        {"url": RED1, "status": "failed", "error": "boom"},
        {"url": RED2, "status": "failed", "error": "boom"},
    ]
    rec = await get(client, f"/v1/recordings/{eg['recordingId']}")
    assert (rec["status"], rec["error"], rec["filename"], rec["sizeBytes"]) == (
        "failed",
        "boom",
        None,
        None,
    )
    assert (await get(client, "/v1/rooms/r"))["activeRecording"] is False
    assert_error(
        await client.post("/_dev/fail-egress", json={"egressId": eg["id"], "error": "again"}),
        409,
        "egress_not_active",
    )
    assert_error(await client.post(f"/v1/egress/{eg['id']}/stop"), 409, "egress_not_active")
    assert_error(
        await client.post("/_dev/fail-egress", json={"egressId": "EG_x", "error": "e"}),
        404,
        "egress_not_found",
    )
    error = assert_error(
        await client.post("/_dev/fail-egress", json={"egressId": eg["id"], "error": ""}),
        422,
        "validation_failed",
    )
    assert detail_fields(error) == ["error"]
    assert [(e["event"], e["data"]) for e in await events(client) if "failed" in e["event"]] == [
        (
            "recording.failed",
            {
                "recordingId": eg["recordingId"],
                "egressId": eg["id"],
                "roomName": "r",
                "error": "boom",
            },
        ),
        ("stream.failed", {"egressId": eg["id"], "roomName": "r", "error": "boom"}),
    ]
    # An ending egress can still fail: no file then.
    rec2 = await start_recording(client)
    await advance(client, 3)
    await client.post("/v1/recordings/stop", json={"egressId": rec2["egressId"]})
    failed2 = await client.post(
        "/_dev/fail-egress", json={"egressId": rec2["egressId"], "error": "upload failed"}
    )
    assert failed2.json()["endedAt"] == int(T0 + 8)
    await advance(client, 10)
    assert (await get(client, f"/v1/recordings/{rec2['id']}"))["status"] == "failed"


# ---- rooms and egress ----------------------------------------------------------------------


async def test_deleting_a_room_stops_its_egress(client: httpx.AsyncClient) -> None:
    await room(client, "live")
    rec = await start_recording(client, "live")
    stream = (
        await client.post(
            "/v1/egress", json={"roomName": "live", "mode": "stream", "stream": {"urls": [URL1]}}
        )
    ).json()
    await advance(client, 10)
    late = (
        await client.post(
            "/v1/egress", json={"roomName": "live", "mode": "stream", "stream": {"urls": [URL2]}}
        )
    ).json()
    assert (await client.delete("/v1/rooms/live")).status_code == 204
    assert (await get(client, f"/v1/recordings/{rec['id']}"))["status"] == "ending"
    assert (await get(client, f"/v1/egress/{stream['id']}"))["status"] == "ending"
    aborted = await get(client, f"/v1/egress/{late['id']}")
    assert aborted["status"] == "aborted"
    assert aborted["stream"]["destinations"][0]["status"] == "finished"
    await advance(client, 2)
    done = await get(client, f"/v1/recordings/{rec['id']}")
    assert (done["status"], done["durationSeconds"]) == ("completed", 9)
    assert (await get(client, f"/v1/egress/{stream['id']}"))["status"] == "completed"
    tail = [e["event"] for e in await events(client)]
    deleted_at = tail.index("room.finished")
    assert tail[deleted_at - 2 : deleted_at + 1] == [
        "stream.updated",
        "stream.failed",
        "room.finished",
    ]


async def test_empty_timeout_also_stops_egress(client: httpx.AsyncClient) -> None:
    await client.post("/v1/rooms", json={"name": "t", "emptyTimeout": 30})
    rec = await start_recording(client, "t")
    await advance(client, 100)  # active at +1, room closes at +30, completes at +32
    done = await get(client, f"/v1/recordings/{rec['id']}")
    assert (done["status"], done["durationSeconds"]) == ("completed", 29)
    finished = await events(client, "room.finished")
    assert finished[0]["data"]["reason"] == "empty_timeout"
    assert finished[0]["createdAt"] == int(T0 + 30)


async def test_enable_recording_starts_on_first_join(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    await client.post("/v1/rooms", json={"name": "auto", "enableRecording": True})
    assert (await get(client, "/v1/recordings"))["total"] == 0
    await join(client, app, "auto", "a")
    active = (await get(client, "/v1/recordings/active?roomName=auto"))["items"]
    assert [r["status"] for r in active] == ["starting"]
    assert (await get(client, "/v1/rooms/auto"))["activeRecording"] is True
    await join(client, app, "auto", "b")
    await advance(client, 1)
    await client.post("/v1/recordings/stop", json={"egressId": active[0]["egressId"]})
    await leave(client, "auto", "a")
    await join(client, app, "auto", "a")  # same session: no second recording
    assert (await get(client, "/v1/recordings"))["total"] == 1
    # Rooms without the flag never record by themselves.
    await join(client, app, "plain", "a")
    assert (await get(client, "/v1/recordings"))["total"] == 1


async def test_auto_stream_config(client: httpx.AsyncClient) -> None:
    default = await get(client, "/v1/egress/auto-stream-config")
    assert default == {
        "enabled": False,
        "mode": "record",
        "quality": "720p",
        "layout": "speaker",
        "minParticipants": 1,
        "fileType": "MP4",
        "streamUrls": [],
    }
    response = await client.patch(
        "/v1/egress/auto-stream-config",
        json={"enabled": True, "mode": "stream", "streamUrls": [URL1, URL2], "quality": "480p"},
    )
    assert response.status_code == 200
    assert response.json() == {
        **default,
        **{"enabled": True, "mode": "stream", "quality": "480p"},
        "streamUrls": [RED1, RED2],
    }
    assert_no_secrets(response.json())
    changed = await client.patch("/v1/egress/auto-stream-config", json={"minParticipants": 2})
    assert changed.json()["streamUrls"] == [RED1, RED2]  # untouched
    assert changed.json()["minParticipants"] == 2
    assert await get(client, "/v1/egress/auto-stream-config") == changed.json()

    async def problem(body: dict[str, Any], status: int = 422) -> list[str]:
        response = await client.patch("/v1/egress/auto-stream-config", json=body)
        code = {422: "validation_failed", 400: "invalid_request"}[status]
        return detail_fields(assert_error(response, status, code))

    assert await problem({"minParticipants": 0}) == ["minParticipants"]
    assert await problem({"mode": "x", "layout": "y", "quality": "z", "fileType": "AVI"}) == [
        "mode",
        "quality",
        "layout",
        "fileType",
    ]
    assert await problem({"streamUrls": [RED1]}) == ["streamUrls[0]"]
    assert await problem({"streamUrls": [URL1] * 6}) == ["streamUrls"]
    assert await problem({"streamUrls": []}) == ["streamUrls"]  # enabled + stream needs URLs
    assert await problem({"enabled": "yes"}, 400) == ["enabled"]
    assert await problem({"streamUrls": [1]}, 400) == ["streamUrls[0]"]
    assert_error(
        await client.patch("/v1/egress/auto-stream-config", json={"nope": 1}), 400, "unknown_field"
    )
    assert_error(await client.delete("/v1/egress/auto-stream-config"), 405, "method_not_allowed")
    assert await get(client, "/v1/egress/auto-stream-config") == changed.json()
    off = await client.patch(
        "/v1/egress/auto-stream-config", json={"enabled": False, "streamUrls": []}
    )
    assert off.status_code == 200


async def test_auto_stream_starts_once_per_room_session(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    await client.patch(
        "/v1/egress/auto-stream-config",
        json={
            "enabled": True,
            "mode": "both",
            "minParticipants": 2,
            "layout": "grid",
            "fileType": "WEBM",
            "streamUrls": [URL1],
        },
    )
    await client.post("/v1/rooms", json={"name": "s", "emptyTimeout": 10})
    await join(client, app, "s", "a")
    assert (await get(client, "/v1/egress"))["total"] == 0
    await join(client, app, "s", "b")
    items = (await get(client, "/v1/egress"))["items"]
    assert len(items) == 1
    eg = items[0]
    assert (eg["mode"], eg["layout"], eg["quality"], eg["file"]) == (
        "both",
        "grid",
        "720p",
        {"fileType": "WEBM"},
    )
    assert eg["stream"]["urls"] == [RED1]
    await advance(client, 1)
    await client.post(f"/v1/egress/{eg['id']}/stop")
    await leave(client, "s", "b")
    await join(client, app, "s", "c")  # still the same session: no second egress
    assert (await get(client, "/v1/egress"))["total"] == 1
    await leave(client, "s", "a")
    await leave(client, "s", "c")
    await advance(client, 10)  # the room closes: the session ends
    assert (await client.get("/v1/rooms/s")).status_code == 404
    await join(client, app, "s", "a")
    await join(client, app, "s", "b")
    assert (await get(client, "/v1/egress"))["total"] == 2


async def test_auto_stream_skips_when_already_recording(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    await client.patch("/v1/egress/auto-stream-config", json={"enabled": True})  # record, 1
    await client.post("/v1/rooms", json={"name": "both", "enableRecording": True})
    await join(client, app, "both", "a")
    assert (await get(client, "/v1/egress"))["total"] == 1  # enableRecording's, not a 409
    await join(client, app, "other", "a")
    assert (await get(client, "/v1/egress?roomName=other"))["total"] == 1


# ---- ingress ----------------------------------------------------------------------------------


async def create_ingress(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    payload = {"inputType": "RTMP_INPUT", "roomName": "r", "participantIdentity": "obs", **body}
    response = await client.post("/v1/ingress", json=payload)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_ingress_create_and_secrets(client: httpx.AsyncClient) -> None:
    rtmp = await create_ingress(client, participantName="OBS Studio")
    assert rtmp["id"].startswith("IN_")
    assert rtmp["rtmpsUrl"] == "rtmps://local:443/live"
    key = rtmp["streamKey"]
    assert isinstance(key, str)
    assert len(key) >= 32
    assert (rtmp["whipUrl"], rtmp["token"]) == (None, None)
    assert (rtmp["enableTranscoding"], rtmp["bypassTranscoding"]) == (True, False)
    assert (rtmp["status"], rtmp["error"], rtmp["createdAt"]) == ("INACTIVE", None, int(T0))
    assert rtmp["participantName"] == "OBS Studio"
    whip = await create_ingress(
        client, inputType="WHIP_INPUT", participantIdentity="w", bypassTranscoding=True
    )
    token = whip["token"]
    assert whip["whipUrl"] == "https://local/whip"
    assert len(token) >= 32
    assert (whip["rtmpsUrl"], whip["streamKey"]) == (None, None)
    assert (whip["enableTranscoding"], whip["bypassTranscoding"]) == (False, True)
    another = await create_ingress(client)
    assert another["streamKey"] != key
    # Only the create answer shows the secret.
    got = await get(client, f"/v1/ingress/{rtmp['id']}")
    assert got == {**rtmp, "streamKey": "****"}
    assert (await get(client, f"/v1/ingress/{whip['id']}"))["token"] == "****"
    listed = await client.get("/v1/ingress")
    assert key not in listed.text
    assert token not in listed.text
    connected = await client.post("/_dev/connect-ingress", json={"ingressId": rtmp["id"]})
    assert key not in connected.text
    all_events = json.dumps(await events(client))
    assert key not in all_events
    assert token not in all_events


async def test_ingress_validation_list_and_404(client: httpx.AsyncClient) -> None:
    async def problem(body: dict[str, Any]) -> list[str]:
        payload = {"inputType": "WHIP_INPUT", "roomName": "r", "participantIdentity": "p", **body}
        response = await client.post("/v1/ingress", json=payload)
        return detail_fields(assert_error(response, 422, "validation_failed"))

    assert await problem({"inputType": "RTMP_INPUT", "bypassTranscoding": True}) == [
        "bypassTranscoding"
    ]
    assert await problem({"bypassTranscoding": True, "enableTranscoding": True}) == [
        "bypassTranscoding"
    ]
    assert await problem({"inputType": "SRT_INPUT"}) == ["inputType"]
    assert await problem({"roomName": "", "participantIdentity": ""}) == [
        "roomName",
        "participantIdentity",
    ]
    assert await problem({"participantName": "x" * 257}) == ["participantName"]
    missing = await client.post("/v1/ingress", json={})
    assert detail_fields(assert_error(missing, 422, "validation_failed")) == [
        "inputType",
        "roomName",
        "participantIdentity",
    ]
    assert_error(
        await client.post("/v1/ingress", json={"inputType": "WHIP_INPUT", "bypass": True}),
        400,
        "unknown_field",
    )
    explicit = await create_ingress(client, enableTranscoding=False)
    assert explicit["enableTranscoding"] is False
    ids = [explicit["id"]]
    ids.append((await create_ingress(client, roomName="other"))["id"])
    ids.append((await create_ingress(client))["id"])
    listed = await get(client, "/v1/ingress")
    assert [i["id"] for i in listed["items"]] == ids
    assert [i["id"] for i in (await get(client, "/v1/ingress?roomName=r"))["items"]] == [
        ids[0],
        ids[2],
    ]
    paged = await get(client, "/v1/ingress?limit=1&page=2")
    assert ([i["id"] for i in paged["items"]], paged["hasMore"]) == ([ids[1]], True)
    # The ingress list has no status filter: like any unknown query parameter, it is ignored.
    assert [i["id"] for i in (await get(client, "/v1/ingress?status=nope"))["items"]] == ids
    assert_error(await client.get("/v1/ingress?page=0"), 422, "validation_failed")
    assert_error(await client.get("/v1/ingress/IN_x"), 404, "ingress_not_found")
    assert_error(await client.delete("/v1/ingress/IN_x"), 404, "ingress_not_found")
    assert (await client.delete(f"/v1/ingress/{ids[0]}")).status_code == 204
    assert_error(await client.get(f"/v1/ingress/{ids[0]}"), 404, "ingress_not_found")
    for path in ("connect-ingress", "disconnect-ingress"):
        assert_error(
            await client.post(f"/_dev/{path}", json={"ingressId": "IN_x"}),
            404,
            "ingress_not_found",
        )


async def test_ingress_connect_disconnect_lifecycle(client: httpx.AsyncClient) -> None:
    ing = await create_ingress(client, participantName="OBS")
    assert (await client.get("/v1/rooms/r")).status_code == 404
    assert_error(
        await client.post("/_dev/disconnect-ingress", json={"ingressId": ing["id"]}),
        409,
        "ingress_not_active",
    )
    response = await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    assert response.status_code == 200
    assert response.json()["status"] == "BUFFERING"
    assert_error(
        await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]}),
        409,
        "ingress_already_active",
    )
    # The room was created and the ingress participant is in it.
    participant = await get(client, "/v1/rooms/r/participants/obs")
    assert participant["name"] == "OBS"
    assert (await get(client, f"/v1/ingress/{ing['id']}"))["status"] == "ACTIVE"
    participant = await get(client, "/v1/rooms/r/participants/obs")
    assert sorted(t["kind"] for t in participant["tracks"]) == ["audio", "video"]
    assert (await get(client, "/v1/rooms/r"))["numPublishers"] == 1
    done = await client.post("/_dev/disconnect-ingress", json={"ingressId": ing["id"]})
    assert done.json()["status"] == "COMPLETE"
    assert_error(await client.get("/v1/rooms/r/participants/obs"), 404, "participant_not_found")
    # A COMPLETE endpoint can be used again.
    again = await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    assert again.json()["status"] == "BUFFERING"
    live = [(e["event"], e["data"]) for e in await events(client) if e["event"].startswith("live.")]
    assert live[:3] == [
        (
            "live.started",
            {
                "ingressId": ing["id"],
                "roomName": "r",
                "inputType": "RTMP_INPUT",
                "status": "BUFFERING",
            },
        ),
        (
            "live.updated",
            {
                "ingressId": ing["id"],
                "roomName": "r",
                "status": "ACTIVE",
                "previousStatus": "BUFFERING",
            },
        ),
        ("live.ended", {"ingressId": ing["id"], "roomName": "r"}),
    ]
    assert [name for name, _ in live] == [
        "live.started",
        "live.updated",
        "live.ended",
        "live.started",
        "live.updated",  # the events request itself is the next sweep
    ]
    left = await events(client, "participant.left")
    assert [e["data"]["reason"] for e in left] == ["disconnected"]


async def test_ingress_fail_and_delete_while_live(client: httpx.AsyncClient) -> None:
    ing = await create_ingress(client)
    assert_error(
        await client.post("/_dev/fail-ingress", json={"ingressId": ing["id"], "error": "x"}),
        409,
        "ingress_not_active",
    )
    await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    failed = await client.post(
        "/_dev/fail-ingress", json={"ingressId": ing["id"], "error": "bad codec"}
    )
    assert failed.status_code == 200
    assert (failed.json()["status"], failed.json()["error"]) == ("ERROR", "bad codec")
    assert (await get(client, "/v1/rooms/r"))["numParticipants"] == 0
    assert (await events(client, "live.failed"))[0]["data"] == {
        "ingressId": ing["id"],
        "roomName": "r",
        "error": "bad codec",
    }
    # The fail request's own sweep made it ACTIVE first.
    assert await event_names(client, ("live.",)) == ["live.started", "live.updated", "live.failed"]
    # From ERROR it can connect again (the error is cleared); deleting it live ends it first.
    reconnected = await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    assert (reconnected.json()["status"], reconnected.json()["error"]) == ("BUFFERING", None)
    assert (await client.delete(f"/v1/ingress/{ing['id']}")).status_code == 204
    assert await event_names(client, ("live.",)) == [
        "live.started",
        "live.updated",
        "live.failed",
        "live.started",
        "live.updated",  # the delete request's sweep made it ACTIVE first
        "live.ended",
    ]
    assert (await get(client, "/v1/rooms/r"))["numParticipants"] == 0
    error = assert_error(
        await client.post("/_dev/fail-ingress", json={"ingressId": ing["id"]}),
        422,
        "validation_failed",
    )
    assert detail_fields(error) == ["error"]


async def test_ingress_participant_removed_or_room_closed_ends_it(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    ing = await create_ingress(client)
    await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    assert (await client.delete("/v1/rooms/r/participants/obs")).status_code == 204
    assert (await get(client, f"/v1/ingress/{ing['id']}"))["status"] == "COMPLETE"
    await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    assert (await client.delete("/v1/rooms/r")).status_code == 204
    assert (await get(client, f"/v1/ingress/{ing['id']}"))["status"] == "COMPLETE"
    await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    await join(client, app, "r", "obs")  # someone else takes the identity
    assert (await get(client, f"/v1/ingress/{ing['id']}"))["status"] == "COMPLETE"
    assert (
        await event_names(client, ("live.",))
        == [
            "live.started",
            "live.updated",
            "live.ended",
        ]
        * 3
    )


async def test_ingress_join_counts_for_room_automation(client: httpx.AsyncClient) -> None:
    await client.post(
        "/v1/rooms", json={"name": "r", "enableRecording": True, "maxParticipants": 1}
    )
    ing = await create_ingress(client)
    await client.post("/_dev/connect-ingress", json={"ingressId": ing["id"]})
    assert (await get(client, "/v1/rooms/r"))["activeRecording"] is True
    other = await create_ingress(client, participantIdentity="obs2")
    assert_error(
        await client.post("/_dev/connect-ingress", json={"ingressId": other["id"]}),
        403,
        "room_full",
    )
    assert (await get(client, f"/v1/ingress/{other['id']}"))["status"] == "INACTIVE"


# ---- idempotency, OpenAPI, config, real server -----------------------------------------------


async def test_idempotent_recording_start(client: httpx.AsyncClient) -> None:
    await room(client)
    headers = {"Idempotency-Key": "rec-1"}
    first = await client.post("/v1/recordings", json={"roomName": "r"}, headers=headers)
    second = await client.post("/v1/recordings", json={"roomName": "r"}, headers=headers)
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()
    assert (await get(client, "/v1/recordings"))["total"] == 1


async def test_openapi_documents_the_new_shapes(
    app: LocalBaxCloudApp, client: httpx.AsyncClient
) -> None:
    doc = await get(client, "/openapi.json")
    schemas = doc["components"]["schemas"]
    await room(client)
    rec = await completed_recording(client, 1)
    url = await get(client, f"/v1/recordings/{rec['id']}/download-url")
    eg = (
        await client.post(
            "/v1/egress",
            json={"roomName": "r", "mode": "both", "file": {}, "stream": {"urls": [URL1]}},
        )
    ).json()
    ing = await create_ingress(client)
    for value, name in [
        (rec, "Recording"),
        (await get(client, "/v1/recordings"), "RecordingPage"),
        (await get(client, "/v1/recordings/active"), "RecordingList"),
        (url, "DownloadUrl"),
        (eg, "Egress"),
        (eg["stream"], "EgressStream"),
        (eg["stream"]["destinations"][0], "StreamDestination"),
        (await get(client, "/v1/egress"), "EgressPage"),
        (await get(client, "/v1/egress/auto-stream-config"), "AutoStreamConfig"),
        (ing, "Ingress"),
        (await get(client, "/v1/ingress"), "IngressPage"),
    ]:
        schema = schemas[name]
        assert set(value) == set(schema["properties"]), name
        assert set(schema["required"]) <= set(value), name
    for name, fields in [
        ("StartRecordingRequest", recordings.START_FIELDS),
        ("StopRecordingRequest", recordings.STOP_FIELDS),
        ("StartEgressRequest", egress.START_FIELDS),
        ("EgressFile", egress.FILE_FIELDS),
        ("EgressStreamRequest", egress.STREAM_FIELDS),
        ("UpdateAutoStreamConfigRequest", egress.AUTO_STREAM_FIELDS),
        ("CreateIngressRequest", ingress.CREATE_FIELDS),
        ("IngressRequest", simulation.INGRESS_FIELDS),
        ("FailIngressRequest", simulation.FAIL_INGRESS_FIELDS),
        ("FailEgressRequest", simulation.FAIL_EGRESS_FIELDS),
    ]:
        schema = schemas[name]
        assert schema["additionalProperties"] is False, name
        assert set(schema["properties"]) == {f.name for f in fields}, name
        assert set(schema.get("required", [])) == {f.name for f in fields if f.required}, name
    text = json.dumps(doc)
    for code in (
        "recording_already_active",
        "recording_not_ready",
        "egress_not_active",
        "egress_active",
        "ingress_not_found",
        "ingress_not_active",
        "ingress_already_active",
        "download_url_invalid",
        "download_url_expired",
        "range_not_satisfiable",
    ):
        assert f"`{code}`" in text, code


def test_config_rejects_bad_delays() -> None:
    for bad in (
        {"egress_start_delay": -1.0},
        {"egress_stop_delay": float("nan")},
        {"recording_bytes_per_second": -5},
    ):
        with pytest.raises((ValueError, TypeError)):
            ServerConfig(**bad)
    config = ServerConfig()
    assert (config.egress_start_delay, config.egress_stop_delay) == (1.0, 1.0)
    assert config.recording_bytes_per_second == 64 * 1024


def test_filler_offsets_are_distinguishable(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.mp4"
    _files.write_recording(path, "MP4", duration=1, payload_bytes=200_000, created_at=T0, seed="s")
    data = path.read_bytes()
    header = len(_files.mp4_header(1, T0)) + 8
    body = data[header:]
    assert len(body) == 200_000
    assert body[:1000] != body[1:1001]
    assert body[:1000] != body[65536:66536]


def test_real_clock_egress_moves_on_in_the_background(tmp_path: pathlib.Path) -> None:
    app = LocalBaxCloudApp(
        ServerConfig(
            data_dir=tmp_path,
            egress_start_delay=0.2,
            egress_stop_delay=0.2,
            recording_bytes_per_second=BPS,
        )
    )
    ready: list[str] = []
    started = threading.Event()

    def on_ready(base_url: str, served: LocalBaxCloudApp) -> None:
        ready.append(base_url)
        started.set()

    server = create_uvicorn_server(app, host="127.0.0.1", port=0, on_ready=on_ready)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        headers = {"Authorization": f"Bearer {app.api_key}"}
        with httpx.Client(base_url=ready[0], headers=headers) as c:
            c.post("/v1/rooms", json={"name": "bg"})
            rec = c.post("/v1/recordings", json={"roomName": "bg"}).json()

            def status_in_db() -> str:
                import sqlite3

                with sqlite3.connect(tmp_path / "baxcloud.sqlite3") as db:
                    row = db.execute(
                        "SELECT status FROM recordings WHERE id = ?", (rec["id"],)
                    ).fetchone()
                return str(row[0])

            def wait_for(status: str) -> None:
                deadline = time.monotonic() + 5
                while status_in_db() != status:  # no request arrives meanwhile
                    assert time.monotonic() < deadline, status
                    time.sleep(0.05)

            wait_for("active")
            time.sleep(0.3)
            assert (
                c.post("/v1/recordings/stop", json={"egressId": rec["egressId"]}).json()["status"]
                == "ending"
            )
            wait_for("completed")
            done = c.get(f"/v1/recordings/{rec['id']}").json()
            assert done["durationSeconds"] >= 0.3
            url = c.get(f"/v1/recordings/{rec['id']}/download-url").json()["downloadUrl"]
            assert url.startswith(ready[0] + "/downloads/")
            with httpx.Client() as plain, plain.stream("GET", url) as response:
                assert response.status_code == 200
                body = b"".join(response.iter_bytes())
            assert len(body) == done["sizeBytes"]
    finally:
        server.should_exit = True
        thread.join(10)
        app.close()
