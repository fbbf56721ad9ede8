from __future__ import annotations

import base64
import hmac
import json
import math
import time
from typing import Any

import httpx
import jwt
import pytest
from helpers import unique
from hypothesis import given, settings
from hypothesis import strategies as st

from baxcloud import (
    AsyncBaxCloud,
    BaxCloud,
    Grants,
    ParticipantToken,
    PermissionDeniedError,
    TokenClaims,
    TokenVerificationError,
)
from baxcloud._core.tokens import MAX_NUMERIC_DATE, mint_token
from baxcloud.testing import LocalServer

KEY_ID = "APIabcd1234"
SECRET = "s" * 64
API_KEY = f"bax_sk_{KEY_ID}_{SECRET}"


@pytest.fixture(params=[BaxCloud, AsyncBaxCloud])
def offline(request: pytest.FixtureRequest) -> Any:
    """Token calls need no server: a client pointing nowhere will do."""
    return request.param(api_key=API_KEY, base_url="http://127.0.0.1:9")


def test_claims_follow_the_livekit_layout(offline: Any) -> None:
    before = int(time.time())
    minted = offline.tokens.create(
        room_name="my-room",
        participant_identity="user-123",
        participant_name="John Doe",
        ttl=7200,
        grants={"can_publish": True, "can_subscribe": True, "can_publish_data": True},
        metadata={"plan": "pro"},
    )
    assert isinstance(minted, ParticipantToken)
    header = jwt.get_unverified_header(minted.token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}
    claims = jwt.decode(minted.token, SECRET, algorithms=["HS256"], issuer=KEY_ID)
    assert claims["iss"] == KEY_ID
    assert claims["sub"] == "user-123"
    assert claims["name"] == "John Doe"
    assert before <= claims["nbf"] <= int(time.time())
    assert claims["exp"] == claims["nbf"] + 7200
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    assert claims["metadata"] == '{"plan":"pro"}'
    assert claims["video"] == {
        "room": "my-room",
        "roomJoin": True,
        "canPublish": True,
        "canSubscribe": True,
        "canPublishData": True,
        "canUpdateOwnMetadata": False,
    }
    assert minted.identity == "user-123"
    assert minted.room_name == "my-room"
    assert int(minted.expires_at.timestamp()) == claims["exp"]


