"""Benchmarks: baxcloud against raw httpx and its peers, side by side in one run.

    python benchmarks/run.py [--quick]

Each row times baxcloud and its baseline alternately in the same process (best
of several rounds, so that noise from a shared machine hurts both equally) and
prints the ratio. Goals come from the performance issue; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hmac
import json
import os
import secrets
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


ROWS: list[tuple[str, str, str, str, bool]] = []
REPORTED: list[str] = []


def row(name: str, baseline: str, value: float, goal: str, ok: bool, unit: str = "x") -> None:
    shown = f"{value:.2f}{unit}" if value >= 0.1 else f"{value:.3f}{unit}"
    ROWS.append((name, baseline, shown, goal, ok))
    print(f"  {name}: {shown} vs {baseline} (goal {goal}) {'PASS' if ok else 'MISS'}", flush=True)


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


def bench_cli_startup(quick: bool) -> None:
    """`baxcloud --help` against `import baxcloud`: each a fresh interpreter, wall time."""
    root = Path(__file__).parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            str(root / "baxcloud"),
            str(root / "_baxcloud_cli.py"),
        ],
        check=True,
    )
    script = Path(sys.executable).with_name("baxcloud")

    def timed(argv: list[str]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
            return time.perf_counter() - start

        return run

    best = side_by_side(
        5 if quick else 15,
        {
            "help": timed([str(script), "--help"]),
            "import": timed([sys.executable, "-c", "import baxcloud"]),
        },
    )
    ratio = best["help"] / best["import"]
    row("`baxcloud --help`", "`python -c 'import baxcloud'`", ratio, "<= 0.5x", ratio <= 0.5)
    REPORTED.append(
        f"baxcloud --help: {best['help'] * 1000:.0f} ms, "
        f"python -c 'import baxcloud': {best['import'] * 1000:.0f} ms"
    )


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

    def stdlib() -> float:
        return best_of(1, number, stdlib_token)

    pairs: dict[str, Callable[[], float]] = {"ours": ours, "jwt": raw, "stdlib": stdlib}
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
    versus = best["stdlib"] / best["ours"]
    row("token minting", "stdlib signer (speed-up)", versus, ">= 0.9x", versus >= 0.9)
    if "livekit" in best:
        speedup = best["livekit"] / best["ours"]
        row("token minting", "livekit-api (speed-up)", speedup, ">= 3x", speedup >= 3)


_STDLIB_SECRET = ("s" * 48).encode()
_STDLIB_HEADER = base64.urlsafe_b64encode(
    json.dumps({"alg": "HS256", "typ": "JWT", "kid": "benchmark"}, separators=(",", ":")).encode()
).rstrip(b"=")


def stdlib_token() -> str:
    """The claims `tokens.create` signs in the token row, by the shortest stdlib route:
    json, base64, hmac and a random jti, the header encoded once."""
    now = int(time.time())
    claims = {
        "iss": "benchmark",
        "sub": "user",
        "name": "User",
        "nbf": now,
        "exp": now + 3600,
        "jti": secrets.token_urlsafe(16),
        "video": {
            "room": "room",
            "roomJoin": True,
            "canPublish": True,
            "canSubscribe": True,
            "canPublishData": True,
            "canUpdateOwnMetadata": False,
        },
    }
    payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = _STDLIB_HEADER + b"." + payload.rstrip(b"=")
    signature = hmac.digest(_STDLIB_SECRET, signing_input, "sha256")
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


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
    row("async call overhead", "raw httpx (mock transport)", ratio, "<= 1.10x", ratio <= 1.10)


BENCHMARKS = Path(__file__).parent


@contextlib.contextmanager
def server_process(args: list[str], settings_wanted: int) -> Iterator[tuple[Any, dict[str, str]]]:
    """A server in its own process (so that it does not share our GIL), once it printed
    its `export BAXCLOUD_...=` settings: yields the process and those settings.

    Its output goes to a file, as a terminal would take it (a pipe nobody reads would
    block a server that logs).
    """
    import tempfile

    from baxcloud._cli.dev import parse_export_line

    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, *args], stdout=out, text=True)
        try:
            settings: dict[str, str] = {}
            deadline = time.monotonic() + 60
            while len(settings) < settings_wanted:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(args)} did not start")
                time.sleep(0.05)
                out.seek(0)
                for line in out.read().splitlines():
                    setting = parse_export_line(line)
                    if setting is not None:
                        settings[setting[0]] = setting[1]
            yield proc, settings
        finally:
            proc.terminate()
            proc.wait(10)


DEV = ["-m", "baxcloud", "dev", "--port", "0"]


@contextlib.contextmanager
def dev_server(*, log: bool = False) -> Iterator[Any]:
    """`baxcloud dev` in its own process (quiet unless `log`), as a connected `LocalServer`."""
    args = DEV if log else [*DEV, "--quiet"]
    with server_process(args, 3) as (_, settings):
        from baxcloud.testing import LocalServer

        yield LocalServer.connect(
            settings["BAXCLOUD_BASE_URL"], api_key=settings["BAXCLOUD_API_KEY"]
        )


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
        row("sync call on loopback", "raw httpx.Client", ratio, "<= 1.15x", ratio <= 1.15)

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


def bench_webhooks(quick: bool) -> None:
    try:
        import bench_webhooks as webhooks
    except ImportError as exc:
        print(f"  (skipped: {exc.name} is not installed)")
        return
    best = webhooks.measure(quick)
    ours = best["baxcloud.webhooks.verify (typed)"]
    sw = best["standardwebhooks.Webhook.verify"] / ours
    lk = best["livekit-api WebhookReceiver.receive"] / ours
    row("webhook verify (typed)", "standardwebhooks (speed-up)", sw, ">= 1.5x", sw >= 1.5)
    row("webhook verify (typed)", "livekit-api (speed-up)", lk, ">= 5x", lk >= 5)


def bench_bulk(quick: bool) -> None:
    """1,000 creates with 64 in flight, against raw httpx doing the same."""
    from baxcloud._core.pools import DEFAULT_LIMITS

    total, in_flight = (300, 64) if quick else (1000, 64)
    with dev_server() as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}

        async def run() -> dict[str, float]:
            async with (
                server.async_client() as client,
                httpx.AsyncClient(
                    base_url=server.base_url,
                    headers=headers,
                    limits=DEFAULT_LIMITS,  # the same pool limits as the SDK's own
                ) as raw,
            ):

                async def ours(i: int, prefix: str) -> Any:
                    return await client.rooms.create(name=f"{prefix}-{i}")

                async def baseline(i: int, prefix: str) -> Any:
                    response = await raw.post("/v1/rooms", json={"name": f"{prefix}-{i}"})
                    response.raise_for_status()
                    return response.json()

                async def burst(call: Callable[[int, str], Awaitable[Any]], prefix: str) -> float:
                    limiter = asyncio.Semaphore(in_flight)

                    async def one(i: int) -> None:
                        async with limiter:
                            await call(i, prefix)

                    start = time.perf_counter()
                    await asyncio.gather(*(one(i) for i in range(total)))
                    return time.perf_counter() - start

                best: dict[str, float] = {}
                contenders = [("ours", ours), ("raw", baseline)]
                for attempt in range(4):
                    # Alternate who goes first: the server's table grows as we go.
                    for name, call in contenders[:: 1 if attempt % 2 == 0 else -1]:
                        value = await burst(call, f"{name}-{attempt}")
                        best[name] = min(best.get(name, value), value)
                return best

        best = asyncio.run(run())
    ratio = best["ours"] / best["raw"]
    row(
        f"bulk: {total} creates, {in_flight} in flight",
        "raw httpx",
        ratio,
        "<= 1.05x",
        ratio <= 1.05,
    )


def bench_paging(quick: bool) -> None:
    """Iterating 10,000 rooms page by page (limit 100), blocking, against raw httpx.Client.

    Both walk the same pages of `listRooms` and decode the JSON; the SDK also builds a
    `Room` for every item. The RSS growth over all the rounds shows whether memory
    stays flat (pages already walked are not kept).
    """
    total, limit = (2_000, 100) if quick else (10_000, 100)
    with dev_server() as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}

        async def seed() -> None:
            async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
                limiter = asyncio.Semaphore(32)

                async def one(i: int) -> None:
                    async with limiter:
                        response = await http.post("/v1/rooms", json={"name": f"page-{i}"})
                        response.raise_for_status()

                await asyncio.gather(*(one(i) for i in range(total)))

        asyncio.run(seed())
        with (
            server.client() as client,
            httpx.Client(base_url=server.base_url, headers=headers) as raw,
        ):
            cpu: dict[str, float] = {}

            def timed(name: str, walk: Callable[[], int]) -> float:
                start, start_cpu = time.perf_counter(), time.process_time()
                count = walk()
                assert count == total, count
                used = time.process_time() - start_cpu
                cpu[name] = min(cpu.get(name, used), used)
                return time.perf_counter() - start

            def ours() -> int:
                return sum(1 for _ in client.rooms.list(limit=limit))

            def baseline() -> int:
                count, page = 0, 1
                while True:
                    body = raw.get("/v1/rooms", params={"page": page, "limit": limit}).json()
                    count += len(body["items"])
                    if not body["hasMore"] or not body["items"]:
                        return count
                    page += 1

            ours()  # warm up: connections, structure functions
            before = _rss_bytes()
            best = side_by_side(
                5 if quick else 9,
                {"ours": lambda: timed("ours", ours), "raw": lambda: timed("raw", baseline)},
            )
            growth = (_rss_bytes() - before) / 2**20
    ratio = best["ours"] / best["raw"]
    REPORTED.append(
        f"paging: client CPU per room {cpu['ours'] / total * 1e6:.1f} us "
        f"(raw httpx.Client and json: {cpu['raw'] / total * 1e6:.1f} us)"
    )
    row(
        f"paging: {total:,} rooms, limit {limit}",
        "raw httpx.Client",
        ratio,
        "<= 1.25x",
        ratio <= 1.25,
    )
    row("paging: RSS growth over the rounds", "", growth, "<= 5 MB", growth <= 5, " MB")


def bench_aiohttp_transport(quick: bool) -> None:
    """AsyncBaxCloud over httpx-aiohttp's transport against the default, at high concurrency.

    Reads of one room (the server's table does not grow), `in_flight` at a time,
    both clients with the SDK's pool limits; docs/http-clients.md reports it.
    """
    try:
        from httpx_aiohttp import HttpxAiohttpClient
    except ImportError:
        print("  (skipped: httpx-aiohttp is not installed)")
        return
    from baxcloud._core.pools import DEFAULT_LIMITS

    total = 1000 if quick else 3000
    with dev_server() as server:
        server.client().rooms.create(name="bench-aiohttp")

        async def run(in_flight: int) -> dict[str, float]:
            aiohttp_http = HttpxAiohttpClient(limits=DEFAULT_LIMITS, follow_redirects=False)
            async with (
                server.async_client() as default,
                server.async_client(http_client=aiohttp_http) as over_aiohttp,
                aiohttp_http,
            ):

                async def burst(client: Any) -> float:
                    limiter = asyncio.Semaphore(in_flight)

                    async def one() -> None:
                        async with limiter:
                            await client.rooms.get("bench-aiohttp")

                    start = time.perf_counter()
                    await asyncio.gather(*(one() for _ in range(total)))
                    return (time.perf_counter() - start) / total

                best: dict[str, float] = {}
                contenders = [("default", default), ("aiohttp", over_aiohttp)]
                for attempt in range(4):
                    for name, client in contenders[:: 1 if attempt % 2 == 0 else -1]:
                        value = await burst(client)
                        best[name] = min(best.get(name, value), value)
                return best

        for in_flight in (64, 256):
            best = asyncio.run(run(in_flight))
            speedup = best["default"] / best["aiohttp"]
            row(
                f"httpx-aiohttp transport, {in_flight} in flight",
                "default httpx transport (speed-up)",
                speedup,
                "report",
                True,
            )
            REPORTED.append(
                f"{in_flight} in flight: default {1e6 * best['default']:.0f} us/call, "
                f"httpx-aiohttp {1e6 * best['aiohttp']:.0f} us/call"
            )


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bench_memory(quick: bool) -> None:
    """RSS growth over many calls, and the peak while downloading a large recording."""
    calls = 20_000 if quick else 100_000
    code = f"""
import asyncio, gc, json, os, httpx, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from run import _rss_bytes
from baxcloud import AsyncBaxCloud
body = json.dumps({{"sid": "RM_x", "name": "room", "createdAt": 1764460800}}).encode()
transport = httpx.MockTransport(lambda r: httpx.Response(200, content=body))
async def main():
    client = AsyncBaxCloud(api_key="bax_sk_benchmark_" + "s" * 48, base_url="http://m",
                           http_client=httpx.AsyncClient(transport=transport))
    for _ in range(2000):
        await client.rooms.get("room")
    gc.collect(); before = _rss_bytes()
    for _ in range({calls}):
        await client.rooms.get("room")
    gc.collect(); print(_rss_bytes() - before)
asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    growth = int(out.stdout) / 2**20
    row(f"memory: {calls:,} calls", "RSS growth", growth, "<= 5 MB", growth <= 5, " MB")

    from baxcloud.testing import LocalServer

    size_mb = 50 if quick else 200
    rate = 8 * 2**20
    with (
        LocalServer(
            manual_clock=True,
            egress_start_delay=0,
            egress_stop_delay=0,
            recording_bytes_per_second=rate,
            recording_max_bytes=(size_mb + 1) * 2**20,  # above the default 64 MiB cap
        ) as server,
        server.client() as client,
    ):
        client.rooms.create(name="big", empty_timeout=3600)
        recording = client.recordings.start(room_name="big")
        server.advance_clock(0)
        server.advance_clock(size_mb * 2**20 // rate)
        client.recordings.stop(recording.egress_id)
        server.advance_clock(1)
        done = client.recordings.get(recording.id)
        download = f"""
import sys, tempfile, threading
sys.path.insert(0, {str(Path(__file__).parent)!r})
from run import _rss_bytes
from baxcloud import BaxCloud
client = BaxCloud(api_key={server.api_key!r}, base_url={server.base_url!r})
client.rooms.list()
base = peak = _rss_bytes()
done = threading.Event()
def sample():
    global peak
    while not done.wait(0.002):
        peak = max(peak, _rss_bytes())
sampler = threading.Thread(target=sample)
sampler.start()
with tempfile.TemporaryDirectory() as folder:
    path = client.recordings.download({done.id!r}, folder)
    assert path.stat().st_size == {done.size_bytes}
done.set(); sampler.join()
print(max(peak, _rss_bytes()) - base)
"""
        out = subprocess.run(
            [sys.executable, "-c", download], capture_output=True, text=True, check=True
        )
    peak = int(out.stdout) / 2**20
    row(
        f"memory: {size_mb} MB download",
        "peak RSS over baseline",
        peak,
        "<= 30 MB",
        peak <= 30,
        " MB",
    )


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux only; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(
    base_url: str, api_key: str, seconds: float, prefix: str, trivial: bool = False
) -> tuple[float, int]:
    """Requests per second, and requests, from `loadgen.py` (its own process, 16 connections)."""
    args = [str(BENCHMARKS / "loadgen.py"), base_url, api_key, "--seconds", str(seconds)]
    args += ["--prefix", prefix, "--connections", "16"] + (["--trivial"] if trivial else [])
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if result["errors"]:
        raise RuntimeError(f"load generator saw {result['errors']} errors: {result['first_error']}")
    return float(result["requests"]) / float(result["seconds"]), int(result["requests"])


def _uvicorn_flavour() -> str:
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn http={http} loop={loop}"


def bench_server(quick: bool) -> None:
    """Local server throughput: `baxcloud dev` against the least a server of this API does.

    Both servers run in their own process under the same uvicorn; `loadgen.py` (a
    third process) keeps 16 requests in flight, each connection creating a room then
    getting it. Rounds alternate between the two; each keeps its best round. Judged on
    requests per server CPU-second (Linux; wall clock elsewhere), which a busy shared
    machine disturbs far less than wall-clock req/s.
    """
    seconds, rounds = (1.5, 3) if quick else (3.0, 6)
    with server_process([*DEV, "--quiet"], 2) as (dev, settings):
        base_url, api_key = settings["BAXCLOUD_BASE_URL"], settings["BAXCLOUD_API_KEY"]
        bare_args = [str(BENCHMARKS / "bare_server.py"), api_key]
        with server_process(bare_args, 1) as (bare, bare_settings):
            contenders = {
                "ours": (dev.pid, base_url),
                "bare": (bare.pid, bare_settings["BAXCLOUD_BASE_URL"]),
            }
            best: dict[str, float] = {}
            cpu: dict[str, float] = {}
            for attempt in range(rounds):
                order = list(contenders) if attempt % 2 == 0 else list(contenders)[::-1]
                for name in order:
                    pid, url = contenders[name]
                    before = _cpu_seconds(pid)
                    rps, served = _load(url, api_key, seconds, f"{name}{attempt}")
                    after = _cpu_seconds(pid)
                    best[name] = max(best.get(name, rps), rps)
                    if before is not None and after is not None:
                        per_request = (after - before) / served
                        cpu[name] = min(cpu.get(name, per_request), per_request)
    with server_process([str(BENCHMARKS / "bare_server.py"), "-", "--trivial"], 1) as (_, t):
        ceiling, _ = _load(t["BAXCLOUD_BASE_URL"], "-", seconds, "t", trivial=True)
    flavour = _uvicorn_flavour()
    for name, label in (("ours", "baxcloud dev"), ("bare", "bare Starlette")):
        used = f", {cpu[name] * 1e6:.0f} us of server CPU per request" if name in cpu else ""
        print(f"  {label}: {best[name]:,.0f} req/s{used}")
    print(f"  ({flavour}; the load generator alone reaches {ceiling:,.0f} req/s)")
    wall = best["ours"] / best["bare"]
    if len(cpu) == 2:
        # Both servers are single-threaded and CPU-bound here, so requests per CPU-second
        # is their throughput on a core of their own; wall-clock req/s swings with
        # whatever else the machine runs, so it is shown but not judged.
        ratio = cpu["bare"] / cpu["ours"]
        print(f"  wall-clock ratio {wall:.2f}x; per CPU-second ratio {ratio:.2f}x (judged)")
        baseline = "bare Starlette (req per CPU-s)"
    else:
        ratio, baseline = wall, "bare Starlette + uvicorn"
    row("local server: create+get, 16 in flight", baseline, ratio, ">= 0.8x", ratio >= 0.8)
    REPORTED.append(
        f"local server throughput: {best['ours']:,.0f} req/s "
        f"(bare Starlette {best['bare']:,.0f} req/s; {flavour})"
    )


def bench_reset(quick: bool) -> None:
    """`LocalServer.reset()` (after a room, a join and their events) against starting
    and stopping a fresh `LocalServer`, which is what a test needing a clean server
    would otherwise do."""
    from baxcloud.testing import LocalServer

    rounds, fresh_number, reset_number = (3, 2, 20) if quick else (5, 4, 50)
    with LocalServer() as shared, shared.client() as client:

        def reset_dirty_server() -> float:
            spent = 0.0
            for i in range(reset_number):
                client.rooms.create(name=f"bench-{i}")
                shared.join(client.tokens.create(room_name=f"bench-{i}", participant_identity="a"))
                start = time.perf_counter()
                shared.reset()
                spent += time.perf_counter() - start
            return spent / reset_number

        def start_and_stop() -> float:
            start = time.perf_counter()
            for _ in range(fresh_number):
                LocalServer().start().stop()
            return (time.perf_counter() - start) / fresh_number

        best = side_by_side(rounds, {"reset": reset_dirty_server, "fresh": start_and_stop})
    ratio = best["reset"] / best["fresh"]
    print(f"  reset {best['reset'] * 1000:.2f} ms, fresh start+stop {best['fresh'] * 1000:.1f} ms")
    row("LocalServer.reset()", "fresh LocalServer start+stop", ratio, "<= 0.05x", ratio <= 0.05)


def bench_dev_log(quick: bool) -> None:
    """`baxcloud dev`'s request log: a logged server against a --quiet one, same requests,
    alternating one by one; medians, so that a busy machine's bursts count for neither."""
    number = 500 if quick else 3000
    with dev_server(log=True) as logged, dev_server() as quiet:
        clients = {}
        for name, server in (("logged", logged), ("quiet", quiet)):
            http = httpx.Client(
                base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}
            )
            http.post("/v1/rooms", json={"name": "bench"}).raise_for_status()
            clients[name] = http
        timings: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(number):
            for name, http in clients.items():
                start = time.perf_counter()
                http.get("/v1/rooms/bench?limit=1")
                timings[name].append(time.perf_counter() - start)
        for http in clients.values():
            http.close()
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"  median GET: logged {medians['logged'] * 1e6:.0f} us, "
        f"quiet {medians['quiet'] * 1e6:.0f} us"
    )
    ratio = medians["logged"] / medians["quiet"]
    row("dev server request log", "baxcloud dev --quiet", ratio, "<= 1.10x", ratio <= 1.10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument(
        "--only", help="comma-separated benchmarks to run, by name or part of it (e.g. server)"
    )
    args = parser.parse_args()
    benches = (
        bench_import,
        bench_cli_startup,
        bench_tokens,
        bench_webhooks,
        bench_async_overhead,
        bench_loopback,
        bench_bulk,
        bench_paging,
        bench_aiohttp_transport,
        bench_memory,
        bench_server,
        bench_reset,
        bench_dev_log,
    )
    if args.only:
        wanted = args.only.split(",")
        benches = tuple(b for b in benches if any(name in b.__name__ for name in wanted))
    for bench in benches:
        print(f"{bench.__name__}:", flush=True)
        bench(args.quick)
    print()
    print(f"| {'what':<34} | {'compared with':<30} | {'result':>9} | {'goal':<8} | ok   |")
    print(f"|{'-' * 36}|{'-' * 32}|{'-' * 11}|{'-' * 10}|------|")
    for name, baseline, shown, goal, ok in ROWS:
        verdict = "pass" if ok else "MISS"
        print(f"| {name:<34} | {baseline:<30} | {shown:>9} | {goal:<8} | {verdict} |")
    for line in REPORTED:
        print(f"reported: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
