"""Where the local server delivers webhooks, and how much of an answer it reads.

Link-local, unspecified and cloud metadata targets are refused where endpoints
are registered (config, `--webhook-url`, `POST /_dev/webhook-endpoints`) and,
after resolving the host, at every delivery (DNS rebinding). Name resolution is
the one thing a test cannot make answer on cue, so those tests replace the
server's resolver; the deliveries themselves go to real loopback receivers.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import WAIT, asgi_body, serve_asgi, wait_until

from baxcloud import UnprocessableEntityError
from baxcloud._cli.main import main
from baxcloud._server import ServerConfig
from baxcloud._server._webhooks import MAX_RESPONSE_BYTES
from baxcloud.testing import LocalServer

REFUSED = [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://169.254.170.2/v2/credentials", "link-local"),
    ("http://[fe80::1]:8080/hooks", "link-local"),
    ("http://0.0.0.0:8080/hooks", "unspecified"),
    ("http://0.1.2.3/hooks", "unspecified"),
    ("http://[::]:8080/hooks", "unspecified"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://METADATA.Google.Internal./computeMetadata/v1/", "metadata"),
    ("http://metadata/computeMetadata/v1/", "metadata"),
    ("http://instance-data/latest/", "metadata"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
    ("http://[::ffff:169.254.169.254]/latest/", "link-local"),
    ("http://[::ffff:0.0.0.0]/", "unspecified"),
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),
    ("http://[2002:a9fe:a9fe::]/", "link-local"),
    ("http://2852039166/latest/", "link-local"),  # 169.254.169.254 as one number
    ("http://0xa9fea9fe/latest/", "link-local"),
    ("http://0251.0376.0251.0376/latest/", "link-local"),  # octal
    ("https://user:pw@169.254.169.254:443/x", "link-local"),
]
ALLOWED = [
    "http://127.0.0.1:1/hooks",
    "http://127.1.2.3:1/hooks",
    "http://[::1]:1/hooks",
    "http://localhost:1/hooks",
    "http://10.1.2.3/hooks",
    "http://172.16.0.9/hooks",
    "http://192.168.1.20:8000/hooks",
    "http://[fc00::1]/hooks",
    "http://[fd12:3456::1]/hooks",
    "https://hooks.example.com/baxcloud",
    "http://receiver.internal/hooks",
]


@pytest.fixture(scope="module")
def module_server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.mark.parametrize(("url", "kind"), REFUSED)
def test_refused_where_endpoints_are_registered(
    url: str, kind: str, module_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match=f"webhook_urls\\[0\\] must not point at .*{kind}"):
        ServerConfig(webhook_urls=[url])

    with pytest.raises(UnprocessableEntityError) as refused:
        module_server.add_webhook_endpoint(url)
    assert refused.value.code == "validation_failed"
    (detail,) = refused.value.details
    assert detail.field == "url"
    assert detail.message.startswith("must not point at ") and kind in detail.message
    assert "pw" not in str(refused.value)
    assert url not in [e["url"] for e in module_server.webhook_endpoints()]

    assert main(["dev", "--port", "0", "--webhook-url", url]) == 2
    err = capsys.readouterr().err
    assert "webhook_urls[0] must not point at" in err and kind in err


@pytest.mark.parametrize("url", ALLOWED)
def test_loopback_private_and_public_addresses_stay_allowed(
    url: str, module_server: LocalServer
) -> None:
    assert ServerConfig(webhook_urls=[url]).webhook_urls == (url,)
    assert module_server.add_webhook_endpoint(url)["url"] == url


class Recorder:
    """An ASGI receiver that records each request's Host header and event name."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.events: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = await asgi_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.hosts.append(headers["host"])
        self.events.append(body.decode())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_every_delivery_resolves_and_checks_the_host_and_connects_to_what_it_checked() -> None:
    answers = {"rebind.test": ["127.0.0.1"]}
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(answers[host])

    recorder = Recorder()
    with serve_asgi(recorder, path="/hooks") as local_url, LocalServer() as server:
        port = local_url.split(":")[2].split("/")[0]
        url = f"http://rebind.test:{port}/hooks"  # .test never resolves for real
        assert server._app is not None
        server._app.webhooks.resolve = resolve
        endpoint = server.add_webhook_endpoint(url)
        client = server.client()

        client.rooms.create(name="first")
        wait_until(lambda: server.pending_webhook_deliveries() == 0, "the first delivery")
        (first,) = server.webhook_deliveries()
        assert (first["outcome"], first["status"], first["error"]) == ("delivered", 204, None)
        # It went to the address that was checked, under the endpoint's own name.
        assert recorder.hosts == [f"rebind.test:{port}"]
        assert asked == ["rebind.test"]

        # The name now points at the metadata service: refused at once, never retried.
        answers["rebind.test"] = ["169.254.169.254"]
        client.rooms.create(name="second")
        wait_until(lambda: server.pending_webhook_deliveries() == 0, "the refusal")
        second = server.webhook_deliveries()[1]
        assert (second["attempt"], second["outcome"], second["status"]) == (1, "failed", None)
        assert second["error"].startswith("refused: rebind.test resolves to 169.254.169.254")
        assert "link-local" in second["error"]
        assert second["nextAttemptAt"] is None

        # One bad address among good ones refuses the name as well.
        answers["rebind.test"] = ["127.0.0.1", "::ffff:169.254.169.254"]
        client.rooms.create(name="third")
        wait_until(lambda: server.pending_webhook_deliveries() == 0, "the second refusal")
        third = server.webhook_deliveries()[2]
        assert third["outcome"] == "failed" and "IPv6 form of 169.254.169.254" in third["error"]
        assert len(recorder.hosts) == 1  # neither refused event reached anything

        # Refusals do not disable the endpoint: a safe answer delivers again.
        answers["rebind.test"] = ["127.0.0.1"]
        client.rooms.create(name="fourth")
        wait_until(lambda: len(recorder.hosts) == 2, "the fourth delivery")
        assert '"roomName":"fourth"' in recorder.events[1]
        (listed,) = server.webhook_endpoints()
        assert listed["id"] == endpoint["id"] and listed["enabled"] is True
        client.close()


