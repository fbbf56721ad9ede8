"""One server per data directory: an exclusive OS lock on `DIR/baxcloud.lock`.

Two servers sharing a directory would each run a webhook worker over the same
queue (every event delivered twice) and each keep its own table of requests in
flight (two resources for one Idempotency-Key). The lock is `fcntl.flock` on an
open file, which the kernel releases when the process exits or dies (SIGKILL
included), so a crashed server never leaves a stale lock behind. The file holds
the holder's pid, for the error message only. Where `fcntl` does not exist
(Windows) the directory is not locked.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import time

from .._core.errors import BaxCloudError

LOCK_FILENAME = "baxcloud.lock"
# The holder writes its pid right after taking the lock: wait this long for it.
_PID_WAIT_SECONDS = 1.0


class DataDirectoryInUse(BaxCloudError):
    """Another local server (`pid`, if known) holds the data directory."""

    def __init__(self, data_dir: pathlib.Path, pid: int | None) -> None:
        holder = "another process" if pid is None else f"process {pid}"
        super().__init__(
            f"data directory {data_dir} is in use by another local BaxCloud server "
            f"({holder}); stop it or use another data directory"
        )
        self.data_dir = data_dir
        self.pid = pid


class DataDirectoryLock:
    """The held lock; `release()` (idempotent) lets another server use the directory."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the last descriptor drops the flock

    def __repr__(self) -> str:
        return f"DataDirectoryLock(held={self._fd is not None})"


def lock_data_dir(data_dir: pathlib.Path) -> DataDirectoryLock:
    """Lock `data_dir` (which must exist) or raise `DataDirectoryInUse`."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: `baxcloud dev --data` is unlocked there
        return DataDirectoryLock(None)
    shown = data_dir.absolute()
    fd = os.open(data_dir / LOCK_FILENAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _holder_pid(fd)
        os.close(fd)
        raise DataDirectoryInUse(shown, pid) from None
    except OSError as exc:
        os.close(fd)
        raise BaxCloudError(f"cannot lock data directory {shown}: {exc.strerror}") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return DataDirectoryLock(fd)


def _holder_pid(fd: int) -> int | None:
    deadline = time.monotonic() + _PID_WAIT_SECONDS
    while True:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)
