"""Property tests: nothing but WebhookVerificationError escapes verify; signed events verify."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from baxcloud import WebhookVerificationError
from baxcloud.webhooks import EVENT_TYPES, UnknownWebhookEvent, sign, verify

SECRET = "whsec_" + base64.b64encode(b"p" * 32).decode()
NAMES = ("webhook-id", "webhook-timestamp", "webhook-signature")

header_names = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(NAMES).map(str.upper),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.integers(),
    st.none(),
)
header_values = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=80),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=5), max_size=3),
    st.from_regex(r"v1,[A-Za-z0-9+/=]{0,50}( v1,[A-Za-z0-9+/=]{0,50})*", fullmatch=True),
    st.from_regex(r"-?[0-9]{1,14}(\.[0-9]+)?", fullmatch=True),
)
headers_st = st.one_of(
    st.dictionaries(header_names, header_values, max_size=6),
    st.none(),
    st.integers(),
    st.text(max_size=10),
    st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
# What a real sender emits: JSON has no NaN or infinities (and NaN != NaN would
# make round-trip comparisons meaningless).
finite_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
event_bodies = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.just("evt_1"), json_values),
        "event": st.one_of(st.sampled_from(sorted(EVENT_TYPES)), st.text(max_size=20), json_values),
        "createdAt": st.one_of(st.integers(), st.floats(), json_values),
        "data": st.one_of(
            st.dictionaries(
                st.sampled_from(
                    [
                        "roomName",
                        "roomSid",
                        "identity",
                        "participantSid",
                        "egressId",
                        "ingressId",
                        "recordingId",
                        "trackSid",
                        "sizeBytes",
                        "durationSeconds",
                        "destinations",
                        "urls",
                        "reason",
                    ]
                ),
                json_values,
            ),
            json_values,
        ),
    },
)
payloads = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    event_bodies.map(lambda d: json.dumps(d)),
    st.integers(),
    st.none(),
)
secrets_st = st.one_of(
    st.just(SECRET),
    st.lists(st.just(SECRET), max_size=2),
    st.text(max_size=60),
    st.text(max_size=60).map(lambda t: "whsec_" + t),
    st.binary(max_size=40).map(lambda b: "whsec_" + base64.b64encode(b).decode()),
    st.none(),
    st.integers(),
)


def check(payload: Any, headers: Any, secret: Any) -> None:
    try:
        verify(payload, headers, secret)
    except WebhookVerificationError as exc:
        text = str(exc)
        assert SECRET[6:] not in text
        if isinstance(secret, str) and len(secret) > 12:
            assert secret not in text


# deadline=None: these are CPU-bound, so a deadline on a shared machine measures the machine.
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads, headers_st, secrets_st)
@example(
    b"{}", {"webhook-id": "\ud800", "webhook-timestamp": "1", "webhook-signature": "v1,a"}, SECRET
)
@example("\ud800", {}, SECRET)
def test_only_verification_errors_escape(payload: Any, headers: Any, secret: Any) -> None:
    check(payload, headers, secret)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_bodies)
def test_signed_arbitrary_bodies_verify_or_fail_cleanly(document: dict[str, Any]) -> None:
    # Correctly signed and fresh: the only possible failures are about the body.
    raw = json.dumps(document).encode()
    headers = sign(raw, SECRET, msg_id="evt_1")
    try:
        event = verify(raw, headers, SECRET)
    except WebhookVerificationError:
        return
    assert event.id == "evt_1"
    assert event.event == document["event"]


valid_data = st.fixed_dictionaries(
    {
        "roomName": st.text(max_size=30),
        "roomSid": st.text(max_size=30),
        "identity": st.text(max_size=30),
        "participantSid": st.text(max_size=30),
        "egressId": st.text(max_size=30),
        "ingressId": st.text(max_size=30),
        "recordingId": st.text(max_size=30),
        "trackSid": st.text(max_size=30),
    },
    optional={
        "metadata": st.none() | st.text(max_size=50),
        "reason": st.none() | st.text(max_size=20),
        "sizeBytes": st.none() | st.integers(min_value=0, max_value=2**53),
        "durationSeconds": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "urls": st.none() | st.lists(st.text(max_size=20), max_size=3),
        "somethingNew": finite_json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    event_id=st.text(min_size=1, max_size=60),
    name=st.one_of(st.sampled_from(sorted(EVENT_TYPES)), st.text(max_size=30)),
    created=st.integers(min_value=0, max_value=4_000_000_000),
    data=valid_data,
    secrets=st.lists(
        st.binary(min_size=24, max_size=64).map(lambda b: "whsec_" + base64.b64encode(b).decode()),
        min_size=1,
        max_size=3,
    ),
    as_text=st.booleans(),
)
def test_valid_signed_events_always_verify(
    event_id: str, name: str, created: int, data: dict[str, Any], secrets: list[str], as_text: bool
) -> None:
    document = {"id": event_id, "event": name, "createdAt": created, "data": data}
    raw = json.dumps(document, ensure_ascii=False)
    headers = sign(raw, secrets[-1])
    event = verify(raw if as_text else raw.encode(), headers, secrets)
    assert event.id == event_id
    assert event.event == name
    assert int(event.created_at.timestamp()) == created
    expected = EVENT_TYPES.get(name, UnknownWebhookEvent)
    assert type(event) is expected
    if expected is UnknownWebhookEvent:
        assert event.data == data
