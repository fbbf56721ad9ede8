"""Webhook verification: baxcloud against standardwebhooks and livekit-api, side by side.

    python benchmarks/bench_webhooks.py [--quick]

All three verify the same ~1 KB `participant_joined` body: baxcloud with its
Standard Webhooks signature and typed parsing (a frozen attrs event);
`standardwebhooks.Webhook.verify` with the same headers (JSON parsing, no
typing); livekit-api's `WebhookReceiver.receive` with a livekit-signed JWT
(its own format: JWT check, body SHA-256, protobuf JSON parsing). Contenders
alternate round by round in one process and each keeps its best round.
Goals: baxcloud 1.5x as fast as standardwebhooks, and 5x livekit-api.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import standardwebhooks
from livekit import api as livekit

from baxcloud.webhooks import ParticipantJoinedEvent, sign, verify

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
LK_KEY, LK_SECRET = "APIbenchmark", "s" * 40


def baxcloud_body() -> bytes:
    data = {
        "roomName": "benchmark-room",
        "roomSid": "RM_" + "a" * 12,
        "identity": "user-123",
        "participantSid": "PA_" + "b" * 12,
        "name": "Benchmark User",
        "metadata": json.dumps({"role": "speaker", "bio": "x" * 700}),
    }
    body = {"id": "evt_" + "c" * 20, "event": "participant.joined", "createdAt": 1764460800}
    return json.dumps({**body, "data": data}).encode()


def livekit_body() -> str:
    return json.dumps(
        {
            "event": "participant_joined",
            "id": "EV_" + "c" * 20,
            "createdAt": "1764460800",
            "room": {"sid": "RM_" + "a" * 12, "name": "benchmark-room"},
            "participant": {
                "sid": "PA_" + "b" * 12,
                "identity": "user-123",
                "name": "Benchmark User",
                "metadata": json.dumps({"role": "speaker", "bio": "x" * 640}),
            },
        }
    )


def timed(number: int, fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def measure(quick: bool) -> dict[str, float]:
    """Best seconds per call of each contender, measured side by side."""
    rounds, number = (5, 2000) if quick else (15, 10000)

    body = baxcloud_body()
    headers = sign(body, SECRET)
    wh = standardwebhooks.Webhook(SECRET)

    lk_body = livekit_body()
    lk_token = (
        livekit.AccessToken(LK_KEY, LK_SECRET)
        .with_sha256(base64.b64encode(hashlib.sha256(lk_body.encode()).digest()).decode())
        .to_jwt()
    )
    receiver = livekit.WebhookReceiver(livekit.TokenVerifier(LK_KEY, LK_SECRET))

    # Each contender must actually succeed before it is timed.
    event = verify(body, headers, SECRET)
    assert isinstance(event, ParticipantJoinedEvent)
    assert wh.verify(body, headers)["id"] == event.id
    assert receiver.receive(lk_body, lk_token).participant.identity == "user-123"

    contenders: dict[str, Callable[[], Any]] = {
        "baxcloud.webhooks.verify (typed)": lambda: verify(body, headers, SECRET),
        "standardwebhooks.Webhook.verify": lambda: wh.verify(body, headers),
        "livekit-api WebhookReceiver.receive": lambda: receiver.receive(lk_body, lk_token),
    }
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn in contenders.items():
            value = timed(number if "livekit" not in name else number // 10, fn)
            best[name] = min(best.get(name, value), value)
    return best


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    best = measure(args.quick)
    body = baxcloud_body()
    rounds = 5 if args.quick else 15
    lk_body = livekit_body()
    print(
        f"body: baxcloud {len(body)} B, livekit {len(lk_body.encode())} B; best of {rounds} rounds"
    )
    ours = best["baxcloud.webhooks.verify (typed)"]
    for name, seconds in best.items():
        print(f"  {name:40s} {seconds * 1e6:8.2f} us/call")
    sw = best["standardwebhooks.Webhook.verify"] / ours
    lk = best["livekit-api WebhookReceiver.receive"] / ours
    print(f"  vs standardwebhooks: {sw:.2f}x  (goal >= 1.50x)  {'ok' if sw >= 1.5 else 'MISSED'}")
    print(f"  vs livekit-api:      {lk:.2f}x  (goal >= 5.00x)  {'ok' if lk >= 5 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
