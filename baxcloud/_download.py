"""Streaming a recording to disk: constant memory, resumable with HTTP Range."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx

from . import _retry
from ._base_client import make_status_error
from ._errors import APIConnectionError, APITimeoutError, BaxCloudError
from ._logging import logger

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient
    from ._media_models import DownloadUrl, Recording
    from ._options import RequestOptions

ProgressCallback = Callable[[int, int], object]
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


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
    partial = target.with_name(target.name + ".part")
    done = partial.stat().st_size if partial.exists() else 0
    total = recording.size_bytes
    url = (await fetch_url()).download_url
    timeout = options.get("timeout", client.timeout)
    max_retries = options.get("max_retries", client.max_retries)
    failures = 0

    while total is None or done < total:
        headers = {"Range": f"bytes={done}-"} if done else {}
        try:
            async with client._http.get().stream(
                "GET", url, headers=headers, timeout=timeout
            ) as response:
                status = response.status_code
                if status == 416 and total is not None and done >= total:
                    break
                if status in (401, 403, 404) or status == 416:
                    # Expired or refused URL (or a stale .part): get a fresh URL;
                    # a mismatched .part is discarded.
                    failures += 1
                    if failures > max_retries + 1:
                        await response.aread()
                        raise make_status_error(response, response.headers.get("x-request-id"))
                    if status == 416:
                        done = 0
                    url = (await fetch_url()).download_url
                    continue
                if status >= 400:
                    await response.aread()
                    error = make_status_error(response, response.headers.get("x-request-id"))
                    if failures < max_retries and _retry.should_retry(response, error.code):
                        failures += 1
                        await anyio.sleep(
                            _retry.backoff_delay(failures - 1, _retry.parse_retry_after(response))
                        )
                        continue
                    raise error
                if status == 206:
                    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
                    if match is None or int(match.group(1)) != done:
                        raise BaxCloudError("the download server answered a different range")
                    if match.group(3) != "*":
                        total = int(match.group(3))
                else:
                    done = 0  # the server ignored the Range header: start over
                    length = response.headers.get("content-length")
                    total = int(length) if length is not None else total
                with partial.open("ab" if done else "wb") as sink:
                    async for chunk in response.aiter_bytes():
                        sink.write(chunk)
                        done += len(chunk)
                        failures = 0
                        if progress is not None:
                            progress(done, total if total is not None else done)
                if total is None:
                    total = done
        except httpx.TransportError as exc:
            failures += 1
            if failures > max_retries:
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(f"download of {recording.id} timed out") from exc
                raise APIConnectionError(
                    f"download of {recording.id} failed: {type(exc).__name__}"
                ) from exc
            logger.info("download of %s interrupted at %d bytes; resuming", recording.id, done)
            await anyio.sleep(_retry.backoff_delay(failures - 1))

    if total is not None and done != total:
        raise BaxCloudError(f"download of {recording.id} ended at {done} of {total} bytes")
    os.replace(partial, target)
    return target
