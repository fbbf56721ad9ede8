"""Streaming a recording to disk: constant memory, resumable with HTTP Range.

Nothing the download URL answers is taken on trust (docs/recordings-and-downloads.md):
the file is renamed into place only once `<target>.part` holds exactly the
recording's `sizeBytes`; every byte written comes from an answer whose
declared size (`Content-Length` of a 200, `Content-Range` of a 206) agrees with
it; a body that runs past that size is cut off and its bytes taken back out of
the `.part` file. Redirects are not followed. Answers that bring no data are
retried with the normal backoff, at most `max_retries` times in a row. The
download request carries no credentials, and error messages never quote the
pre-signed URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from . import retry, tracing
from .body import closing
from .errors import APIConnectionError, APIStatusError, APITimeoutError, BaxCloudError
from .log import logger
from .options import resolve_timeout
from .pipeline import make_status_error

if TYPE_CHECKING:
    from .._media_models import DownloadUrl, Recording
    from .options import RequestOptions, TimeoutTypes
    from .pipeline import AsyncAPIClient

ProgressCallback = Callable[[int, int], object]
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
# URL refusals (an expired or revoked pre-signed URL): fetch a fresh URL and go on.
_REFUSALS = frozenset({401, 403, 404})
# At most this much of an error body is read, to build the error from.
_ERROR_BODY_LIMIT = 64 * 1024


def _target_path(destination: str | os.PathLike[str], recording: Recording) -> Path:
    target = Path(destination)
    if target.is_dir():
        if not recording.filename:
            raise BaxCloudError(f"recording {recording.id} has no file yet ({recording.status})")
        # Only the name: a server-supplied filename must not choose the directory.
        target = target / Path(recording.filename).name
    return target


async def download_to(
    client: AsyncAPIClient,
    *,
    fetch_url: Callable[[], Awaitable[DownloadUrl]],
    recording: Recording,
    destination: str | os.PathLike[str],
    progress: ProgressCallback | None,
    options: RequestOptions,
) -> Path:
    target = _target_path(destination, recording)
    url = (await fetch_url()).download_url
    if recording.size_bytes is None:
        raise BaxCloudError(
            f"recording {recording.id} has no sizeBytes ({recording.status}): "
            "its download cannot be checked; try again once it is completed"
        )
    transfer = _Transfer(
        client,
        recording_id=recording.id,
        expected=recording.size_bytes,
        partial=target.with_name(target.name + ".part"),
        url=url,
        fetch_url=fetch_url,
        progress=progress,
        # Per phase (each read), not the whole transfer: a large file takes long.
        timeout=resolve_timeout(options.get("timeout", client.timeout))[0],
        max_retries=options.get("max_retries", client.max_retries),
    )
    await transfer.run()
    if transfer.partial.stat().st_size != transfer.expected:  # another writer, say
        raise transfer._mismatch(f"{transfer.partial.name} changed during the download")
    os.replace(transfer.partial, target)
    return target


class _Transfer:
    """One download: `partial` always holds exactly `done` bytes, all of them checked."""

    def __init__(
        self,
        client: AsyncAPIClient,
        *,
        recording_id: str,
        expected: int,
        partial: Path,
        url: str,
        fetch_url: Callable[[], Awaitable[DownloadUrl]],
        progress: ProgressCallback | None,
        timeout: TimeoutTypes,
        max_retries: int,
    ) -> None:
        self.client = client
        self.recording_id = recording_id
        self.expected = expected
        self.partial = partial
        self.url = url
        self.fetch_url = fetch_url
        self.progress = progress
        self.timeout = timeout
        self.max_retries = max_retries
        self.done = 0
        # Failed attempts since data last arrived, and refused URLs in a row (the
        # first refusal is an expired URL: it is replaced at once, not retried).
        self.retries = retry.Retries(max_retries, f"download of {recording_id}")
        self.url_retries = retry.Retries(max_retries, f"download URL of {recording_id}")
        self.url_refused = False

    async def run(self) -> None:
        self._open_partial()
        while self.done < self.expected:
            try:
                await self._attempt()
            except (httpx.TransportError, httpx.DecodingError) as exc:
                await self._after_transport_error(exc)

    def _open_partial(self) -> None:
        with self.partial.open("ab") as sink:
            self.done = sink.tell()
            if self.done > self.expected:
                # Longer than the recording: not a prefix of this file.
                logger.info(
                    "discarding %s: %d bytes, but recording %s has %d",
                    self.partial.name,
                    self.done,
                    self.recording_id,
                    self.expected,
                )
                sink.truncate(0)
                self.done = 0

    async def _attempt(self) -> None:
        http = self.client._http.get()
        headers = {"Accept-Encoding": "identity"}
        if self.done:
            headers["Range"] = f"bytes={self.done}-"
        request = http.build_request("GET", self.url, headers=headers, timeout=self.timeout)
        # Pre-signed URLs need no credentials; never hand any to the file host.
        request.headers.pop("Authorization", None)
        response = await http.send(request, stream=True, follow_redirects=False, auth=None)
        try:
            await self._handle(response)
        finally:
            await response.aclose()

    async def _handle(self, response: httpx.Response) -> None:
        status = response.status_code
        if 300 <= status < 400:
            raise await self._redirect_error(response)
        if status in _REFUSALS:
            await self._refresh_url(response)
            return
        if status == 416:
            raise self._mismatch(
                f"the download server has no bytes from {self.done} on"
                f" ({_content_range_total(response)})"
            )
        if status >= 400:
            error = await self._status_error(response)
            if retry.should_retry(response, error.code):
                await self._no_progress(error, retry.parse_retry_after(response))
                return
            raise error
        if status == 200:
            self._check_length(response)
            start, end = 0, self.expected
            if self.done:
                logger.info("download of %s: the server ignored Range", self.recording_id)
        elif status == 206:
            start, end = self._checked_range(response)
        else:
            raise self._mismatch(f"the download server answered {status} instead of the file")
        self.url_refused = False
        self.url_retries.reset()
        tracing.response(status, response.headers.get("x-request-id"))
        await self._write(response, start, end)

    def _check_length(self, response: httpx.Response) -> None:
        length = response.headers.get("content-length")
        if length is None or "content-encoding" in response.headers:
            return
        if not length.isdigit():
            raise self._mismatch("the download server sent an invalid Content-Length")
        if int(length) != self.expected:
            raise self._mismatch(f"the download server's file has {length} bytes")

    def _checked_range(self, response: httpx.Response) -> tuple[int, int]:
        content_range = response.headers.get("content-range", "")
        match = _CONTENT_RANGE.fullmatch(content_range)
        if match is None:
            raise self._mismatch("the download server answered 206 without a valid Content-Range")
        first, last, total = match.groups()
        if total != "*" and int(total) != self.expected:
            raise self._mismatch(f"the download server's file has {total} bytes")
        if int(first) != self.done or int(last) < int(first) or int(last) >= self.expected:
            raise self._mismatch(
                f"the download server answered bytes {first}-{last} when asked for"
                f" bytes {self.done}-"
            )
        return int(first), int(last) + 1

    async def _write(self, response: httpx.Response, start: int, end: int) -> None:
        """Append the body's bytes for [done, end) to the file; `start` is the body's offset."""
        position = start
        before = self.done
        async with closing(response.aiter_bytes()) as body:
            with self.partial.open("ab") as sink:
                async for chunk in body:
                    skip = max(0, self.done - position)  # a 200 to a Range request repeats them
                    position += len(chunk)
                    if position > end:
                        sink.truncate(before)
                        self.done = before
                        raise self._mismatch(
                            "the download server sent more bytes than it declared"
                            if end < self.expected
                            else "the download server sent more bytes than the file has"
                        )
                    if skip >= len(chunk):
                        continue
                    sink.write(chunk[skip:] if skip else chunk)
                    self.done = position
                    self.retries.reset()
                    if self.progress is not None:
                        self.progress(self.done, self.expected)
        if self.done == before:
            await self._no_progress(None)
        elif self.done < end:
            # The body ended early (the server closed the connection): resume.
            await self._interrupted(
                "body ended early",
                APIConnectionError(
                    f"download of {self.recording_id} failed: the body ended early at"
                    f" {self.done} of {self.expected} bytes"
                ),
            )

    async def _no_progress(
        self, error: BaxCloudError | None, retry_after: float | None = None
    ) -> None:
        if self.retries.exhausted:
            if error is not None:
                raise error
            raise APIConnectionError(
                f"download of {self.recording_id} stalled at {self.done} of {self.expected}"
                f" bytes: {self.retries.used + 1} answers in a row brought no data"
            )
        await self.retries.pause(f"no data at {self.done} bytes", retry_after)

    async def _after_transport_error(self, exc: Exception) -> None:
        if isinstance(exc, httpx.TimeoutException):
            error: APIConnectionError = APITimeoutError(
                f"download of {self.recording_id} timed out"
            )
        else:
            error = APIConnectionError(
                f"download of {self.recording_id} failed: {type(exc).__name__}"
            )
        error.__cause__ = exc
        await self._interrupted(type(exc).__name__, error)

    async def _interrupted(self, reason: str, error: BaxCloudError) -> None:
        """The transfer broke off (possibly after some data): resume after a backoff."""
        if self.retries.exhausted:
            raise error
        await self.retries.pause(f"interruption at {self.done} bytes ({reason})")

    async def _refresh_url(self, response: httpx.Response) -> None:
        """An expired or refused URL: fetch a fresh one (at once the first time)."""
        if self.url_refused:
            if self.url_retries.exhausted:
                raise await self._status_error(response)
            await self.url_retries.pause(f"the download URL was refused ({response.status_code})")
        self.url_refused = True
        self.url = (await self.fetch_url()).download_url

    def _mismatch(self, what: str) -> BaxCloudError:
        return BaxCloudError(
            f"download of {self.recording_id} failed: {what}, but the recording has"
            f" {self.expected} bytes; kept the {self.done} checked bytes in {self.partial.name}"
        )

    async def _redirect_error(self, response: httpx.Response) -> APIStatusError:
        location = response.headers.get("location")
        where = f" to {_origin(location)}" if location else ""
        copy = await _capped_copy(response)
        request_id = response.headers.get("x-request-id")
        return APIStatusError(
            f"download of {self.recording_id}: the download URL answered"
            f" {response.status_code}{where}; redirects are not followed",
            response=copy,
            code="download_redirected",
            request_id=request_id and _scrub(request_id, _url_secrets(self.url)),
        )

    async def _status_error(self, response: httpx.Response) -> APIStatusError:
        """The error for an error answer, without any part of the pre-signed URL in it."""
        copy = await _capped_copy(response)
        error = make_status_error(copy, copy.headers.get("x-request-id"))
        secrets = _url_secrets(self.url)
        error.message = _scrub(error.message, secrets)
        error.args = (error.message,)
        error.code = _scrub(error.code, secrets)
        error.request_id = error.request_id and _scrub(error.request_id, secrets)
        error.details = tuple(
            type(d)(field=d.field and _scrub(d.field, secrets), message=_scrub(d.message, secrets))
            for d in error.details
        )
        return error


async def _capped_copy(response: httpx.Response) -> httpx.Response:
    """A read copy of `response` holding at most the first 64 KiB of its body."""
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk[: _ERROR_BODY_LIMIT - len(body)]
            if len(body) >= _ERROR_BODY_LIMIT:
                break
    except (httpx.TransportError, httpx.DecodingError):
        pass  # the status says enough
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=response.request
    )


def _content_range_total(response: httpx.Response) -> str:
    match = re.fullmatch(r"bytes \*/(\d+)", response.headers.get("content-range", ""))
    return f"it has {match.group(1)} bytes" if match else "416"


def _origin(location: str) -> str:
    try:
        url = httpx.URL(location)
    except (httpx.InvalidURL, TypeError):
        return "an invalid location"
    if not url.is_absolute_url:
        return "the same host"
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _url_secrets(url: str) -> list[str]:
    """The URL and its query values (the signature among them), longest first."""
    parsed = httpx.URL(url)
    values = [url, parsed.query.decode("ascii", "replace")]
    values += [value for _, value in parsed.params.multi_items()]
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = re.sub(re.escape(secret), "****", text, flags=re.IGNORECASE)
    return text
