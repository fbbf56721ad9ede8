"""`recordings.download` against download hosts that answer wrongly, on both clients.

The API is a real local server; only the host of the pre-signed URL is replaced
(by `get_download_url` pointing at a scripted raw-socket server, see
download_server.py), path, query and signature unchanged. Whatever that host
answers, the target file appears only with exactly the recording's bytes, a
`.part` file keeps only correct bytes, and a later call completes the download.
"""

from __future__ import annotations

import functools
import gc
import importlib
import json
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
import pytest
from helpers import MEDIA_BYTES_PER_SECOND, close_with_users_client, resolve, unique
from reliability.download_server import Behaviour, DownloadServer, Seen, head, serve_file

from baxcloud import (
    APIConnectionError,
    APIStatusError,
    AsyncBaxCloud,
    BadRequestError,
    BaxCloud,
    BaxCloudError,
    PermissionDeniedError,
    Recording,
)
from baxcloud._core import retry as _retry
from baxcloud._resources.recordings import AsyncRecordings
from baxcloud.testing import LocalServer

HANG_GUARD = 60.0  # seconds; a guard against hanging, never a performance check
JUNK_CAP = 64 * 1024 * 1024  # what an endless body sends at most before giving up
SEED = 40_000  # bytes of a correct .part left by an earlier call


@pytest.fixture(scope="module")
def media_server() -> Iterator[LocalServer]:
    """One manual-clock server for the module (the shared fixture starts one per test)."""
    with LocalServer(
        manual_clock=True,
        egress_start_delay=1,
        egress_stop_delay=1,
        recording_bytes_per_second=MEDIA_BYTES_PER_SECOND,
    ) as server:
        yield server


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[DownloadServer]:
    """A scripted download host; `get_download_url` answers URLs pointing at it."""
    with DownloadServer() as server:
        real = AsyncRecordings.get_download_url

        async def via_hostile(self: AsyncRecordings, recording_id: str, **kwargs: Any) -> Any:
            url = await real(self, recording_id, **kwargs)
            server.upstream = url.download_url
            return attrs.evolve(url, download_url=server.rebase(url.download_url))

        monkeypatch.setattr(AsyncRecordings, "get_download_url", via_hostile)
        yield server
    # The API key (or any credential) never goes to the download host.
    assert all("authorization" not in seen.headers for seen in server.seen)


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The `retries_done` of every backoff taken, with delays of a few ms."""
    monkeypatch.setattr(_retry, "INITIAL_DELAY", 0.002)
    monkeypatch.setattr(_retry, "MAX_DELAY", 0.05)
    real = _retry.backoff_delay
    taken: list[int] = []

    def spy(retries_done: int, retry_after: float | None = None) -> float:
        taken.append(retries_done)
        return real(retries_done, retry_after)

    monkeypatch.setattr(_retry, "backoff_delay", spy)
    return taken


async def guarded(client: Any, call: Callable[[], Any]) -> Any:
    """Run a client call under a hang guard (the blocking client's in a worker thread)."""
    with anyio.fail_after(HANG_GUARD):
        if isinstance(client, AsyncBaxCloud):
            return await call()
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)


async def completed(client: Any, server: LocalServer, hostile: DownloadServer) -> Recording:
    """A completed recording; `hostile.content` is its real file."""
    room = unique("hostile")
    await resolve(client.rooms.create(name=room, empty_timeout=3600))
    recording = await resolve(client.recordings.start(room_name=room))
    server.advance_clock(1)
    server.advance_clock(4)
    await resolve(client.recordings.stop(recording.egress_id))
    server.advance_clock(1)
    done: Recording = await resolve(client.recordings.get(recording.id))
    assert done.status == "completed"
    await resolve(client.recordings.get_download_url(done.id))
    async with httpx.AsyncClient() as anonymous:
        hostile.content = (await anonymous.get(hostile.upstream)).content
    assert done.size_bytes is not None
    assert len(hostile.content) == done.size_bytes > SEED * 2
    hostile.seen.clear()
    return done


