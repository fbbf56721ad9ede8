from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from helpers import unique

from baxcloud import (
    AsyncBaxCloud,
    BaxCloud,
    Grants,
    ParticipantToken,
    PermissionDeniedError,
    TokenVerificationError,
)
from baxcloud._tokens import mint_token
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
        (lambda: _forge(_claims(), kid="other"), "known API key"),
        (lambda: _forge(_claims(iss="other")), "issuer"),
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