def test_tls_keeps_the_endpoint_name_for_sni_while_connecting_to_the_checked_address() -> None:
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # no certificate: only the hello matters
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_one() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(ssl.SSLError):  # no certificate to offer
            context.wrap_socket(conn, server_side=True)

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    try:
        with LocalServer(webhook_retry_schedule=()) as server:
            assert server._app is not None
            server._app.webhooks.resolve = resolve
            server.add_webhook_endpoint(f"https://hooks.rebind.test:{port}/hooks")
            server.client().rooms.create(name="tls")
            wait_until(lambda: server.pending_webhook_deliveries() == 0, "the attempt")
            (attempt,) = server.webhook_deliveries()
            assert attempt["outcome"] == "failed" and attempt["status"] is None
        thread.join(WAIT)
        assert names == ["hooks.rebind.test"]
    finally:
        listener.close()


class EndlessReceiver:
    """Answers `200` then a chunked body that never ends; counts what it manages to send."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        self.requests = 0
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                while self.sent < 1 << 34:  # 16 GiB: far beyond any socket buffer
                    conn.sendall(chunk)
                    self.sent += len(chunk)
            except OSError:
                pass  # the server stopped reading and closed the connection
        self.done.set()

    def close(self) -> None:
        self.listener.close()


def test_an_endless_answer_is_read_only_up_to_a_few_kib() -> None:
    receiver = EndlessReceiver()
    try:
        with LocalServer(
            webhook_urls=[f"http://127.0.0.1:{receiver.port}/hooks"], webhook_timeout=30
        ) as server:
            server.client().rooms.create(name="endless")
            assert receiver.done.wait(WAIT), "the server kept reading the endless body"
            wait_until(lambda: server.pending_webhook_deliveries() == 0, "the delivery")
            (attempt,) = server.webhook_deliveries()
            assert (attempt["outcome"], attempt["status"], attempt["error"]) == (
                "delivered",
                200,
                None,
            )
        assert receiver.requests == 1
        # What got out before the connection was closed is bounded by socket buffers
        # (4 KiB were read of it): nowhere near what an endless body would fill.
        assert MAX_RESPONSE_BYTES == 4096
        assert receiver.sent < 16 * 1024 * 1024, receiver.sent
    finally:
        receiver.close()