def test_defaults_and_optional_grants(offline: Any) -> None:
    minted = offline.tokens.create(room_name="r", participant_identity="u")
    claims = jwt.decode(minted.token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["nbf"] == 3600
    assert "metadata" not in claims
    assert claims["name"] == ""
    assert claims["video"]["canPublish"] is True
    assert claims["video"]["canUpdateOwnMetadata"] is False
    assert "roomAdmin" not in claims["video"] and "hidden" not in claims["video"]

    admin = offline.tokens.create(
        room_name="r",
        participant_identity="a",
        grants=Grants(room_admin=True, hidden=True, can_publish_sources=["camera", "microphone"]),
    )
    video = jwt.decode(admin.token, SECRET, algorithms=["HS256"])["video"]
    assert video["roomAdmin"] is True and video["hidden"] is True
    assert video["canPublishSources"] == ["camera", "microphone"]


@pytest.mark.parametrize("secret", ["k" * 10, SECRET, "x" * 65, "\u00e9" * 40])
def test_minted_bytes_are_what_the_stdlib_writes(secret: str) -> None:
    # The minting shortcuts (compact JSON encoder, HMAC pads, base64) against json,
    # hmac and base64 themselves.
    video = {"room": "caf\u00e9 \u2615", "roomJoin": True, "canPublishSources": ["camera"]}
    token, expires = mint_token(
        key_id=KEY_ID,
        secret=secret,
        identity="\u00fcser",
        name='A "quoted" \\ name\n',
        video=video,
        ttl=60,
        metadata='{"plan":"pro"}',
        now=1_764_460_800.9,
    )
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["jti"] and len(claims["jti"]) == 22  # 16 random bytes, like token_urlsafe(16)
    expected = {
        "iss": KEY_ID,
        "sub": "\u00fcser",
        "name": 'A "quoted" \\ name\n',
        "nbf": 1_764_460_800,
        "exp": expires,
        "jti": claims["jti"],
        "video": video,
        "metadata": '{"plan":"pro"}',
    }
    text = json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
    assert payload == base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    digest = hmac.digest(secret.encode(), f"{header}.{payload}".encode(), "sha256")
    assert signature == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert expires == 1_764_460_860


def test_every_token_is_unique(offline: Any) -> None:
    tokens = {
        offline.tokens.create(room_name="r", participant_identity="u").token for _ in range(50)
    }
    assert len(tokens) == 50


def test_verify_round_trips_the_claims(offline: Any) -> None:
    minted = offline.tokens.create(
        room_name="r",
        participant_identity="u",
        participant_name="N",
        grants={"can_publish": False},
        metadata="m",
    )
    claims = offline.tokens.verify(minted.token)
    assert (claims.identity, claims.name, claims.room_name, claims.metadata) == ("u", "N", "r", "m")
    assert claims.grants == Grants(can_publish=False)
    assert claims.key_id == KEY_ID
    assert claims.expires_at == minted.expires_at


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ttl": 0}, ValueError, "ttl"),
        ({"ttl": 7 * 24 * 3600 + 1}, ValueError, "ttl"),
        ({"ttl": "60"}, TypeError, "ttl"),
        ({"grants": {"can_fly": True}}, TypeError, "can_fly"),
        ({"grants": {"can_publish": "yes"}}, TypeError, "can_publish"),
        ({"grants": ["can_publish"]}, TypeError, "grants"),
        ({"room_name": ""}, ValueError, "room_name"),
        ({"room_name": "x" * 257}, ValueError, "room_name"),
        ({"participant_identity": ""}, ValueError, "participant_identity"),
        ({"participant_identity": 7}, TypeError, "participant_identity"),
        ({"metadata": 3}, TypeError, "metadata"),
    ],
)
def test_bad_arguments(offline: Any, kwargs: dict[str, Any], error: type, match: str) -> None:
    arguments = {"room_name": "r", "participant_identity": "u", **kwargs}
    with pytest.raises(error, match=match):
        offline.tokens.create(**arguments)


def _forge(claims: dict[str, Any], key: str = SECRET, **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": KEY_ID, **headers})


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": KEY_ID,
        "sub": "u",
        "name": "",
        "nbf": now,
        "exp": now + 600,
        "video": {"room": "r", "roomJoin": True},
        **overrides,
    }


def _unsigned(claims: dict[str, Any]) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': KEY_ID})}.{b64(claims)}."


@pytest.mark.parametrize(
    ("token_factory", "match"),
    [
        (lambda: _forge(_claims(), key="x" * 40), "signature"),
        (lambda: _unsigned(_claims()), "HS256"),
        (
            lambda: jwt.encode(_claims(), SECRET, algorithm="HS512", headers={"kid": KEY_ID}),
            "HS256",
        ),
        (lambda: _forge(_claims(iss="other"), kid="other"), "known API key"),
        (lambda: _forge(_claims(), kid="other"), "issuer does not match"),
        (lambda: _forge(_claims(iss="other")), "issuer does not match"),
        (lambda: _signed_text(json.dumps(_claims()), kid=7), "well-formed"),
        (lambda: _forge(_claims(iat=int(time.time()) + 120)), "issued in the future"),
        (lambda: _forge(_claims(exp=int(time.time()) - 61)), "expired"),
        (lambda: _forge(_claims(nbf=int(time.time()) + 120)), "not valid yet"),
        (lambda: _forge(_claims(video={"room": "r", "roomJoin": False})), "roomJoin"),
        (lambda: _forge(_claims(video={"roomJoin": True})), "room"),
        (lambda: "not-a-jwt", "well-formed"),
        (lambda: "", "non-empty"),
    ],
)
def test_verify_refuses(offline: Any, token_factory: Any, match: str) -> None:
    token = token_factory()
    with pytest.raises(TokenVerificationError, match=match) as info:
        offline.tokens.verify(token)
    assert SECRET not in str(info.value)
    if token:
        assert token not in str(info.value)


def test_verify_allows_sixty_seconds_of_clock_skew(offline: Any) -> None:
    now = int(time.time())
    assert offline.tokens.verify(_forge(_claims(exp=now - 50))).identity == "u"
    assert offline.tokens.verify(_forge(_claims(nbf=now + 50))).identity == "u"


