"""A loopback HTTP forward proxy that records what passes through it.

It serves absolute-URI requests for http:// targets (`GET http://host:port/path
HTTP/1.1`), one request per connection: it checks `Proxy-Authorization` when
told to, forwards the request without the proxy's headers, and relays the
target's response with `Connection: close`.
"""

from __future__ import annotations

import base64
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from hostile import HostileServer, Received


@dataclass
class ForwardProxy(HostileServer):
    credentials: tuple[str, str] | None = None  # (user, password) it requires, if any

    @property
    def address(self) -> str:
        assert self._sock is not None
        return f"127.0.0.1:{self._sock.getsockname()[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def url_with_credentials(self) -> str:
        assert self.credentials is not None
        user, password = self.credentials
        return f"http://{user}:{password}@{self.address}"

    def _respond(self, conn: socket.socket, request: Received) -> None:
        if not self._authorized(request):
            conn.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        target = urlsplit(request.target)
        if target.scheme != "http" or target.hostname is None:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        path = target.path + (f"?{target.query}" if target.query else "")
        kept = [
            (k, v)
            for k, v in request.headers
            if not k.lower().startswith("proxy-") and k.lower() != "connection"
        ]
        lines = [f"{request.method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in kept)]
        forwarded = ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1")
        with socket.create_connection((target.hostname, target.port or 80), timeout=30) as up:
            up.sendall(forwarded + request.body)
            _relay(up, conn)

    def _authorized(self, request: Received) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return request.header_values("Proxy-Authorization") == [f"Basic {expected}"]


def _relay(upstream: socket.socket, downstream: socket.socket) -> None:
    """The target's response, its head made `Connection: close`, until the target closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = upstream.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    downstream.sendall(b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + rest)
    while chunk := upstream.recv(65536):
        downstream.sendall(chunk)


@contextlib.contextmanager
def forward_proxy(credentials: tuple[str, str] | None = None) -> Iterator[ForwardProxy]:
    proxy = ForwardProxy(credentials=credentials).start()
    try:
        yield proxy
    finally:
        proxy.close()