def secret_free(error: BaseException, sig: str, caplog: pytest.LogCaptureFixture) -> None:
    """No part of the signature in the error, its causes, or any log line."""
    texts = [record.getMessage() for record in caplog.records]
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen)]
        if isinstance(seen, APIStatusError):
            texts += [seen.message, seen.code, str(seen.request_id)]
            texts += [d.message for d in seen.details]
        seen = seen.__cause__ or seen.__context__
    leaks = [text for text in texts if sig.lower() in text.lower()]
    assert not leaks


# ---- scripted answers -----------------------------------------------------------------


def junk(limit: int = JUNK_CAP) -> Iterator[bytes]:
    for _ in range(limit // 65536):
        yield b"\xee" * 65536


def redirect(status: int, to: str) -> Callable[[Seen, DownloadServer], Iterator[bytes]]:
    """A redirect to `to`: a URL, "same" (this very URL) or "elsewhere" (`server.elsewhere`)."""

    def answer(request: Seen, server: DownloadServer) -> Iterator[bytes]:
        location = {"same": request.target, "elsewhere": server.elsewhere + request.target}.get(
            to, to
        )
        yield head(status, ("Location", location), ("Content-Length", 0))

    return answer


def ok_short_declared(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    half = len(server.content) // 2
    yield head(200, ("Content-Length", half))
    yield server.content[:half]


def ok_short_undeclared(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(200)  # the body ends when the connection closes
    yield server.content[: len(server.content) // 2]


def ok_empty_declared(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(200, ("Content-Length", 0))


def ok_empty_undeclared(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(200)


def ok_too_long_declared(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(200, ("Content-Length", len(server.content) + JUNK_CAP))
    yield server.content
    yield from junk()


def ok_endless(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(200)
    yield server.content
    yield from junk()


def ok_endless_chunked(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(200, ("Transfer-Encoding", "chunked"))
    for piece in (server.content, *junk()):
        yield b"%x\r\n%s\r\n" % (len(piece), piece)


def partial(first: int, last: int, total: int | str, body: bytes, length: bool = True) -> bytes:
    headers = [("Content-Range", f"bytes {first}-{last}/{total}")]
    if length:
        headers.append(("Content-Length", str(len(body))))
    return head(206, *headers) + body


def partial_empty_declared(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    size = len(server.content)
    yield head(
        206, ("Content-Range", f"bytes {request.start}-{size - 1}/{size}"), ("Content-Length", 0)
    )


def partial_empty_undeclared(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    size = len(server.content)
    yield head(206, ("Content-Range", f"bytes {request.start}-{size - 1}/{size}"))


def partial_other_total(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    bigger = server.content + b"\xee" * 5000
    size = len(bigger)
    yield partial(request.start, size - 1, size, bigger[request.start :])


def partial_other_start(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    size, start = len(server.content), request.start + 1000
    yield partial(start, size - 1, size, server.content[start:])


def partial_too_long(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    size = len(server.content)
    yield head(206, ("Content-Range", f"bytes {request.start}-{size - 1}/{size}"))
    yield server.content[request.start :]
    yield from junk()


def unsatisfiable(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(416, ("Content-Range", f"bytes */{request.start}"), ("Content-Length", 0))


def no_content(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(204)


@dataclass
class Case:
    name: str
    behave: Callable[[Seen, DownloadServer], Any]
    error: type[BaxCloudError]
    seed: int = 0  # bytes of a correct .part before the call
    requests: int | None = None  # how many the download host must see


FAILING = [
    *(
        Case(f"{s}-elsewhere", redirect(s, "elsewhere"), APIStatusError, SEED, 1)
        for s in (301, 302, 303, 307, 308)
    ),
    Case("302-same-origin", redirect(302, "same"), APIStatusError, 0, 1),
    Case("300-relative", redirect(300, "/downloads/x"), APIStatusError, 0, 1),
    Case("304", redirect(304, "same"), APIStatusError, SEED, 1),
    Case("200-short-declared", ok_short_declared, BaxCloudError, 0, 1),
    Case("200-short-declared-resume", ok_short_declared, BaxCloudError, SEED, 1),
    Case("200-short-undeclared", ok_short_undeclared, APIConnectionError, 0, 3),
    Case("200-empty-declared", ok_empty_declared, BaxCloudError, 0, 1),
    Case("200-empty-undeclared", ok_empty_undeclared, APIConnectionError, SEED, 3),
    Case("200-too-long-declared", ok_too_long_declared, BaxCloudError, 0, 1),
    Case("200-too-long-undeclared", ok_endless, BaxCloudError, 0, 1),
    Case("200-too-long-undeclared-resume", ok_endless, BaxCloudError, SEED, 1),
    Case("200-too-long-chunked", ok_endless_chunked, BaxCloudError, 0, 1),
    Case("206-empty-declared", partial_empty_declared, APIConnectionError, SEED, 3),
    Case("206-empty-undeclared", partial_empty_undeclared, APIConnectionError, SEED, 3),
    Case("206-other-total", partial_other_total, BaxCloudError, SEED, 1),
    Case("206-other-start", partial_other_start, BaxCloudError, SEED, 1),
    Case("206-too-long", partial_too_long, BaxCloudError, SEED, 1),
    Case("416-shorter-file", unsatisfiable, BaxCloudError, SEED, 1),
    Case("204", no_content, BaxCloudError, SEED, 1),
]


@pytest.mark.parametrize("case", FAILING, ids=lambda case: case.name)
async def test_a_wrong_answer_fails_keeps_the_part_file_and_a_rerun_completes(
    case: Case,
    media: Any,
    media_server: LocalServer,
    hostile: DownloadServer,
    backoffs: list[int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="baxcloud")
    recording = await completed(media, media_server, hostile)
    content = hostile.content
    target, part = tmp_path / "out.mp4", tmp_path / "out.mp4.part"
    if case.seed:
        part.write_bytes(content[: case.seed])
    seen: list[int] = []

    with DownloadServer(content) as elsewhere:
        hostile.behave, hostile.elsewhere = case.behave, elsewhere.origin
        with pytest.raises(BaxCloudError) as info:
            await guarded(
                media,
                lambda: media.recordings.download(
                    recording.id, target, progress=lambda done, total: seen.append(done)
                ),
            )
        assert elsewhere.seen == []  # a redirect is never followed

    assert type(info.value) is case.error, info.value
    if isinstance(info.value, APIStatusError):
        assert info.value.code == "download_redirected"
    assert not target.exists()
    kept = part.read_bytes()
    assert len(kept) >= case.seed and kept == content[: len(kept)]
    assert all(done <= len(content) for done in seen)  # never wrote past the file's size
    assert hostile.bytes_sent < JUNK_CAP // 2  # stopped reading an endless body
    if case.requests is not None:
        assert len(hostile.seen) == case.requests
    if case.requests and case.requests > 1:
        assert backoffs == list(range(case.requests - 1))  # no data: the normal backoff
    secret_free(info.value, hostile.seen[0].sig, caplog)

    hostile.behave, hostile.seen = serve_file, []
    path = await guarded(media, lambda: media.recordings.download(recording.id, target))
    assert path.read_bytes() == content
    assert not part.exists()
    assert hostile.seen[0].headers.get("range") == (f"bytes={len(kept)}-" if kept else None)


@pytest.mark.parametrize("anyio_backend", ["trio"])  # asyncio finalizes them silently
async def test_a_download_stopped_early_closes_its_body_generator(
    media_server: LocalServer, hostile: DownloadServer, tmp_path: Path
) -> None:
    """As for API bodies (tests/test_responses.py): the SDK closes the body generator it
    stops reading instead of leaving it to the garbage collector (on trio, a warning)."""
    async with media_server.async_client() as client:
        recording = await completed(client, media_server, hostile)
        hostile.behave = ok_endless
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with pytest.raises(BaxCloudError, match="more bytes"):
                await guarded(client, lambda: client.recordings.download(recording.id, tmp_path))
            gc.collect()
    collected = [str(w.message) for w in seen if "garbage collected" in str(w.message)]
    assert not [m for m in collected if "Response.aiter_bytes" in m], collected


async def test_no_data_answers_back_off_and_stop_after_max_retries(
    media: Any,
    media_server: LocalServer,
    hostile: DownloadServer,
    backoffs: list[int],
    tmp_path: Path,
) -> None:
    recording = await completed(media, media_server, hostile)
    (tmp_path / "out.mp4.part").write_bytes(hostile.content[:SEED])
    hostile.behave = partial_empty_declared
    for max_retries in (0, 4):
        backoffs.clear()
        hostile.seen = []
        with pytest.raises(APIConnectionError, match="stalled at 40000 of"):
            await guarded(
                media,
                functools.partial(
                    media.recordings.download,
                    recording.id,
                    tmp_path / "out.mp4",
                    max_retries=max_retries,
                ),
            )
        assert len(hostile.seen) == max_retries + 1
        assert backoffs == list(range(max_retries))
        assert all(seen.headers["range"] == f"bytes={SEED}-" for seen in hostile.seen)


def _cut(*, declared: bool) -> Callable[[Seen, DownloadServer], Iterator[bytes]]:
    def answer(request: Seen, server: DownloadServer) -> Iterator[bytes]:
        size = len(server.content)
        yield head(200, *([("Content-Length", size)] if declared else []))
        yield server.content[: size // 3]

    return answer


def _whole(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    yield head(200, ("Content-Length", len(server.content)))
    yield server.content


def _small_ranges(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    size, start = len(server.content), request.start
    last = min(start + 50_000, size) - 1
    yield partial(start, last, size, server.content[start : last + 1])


# (name, the first answer, every later answer)
SUCCEEDING = [
    # The body breaks off (declared length, then the connection drops).
    ("cut-declared", _cut(declared=True), serve_file),
    # The body ends early, with no declared length.
    ("cut-undeclared", _cut(declared=False), serve_file),
    # The server ignores Range and always sends the whole file.
    ("ignores-range", _whole, _whole),
    # At most 50 000 bytes per answer (a valid, shorter 206).
    ("small-ranges", _small_ranges, _small_ranges),
]


@pytest.mark.parametrize("seed", [0, SEED])
@pytest.mark.parametrize(("name", "first", "later"), SUCCEEDING, ids=[c[0] for c in SUCCEEDING])
async def test_a_file_delivered_in_pieces_completes(
    name: str,
    first: Behaviour,
    later: Behaviour,
    seed: int,
    media: Any,
    media_server: LocalServer,
    hostile: DownloadServer,
    backoffs: list[int],
    tmp_path: Path,
) -> None:
    recording = await completed(media, media_server, hostile)
    content = hostile.content
    if seed:
        (tmp_path / "out.mp4.part").write_bytes(content[:seed])

    hostile.behave = lambda request, server: (first if len(server.seen) == 1 else later)(
        request, server
    )
    seen: list[int] = []
    path = await guarded(
        media,
        lambda: media.recordings.download(
            recording.id, tmp_path / "out.mp4", progress=lambda done, total: seen.append(done)
        ),
    )
    assert path.read_bytes() == content
    assert not (tmp_path / "out.mp4.part").exists()
    assert seen == sorted(seen) and seen[-1] == len(content) and seen[0] > seed
    ranges = [request.headers.get("range") for request in hostile.seen]
    assert ranges[0] == (f"bytes={seed}-" if seed else None)
    if name.startswith("cut"):
        broke_at = max(seed, len(content) // 3)
        assert ranges == [ranges[0], f"bytes={broke_at}-"]
    if name == "small-ranges":
        assert len(ranges) == -(-(len(content) - seed) // 50_000)


async def test_a_part_file_longer_than_the_recording_is_discarded(
    media: Any, media_server: LocalServer, hostile: DownloadServer, tmp_path: Path
) -> None:
    recording = await completed(media, media_server, hostile)
    (tmp_path / "out.mp4.part").write_bytes(b"\xee" * (len(hostile.content) + 10))
    path = await guarded(
        media, lambda: media.recordings.download(recording.id, tmp_path / "out.mp4")
    )
    assert path.read_bytes() == hostile.content
    assert [request.headers.get("range") for request in hostile.seen] == [None]


@pytest.mark.parametrize(
    ("kind", "library", "http_class"),
    [
        ("sync", "httpx", "AsyncClient"),
        ("sync", "httpx", "Client"),
        ("sync", "httpx2", "Client"),
        ("async", "httpx", "AsyncClient"),
        ("async", "httpx2", "AsyncClient"),
    ],
)
async def test_a_users_http_client_neither_follows_redirects_nor_sends_its_credentials(
    kind: str,
    library: str,
    http_class: str,
    media_server: LocalServer,
    hostile: DownloadServer,
    tmp_path: Path,
) -> None:
    """An `http_client` that follows redirects and carries an Authorization header."""
    http = getattr(importlib.import_module(library), http_class)(
        follow_redirects=True, headers={"Authorization": f"Bearer {media_server.api_key}"}
    )
    factory = media_server.client if kind == "sync" else media_server.async_client
    client = factory(http_client=http)
    try:
        recording = await completed(client, media_server, hostile)
        with DownloadServer(hostile.content) as elsewhere:
            hostile.behave, hostile.elsewhere = redirect(307, "elsewhere"), elsewhere.origin
            with pytest.raises(APIStatusError) as info:
                await guarded(client, lambda: client.recordings.download(recording.id, tmp_path))
            assert info.value.code == "download_redirected"
            assert f"to {elsewhere.origin};" in str(info.value)
            assert elsewhere.seen == []
        hostile.behave = serve_file
        path = await guarded(client, lambda: client.recordings.download(recording.id, tmp_path))
        assert path.read_bytes() == hostile.content
        assert len(hostile.seen) == 2  # the `hostile` fixture checks none carried a credential
    finally:
        if isinstance(client, BaxCloud) and http_class == "Client":
            client.close()
            http.close()
        else:
            await close_with_users_client(client, http)


def _echo_secrets(status: int) -> Callable[[Seen, DownloadServer], Iterator[bytes]]:
    """An error whose body repeats the pre-signed URL and its signature everywhere."""

    def answer(request: Seen, server: DownloadServer) -> Iterator[bytes]:
        url = f"{server.origin}{request.target}"
        sig = request.sig
        error = {
            "code": sig,
            "message": f"no access to {url} (sig {sig.upper()})",
            "requestId": sig,
            "details": [{"field": sig, "message": url}],
        }
        body = json.dumps({"error": error}).encode()
        yield head(status, ("Content-Type", "application/json"), ("Content-Length", len(body)))
        yield body

    return answer


@pytest.mark.parametrize(
    ("status", "error", "requests"), [(400, BadRequestError, 1), (403, PermissionDeniedError, 4)]
)
async def test_errors_never_quote_the_signature(
    status: int,
    error: type[APIStatusError],
    requests: int,
    media: Any,
    media_server: LocalServer,
    hostile: DownloadServer,
    backoffs: list[int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="baxcloud")
    recording = await completed(media, media_server, hostile)
    hostile.behave = _echo_secrets(status)
    with pytest.raises(error) as info:
        await guarded(media, lambda: media.recordings.download(recording.id, tmp_path / "x.mp4"))
    # A refused URL is replaced by a fresh one (at once, then with backoff) max_retries + 1 times.
    assert len(hostile.seen) == requests
    assert info.value.status_code == status and "no access to" in info.value.message
    for request in hostile.seen:
        secret_free(info.value, request.sig, caplog)


async def test_a_recording_without_a_size_is_not_downloaded(
    media: Any,
    media_server: LocalServer,
    hostile: DownloadServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Without `sizeBytes` nothing could tell a whole file from a cut one."""
    recording = await completed(media, media_server, hostile)
    real = AsyncRecordings.get

    async def sizeless(self: AsyncRecordings, recording_id: str, **kwargs: Any) -> Recording:
        return attrs.evolve(await real(self, recording_id, **kwargs), size_bytes=None)

    monkeypatch.setattr(AsyncRecordings, "get", sizeless)
    with pytest.raises(BaxCloudError, match="has no sizeBytes"):
        await guarded(media, lambda: media.recordings.download(recording.id, tmp_path / "x.mp4"))
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x.mp4.part").exists()
    assert hostile.seen == []
