"""Benchmarks: baxcloud against raw httpx and its peers, side by side in one run.

    python benchmarks/run.py [--quick]

Each row times baxcloud and its baseline alternately in the same process (best
of several rounds, so that noise from a shared machine hurts both equally) and
prints the ratio. Goals come from the performance issue; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

API_KEY = "bax_sk_benchmark_" + "s" * 48


def best_of(rounds: int, number: int, fn: Callable[[], Any]) -> float:
    """Seconds per call: the fastest of `rounds` batches of `number` calls."""
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        timings.append((time.perf_counter() - start) / number)
    return min(timings)


def side_by_side(rounds: int, pairs: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Alternate the contenders round by round; keep each one's best."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, run in pairs.items():
            value = run()
            best[name] = min(best.get(name, value), value)
    return best


async def async_side_by_side(
    rounds: int, number: int, pairs: dict[str, Callable[[], Awaitable[Any]]]
) -> dict[str, float]:
    """`side_by_side` for coroutine functions: seconds per call, best round of each."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, call in pairs.items():
            start = time.perf_counter()
            for _ in range(number):
                await call()
            value = (time.perf_counter() - start) / number
            best[name] = min(best.get(name, value), value)
    return best


def import_time(module_code: str, repeat: int) -> float:
    """Median seconds to import, in fresh interpreters, with bytecode already compiled.

    An installed wheel has .pyc files (pip compiles them); an editable checkout
    under PYTHONDONTWRITEBYTECODE would recompile the SDK's sources every time.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(__file__).parent.parent / "baxcloud")],
        check=True,
    )
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import time; s=time.perf_counter(); {module_code}; print(time.perf_counter()-s)",
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        runs.append(float(out.stdout))
    return statistics.median(runs)


ROWS: list[tuple[str, str, float, str, bool]] = []


def row(name: str, baseline: str, ratio: float, goal: str, ok: bool) -> None:
    ROWS.append((name, baseline, ratio, goal, ok))
    print(f"  {name}: {ratio:.2f}x {baseline} (goal {goal}) {'PASS' if ok else 'MISS'}", flush=True)


def bench_import(quick: bool) -> None:
    repeat = 5 if quick else 15
    deps = "import httpx, attrs, cattrs, anyio, jwt"
    ours = import_time("import baxcloud", repeat)
    theirs = import_time(deps, repeat)
    row("import baxcloud", "its dependencies", ours / theirs, "<= 1.15x", ours / theirs <= 1.15)
    for peer in ("livekit.api", "openai"):
        try:
            peer_time = import_time(f"import {peer}", repeat)
        except subprocess.CalledProcessError:
            print(f"  ({peer} not installed; skipped)")
            continue
        print(f"  import {peer}: {peer_time * 1000:.1f} ms vs baxcloud {ours * 1000:.1f} ms")


def bench_tokens(quick: bool) -> None:
    import jwt

    from baxcloud import AsyncBaxCloud

    client = AsyncBaxCloud(api_key=API_KEY, base_url="http://127.0.0.1:9")
    number = 300 if quick else 2000

    def ours() -> float:
        return best_of(
            1,
            number,
            lambda: client.tokens.create(
                room_name="room", participant_identity="user", participant_name="User"
            ),
        )

    claims = {
        "iss": "benchmark",
        "sub": "user",
        "name": "User",
        "nbf": 0,
        "exp": 2**31,
        "video": {"room": "room", "roomJoin": True, "canPublish": True},
    }

    def raw() -> float:
        return best_of(1, number, lambda: jwt.encode(claims, "s" * 48, algorithm="HS256"))

    pairs: dict[str, Callable[[], float]] = {"ours": ours, "jwt": raw}
    try:
        from livekit import api as lk

        def livekit() -> float:
            def mint() -> str:
                return (
                    lk.AccessToken("benchmark", "s" * 48)
                    .with_identity("user")
                    .with_name("User")
                    .with_grants(lk.VideoGrants(room_join=True, room="room"))
                    .to_jwt()
                )

            return best_of(1, number, mint)

        pairs["livekit"] = livekit
    except ImportError:
        print("  (livekit-api not installed; token row compares with raw jwt only)")
    best = side_by_side(5, pairs)
    ours_us, raw_us = best["ours"] * 1e6, best["jwt"] * 1e6
    print(f"  tokens.create: {ours_us:.1f} us; raw jwt.encode {raw_us:.1f} us")
    if "livekit" in best:
        speedup = best["livekit"] / best["ours"]
        row("token minting", "livekit-api (speed-up)", speedup, ">= 3x", speedup >= 3)


def bench_async_overhead(quick: bool) -> None:
    from baxcloud import AsyncBaxCloud

    body = json.dumps(
        {
            "sid": "RM_x",
            "name": "room",
            "maxParticipants": 0,
            "emptyTimeout": 300,
            "metadata": "",
            "enableRecording": False,
            "numParticipants": 0,
            "numPublishers": 0,
            "activeRecording": False,
            "createdAt": 1764460800,
        }
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    number = 300 if quick else 2000

    async def main() -> dict[str, float]:
        transport = httpx.MockTransport(handler)
        raw = httpx.AsyncClient(transport=transport, base_url="http://bench")
        client = AsyncBaxCloud(
            api_key=API_KEY,
            base_url="http://bench",
            http_client=httpx.AsyncClient(transport=transport),
        )

        async def raw_get() -> Any:
            return json.loads((await raw.get("/v1/rooms/room")).content)

        return await async_side_by_side(
            5, number, {"ours": lambda: client.rooms.get("room"), "raw": raw_get}
        )

    best = asyncio.run(main())
    ratio = best["ours"] / best["raw"]
    row("async call overhead", "raw httpx (mock transport)", ratio, "<= 1.25x", ratio <= 1.25)


@contextlib.contextmanager
def dev_server() -> Iterator[Any]:
    """`baxcloud dev` in its own process, so that it does not share our GIL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "baxcloud", "dev", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        settings: dict[str, str] = {}
        while len(settings) < 3:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("baxcloud dev exited early")
            if line.startswith("  BAXCLOUD_"):
                key, _, value = line.strip().partition("=")
                settings[key] = value
        from baxcloud.testing import LocalServer

        yield LocalServer.connect(
            settings["BAXCLOUD_BASE_URL"], api_key=settings["BAXCLOUD_API_KEY"]
        )
    finally:
        proc.terminate()
        proc.wait(10)


