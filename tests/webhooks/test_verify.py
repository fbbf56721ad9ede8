"""`webhooks.verify` / `sign` and `client.webhooks.verify` (docs/webhooks.md)."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from typing import Any

import pytest

import baxcloud
from baxcloud import AsyncBaxCloud, WebhookVerificationError
from baxcloud._resources.webhooks import AsyncWebhooks
from baxcloud.webhooks import (
    ParticipantJoinedEvent,
    UnknownWebhookEvent,
    parse_event,
    sign,
    verify,
)

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OTHER = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
API_KEY = "bax_sk_test1234_" + "a" * 40


def body(event_id: str = "evt_1", event: str = "participant.joined", **data: Any) -> bytes:
    data = data or {
        "roomName": "my-room",
        "roomSid": "RM_1",
        "identity": "user-123",
        "participantSid": "PA_1",
        "name": "Alice",
        "metadata": "",
    }
    return json.dumps(
        {"id": event_id, "event": event, "createdAt": 1764460800, "data": data}
    ).encode()


def fails(payload: Any, headers: Any, secret: Any = SECRET, **kw: Any) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        verify(payload, headers, secret, **kw)
    return str(info.value)


def test_round_trip_bytes_and_str() -> None:
    raw = body()
    headers = sign(raw, SECRET)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"}
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-signature"].startswith("v1,")
    event = verify(raw, headers, SECRET)
    assert isinstance(event, ParticipantJoinedEvent)
    assert event.data.identity == "user-123"
    assert verify(raw.decode(), headers, SECRET) == event


def test_known_signature_vector() -> None:
    # Computed independently of sign(): HMAC-SHA256 over "id.ts.body" with the decoded key.
    import hashlib
    import hmac

    raw = body()
    ts = str(int(time.time()))
    mac = hmac.new(bytes(range(32)), b"evt_1." + ts.encode() + b"." + raw, hashlib.sha256)
    sig = "v1," + base64.b64encode(mac.digest()).decode()
    headers = {"webhook-id": "evt_1", "webhook-timestamp": ts, "webhook-signature": sig}
    assert verify(raw, headers, SECRET).id == "evt_1"
    assert sign(raw, SECRET, timestamp=int(ts))["webhook-signature"] == sig


@pytest.mark.parametrize("case", ["upper", "title", "mixed"])
def test_header_names_in_any_case(case: str) -> None:
    raw = body()
    headers = sign(raw, SECRET)
    transform = {"upper": str.upper, "title": str.title, "mixed": str.swapcase}[case]
    assert verify(raw, {transform(k): v for k, v in headers.items()}, SECRET).id == "evt_1"


def test_header_objects_with_get_and_items() -> None:
    raw = body()
    headers = sign(raw, SECRET)

    class OnlyItems:
        def items(self) -> Any:
            return [(k.encode(), v.encode()) for k, v in headers.items()]

    assert verify(raw, OnlyItems(), SECRET).id == "evt_1"


def test_rotation_any_secret_may_match() -> None:
    raw = body()
    assert verify(raw, sign(raw, OTHER), [SECRET, OTHER]).id == "evt_1"
    assert verify(raw, sign(raw, OTHER), (OTHER,)).id == "evt_1"
    assert verify(raw, sign(raw, OTHER), f"{SECRET} {OTHER}").id == "evt_1"
    assert verify(raw, sign(raw, OTHER), f"{SECRET},{OTHER}").id == "evt_1"
    fails(raw, sign(raw, OTHER), [SECRET])


def test_sign_with_several_secrets_gives_one_entry_each() -> None:
    raw = body()
    headers = sign(raw, [SECRET, OTHER])
    entries = headers["webhook-signature"].split(" ")
    assert len(entries) == 2
    assert all(e.startswith("v1,") for e in entries)
    assert verify(raw, headers, SECRET).id == verify(raw, headers, OTHER).id == "evt_1"


def test_other_versions_are_ignored() -> None:
    raw = body()
    headers = sign(raw, SECRET)
    headers["webhook-signature"] = "v1a,AAAA v2,BBBB " + headers["webhook-signature"]
    assert verify(raw, headers, SECRET).id == "evt_1"
    headers["webhook-signature"] = "v1a,AAAA"
    assert "no v1 signature" in fails(raw, headers)


def test_wrong_signature_and_tampering() -> None:
    raw = body()
    headers = sign(raw, SECRET)
    assert "no signature matches" in fails(raw, headers, OTHER)
    assert "no signature matches" in fails(raw.replace(b"Alice", b"Alicf"), headers)
    assert "no signature matches" in fails(raw, {**headers, "webhook-id": "evt_2"})
    ts = str(int(headers["webhook-timestamp"]) - 1)
    assert "no signature matches" in fails(raw, {**headers, "webhook-timestamp": ts})


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_or_empty_header(name: str) -> None:
    raw = body()
    headers = sign(raw, SECRET)
    assert name in fails(raw, {k: v for k, v in headers.items() if k != name})
    assert name in fails(raw, {**headers, name: ""})


def test_timestamp_tolerance_both_ways() -> None:
    raw = body()
    now = int(time.time())
    assert verify(raw, sign(raw, SECRET, timestamp=now - 290), SECRET).id == "evt_1"
    assert verify(raw, sign(raw, SECRET, timestamp=now + 290), SECRET).id == "evt_1"
    assert "too old" in fails(raw, sign(raw, SECRET, timestamp=now - 400))
    assert "future" in fails(raw, sign(raw, SECRET, timestamp=now + 400))
    assert verify(raw, sign(raw, SECRET, timestamp=now - 400), SECRET, tolerance=600)
    assert "too old" in fails(raw, sign(raw, SECRET, timestamp=now - 10), tolerance=5)


@pytest.mark.parametrize(
    "value", ["12.5", "-5", " 1764460800", "1e9", "abc", "\uff11\uff12\uff13", "9" * 30]
)
def test_timestamp_must_be_integer_seconds(value: str) -> None:
    raw = body()
    headers = {**sign(raw, SECRET), "webhook-timestamp": value}
    assert "integer Unix seconds" in fails(raw, headers)


def test_body_size_cap() -> None:
    raw = body(metadata="x" * 2000, roomName="r", roomSid="s", identity="i", participantSid="p")
    headers = sign(raw, SECRET)
    assert verify(raw, headers, SECRET)
    assert "larger than 1000 bytes" in fails(raw, headers, max_body_bytes=1000)
    assert "larger than" in fails(raw.decode(), headers, max_body_bytes=1000)


def test_signed_but_malformed_bodies() -> None:
    cases = {
        b"not json": "not valid JSON",
        b"\xff\xfe{}": "not UTF-8",
        b"[1, 2]": "JSON object",
        b'{"id": 1, "event": "x", "createdAt": 1, "data": {}}': "string 'id'",
        b'{"id": "evt_1", "event": "x", "createdAt": "1", "data": {}}': "createdAt",
        b'{"id": "evt_1", "event": "x", "createdAt": true, "data": {}}': "createdAt",
        b'{"id": "evt_1", "event": "x", "createdAt": 1, "data": []}': "'data'",
        b'{"id": "evt_1", "event": "x", "createdAt": 1e400, "data": {}}': "malformed",
        b"[" * 100_000 + b"]" * 100_000: "not valid JSON",
    }
    for raw, message in cases.items():
        headers = sign(raw, SECRET, msg_id="evt_1")
        assert message in fails(raw, headers), raw[:60]


_JOINED = {"roomName": "r", "roomSid": "RM_1", "identity": "i", "participantSid": "PA_1"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": 1}, "string 'id'"),
        ({"id": None}, "string 'id'"),
        ({"event": ["participant.joined"]}, "string 'id' and 'event'"),
        ({"createdAt": True}, "createdAt"),
        ({"createdAt": "1764460800"}, "createdAt"),
        ({"createdAt": None}, "createdAt"),
        ({"data": []}, "'data'"),
        ({"data": None}, "'data'"),
        ({"data": "x"}, "'data'"),
        ({"data": {**_JOINED, "identity": None}}, "malformed 'participant.joined' event"),
        ({"createdAt": 1e400}, "malformed"),
    ],
)
def test_a_known_event_is_checked_as_strictly_once_its_parser_is_warm(
    change: dict[str, Any], message: str
) -> None:
    good = {"id": "evt_1", "event": "participant.joined", "createdAt": 1, "data": _JOINED}
    warm = parse_event(good)  # the event's parser is now cached
    assert isinstance(warm, ParticipantJoinedEvent)
    assert warm.data.identity == "i"
    with pytest.raises(WebhookVerificationError, match=re.escape(message)):
        parse_event({**good, **change})
    raw = json.dumps({**good, **change}).encode()
    assert message in fails(raw, sign(raw, SECRET, msg_id="evt_1"))


def test_webhook_id_must_equal_body_id() -> None:
    raw = body("evt_1")
    headers = sign(raw, SECRET, msg_id="evt_other")
    assert "does not match" in fails(raw, headers)


def test_sign_defaults() -> None:
    raw = b"plain text, not json"
    headers = sign(raw, SECRET)
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert sign(body("evt_9"), SECRET)["webhook-id"] == "evt_9"
    assert sign(raw, SECRET, msg_id="m1", timestamp=5)["webhook-timestamp"] == "5"


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("sk_" + base64.b64encode(bytes(32)).decode(), "does not start"),
        ("whsec_" + "!!!notbase64", "not valid base64"),
        ("whsec_" + base64.urlsafe_b64encode(b"\xfb" * 32).decode(), "not valid base64"),
        ("whsec_" + base64.b64encode(bytes(32)).decode().rstrip("="), "not valid base64"),
        ("whsec_" + base64.b64encode(bytes(16)).decode(), "16 bytes"),
        ("whsec_" + base64.b64encode(bytes(65)).decode(), "65 bytes"),
    ],
)
def test_strict_secret_parsing(secret: str, reason: str) -> None:
    raw = body()
    message = fails(raw, sign(raw, SECRET), secret)
    assert reason in message
    if len(secret.strip()) > 6:
        assert secret not in message
        assert secret[6:] not in message


@pytest.mark.parametrize("secret", [None, 123, b"whsec_abc", [], [SECRET, 5]])
def test_secret_of_wrong_type(secret: Any) -> None:
    raw = body()
    fails(raw, sign(raw, SECRET), secret)


def test_secret_bounds_accepted() -> None:
    # `sign` uses hmac.digest; `verify` its own precomputed HMAC pads: every key size agrees.
    for size in range(24, 65):
        secret = "whsec_" + base64.b64encode(bytes(range(size))).decode()
        raw = body()
        assert verify(raw, sign(raw, secret), secret).id == "evt_1"
        assert "no signature matches" in fails(raw, sign(raw, OTHER), secret)


def test_whitespace_around_the_json_and_data_after_it() -> None:
    raw = body()
    for padded in (b" \n" + raw, raw + b"\r\n ", b"\t" + raw + b" "):
        assert verify(padded, sign(padded, SECRET, msg_id="evt_1"), SECRET).id == "evt_1"
    for extra in (raw + b"{}", raw + raw, raw + b" x", b"x" + raw):
        assert "not valid JSON" in fails(extra, sign(extra, SECRET, msg_id="evt_1"))


def test_non_ascii_webhook_id() -> None:
    raw = body("evt_caf\u00e9")
    assert verify(raw, sign(raw, SECRET), SECRET).id == "evt_caf\u00e9"


def test_bad_options_are_programming_errors() -> None:
    raw = body()
    with pytest.raises(ValueError, match="tolerance"):
        verify(raw, sign(raw, SECRET), SECRET, tolerance=-1)
    with pytest.raises(ValueError, match="max_body_bytes"):
        verify(raw, sign(raw, SECRET), SECRET, max_body_bytes=0)


def test_no_secret_or_signature_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    raw = body()
    headers = sign(raw, OTHER)
    signature = headers["webhook-signature"]
    messages = [
        fails(raw, headers),
        fails(raw + b" ", headers),
        fails(raw, {**headers, "webhook-signature": signature + "x"}),
        fails(raw, headers, SECRET[:-4]),
    ]
    for message in messages:
        for secret_text in (SECRET, SECRET[6:], OTHER, OTHER[6:], signature, signature[3:]):
            assert secret_text not in message
    assert SECRET[6:] not in caplog.text
    assert signature[3:] not in caplog.text


def test_unknown_event_keeps_raw_data() -> None:
    raw = body(event="room.exploded", blast={"radius": 3})
    event = verify(raw, sign(raw, SECRET), SECRET)
    assert isinstance(event, UnknownWebhookEvent)
    assert event.event == "room.exploded"
    assert event.data == {"blast": {"radius": 3}}


# -- the client namespace ----------------------------------------------------


def test_client_webhooks_verify_uses_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAXCLOUD_WEBHOOK_SECRET", raising=False)
    raw = body()
    client = AsyncBaxCloud(api_key=API_KEY, webhook_secret=SECRET)
    webhooks = AsyncWebhooks(client)
    event = webhooks.verify(raw, sign(raw, SECRET))
    assert isinstance(event, ParticipantJoinedEvent)
    assert webhooks.verify(raw, sign(raw, OTHER), secret=[OTHER]).id == "evt_1"
    with pytest.raises(WebhookVerificationError, match="too old"):
        webhooks.verify(raw, sign(raw, SECRET, timestamp=int(time.time()) - 100), tolerance=10)


def test_client_webhooks_verify_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", OTHER)
    raw = body()
    webhooks = AsyncWebhooks(AsyncBaxCloud(api_key=API_KEY))
    assert webhooks.verify(raw, sign(raw, OTHER)).id == "evt_1"


def test_client_webhooks_verify_without_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAXCLOUD_WEBHOOK_SECRET", raising=False)
    raw = body()
    webhooks = AsyncWebhooks(AsyncBaxCloud(api_key=API_KEY))
    with pytest.raises(WebhookVerificationError, match="no webhook secret"):
        webhooks.verify(raw, sign(raw, SECRET))


def test_webhook_verification_error_is_a_baxcloud_error() -> None:
    assert issubclass(WebhookVerificationError, baxcloud.BaxCloudError)
    from baxcloud import webhooks

    assert webhooks.WebhookVerificationError is WebhookVerificationError


def test_non_ascii_webhook_id_is_signed_as_utf8() -> None:
    raw = body(event_id="évt_ü1")
    headers = sign(raw, SECRET)
    assert verify(raw, headers, SECRET).id == "évt_ü1"
    # Same id, different bytes under it: the signature is over UTF-8, so it fails.
    assert "no signature matches" in fails(raw, {**headers, "webhook-id": "évt_u1"})
    assert "not valid text" in fails(raw, {**headers, "webhook-id": "evt_\ud800"})


def test_header_problems_are_reported_in_order() -> None:
    raw = body()
    now = int(time.time())
    headers = sign(raw, SECRET, timestamp=now - 400)
    # A too-long id is named before a stale timestamp, a stale one before a bad signature.
    assert "too long" in fails(raw, {**headers, "webhook-id": "e" * 300})
    stale = {**headers, "webhook-signature": "v1," + "\u00e9" * 10}
    assert "too old" in fails(raw, stale)
    fresh = {**sign(raw, SECRET), "webhook-signature": "v1," + "\u00e9" * 10}
    assert "header is malformed" in fails(raw, fresh)


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.5, 0.999])
def test_the_tolerance_is_counted_in_whole_seconds_either_way(
    monkeypatch: pytest.MonkeyPatch, fraction: float
) -> None:
    from baxcloud.webhooks import _signing

    now = 1_764_460_800
    monkeypatch.setattr(_signing, "_now", lambda: now + fraction)
    raw = body()
    for timestamp, problem in [
        (now - 300, None),
        (now - 301, "too old (301 s, tolerance 300 s)"),
        (now + 300, None),
        (now + 301, "in the future (301 s, tolerance 300 s)"),
    ]:
        headers = sign(raw, SECRET, timestamp=timestamp)
        if problem is None:
            assert verify(raw, headers, SECRET).id == "evt_1"
        else:
            assert problem in fails(raw, headers)
    assert verify(raw, sign(raw, SECRET, timestamp=now), SECRET, tolerance=0).id == "evt_1"
    assert "too old (1 s" in fails(raw, sign(raw, SECRET, timestamp=now - 1), tolerance=0)


@pytest.mark.parametrize("separator", ["\x1c", "\x1d", "\x1e", "\x1f"])
def test_signature_entries_split_on_any_whitespace(separator: str) -> None:
    # Standard Webhooks separates entries with spaces; any whitespace str.split() knows
    # (\x1c-\x1f included) has always been accepted, and still is.
    body = json.dumps(
        {
            "id": "msg_1",
            "event": "room.started",
            "createdAt": int(time.time()),
            "data": {"roomName": "r", "roomSid": "RM_1"},
        }
    ).encode()
    headers = sign(body, SECRET, msg_id="msg_1")
    headers["webhook-signature"] = "v1,AAAA" + separator + headers["webhook-signature"]
    assert verify(body, headers, secret=SECRET).id == "msg_1"
