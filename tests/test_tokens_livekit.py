"""Interop with LiveKit's own server SDK (`livekit-api`): tokens cross both ways.

LiveKit's `AccessToken` names the key only in `iss` and sends no `kid` header; a
BaxCloud API key `bax_sk_<keyId>_<secret>` is `AccessToken(api_key=keyId,
api_secret=secret)` there.
"""

from __future__ import annotations

import datetime
from typing import Any

import jwt
import pytest
from helpers import unique
from livekit import api as livekit

from baxcloud import (
    AsyncBaxCloud,
    BaxCloud,
    Grants,
    NotFoundError,
    PermissionDeniedError,
    TokenVerificationError,
)
from baxcloud.testing import LocalServer

KEY_ID = "APIlk5678"
SECRET = "k" * 64
API_KEY = f"bax_sk_{KEY_ID}_{SECRET}"


@pytest.fixture(params=[BaxCloud, AsyncBaxCloud])
def offline(request: pytest.FixtureRequest) -> Any:
    return request.param(api_key=API_KEY, base_url="http://127.0.0.1:9")


def _livekit_token(
    key_id: str,
    secret: str,
    *,
    room: str,
    identity: str = "lk-user",
    ttl: int = 900,
    grants: livekit.VideoGrants | None = None,
) -> str:
    return (
        livekit.AccessToken(api_key=key_id, api_secret=secret)
        .with_identity(identity)
        .with_name("LiveKit User")
        .with_metadata('{"from":"livekit"}')
        .with_ttl(datetime.timedelta(seconds=ttl))
        .with_grants(grants or livekit.VideoGrants(room_join=True, room=room))
        .to_jwt()
    )


def _with_kid(token: str, secret: str, kid: str) -> str:
    """The same claims, re-signed with `secret` and a `kid` header."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})


def _server_key(client: BaxCloud) -> tuple[str, str]:
    key = client._async._api_key
    return key.key_id, key.secret


def test_livekit_tokens_carry_no_kid_header() -> None:
    # The premise of this file: if LiveKit ever adds `kid`, the iss path is untested.
    token = _livekit_token(KEY_ID, SECRET, room="r")
    assert "kid" not in jwt.get_unverified_header(token)
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == KEY_ID


def test_livekit_minted_token_verifies(offline: Any) -> None:
    token = _livekit_token(KEY_ID, SECRET, room="lk-room", identity="ann", ttl=900)
    claims = offline.tokens.verify(token)
    assert (claims.identity, claims.name, claims.room_name) == ("ann", "LiveKit User", "lk-room")
    assert claims.metadata == '{"from":"livekit"}'
    assert claims.key_id == KEY_ID
    assert claims.token_id is None  # LiveKit sends no jti
    assert claims.grants == Grants()
    assert (claims.expires_at - claims.not_before).total_seconds() == 900


def test_livekit_grants_are_read(offline: Any) -> None:
    grants = livekit.VideoGrants(
        room_join=True,
        room="r",
        can_publish=False,
        can_publish_data=False,
        can_update_own_metadata=True,
        hidden=True,
        can_publish_sources=["camera"],
    )
    claims = offline.tokens.verify(_livekit_token(KEY_ID, SECRET, room="r", grants=grants))
    assert claims.grants == Grants(
        can_publish=False,
        can_publish_data=False,
        can_update_own_metadata=True,
        hidden=True,
        can_publish_sources=["camera"],
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: _livekit_token(KEY_ID, "x" * 64, room="r"), "signature"),
        (lambda: _livekit_token("APIother", SECRET, room="r"), "known API key"),
        (lambda: _with_kid(_livekit_token(KEY_ID, SECRET, room="r"), SECRET, "APIother"), "key id"),
        (lambda: _with_kid(_livekit_token("APIother", SECRET, room="r"), SECRET, KEY_ID), "key id"),
        (
            lambda: _livekit_token(
                KEY_ID, SECRET, room="r", grants=livekit.VideoGrants(room_list=True)
            ),
            "roomJoin",
        ),
    ],
    ids=["other-secret", "other-iss", "kid-other", "iss-other", "no-room-join"],
)
def test_livekit_tokens_refused(offline: Any, make: Any, match: str) -> None:
    token = make()
    with pytest.raises(TokenVerificationError, match=match) as info:
        offline.tokens.verify(token)
    assert SECRET not in str(info.value) and token not in str(info.value)


def test_livekit_token_with_matching_kid_verifies(offline: Any) -> None:
    token = _with_kid(_livekit_token(KEY_ID, SECRET, room="r"), SECRET, KEY_ID)
    assert offline.tokens.verify(token).identity == "lk-user"


def test_livekit_minted_token_joins_the_local_server(server: LocalServer) -> None:
    room = unique("lk")
    with server.client() as client:
        key_id, secret = _server_key(client)
        grants = livekit.VideoGrants(room_join=True, room=room, can_publish=False)
        token = _livekit_token(key_id, secret, room=room, identity="lk-ann", grants=grants)
        participant = server.join(token)
        assert (participant.identity, participant.name) == ("lk-ann", "LiveKit User")
        assert participant.metadata == '{"from":"livekit"}'
        assert participant.permission.can_publish is False
        assert participant.permission.can_subscribe is True
        listed = [p.identity for p in client.participants.list(room)]
        assert listed == ["lk-ann"]


def test_local_server_refuses_foreign_livekit_tokens(server: LocalServer) -> None:
    room = unique("lk")
    with server.client() as client:
        key_id, secret = _server_key(client)
        cases = {
            "signature": _livekit_token(key_id, "x" * 64, room=room),
            "known API key": _livekit_token("APIother", secret, room=room),
            "key id": _with_kid(_livekit_token(key_id, secret, room=room), secret, "APIother"),
        }
        for match, token in cases.items():
            with pytest.raises(PermissionDeniedError) as info:
                server.join(token)
            assert info.value.code == "permission_denied"
            assert match in info.value.message
            assert secret not in info.value.message
        with pytest.raises(NotFoundError):  # nothing joined, so no room was made
            client.rooms.get(room)


def test_livekit_token_expires_on_the_server_clock(clock_server: LocalServer) -> None:
    room = unique("lk")
    with clock_server.client() as client:
        key_id, secret = _server_key(client)
        token = _livekit_token(key_id, secret, room=room, ttl=30)
        assert clock_server.join(token).identity == "lk-user"
        clock_server.advance_clock(30 + 61)
        with pytest.raises(PermissionDeniedError, match="expired"):
            clock_server.join(token)


def test_livekit_token_verifier_accepts_baxcloud_tokens(offline: Any) -> None:
    minted = offline.tokens.create(
        room_name="bax-room",
        participant_identity="bax-user",
        participant_name="Bax User",
        grants={"can_publish": False, "hidden": True},
        metadata="m",
    )
    claims = livekit.TokenVerifier(api_key=KEY_ID, api_secret=SECRET).verify(minted.token)
    assert (claims.identity, claims.name, claims.metadata) == ("bax-user", "Bax User", "m")
    assert claims.video is not None
    assert claims.video.room_join is True and claims.video.room == "bax-room"
    assert claims.video.can_publish is False and claims.video.hidden is True
    with pytest.raises(jwt.InvalidSignatureError):
        livekit.TokenVerifier(api_key=KEY_ID, api_secret="x" * 64).verify(minted.token)
