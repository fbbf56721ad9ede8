"""Pre-signed download URLs are accepted only byte for byte as issued.

Requests go over raw sockets to a real server, so that no HTTP client
normalises the request target on the way.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers import WAIT

from baxcloud.testing import LocalServer


class Answer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }

    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = json.loads(self.body)["error"]
        return error


def send(base_url: str, method: str, target: str, **headers: str) -> Answer:
    """One HTTP/1.1 request with `target` sent exactly as given."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname, parts.port), timeout=WAIT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return Answer(b"".join(chunks))


@pytest.fixture(scope="module")
def issued() -> Iterator[tuple[LocalServer, str, str, str]]:
    """A server, a completed recording's file, and its URL's path, expires and sig."""
    with (
        LocalServer(manual_clock=True, recording_bytes_per_second=10_000) as server,
        server.client() as client,
    ):
        client.rooms.create(name="r")
        recording = client.recordings.start(room_name="r")
        server.advance_clock(1)
        server.advance_clock(30)
        client.recordings.stop(recording.egress_id)
        server.advance_clock(1)
        done = client.recordings.get(recording.id)
        assert done.status == "completed"
        url = urlsplit(client.recordings.get_download_url(recording.id).download_url)
        query = url.query.split("&")
        assert [item.split("=")[0] for item in query] == ["expires", "sig"]
        expires, sig = (item.split("=", 1)[1] for item in query)
        assert url.path == f"/downloads/{done.id}/{done.filename}"
        assert done.id.startswith("rec_")
        assert done.filename is not None and done.filename.endswith(".mp4")
        yield server, url.path, expires, sig


def test_the_canonical_url_works_with_and_without_range(
    issued: tuple[LocalServer, str, str, str],
) -> None:
    server, path, expires, sig = issued
    target = f"{path}?expires={expires}&sig={sig}"
    whole = send(server.base_url, "GET", target)
    assert whole.status == 200
    assert int(whole.headers["content-length"]) == len(whole.body) > 300_000
    part = send(server.base_url, "GET", target, Range="bytes=70000-70099")
    assert part.status == 206
    assert part.headers["content-range"] == f"bytes 70000-70099/{len(whole.body)}"
    assert part.body == whole.body[70000:70100]
    head = send(server.base_url, "HEAD", target, Range="bytes=-10")
    assert (head.status, head.headers["content-length"], head.body) == (206, "10", b"")


def variants(path: str, expires: str, sig: str) -> dict[str, str]:
    """Request targets that decode to the issued URL but are not its exact bytes."""
    rec_id, filename = path.split("/")[2:]
    encoded_id = rec_id.replace("_", "%5F", 1)
    dotted, lower_dotted = filename.replace(".", "%2E"), filename.replace(".", "%2e")
    query = f"expires={expires}&sig={sig}"
    return {
        "leading zero": f"{path}?expires=0{expires}&sig={sig}",
        "plus sign": f"{path}?expires=+{expires}&sig={sig}",
        "encoded plus sign": f"{path}?expires=%2B{expires}&sig={sig}",
        "encoded digit": f"{path}?expires=%3{expires[0]}{expires[1:]}&sig={sig}",
        "encoded sig character": f"{path}?expires={expires}&sig=%{ord(sig[0]):02X}{sig[1:]}",
        "encoded parameter name": f"{path}?%65xpires={expires}&sig={sig}",
        "encoded separator": f"{path}?expires={expires}%26sig={sig}",
        "encoded underscore in the id": f"/downloads/{encoded_id}/{filename}?{query}",
        "encoded dot in the filename": f"/downloads/{rec_id}/{dotted}?{query}",
        "lower-case escape": f"/downloads/{rec_id}/{lower_dotted}?{query}",
        "encoded letter in the filename": f"/downloads/{rec_id}/%{ord(filename[0]):02X}"
        f"{filename[1:]}?{query}",
        "reordered parameters": f"{path}?sig={sig}&expires={expires}",
        "repeated sig": f"{path}?{query}&sig={sig}",
        "repeated expires": f"{path}?expires={expires}&{query}",
        "extra parameter": f"{path}?{query}&download=1",
        "trailing ampersand": f"{path}?{query}&",
        "leading ampersand": f"{path}?&{query}",
        "doubled ampersand": f"{path}?expires={expires}&&sig={sig}",
        "semicolon separator": f"{path}?expires={expires};sig={sig}",
        "upper-case sig": f"{path}?expires={expires}&sig={sig.upper()}",
        "empty value": f"{path}?expires={expires}&sig={sig}&expires=",
        "no query": path,
        "empty query": f"{path}?",
    }


@pytest.mark.parametrize("name", list(variants("/downloads/rec_x/rec_x.mp4", "123", "ab")))
def test_variants_of_the_issued_url_are_refused(
    issued: tuple[LocalServer, str, str, str], name: str
) -> None:
    server, path, expires, sig = issued
    target = variants(path, expires, sig)[name]
    for method in ("GET", "HEAD"):
        answer = send(server.base_url, method, target, Range="bytes=0-9")
        assert answer.status == 403, (name, answer.status, answer.body[:200])
        if method == "GET":
            error = answer.error()
            assert error["code"] == "download_url_invalid"
            assert sig not in json.dumps(error)
    # The issued form still works afterwards.
    assert send(server.base_url, "GET", f"{path}?expires={expires}&sig={sig}").status == 200
