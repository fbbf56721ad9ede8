"""Download every completed BaxCloud recording into a folder, several at a time.

    python examples/download_all.py ./recordings --concurrency 4

Walks all completed recordings (every page), skips those whose file is already in the
folder with the right size, and downloads the others concurrently with the async client.
Progress for each file and overall goes to stderr, the summary to stdout. The exit status
is 0 when every recording is in the folder, 1 if any download failed, 2 if the recordings
could not be listed. Run it again to retry: an interrupted download resumes from its
`.part` file.

Configuration, from the environment only: BAXCLOUD_API_KEY and, when not using the hosted
API, BAXCLOUD_BASE_URL (for example the values printed by `baxcloud dev`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from baxcloud import AsyncBaxCloud, BaxCloudError, Recording

PROGRESS_STEP = 10  # print a file's progress every 10 percent
OVERALL_INTERVAL = 1.0  # ... and at least this often (seconds) while bytes arrive


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def target_for(recording: Recording, folder: Path) -> Path:
    # Only the file name: a name from the server must not choose the directory.
    name = Path(recording.filename).name if recording.filename else ""
    return folder / (name or f"{recording.id}.{recording.file_type.lower()}")


def is_complete(path: Path, recording: Recording) -> bool:
    return path.is_file() and (
        recording.size_bytes is None or path.stat().st_size == recording.size_bytes
    )


@dataclass
class Progress:
    """Per-file and overall progress, printed to stderr (called on the event loop)."""

    total_files: int
    total_bytes: int
    done: dict[str, int] = field(default_factory=dict)
    files_finished: int = 0
    _last_step: dict[str, int] = field(default_factory=dict)
    _last_overall: float = 0.0

    def update(self, name: str, done: int, total: int) -> None:
        self.done[name] = done
        step = done * 100 // total // PROGRESS_STEP if total else 0
        now = time.monotonic()
        if step != self._last_step.get(name) or now - self._last_overall >= OVERALL_INTERVAL:
            self._last_step[name] = step
            self._last_overall = now
            log(f"  {name}: {self.percent(done, total)} of {human(total)} | {self.overall()}")

    def finish(self, name: str) -> None:
        self.files_finished += 1
        log(f"done {name} | {self.overall()}")

    def overall(self) -> str:
        done = sum(self.done.values())
        return (
            f"overall {self.files_finished}/{self.total_files} files, "
            f"{self.percent(done, self.total_bytes)} of {human(self.total_bytes)}"
        )

    @staticmethod
    def percent(done: int, total: int) -> str:
        return f"{done * 100 // total:3d}%" if total else "100%"


async def download_one(
    client: AsyncBaxCloud,
    recording: Recording,
    target: Path,
    progress: Progress,
    limit: asyncio.Semaphore,
) -> str | None:
    """Download one recording; returns None on success, else why it failed."""
    async with limit:
        log(f"start {target.name} ({recording.id}, {human(recording.size_bytes or 0)})")
        try:
            await client.recordings.download(
                recording.id,
                target,
                progress=lambda done, total: progress.update(target.name, done, total),
            )
        except (BaxCloudError, OSError) as exc:
            # Keep the .part file: the next run resumes from it.
            log(f"FAILED {target.name} ({recording.id}): {type(exc).__name__}: {exc}")
            return f"{type(exc).__name__}: {exc}"
    progress.finish(target.name)
    return None


async def download_all(folder: Path, concurrency: int) -> int:
    async with AsyncBaxCloud() as client:
        try:
            recordings = [r async for r in client.recordings.list(status="completed")]
        except BaxCloudError as exc:
            log(f"cannot list recordings: {type(exc).__name__}: {exc}")
            return 2

        todo: list[tuple[Recording, Path]] = []
        skipped = 0
        for recording in recordings:
            target = target_for(recording, folder)
            if is_complete(target, recording):
                skipped += 1
                log(f"skip {target.name}: already downloaded")
            else:
                todo.append((recording, target))

        progress = Progress(
            total_files=len(todo), total_bytes=sum(r.size_bytes or 0 for r, _ in todo)
        )
        log(
            f"{len(recordings)} completed recordings: {len(todo)} to download "
            f"({human(progress.total_bytes)}), {skipped} already here"
        )
        limit = asyncio.Semaphore(concurrency)
        results = await asyncio.gather(
            *(download_one(client, r, target, progress, limit) for r, target in todo)
        )

    failed = [(r, why) for (r, _), why in zip(todo, results, strict=True) if why is not None]
    downloaded = len(todo) - len(failed)
    print(
        f"{downloaded} downloaded, {skipped} skipped, {len(failed)} failed "
        f"({len(recordings)} completed recordings) in {folder}"
    )
    for recording, why in failed:
        print(f"failed: {recording.id}: {why}")
    return 1 if failed else 0


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Download every completed BaxCloud recording into a folder."
    )
    parser.add_argument("destination", type=Path, help="folder to download into")
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=4,
        help="downloads at a time (default 4)",
    )
    args = parser.parse_args(argv)
    args.destination.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(download_all(args.destination, args.concurrency))
    except KeyboardInterrupt:
        log("interrupted: run again to resume")
        return 130
    except BaxCloudError as exc:  # for example no BAXCLOUD_API_KEY
        log(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
