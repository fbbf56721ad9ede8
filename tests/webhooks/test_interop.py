"""Interoperability with the reference `standardwebhooks` package, both directions."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime

import pytest
import standardwebhooks

from baxcloud import WebhookVerificationError
from baxcloud.webhooks import RoomStartedEvent, sign, verify


def secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def body(event_id: str) -> str:
    return json.dumps(
        {
            "id": event_id,
            "event": "room.started",
            "createdAt": 1764460800,
            "data": {"roomName": "caf\u00e9 \u2615", "roomSid": "RM_1", "metadata": "{}"},
        },
        ensure_ascii=False,
    )


@pytest.mark.parametrize("n", range(5))
def test_their_signatures_verify_with_ours(n: int) -> None:
    key = secret()
    raw = body(f"evt_{n}")
    now = datetime.now(tz=UTC)
    signature = standardwebhooks.Webhook(key).sign(f"evt_{n}", now, raw)
    headers = {
        "webhook-id": f"evt_{n}",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    event = verify(raw.encode(), headers, key)
    assert isinstance(event, RoomStartedEvent)
    assert event.data.room_name == "caf\u00e9 \u2615"
    with pytest.raises(WebhookVerificationError):
        verify(raw.encode(), headers, secret())


@pytest.mark.parametrize("n", range(5))
def test_our_signatures_verify_with_theirs(n: int) -> None:
    keys = [secret(), secret()]
    raw = body(f"evt_{n}").encode()
    headers = sign(raw, keys)
    for key in keys:  # one v1 entry per secret: either secret alone verifies
        assert standardwebhooks.Webhook(key).verify(raw, headers)["id"] == f"evt_{n}"
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret()).verify(raw, headers)


def test_secrets_are_the_same_format() -> None:
    key = secret()
    raw = body("evt_x").encode()
    ours = sign(raw, key, timestamp=1764460800)["webhook-signature"]
    theirs = standardwebhooks.Webhook(key).sign(
        "evt_x", datetime.fromtimestamp(1764460800, tz=UTC), raw.decode()
    )
    assert ours == theirs
