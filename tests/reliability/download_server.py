"""A raw-socket HTTP/1.1 file server on 127.0.0.1 whose answers a test scripts byte for byte.

It stands in for the host of a recording's pre-signed download URL. Each
request is recorded (`seen`), then answered by `behave(request, server)`: an
iterable of raw bytes (status line, headers and body exactly as written,
nothing added), after which the connection is closed. `serve_file` is the
well-behaved answer (200, or 206 for `Range: bytes=N-`) from `content`.
After `limit` requests every answer is 410, so that a client that never stops
asking ends instead of hanging the test (which then fails on the count).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType

import httpx

MAX_HEAD = 64 * 1024


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased

    @property
    def start(self) -> int:
        """The first byte asked for by `Range: bytes=N-` (0 without a Range)."""
        value = self.headers.get("range", "")
        return int(value[len("bytes=") : -1]) if value else 0

    @property
    def sig(self) -> str:
        return httpx.URL(self.target).params["sig"]


Behaviour = Callable[[Seen, "DownloadServer"], Iterable[bytes]]


def head(status: int, *headers: tuple[str, str | int]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def serve_file(request: Seen, server: DownloadServer) -> Iterator[bytes]:
    content, start = server.content, request.start
    if start:
        yield head(
            206,
            ("Content-Length", len(content) - start),
            ("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}"),
        )
    else:
        yield head(200, ("Content-Length", len(content)))
    for offset in range(start, len(content), 16 * 1024):
        yield content[offset : offset + 16 * 1024]


class DownloadServer:
    def __init__(self, content: bytes = b"") -> None:
        self.content = content
        self.behave: Behaviour = serve_file
        self.upstream = ""  # the real URL this server stands in for
        self.elsewhere = ""  # where `redirect(..., "elsewhere")` answers point
        self.seen: list[Seen] = []
        self.bytes_sent = 0
        self.limit = 100
        self._lock = threading.Lock()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._answer(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def rebase(self, url: str) -> str:
        """`url` with this server as its scheme, host and port (path and query kept)."""
        port = self._server.server_address[1]
        return str(httpx.URL(url).copy_with(scheme="http", host="127.0.0.1", port=port))

    def __enter__(self) -> DownloadServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(30)

    def _answer(self, sock: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < MAX_HEAD:
            more = sock.recv(4096)
            if not more:
                return
            data += more
        lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        request = Seen(method, target, headers)
        with self._lock:
            self.seen.append(request)
            over = len(self.seen) > self.limit
        answer = [head(410, ("Content-Length", 0))] if over else self.behave(request, self)
        try:
            for piece in answer:
                sock.sendall(piece)
                with self._lock:
                    self.bytes_sent += len(piece)
        except OSError:
            return  # the client hung up
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
