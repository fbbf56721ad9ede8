"""`LocalServer`: the local BaxCloud server, in-process, for tests and demos.

    with LocalServer() as server:
        client = server.client()
        client.rooms.create(name="demo")
        server.join(client.tokens.create(room_name="demo", participant_identity="ann"))

The server runs under uvicorn on a background thread, on a free loopback port,
with in-memory SQLite storage unless `data_dir` is given. The simulation calls
(`join`, `leave`, `publish_track`, ...) act out what real media clients would
do, through the server's `/_dev` endpoints. Requires the `server` extra.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._client import AsyncBaxCloud
from ._core.arguments import camel_fields
from ._core.errors import BaxCloudError
from ._media_models import Egress, Ingress
from ._models import (
    Participant,
    ParticipantToken,
    Track,
    TrackKind,
    TrackSource,
)
from ._sync.client import BaxCloud

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Self

    from ._server import FAULT_KINDS, DataDirectoryInUse, FaultConfig, LocalBaxCloudApp

__all__ = ["FAULT_KINDS", "DataDirectoryInUse", "FaultConfig", "LocalServer"]


def __getattr__(name: str) -> Any:
    # The server's own names load with the server (the `server` extra), on first use.
    if name in ("FAULT_KINDS", "DataDirectoryInUse", "FaultConfig"):
        from . import _server

        return getattr(_server, name)
    raise AttributeError(f"module 'baxcloud.testing' has no attribute {name!r}")


_STARTUP_TIMEOUT = 15.0


class LocalServer:
    """A running local BaxCloud server (usable with `with` and `async with`).

    Args:
        api_key: the key the server accepts; generated (or loaded from `data_dir`) if None.
        webhook_secret: `whsec_...`; generated (or loaded from `data_dir`) if None.
        data_dir: keep state in SQLite under this directory, surviving restarts; one
            server at a time: `start` raises `DataDirectoryInUse` (a `BaxCloudError`
            naming the directory and the holder's pid) while another one holds it.
        manual_clock: time moves only through `advance_clock`.
        host, port: where to listen; port 0 (default) picks a free port.
        egress_start_delay, egress_stop_delay: seconds an egress spends `starting`
            and `ending` (by the server's clock).
        recording_bytes_per_second: how fast simulated recording files grow.
        recording_max_bytes: the largest a recording file grows (default 64 MiB);
            a recording that reaches it stops by itself.
        webhook_urls: endpoints every event is delivered to (signed with
            `webhook_secret`); see `add_webhook_endpoint` and `webhook_deliveries`.
        webhook_retry_schedule: seconds (wall clock) before each retry of a failed
            delivery, default (0.1, 0.5, 2, 5, 10); then the event is given up.
        webhook_timeout: seconds one delivery attempt may take (default 5).
        faults: fault injection from the start: a `FaultConfig`, a mapping of its
            fields (`rate`, `kinds`, `seed`, `slow_seconds`) or a spec string such as
            "rate=0.3,kinds=429+503+drop,seed=7"; see `set_faults`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        webhook_secret: str | None = None,
        data_dir: str | Path | None = None,
        manual_clock: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        egress_start_delay: float = 1.0,
        egress_stop_delay: float = 1.0,
        recording_bytes_per_second: int = 64 * 1024,
        recording_max_bytes: int = 64 * 1024 * 1024,
        faults: FaultConfig | Mapping[str, Any] | str | None = None,
        webhook_urls: Iterable[str] = (),
        webhook_retry_schedule: Iterable[float] | None = None,
        webhook_timeout: float | None = None,
    ) -> None:
        try:
            from ._server import ServerConfig
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BaxCloudError(
                "the local server needs the server extra: pip install 'baxcloud[server]'"
            ) from exc
        webhook_options: dict[str, Any] = {}
        if webhook_retry_schedule is not None:
            webhook_options["webhook_retry_schedule"] = tuple(webhook_retry_schedule)
        if webhook_timeout is not None:
            webhook_options["webhook_timeout"] = webhook_timeout
        self._config = ServerConfig(
            api_key=api_key,
            webhook_secret=webhook_secret,
            data_dir=None if data_dir is None else Path(data_dir),
            manual_clock=manual_clock,
            egress_start_delay=egress_start_delay,
            egress_stop_delay=egress_stop_delay,
            recording_bytes_per_second=recording_bytes_per_second,
            recording_max_bytes=recording_max_bytes,
            faults=faults,
            webhook_urls=tuple(webhook_urls),
            **webhook_options,
        )
        self._rotated_secret: str | None = None
        self._host, self._port = host, port
        self._app: LocalBaxCloudApp | None = None
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None
        self._admin: BaxCloud | None = None
        self.base_url = ""

    # ---- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Start serving; returns once the server accepts connections."""
        if self._admin is not None:  # already running, or connected to a remote one
            return self
        from ._server import LocalBaxCloudApp, create_uvicorn_server

        app = LocalBaxCloudApp(self._config)
        ready = threading.Event()

        def on_ready(base_url: str, _: LocalBaxCloudApp) -> None:
            self.base_url = base_url
            ready.set()

        server = create_uvicorn_server(app, host=self._host, port=self._port, on_ready=on_ready)
        thread = threading.Thread(target=server.run, name="baxcloud-local-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not ready.wait(0.01):
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(_STARTUP_TIMEOUT)
                app.close()
                raise BaxCloudError("the local BaxCloud server failed to start")
        self._app, self._uvicorn, self._thread = app, server, thread
        self._admin = self.client(max_retries=0)
        return self

    def stop(self) -> None:
        """Stop serving and close the database (idempotent)."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._thread is None:
            return
        self._uvicorn.should_exit = True
        self._thread.join(_STARTUP_TIMEOUT)
        assert self._app is not None
        self._app.close()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.stop)

    @classmethod
    def connect(
        cls,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        webhook_secret: str | None = None,
    ) -> LocalServer:
        """Drive a local server that is already running elsewhere (`baxcloud dev`).

        Arguments default to BAXCLOUD_BASE_URL, BAXCLOUD_API_KEY and
        BAXCLOUD_WEBHOOK_SECRET. `start`/`stop` do nothing on such an instance.
        """
        remote = object.__new__(cls)
        remote._app = None
        remote._thread = None
        remote._admin = BaxCloud(
            api_key=api_key, base_url=base_url, webhook_secret=webhook_secret, max_retries=0
        )
        remote.base_url = remote._admin.base_url
        remote._rotated_secret = None
        return remote

    def reset(self) -> None:
        """Return the running server to its just-started state, in about a millisecond.

        Gone: rooms, participants, tracks, egress, recordings (and their files),
        ingress, events, idempotency records, the auto-stream config, webhook
        deliveries (queued ones are dropped and attempts in flight cancelled: no
        delivery starts after the reset) and endpoints added at run time. Back as
        at start: the `webhook_urls` endpoints, the fault settings (and their
        generator and counters), a manual clock's reading and the webhook secret
        (a rotation is forgotten). Kept: the base URL and the API key. With
        `data_dir` the persisted state is cleared too. A request in flight runs
        wholly before or wholly after the reset. Works on `connect`ed servers too
        (`POST /_dev/reset`).
        """
        self._admin_client()._request("POST", "/_dev/reset", cast_to=type(None))
        self._rotated_secret = None

    # ---- credentials and clients ------------------------------------------------

    @property
    def api_key(self) -> str:
        if self._admin is not None and self._app is None:
            return str(self._admin._async._api_key.raw)
        # A plain str: the SDK holds keys in a str whose repr hides them, but a caller
        # asking for the key wants the key (in generated code, for one).
        return str(self._running_app().api_key)

    @property
    def webhook_secret(self) -> str | None:
        if self._admin is not None and self._app is None:
            return self._rotated_secret or self._admin.webhook_secret
        return self._running_app().webhook_secret

    def client(self, **kwargs: Any) -> BaxCloud:
        """A blocking client for this server (keyword arguments as for `BaxCloud`)."""
        return BaxCloud(**self._client_kwargs(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncBaxCloud:
        """An async client for this server (keyword arguments as for `AsyncBaxCloud`)."""
        return AsyncBaxCloud(**self._client_kwargs(kwargs))

    def _client_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "webhook_secret": self.webhook_secret,
            **kwargs,
        }

    def _running_app(self) -> LocalBaxCloudApp:
        if self._app is None or self._thread is None:
            raise BaxCloudError("the local server is not running: use `with LocalServer()`")
        return self._app

    def __repr__(self) -> str:
        state = self.base_url if self._thread is not None else "stopped"
        return f"LocalServer({state})"

    # ---- simulation ---------------------------------------------------------------

    def _admin_client(self) -> BaxCloud:
        if self._admin is None:
            raise BaxCloudError("the local server is not running: use `with LocalServer()`")
        return self._admin

    def _sim(self, method: str, path: str, cast_to: type[Any], **fields: Any) -> Any:
        return self._admin_client()._request(
            method, path, cast_to=cast_to, body=camel_fields(**fields)
        )

    def join(self, token: str | ParticipantToken) -> Participant:
        """Join a room with an access token, as a client app would.

        The server checks the token exactly as BaxCloud does, creates the room if
        needed and enforces `max_participants` and the token's grants.
        """
        raw = token.token if isinstance(token, ParticipantToken) else token
        result: Participant = self._sim("POST", "/_dev/join", Participant, token=raw)
        return result

    def leave(self, room_name: str, identity: str) -> None:
        """Disconnect a participant as if its client left."""
        self._sim("POST", "/_dev/leave", type(None), room_name=room_name, identity=identity)

    def publish_track(
        self,
        room_name: str,
        identity: str,
        *,
        kind: TrackKind = "video",
        source: TrackSource | None = None,
        name: str | None = None,
    ) -> Track:
        """Publish a track for a joined participant (needs the `can_publish` grant)."""
        result: Track = self._sim(
            "POST",
            "/_dev/publish-track",
            Track,
            room_name=room_name,
            identity=identity,
            kind=kind,
            source=source,
            name=name,
        )
        return result

    def unpublish_track(self, room_name: str, identity: str, track_sid: str) -> None:
        """Unpublish one of a participant's tracks."""
        self._sim(
            "POST",
            "/_dev/unpublish-track",
            type(None),
            room_name=room_name,
            identity=identity,
            track_sid=track_sid,
        )

    def connect_ingress(self, ingress_id: str) -> Ingress:
        """Start pushing media into an ingress, as OBS or a WHIP client would.

        The ingress goes INACTIVE -> BUFFERING -> ACTIVE and its participant joins the room.
        """
        result: Ingress = self._sim("POST", "/_dev/connect-ingress", Ingress, ingress_id=ingress_id)
        return result

    def disconnect_ingress(self, ingress_id: str) -> Ingress:
        """Stop pushing media into an ingress (its participant leaves)."""
        result: Ingress = self._sim(
            "POST", "/_dev/disconnect-ingress", Ingress, ingress_id=ingress_id
        )
        return result

    def fail_ingress(self, ingress_id: str, error: str) -> Ingress:
        """Make a live ingress fail with `error`."""
        result: Ingress = self._sim(
            "POST", "/_dev/fail-ingress", Ingress, ingress_id=ingress_id, error=error
        )
        return result

    def fail_egress(self, egress_id: str, error: str) -> Egress:
        """Make a running egress (and its recording, if any) fail with `error`."""
        result: Egress = self._sim(
            "POST", "/_dev/fail-egress", Egress, egress_id=egress_id, error=error
        )
        return result

    def advance_clock(self, seconds: float) -> float:
        """Move a manual clock forward (see `manual_clock`); returns the new time."""
        result: dict[str, Any] = self._sim("POST", "/_dev/clock/advance", dict, seconds=seconds)
        return float(result["now"])

    def events(self) -> list[dict[str, Any]]:
        """Every event the server has recorded so far, oldest first."""
        result: dict[str, Any] = self._admin_client()._request("GET", "/_dev/events", cast_to=dict)
        return list(result["items"])

    def set_faults(
        self,
        *,
        rate: float = 0.0,
        kinds: Iterable[str | int] | None = None,
        seed: int | None = None,
        slow_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Inject faults into API requests from now on; `set_faults()` turns them off.

        With probability `rate` (0-1) a `/v1` or download request gets one of
        `kinds` (default: every kind except "slow"): "429" (with a 0-0.2 s
        Retry-After), "500", "503", "drop" (connection closed without an
        answer), "slow" (the handler waits `slow_seconds`, default 3, before
        running) or "after_commit" (the change is committed, then the answer is
        replaced by a 503 or a dropped connection). `/_dev` calls, like this
        one, are never faulted. The same `seed` and the same requests give the
        same faults. Restarts the counters; returns `faults()`.
        """
        result: dict[str, Any] = self._sim(
            "POST",
            "/_dev/faults",
            dict,
            rate=rate,
            kinds=None if kinds is None else [str(kind) for kind in kinds],
            seed=seed,
            slow_seconds=slow_seconds,
        )
        return result

    def faults(self) -> dict[str, Any]:
        """The fault configuration and what was injected since it was set.

        `{"rate", "kinds", "seed", "slowSeconds", "requests": <requests that
        drew>, "injected": {<kind>: <count>}}`.
        """
        result: dict[str, Any] = self._admin_client()._request("GET", "/_dev/faults", cast_to=dict)
        return result

    # ---- webhooks -------------------------------------------------------------------

    def add_webhook_endpoint(self, url: str) -> dict[str, Any]:
        """Deliver every event from now on to `url` too (re-enables it if known).

        Unspecified, link-local and cloud metadata addresses and hostnames are
        refused (`UnprocessableEntityError`); loopback and private ones are fine.
        Returns the endpoint: `{"id", "url", "enabled", "disabledReason", "createdAt"}`.
        """
        result: dict[str, Any] = self._sim("POST", "/_dev/webhook-endpoints", dict, url=url)
        return result

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        """Every registered endpoint (a 410 answer disables one, with `disabledReason`)."""
        result: dict[str, Any] = self._admin_client()._request(
            "GET", "/_dev/webhook-endpoints", cast_to=dict
        )
        return list(result["items"])

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far, oldest first.

        Each: `{"id", "eventId", "event", "endpointId", "endpointUrl", "attempt",
        "status" (HTTP status or None), "latencyMs", "error", "outcome"
        ("delivered", "retrying", "failed" or "disabled"), "attemptedAt",
        "deliveredAt", "nextAttemptAt"}` (wall-clock Unix seconds).
        """
        result: dict[str, Any] = self._admin_client()._request(
            "GET", "/_dev/webhook-deliveries", cast_to=dict
        )
        return list(result["items"])

    def pending_webhook_deliveries(self) -> int:
        """How many (event, endpoint) deliveries are still queued or being retried."""
        result: dict[str, Any] = self._admin_client()._request(
            "GET", "/_dev/webhook-deliveries", cast_to=dict
        )
        return int(result["pending"])

    def rotate_webhook_secret(self) -> str:
        """Make a new webhook secret primary and return it (`webhook_secret` follows).

        For a grace period (24 hours of server time by default) deliveries are
        signed with both the new and the previous secret, so `webhook-signature`
        carries two `v1,` entries. Clients created before keep the old secret.
        """
        result: dict[str, Any] = self._sim("POST", "/_dev/webhook-secret/rotate", dict)
        secret = str(result["webhookSecret"])
        if self._app is None:
            self._rotated_secret = secret
        return secret