def bench_loopback(quick: bool) -> None:
    number = 100 if quick else 500
    with dev_server() as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        with server.client() as client:
            client.rooms.create(name="bench")
            raw = httpx.Client(base_url=server.base_url, headers=headers)

            best = side_by_side(
                5,
                {
                    "ours": lambda: best_of(1, number, lambda: client.rooms.get("bench")),
                    "raw": lambda: best_of(1, number, lambda: raw.get("/v1/rooms/bench").json()),
                },
            )
            raw.close()
        ratio = best["ours"] / best["raw"]
        row("sync call on loopback", "raw httpx.Client", ratio, "<= 1.5x", ratio <= 1.5)

        async def run_async() -> dict[str, float]:
            async with (
                server.async_client() as aclient,
                httpx.AsyncClient(base_url=server.base_url, headers=headers) as araw,
            ):

                async def raw_get() -> Any:
                    return (await araw.get("/v1/rooms/bench")).json()

                return await async_side_by_side(
                    5, number, {"ours": lambda: aclient.rooms.get("bench"), "raw": raw_get}
                )

        best = asyncio.run(run_async())
        ratio = best["ours"] / best["raw"]
        row("async call on loopback", "raw httpx.AsyncClient", ratio, "<= 1.15x", ratio <= 1.15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    for bench in (bench_import, bench_tokens, bench_async_overhead, bench_loopback):
        print(f"{bench.__name__}:", flush=True)
        bench(args.quick)
    print()
    print(f"| {'what':<26} | {'compared with':<28} | {'ratio':>6} | {'goal':<8} | result |")
    print(f"|{'-' * 28}|{'-' * 30}|{'-' * 8}|{'-' * 10}|--------|")
    for name, baseline, ratio, goal, ok in ROWS:
        result = "pass" if ok else "MISS"
        print(f"| {name:<26} | {baseline:<28} | {ratio:>5.2f}x | {goal:<8} | {result:<6} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
