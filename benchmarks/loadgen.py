"""A light HTTP/1.1 load generator: create a room, then get it, on N keep-alive connections.

    python benchmarks/loadgen.py BASE_URL API_KEY --seconds 5 --connections 16 [--prefix P]
    python benchmarks/loadgen.py BASE_URL - --trivial     # GET / only (measures the generator)

Run in its own process (so that it does not share the server's GIL), it prints one
JSON line: {"requests": n, "seconds": s, "errors": e, "first_error": "..."}. Each
connection sends a request, reads the whole answer (Content-Length framed), then
sends the next: exactly `connections` requests in flight. Requests are pre-built
bytes and answers are parsed as little as framing needs, so that the generator
costs far less per request than any server it measures (`--trivial` against a
server that answers a constant shows its own ceiling). uvloop is used if installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `request(data)` resolves to (status, body)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionResetError("server closed the connection")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._lost)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buffer[:end]).lower()
        start = head.find(b"\r\ncontent-length:")
        length = 0
        if start >= 0:
            stop = head.find(b"\r\n", start + 2)
            length = int(head[start + 17 : stop if stop >= 0 else None])
        total = end + 4 + length
        if len(buffer) < total:
            return
        status = int(head[9:12])
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((status, body))

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        if self._lost is not None:
            raise self._lost
        assert self.transport is not None
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self.transport.write(data)
        return waiter


def _post(host: str, auth: bytes, body: bytes) -> bytes:
    return (
        b"POST /v1/rooms HTTP/1.1\r\nHost: " + host.encode() + b"\r\n" + auth
        + b"Content-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


def _get(host: str, auth: bytes, path: str) -> bytes:
    return (
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n" + auth + b"\r\n"
    )


async def run(
    base_url: str, api_key: str, seconds: float, connections: int, prefix: str, trivial: bool
) -> dict[str, object]:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    netloc = parts.netloc
    auth = b"Authorization: Bearer " + api_key.encode() + b"\r\n"
    loop = asyncio.get_running_loop()
    conns = [(await loop.create_connection(_Connection, host, port))[1] for _ in range(connections)]
    counts = [0] * connections
    errors: list[str] = []
    deadline = 0.0

    async def drive(index: int) -> None:
        conn = conns[index]
        i = 0
        trivial_request = _get(netloc, b"", "/")
        while time.perf_counter() < deadline:
            if trivial:
                status, _ = await conn.request(trivial_request)
                counts[index] += 1
                if status != 200:
                    errors.append(f"GET / -> {status}")
                continue
            name = f"{prefix}-{index}-{i}"
            i += 1
            body = b'{"name":"' + name.encode() + b'"}'
            status, answer = await conn.request(_post(netloc, auth, body))
            counts[index] += 1
            if status != 201:
                errors.append(f"POST -> {status} {answer[:200]!r}")
                continue
            status, answer = await conn.request(_get(netloc, auth, "/v1/rooms/" + name))
            counts[index] += 1
            if status != 200:
                errors.append(f"GET -> {status} {answer[:200]!r}")

    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(drive(i) for i in range(connections)))
    elapsed = time.perf_counter() - start
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return {
        "requests": sum(counts),
        "seconds": elapsed,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("api_key")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--prefix", default="load")
    parser.add_argument("--trivial", action="store_true", help="GET / only")
    args = parser.parse_args()
    runner = asyncio.run
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        pass
    result = runner(
        run(args.base_url, args.api_key, args.seconds, args.connections, args.prefix, args.trivial)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
