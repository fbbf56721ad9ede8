"""What a newcomer reads when something is wrong: each message pinned, on both clients."""

from __future__ import annotations

import contextlib
import socket
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import resolve, unique
from hostile import hostile_server, open_client, respond

from baxcloud import APIConnectionError, NotFoundError
from baxcloud.testing import LocalServer

API_KEY = "bax_sk_messages1_" + "M" * 40


async def test_a_misspelled_argument_is_named_with_a_suggestion(bx: Any) -> None:
    with pytest.raises(TypeError) as caught:
        await resolve(bx.rooms.create(name=unique(), max_participant=5))
    assert str(caught.value) == (
        "rooms.create() got an unexpected keyword argument 'max_participant'"
        " (did you mean 'max_participants'?)"
    )
    with pytest.raises(TypeError, match=r"rooms\.get\(\) .* 'timeot' \(did you mean 'timeout'\?\)"):
        await resolve(bx.rooms.get("r", timeot=3))
    with pytest.raises(TypeError, match=r"recordings\.list\(\) .* 'statuss'"):
        await resolve(bx.recordings.list(statuss="active"))


async def test_enumerations_are_accepted_in_any_case_and_refused_by_their_python_name(
    bx: Any, media_server: LocalServer
) -> None:
    async with open_client(
        "sync" if type(bx).__name__ == "BaxCloud" else "async",
        api_key=media_server.api_key,
        base_url=media_server.base_url,
    ) as client:
        room = await resolve(client.rooms.create(name=unique()))
        recording = await resolve(client.recordings.start(room_name=room.name, file_type="webm"))
        assert recording.file_type == "WEBM"
        with pytest.raises(ValueError) as caught:
            await resolve(client.recordings.start(room_name=room.name, file_type="mkv"))
        assert str(caught.value) == "file_type must be one of 'MP4', 'OGG', 'WEBM', not 'mkv'"
        with pytest.raises(ValueError, match=r"^mode must be one of 'record', 'stream', 'both'"):
            await resolve(client.egress.start(room_name=room.name, mode="recording"))
        with pytest.raises(ValueError, match=r"^file\.file_type must be one of"):
            await resolve(
                client.egress.start(room_name=room.name, mode="record", file={"file_type": "avi"})
            )


async def test_an_id_of_the_wrong_kind_gets_a_hint_before_any_request(kind: str) -> None:
    with hostile_server(respond(200, b"{}")) as server:
        async with open_client(kind, api_key=API_KEY, base_url=server.base_url) as client:
            with pytest.raises(ValueError) as caught:
                await resolve(client.recordings.stop("rec_08E38cdccgySdS41"))
            assert str(caught.value) == (
                "recordings.stop takes the egress_id (EG_...), not a recording id (rec_...):"
                " pass the recording's egress_id"
            )
            with pytest.raises(ValueError, match=r"^recordings\.get takes the recording_id"):
                await resolve(client.recordings.get("EG_08E38cdccgySdS41"))
            with pytest.raises(ValueError, match=r"^egress\.get takes the egress_id \(EG_\.\.\.\)"):
                await resolve(client.egress.get("rec_1"))
            with pytest.raises(ValueError, match=r"^ingress\.delete takes the ingress_id"):
                await resolve(client.ingress.delete("EG_1"))
    assert server.received == []


def test_grant_mistakes_read_plainly(sync_client: Any) -> None:
    with pytest.raises(TypeError) as caught:
        sync_client.tokens.create(
            room_name="r", participant_identity="i", grants={"can_publish": "yes"}
        )
    assert str(caught.value) == "grants: can_publish must be a bool, not str"
    with pytest.raises(TypeError, match=r"can_publsh \(did you mean 'can_publish'\?\)"):
        sync_client.tokens.create(
            room_name="r", participant_identity="i", grants={"can_publsh": True}
        )
    from baxcloud import Grants

    with pytest.raises(TypeError) as direct:
        Grants(hidden="no")  # type: ignore[arg-type]
    assert str(direct.value) == "hidden must be a bool or None, not str"


@contextlib.contextmanager
def plain_http_greeter() -> Iterator[int]:
    """A server that answers plain HTTP at once, so that a TLS handshake with it fails."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(10)


async def test_a_connection_failure_names_the_address_and_the_cause(kind: str) -> None:
    cases = {
        "http://127.0.0.1:9": "cannot connect to 127.0.0.1:9 (connection refused): GET /v1/rooms",
        "http://no-such-host.invalid": (
            "cannot connect to no-such-host.invalid:80 (host name not resolved): GET /v1/rooms"
        ),
    }
    for base_url, message in cases.items():
        async with open_client(kind, api_key=API_KEY, base_url=base_url, max_retries=0) as client:
            with pytest.raises(APIConnectionError) as caught:
                await resolve(client.rooms.list())
            assert str(caught.value) == message
    with plain_http_greeter() as port:
        tls_url = f"https://127.0.0.1:{port}"
        async with open_client(kind, api_key=API_KEY, base_url=tls_url, max_retries=0) as client:
            with pytest.raises(APIConnectionError) as caught:
                await resolve(client.rooms.list())
    assert str(caught.value).startswith(f"cannot connect to 127.0.0.1:{port} (TLS failure")


async def test_a_base_url_copied_with_v1_works(kind: str, server: LocalServer) -> None:
    async with open_client(
        kind, api_key=server.api_key, base_url=server.base_url + "/v1/"
    ) as client:
        assert client.base_url == server.base_url
        room = await resolve(client.rooms.create(name=unique()))
        assert (await resolve(client.rooms.get(room.name))).sid == room.sid


async def test_errors_print_as_users_import_them(bx: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        await resolve(bx.rooms.get(unique("missing")))
    assert type(caught.value).__module__ == "baxcloud"
    last_line = traceback.format_exception_only(caught.value)[-1]
    assert last_line.startswith("baxcloud.NotFoundError: 404 room_not_found")
