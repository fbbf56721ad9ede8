"""Recording files: small but valid MP4 / WebM / Ogg containers of a chosen size.

The local server has no media, so a completed recording is a container whose
header carries the real duration and whose body is deterministic filler
(a pseudo-random block of a prime length, repeated, so that byte offsets are
distinguishable in Range tests). Files are written in chunks, never held in
memory whole, to a `.part` name first and renamed when complete.

Writing a file can take a while (up to the server's `recording_max_bytes`), so
the server runs `RecordingFiles.write` on a worker thread and hands the result
to the (event-loop) state machine through `RecordingFiles.take_result`.
"""

from __future__ import annotations

import os
import pathlib
import random
import shutil
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable

import attrs

FILE_TYPES = ("MP4", "OGG", "WEBM")
CONTENT_TYPES = {"MP4": "video/mp4", "WEBM": "video/webm", "OGG": "audio/ogg"}
EXTENSIONS = {"MP4": "mp4", "WEBM": "webm", "OGG": "ogg"}

_BLOCK_LEN = 65521  # prime: a wrong offset shows up unless it is a multiple of this
_CHUNK_BLOCKS = 16
_MP4_EPOCH_OFFSET = 2_082_844_800  # seconds from 1904-01-01 to 1970-01-01
_OPUS_RATE = 48_000
_OPUS_PRE_SKIP = 312
_OGG_PAGE_DATA = 255 * 255
_OGG_PAGE_HEADER = 27
assert _OGG_PAGE_DATA < _BLOCK_LEN
MIN_MAX_BYTES = 4096  # far more than any container header


@attrs.frozen
class RecordingFile:
    """Everything that decides the bytes of a completed recording's file."""

    recording_id: str
    file_type: str
    duration_ms: int
    payload_bytes: int
    created_at: float

    @property
    def filename(self) -> str:
        return filename_for(self.recording_id, self.file_type)

    @property
    def duration(self) -> float:
        return self.duration_ms / 1000


WriteResult = int | OSError  # the file's size, or why it could not be written


class RecordingFiles:
    """Where recording files live: `data_dir/recordings`, or a private temp dir.

    The temp dir is created on first use and removed by `cleanup()`. `write`
    runs on a worker thread; its outcome, recorded with `put_result` on the
    event loop, waits until the state machine claims it with `take_result`.
    """

    def __init__(self, data_dir: pathlib.Path | None) -> None:
        self._fixed = None if data_dir is None else data_dir / "recordings"
        self._temp: pathlib.Path | None = None
        self._temp_lock = threading.Lock()  # writers run on worker threads
        self._results: dict[RecordingFile, WriteResult] = {}

    def directory(self) -> pathlib.Path:
        if self._fixed is not None:
            self._fixed.mkdir(parents=True, exist_ok=True, mode=0o700)
            return self._fixed
        with self._temp_lock:
            if self._temp is None:
                self._temp = pathlib.Path(tempfile.mkdtemp(prefix="baxcloud-recordings-"))
            return self._temp

    def path(self, filename: str) -> pathlib.Path:
        return self.directory() / filename

    def write(self, spec: RecordingFile) -> int:
        """Write `spec`'s file (blocking: call it on a worker thread); returns its size."""
        return write_recording(
            self.path(spec.filename),
            spec.file_type,
            duration=spec.duration,
            payload_bytes=spec.payload_bytes,
            created_at=spec.created_at,
            seed=spec.recording_id,
        )

    def put_result(self, spec: RecordingFile, result: WriteResult) -> None:
        self._results[spec] = result

    def take_result(self, spec: RecordingFile) -> WriteResult | None:
        """The outcome of writing `spec`, once (None: not written yet)."""
        return self._results.pop(spec, None)

    def unclaimed(self) -> list[RecordingFile]:
        return list(self._results)

    def discard(self, spec: RecordingFile) -> None:
        """Forget a written file nobody will claim (its recording failed meanwhile)."""
        if isinstance(self._results.pop(spec, None), int):
            self.path(spec.filename).unlink(missing_ok=True)

    def clear(self) -> None:
        """Delete every recording file and forget unclaimed results (a server reset).

        The temp dir itself stays: a write still running on a worker thread may be
        about to use it (see `Scheduler.reset`).
        """
        self._results.clear()
        directory = self._fixed if self._fixed is not None else self._temp
        if directory is None or not directory.is_dir():
            return
        for path in directory.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)

    def cleanup(self) -> None:
        with self._temp_lock:
            if self._temp is not None:
                shutil.rmtree(self._temp, ignore_errors=True)
                self._temp = None