def test_token_repr_hides_the_token(offline: Any) -> None:
    minted = offline.tokens.create(room_name="r", participant_identity="u")
    assert minted.token not in repr(minted)
    assert minted.token not in str(minted)
    assert "u" in repr(minted)


def test_join_refuses_forged_expired_and_foreign_tokens(clock_server: LocalServer) -> None:
    with clock_server.client() as client:
        key = client._async._api_key
        room = unique()
        forged, _ = mint_token(
            key_id=key.key_id,
            secret="f" * 40,
            identity="mallory",
            name="",
            video={"room": room, "roomJoin": True},
            ttl=600,
        )
        with pytest.raises(PermissionDeniedError) as info:
            clock_server.join(forged)
        assert "signature" in info.value.message

        short = client.tokens.create(room_name=room, participant_identity="late", ttl=1)
        clock_server.advance_clock(62)
        with pytest.raises(PermissionDeniedError) as info:
            clock_server.join(short)
        assert "expired" in info.value.message

        unsigned = _unsigned(
            {
                "iss": key.key_id,
                "sub": "x",
                "nbf": 0,
                "exp": 2**40,
                "video": {"room": room, "roomJoin": True},
            }
        )
        with pytest.raises(PermissionDeniedError):
            clock_server.join(unsigned)

        fresh = client.tokens.create(room_name=room, participant_identity="ok")
        assert clock_server.join(fresh).identity == "ok"


def _signed_text(payload: str, *, key: str = SECRET, kid: Any = KEY_ID) -> str:
    """An HS256 token over exactly `payload` (so NaN, Infinity and 1e300 survive)."""
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(payload.encode())
    signature = b64(hmac.digest(key.encode(), signing_input, "sha256"))
    return (signing_input + b"." + signature).decode()


# JSON text of each hostile NumericDate, as a foreign minter could write it.
BAD_DATES = {
    "huge-float": "1e300",
    "huge-int": str(2**70),
    "past-year-9999": "253402300800",
    "fractional": "1.5",
    "integral-float": "1700000000.0",
    "string": '"123"',
    "bool": "true",
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "negative": "-1",
    "object": "{}",
}


def _payload_with(field: str, text: str, *, room: str = "r") -> str:
    now = int(time.time())
    dates = {"nbf": str(now), "exp": str(now + 600), field: text}
    return (
        f'{{"iss":"{KEY_ID}","sub":"u","nbf":{dates["nbf"]},"exp":{dates["exp"]}'
        + (f',"iat":{dates["iat"]}' if "iat" in dates else "")
        + f',"video":{{"room":"{room}","roomJoin":true}}}}'
    )


