"""A loopback HTTP/1.1 server that answers exactly what a test scripts, byte for byte.

Real servers (our own local one included) cannot be made to trickle a body,
send a gzip bomb or cut a response short on cue; this one can. Each connection
is served on its own thread: the server reads one request (head and
Content-Length body), records it, and hands the socket to the test's `Reply`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

# Writes a response to the connection; the server closes the socket afterwards.
Reply = Callable[[socket.socket], None]


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


@dataclass
class HostileServer:
    reply: Reply | None = None
    received: list[Received] = field(default_factory=list)
    _sock: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _closed: bool = False

    @property
    def base_url(self) -> str:
        assert self._sock is not None
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def start(self) -> Self:
        self._sock = socket.create_server(("127.0.0.1", 0))
        thread = threading.Thread(target=self._accept, name="hostile-server", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def close(self) -> None:
        self._closed = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        for thread in self._threads:
            thread.join(30)
        if self._sock is not None:
            self._sock.close()

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(30)
            request = _read_request(conn)
            if request is None:
                return
            self.received.append(request)
            self._respond(conn, request)

    def _respond(self, conn: socket.socket, request: Received) -> None:
        """Answer one request (subclasses may answer from what was asked)."""
        if self.reply is not None:
            self.reply(conn)


def _read_request(conn: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(p.strip() for p in line.split(":", 1)) for line in lines[1:] if ":" in line]
    pairs = [(k, v) for k, v in headers]
    length = int(next((v for k, v in pairs if k.lower() == "content-length"), "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Received(method=method, target=target, headers=pairs, body=body)


@contextlib.contextmanager
def hostile_server(reply: Reply | None = None) -> Iterator[HostileServer]:
    server = HostileServer(reply=reply).start()
    try:
        yield server
    finally:
        server.close()


# ---- replies ------------------------------------------------------------------


def head(
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (),
    *,
    reason: str = "OK",
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close", "X-Request-Id: req_hostile"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(
    status: int = 200,
    body: bytes = b"",
    *,
    headers: Iterable[tuple[str, str]] = (("Content-Type", "application/json"),),
    content_length: bool = True,
) -> Reply:
    """A whole response at once (with a Content-Length unless told not to)."""
    extra = list(headers)
    if content_length:
        extra.append(("Content-Length", str(len(body))))

    def reply(conn: socket.socket) -> None:
        conn.sendall(head(status, extra) + body)

    return reply


def trickle(body: bytes, *, every: float, headers_first: bool = True) -> Reply:
    """A 200 whose body (or whole response) arrives one byte every `every` seconds."""

    def reply(conn: socket.socket) -> None:
        start = head(
            200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        payload = body
        if headers_first:
            conn.sendall(start)
        else:
            payload = start + body
        for i in range(len(payload)):
            conn.sendall(payload[i : i + 1])
            time.sleep(every)

    return reply


def endless(*, chunk: bytes = b"[" * 65536, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    """A 200 whose body never ends (close-delimited); stops when the client hangs up."""

    def reply(conn: socket.socket) -> None:
        conn.sendall(head(200, [("Content-Type", "application/json"), *headers]))
        while True:
            conn.sendall(chunk)

    return reply


def compression_bomb(decoded_size: int, *, gzip: bool = True) -> bytes:
    """A valid gzip (or zlib "deflate") body inflating to `decoded_size` spaces (MiB units).

    Built in well under a second: after a full flush the compressor's output for
    the next identical MiB is the same bytes, so the middle is one unit repeated.
    """
    block = b" " * (1 << 20)
    count = decoded_size >> 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | (16 if gzip else 0))
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    unit = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_empty_block = b"\x03\x00"
    if gzip:
        crc = 0
        for _ in range(count):
            crc = zlib.crc32(block, crc)
        trailer = struct.pack("<II", crc, decoded_size & 0xFFFFFFFF)
    else:
        adler = 1
        for _ in range(count):
            adler = zlib.adler32(block, adler)
        trailer = struct.pack(">I", adler)
    return first + unit * (count - 1) + final_empty_block + trailer


def make_client(kind: str, **settings: Any) -> Any:
    """A blocking (`kind="sync"`) or async client with these settings."""
    from baxcloud import AsyncBaxCloud, BaxCloud

    return BaxCloud(**settings) if kind == "sync" else AsyncBaxCloud(**settings)


@contextlib.asynccontextmanager
async def open_client(kind: str, **settings: Any) -> AsyncIterator[Any]:
    """`make_client`, closed afterwards."""
    client = make_client(kind, **settings)
    try:
        yield client
    finally:
        if kind == "sync":
            client.close()
        else:
            await client.aclose()