def filename_for(recording_id: str, file_type: str) -> str:
    return f"{recording_id}.{EXTENSIONS[file_type]}"


def payload_for(duration_ms: int, bytes_per_second: int) -> int:
    return duration_ms * bytes_per_second // 1000


def container_size(
    file_type: str, *, duration: float, payload_bytes: int, created_at: float
) -> int:
    """The exact size `write_recording` gives a file, without writing it."""
    if file_type == "MP4":
        mdat_header = 8 if payload_bytes + 8 < 2**32 else 16
        return len(mp4_header(duration, created_at)) + mdat_header + payload_bytes
    if file_type == "WEBM":
        return len(_webm_head(duration, payload_bytes)) + payload_bytes
    head_pages = _OGG_PAGE_HEADER * 2 + len(_lacing(len(_OPUS_HEAD))) + len(_OPUS_HEAD)
    head_pages += len(_lacing(len(_OPUS_TAGS))) + len(_OPUS_TAGS)
    if payload_bytes == 0:
        return head_pages
    full_pages, rest = divmod(payload_bytes, _OGG_PAGE_DATA)
    full_page = _OGG_PAGE_HEADER + 255 + _OGG_PAGE_DATA
    last_page = _OGG_PAGE_HEADER + len(_lacing(rest)) + rest
    return head_pages + full_pages * full_page + last_page


def max_duration_ms(
    file_type: str, *, max_bytes: int, bytes_per_second: int, created_at: float
) -> int | None:
    """The longest recording (whole ms) whose file stays within `max_bytes`.

    None when files do not grow (`bytes_per_second == 0`). `max_bytes` must be
    at least `MIN_MAX_BYTES`.
    """
    if bytes_per_second == 0:
        return None

    def fits(duration_ms: int) -> bool:
        size = container_size(
            file_type,
            duration=duration_ms / 1000,
            payload_bytes=payload_for(duration_ms, bytes_per_second),
            created_at=created_at,
        )
        return size <= max_bytes

    low, high = 0, max_bytes * 1000 // bytes_per_second + 1000  # fits(low), not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def _filler_block(seed: str) -> bytes:
    return random.Random(seed).randbytes(_BLOCK_LEN)


def _write_filler(out: Callable[[bytes], object], block: bytes, start: int, length: int) -> None:
    """Write filler bytes [start, start + length) of the infinite repetition of `block`."""
    big = block * (_CHUNK_BLOCKS + 1)
    position = start
    end = start + length
    while position < end:
        phase = position % _BLOCK_LEN
        take = min(end - position, _CHUNK_BLOCKS * _BLOCK_LEN)
        out(big[phase : phase + take])
        position += take


def write_recording(
    path: pathlib.Path,
    file_type: str,
    *,
    duration: float,
    payload_bytes: int,
    created_at: float,
    seed: str,
) -> int:
    """Write the file atomically; returns its size in bytes."""
    part = path.with_name(path.name + ".part")
    block = _filler_block(seed)
    try:
        with open(part, "wb") as f:
            if file_type == "MP4":
                _write_mp4(f.write, block, duration, payload_bytes, created_at)
            elif file_type == "WEBM":
                _write_webm(f.write, block, duration, payload_bytes)
            else:
                _write_ogg(f.write, block, duration, payload_bytes, seed)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path.stat().st_size


# ---- MP4 (ISO BMFF): ftyp, moov/mvhd, mdat ------------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_header(duration: float, created_at: float) -> bytes:
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41")
    timescale = 1000
    ticks = round(duration * timescale)
    created = int(created_at) + _MP4_EPOCH_OFFSET
    matrix = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    tail = struct.pack(">IH", 0x00010000, 0x0100) + b"\0" * 10 + matrix + b"\0" * 24
    tail += struct.pack(">I", 1)  # next track id
    if ticks < 2**32 and created < 2**32:
        body = struct.pack(">IIIII", 0, created, created, timescale, ticks)
    else:
        body = struct.pack(">IQQIQ", 1 << 24, created, created, timescale, ticks)
    return ftyp + _box(b"moov", _box(b"mvhd", body + tail))


