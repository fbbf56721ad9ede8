"""The floor for the local server's throughput: the least a server of this API must do.

    python benchmarks/bare_server.py API_KEY            # Starlette + uvicorn
    python benchmarks/bare_server.py - --trivial        # a constant answer (asyncio only)

A bare Starlette app under uvicorn (the same uvicorn settings as `baxcloud dev`)
that serves `POST /v1/rooms` and `GET /v1/rooms/{name}` with a bearer check, a
JSON parse, one SQLite insert and commit (or one select), and a JSON answer of
the same shape as openapi.json's `Room` with the headers openapi.json gives every
answer (`X-Request-Id`, `X-RateLimit-*`). `--trivial` answers every request with
a constant from a raw asyncio protocol: what the load generator reaches when the
server costs next to nothing. Prints `export BAXCLOUD_BASE_URL=...` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import secrets
import socket
import sqlite3
import time
from typing import Any

RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "10000",
    "X-RateLimit-Remaining": "10000",
    "X-RateLimit-Reset": "60",
}
ROOM_COLUMNS = "sid, name, max_participants, empty_timeout, metadata, enable_recording, created_at"


def build_app(api_key: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.execute(
        "CREATE TABLE rooms (sid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " max_participants INTEGER NOT NULL, empty_timeout INTEGER NOT NULL,"
        " metadata TEXT NOT NULL, enable_recording INTEGER NOT NULL, created_at INTEGER NOT NULL)"
    )
    expected = ("Bearer " + api_key).encode()

    def answer(status: int, value: Any) -> Response:
        body = json.dumps(value, separators=(",", ":")).encode()
        headers = {"X-Request-Id": "req_" + os.urandom(12).hex(), **RATE_LIMIT_HEADERS}
        return Response(body, status, headers, media_type="application/json")

    def room_json(row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "sid": row[0],
            "name": row[1],
            "maxParticipants": row[2],
            "emptyTimeout": row[3],
            "metadata": row[4],
            "enableRecording": bool(row[5]),
            "numParticipants": 0,
            "numPublishers": 0,
            "activeRecording": False,
            "createdAt": row[6],
        }

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, expected)

    async def create_room(request: Request) -> Response:
        if not authorized(request):
            return answer(401, {"error": {"code": "unauthenticated"}})
        body = json.loads(await request.body())
        name = body.get("name")
        if not isinstance(name, str) or not name:
            return answer(422, {"error": {"code": "validation_failed"}})
        row = ("RM_" + secrets.token_hex(6), name, 0, 300, "", 0, int(time.time()))
        try:
            db.execute("BEGIN")
            db.execute(f"INSERT INTO rooms ({ROOM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            db.execute("COMMIT")
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK")
            return answer(409, {"error": {"code": "room_already_exists"}})
        return answer(201, room_json(row))

    async def get_room(request: Request) -> Response:
        if not authorized(request):
            return answer(401, {"error": {"code": "unauthenticated"}})
        row = db.execute(
            f"SELECT {ROOM_COLUMNS} FROM rooms WHERE name = ?",
            (request.path_params["name"],),
        ).fetchone()
        if row is None:
            return answer(404, {"error": {"code": "room_not_found"}})
        return answer(200, room_json(row))

    return Starlette(
        routes=[
            Route("/v1/rooms", create_room, methods=["POST"]),
            Route("/v1/rooms/{name}", get_room, methods=["GET"]),
        ]
    )


class _Constant(asyncio.Protocol):
    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:  # bodiless GETs only
            _, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self.transport.write(self.ANSWER)


async def serve_trivial() -> None:
    server = await asyncio.get_running_loop().create_server(_Constant, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"export BAXCLOUD_BASE_URL=http://127.0.0.1:{port}", flush=True)
    await server.serve_forever()


def serve_bare(api_key: str) -> None:
    import uvicorn

    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so
    # (uvloop always does); without it h11 answers stall on delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)  # connections wait in the backlog until uvicorn serves
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(api_key),
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,  # as `baxcloud dev`
    )
    server = uvicorn.Server(config)
    print(f"export BAXCLOUD_BASE_URL=http://127.0.0.1:{port}", flush=True)
    server.run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api_key")
    parser.add_argument("--trivial", action="store_true")
    args = parser.parse_args()
    if args.trivial:
        asyncio.run(serve_trivial())
    else:
        serve_bare(args.api_key)


if __name__ == "__main__":
    main()