@pytest.mark.parametrize("field", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("text", BAD_DATES.values(), ids=BAD_DATES.keys())
def test_verify_refuses_odd_numeric_dates(offline: Any, field: str, text: str) -> None:
    token = _signed_text(_payload_with(field, text))
    with pytest.raises(TokenVerificationError, match=f"token {field} must be a whole number"):
        offline.tokens.verify(token)


def test_numeric_date_bounds_are_inclusive(offline: Any) -> None:
    last = 253402300799
    claims = offline.tokens.verify(_forge(_claims(exp=last)))
    assert claims.expires_at.year == 9999
    assert offline.tokens.verify(_forge(_claims(iat=0))).identity == "u"


@pytest.mark.parametrize("field", ["exp", "nbf"])
@pytest.mark.parametrize("text", BAD_DATES.values(), ids=BAD_DATES.keys())
def test_join_refuses_odd_numeric_dates(server: LocalServer, field: str, text: str) -> None:
    with server.client() as client:
        key = client._async._api_key
        room = unique()
        payload = _payload_with(field, text, room=room).replace(KEY_ID, key.key_id)
        with pytest.raises(PermissionDeniedError) as info:
            server.join(_signed_text(payload, key=key.secret, kid=key.key_id))
        assert info.value.status_code == 403 and info.value.code == "permission_denied"
        assert f"token {field} must be a whole number" in info.value.message


def test_join_refuses_a_token_that_would_never_expire(clock_server: LocalServer) -> None:
    # Before: exp = 2**70 passed every check, so the token joined forever.
    with clock_server.client() as client:
        key = client._async._api_key
        never = _signed_text(
            _payload_with("exp", str(2**70)).replace(KEY_ID, key.key_id),
            key=key.secret,
            kid=key.key_id,
        )
        with pytest.raises(PermissionDeniedError, match="exp must be a whole number"):
            clock_server.join(never)


# Any JSON value a claim could hold, NaN/Infinity and huge numbers included.
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_NOW = int(time.time())
_any_date = (
    st.sampled_from([2**70, 1e300, 1.5, "123", True, math.nan, math.inf, -math.inf, -1])
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | _json_values
)
_GOOD_VIDEO = {
    "room": "r",
    "roomJoin": True,
    "canPublish": False,
    "canSubscribe": True,
    "canPublishData": True,
    "canUpdateOwnMetadata": False,
    "roomAdmin": True,
    "hidden": False,
    "canPublishSources": ["camera"],
}
_GOOD_CLAIMS = {
    "iss": KEY_ID,
    "sub": "u",
    "name": "N",
    "metadata": "m",
    "jti": "j",
    "nbf": _NOW - 30,
    "exp": _NOW + 3600,
    "iat": _NOW - 30,
}
_DATES = ("nbf", "exp", "iat")


@st.composite
def _mutated(draw: st.DrawFn, good: dict[str, Any], dates: tuple[str, ...] = ()) -> Any:
    """`good` with each field kept (mostly), dropped or replaced by any JSON value."""
    result: dict[str, Any] = {}
    for name, value in good.items():
        odds = ["keep"] * 6 + ["drop"] + ["replace"] * (3 if name in dates else 1)
        action = draw(st.sampled_from(odds))
        if action == "keep":
            result[name] = value
        elif action == "replace":
            result[name] = draw(_any_date if name in dates else _json_values)
    return result


_any_claims = st.builds(
    lambda claims, video: {**claims, **({} if video is None else {"video": video})},
    _mutated(_GOOD_CLAIMS, _DATES),
    _mutated(_GOOD_VIDEO) | _json_values | st.none(),
)
_OFFLINE: list[BaxCloud | AsyncBaxCloud] = [
    BaxCloud(api_key=API_KEY, base_url="http://127.0.0.1:9"),
    AsyncBaxCloud(api_key=API_KEY, base_url="http://127.0.0.1:9"),
]


@settings(max_examples=300, deadline=None)
@given(claims=_any_claims, kid=st.sampled_from([KEY_ID, None, KEY_ID, "other", 7]))
def test_any_signed_claims_give_claims_or_a_verification_error(
    claims: dict[str, Any], kid: Any
) -> None:
    token = _signed_text(json.dumps(claims), kid=kid)
    for client in _OFFLINE:
        refusal = ""
        try:
            verified = client.tokens.verify(token)
        except TokenVerificationError as exc:
            refusal = str(exc)
        if refusal:
            assert SECRET not in refusal and token not in refusal
            continue
        assert isinstance(verified, TokenClaims)
        assert verified.not_before.tzinfo is not None and verified.expires_at.year <= 9999


@settings(max_examples=300, deadline=None)
@given(
    nbf=st.just(_NOW - 30) | _any_date,
    exp=st.just(_NOW + 3600) | _any_date,
    iat=st.none() | st.just(_NOW - 30) | _any_date,
)
def test_any_numeric_dates_give_claims_or_a_verification_error(
    nbf: Any, exp: Any, iat: Any
) -> None:
    claims = {**_GOOD_CLAIMS, "nbf": nbf, "exp": exp, "video": _GOOD_VIDEO}
    if iat is None:
        del claims["iat"]
    else:
        claims["iat"] = iat
    token = _signed_text(json.dumps(claims))
    for client in _OFFLINE:
        try:
            verified = client.tokens.verify(token)
        except TokenVerificationError:
            continue
        assert (verified.not_before.timestamp(), verified.expires_at.timestamp()) == (nbf, exp)


def test_openapi_records_the_key_lookup_and_date_rules(server: LocalServer) -> None:
    doc = httpx.get(f"{server.base_url}/openapi.json").json()
    description = doc["paths"]["/_dev/join"]["post"]["description"]
    assert "`kid` header, else by the `iss` claim" in description
    assert str(MAX_NUMERIC_DATE) in description