def _write_mp4(
    out: Callable[[bytes], object],
    block: bytes,
    duration: float,
    payload: int,
    created_at: float,
) -> None:
    out(mp4_header(duration, created_at))
    if payload + 8 < 2**32:
        out(struct.pack(">I", payload + 8) + b"mdat")
    else:
        out(struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", payload + 16))
    _write_filler(out, block, 0, payload)


# ---- WebM (EBML): EBML header, Segment{Info, Void filler} --------------------------


def _vint_size(value: int) -> bytes:
    """An 8-byte EBML size field (always 8 bytes keeps the arithmetic simple)."""
    return bytes([0x01]) + value.to_bytes(7, "big")


def _ebml(element_id: bytes, payload: bytes) -> bytes:
    return element_id + _vint_size(len(payload)) + payload


def _uint(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _webm_head(duration: float, payload: int) -> bytes:
    """Everything before the filler."""
    header = _ebml(
        b"\x1a\x45\xdf\xa3",
        _ebml(b"\x42\x86", _uint(1))
        + _ebml(b"\x42\xf7", _uint(1))
        + _ebml(b"\x42\xf2", _uint(4))
        + _ebml(b"\x42\xf3", _uint(8))
        + _ebml(b"\x42\x82", b"webm")
        + _ebml(b"\x42\x87", _uint(4))
        + _ebml(b"\x42\x85", _uint(2)),
    )
    info = _ebml(
        b"\x15\x49\xa9\x66",
        _ebml(b"\x2a\xd7\xb1", _uint(1_000_000))  # TimecodeScale: 1 ms
        + _ebml(b"\x44\x89", struct.pack(">d", duration * 1000.0))
        + _ebml(b"\x4d\x80", b"baxcloud-local")
        + _ebml(b"\x57\x41", b"baxcloud-local"),
    )
    void_header = b"\xec" + _vint_size(payload)
    segment_size = len(info) + len(void_header) + payload
    return header + b"\x18\x53\x80\x67" + _vint_size(segment_size) + info + void_header


def _write_webm(
    out: Callable[[bytes], object], block: bytes, duration: float, payload: int
) -> None:
    out(_webm_head(duration, payload))
    _write_filler(out, block, 0, payload)


# ---- Ogg (Opus): OpusHead, OpusTags, then one filler packet over many pages ----------

_OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, _OPUS_PRE_SKIP, _OPUS_RATE, 0, 0)
_OPUS_VENDOR = b"baxcloud-local"
_OPUS_TAGS = (
    b"OpusTags" + struct.pack("<I", len(_OPUS_VENDOR)) + _OPUS_VENDOR + struct.pack("<I", 0)
)
_BIT_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 (poly 0x04C11DB7, not reflected, init 0, no final xor).

    Computed with zlib's reflected CRC-32 over bit-reversed bytes, which is
    the same checksum bit-reversed, at C speed.
    """
    reflected = zlib.crc32(data.translate(_BIT_REVERSE), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def _ogg_page(
    header_type: int, granule: int, serial: int, sequence: int, lacing: bytes, data: bytes
) -> bytes:
    head = (
        b"OggS"
        + bytes([0, header_type])
        + struct.pack("<qII", granule, serial, sequence)
        + b"\0\0\0\0"
        + bytes([len(lacing)])
        + lacing
    )
    crc = struct.pack("<I", ogg_crc(head + data))
    return head[:22] + crc + head[26:] + data


def _lacing(length: int) -> bytes:
    """Lacing values for one whole packet of `length` (< 255 * 255) bytes."""
    return bytes([255] * (length // 255) + [length % 255])


def _write_ogg(
    out: Callable[[bytes], object], block: bytes, duration: float, payload: int, seed: str
) -> None:
    serial = zlib.crc32(seed.encode()) & 0x7FFFFFFF
    head, tags = _OPUS_HEAD, _OPUS_TAGS
    out(_ogg_page(0x02, 0, serial, 0, _lacing(len(head)), head))
    final_granule = round(duration * _OPUS_RATE) + _OPUS_PRE_SKIP
    if payload == 0:
        out(_ogg_page(0x04, final_granule, serial, 1, _lacing(len(tags)), tags))
        return
    out(_ogg_page(0x00, 0, serial, 1, _lacing(len(tags)), tags))
    double = block + block  # a page's data (shorter than a block) starts anywhere in a block
    sequence = 2
    position = 0
    first = True
    while True:
        remaining = payload - position
        full = remaining >= _OGG_PAGE_DATA
        take = _OGG_PAGE_DATA if full else remaining
        phase = position % _BLOCK_LEN
        data = double[phase : phase + take]
        header_type = 0x00 if first else 0x01
        if full:  # the packet continues on the next page
            page = _ogg_page(header_type, -1, serial, sequence, bytes([255] * 255), data)
        else:
            page = _ogg_page(
                header_type | 0x04, final_granule, serial, sequence, _lacing(take), data
            )
        out(page)
        position += take
        sequence += 1
        first = False
        if not full:
            return
