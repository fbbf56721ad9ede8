"""No API key secret or minted token in logs, errors, reprs or strs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from helpers import resolve, unique

from baxcloud import APIStatusError, AsyncBaxCloud, BaxCloud
from baxcloud._core.log import redact
from baxcloud.testing import LocalServer


async def test_debug_logs_errors_and_reprs_hold_no_secret(
    bx: Any, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="baxcloud")
    secret = server.api_key.rsplit("_", 1)[1]
    room = await resolve(bx.rooms.create(name=unique(), metadata={"k": "v"}))
    token = bx.tokens.create(room_name=room.name, participant_identity="u")
    participant = server.join(token)
    await resolve(bx.participants.update_metadata(room.name, "u", "m"))
    errors: list[BaseException] = []
    calls: list[Callable[[], Any]] = [
        lambda: bx.rooms.create(name=room.name),
        lambda: bx.rooms.get(unique()),
    ]
    for call in calls:
        try:
            await resolve(call())
        except APIStatusError as exc:
            errors.append(exc)
    assert len(errors) == 2
    texts = [r.getMessage() for r in caplog.records]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(bx), str(bx), repr(token), str(token), repr(participant), repr(room)]
    assert any("POST /v1/rooms" in t for t in texts)  # the log did record the calls
    for text in texts:
        assert secret not in text
        assert token.token not in text
    assert server.api_key.split("_")[2] in repr(bx)  # the key id is fine to show


def test_redaction_patterns() -> None:
    key = "bax_sk_abcd1234_" + "Z" * 40
    assert redact(f"using {key}") == "using bax_sk_abcd1234_****"
    assert "Z" * 40 not in redact(f"Authorization: Bearer {key}")
    assert redact("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == "whsec_****"
    assert (
        redact("rtmp://a.rtmp.youtube.com/live2/abcd-efgh")
        == "rtmp://a.rtmp.youtube.com/live2/****"
    )
    assert redact("token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl") == "token <token>"


def test_user_log_messages_are_redacted_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="baxcloud")
    key = "bax_sk_abcd1234_" + "Q" * 40
    logging.getLogger("baxcloud").debug("header value %s", key)
    assert "Q" * 40 not in caplog.records[-1].getMessage()


@pytest.mark.parametrize("cls", [AsyncBaxCloud, BaxCloud])
def test_client_repr(cls: type) -> None:
    key = "bax_sk_abcd1234_" + "W" * 40
    client = cls(api_key=key, base_url="http://127.0.0.1:9")
    assert "W" * 40 not in repr(client)
    assert "abcd1234" in repr(client)
    assert "W" * 40 not in repr(client._api_key if cls is AsyncBaxCloud else client._async._api_key)
