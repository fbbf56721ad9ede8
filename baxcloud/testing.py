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
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._client import AsyncBaxCloud
from ._errors import BaxCloudError
from ._media_models import Egress, Ingress
from ._models import (
    Participant,
    ParticipantToken,
    Track,
    TrackKind,
    TrackSource,
)
from ._paths import body
from ._sync_client import BaxCloud

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._server import LocalBaxCloudApp

__all__ = ["LocalServer"]

_STARTUP_TIMEOUT = 15.0


class LocalServer:
    """A running local BaxCloud server (usable with `with` and `async with`).

    Args:
        api_key: the key the server accepts; generated (or loaded from `data_dir`) if None.
        webhook_secret: `whsec_...`; generated (or loaded from `data_dir`) if None.
        data_dir: keep state in SQLite under this directory, surviving restarts.
        manual_clock: time moves only through `advance_clock`.
        host, port: where to listen; port 0 (default) picks a free port.
        egress_start_delay, egress_stop_delay: seconds an egress spends `starting`
            and `ending` (by the server's clock).
        recording_bytes_per_second: how fast simulated recording files grow.
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
    ) -> None:
        try:
            from ._server import ServerConfig
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BaxCloudError(
                "the local server needs the server extra: pip install 'baxcloud[server]'"
            ) from exc
        self._config = ServerConfig(
            api_key=api_key,
            webhook_secret=webhook_secret,
            data_dir=None if data_dir is None else Path(data_dir),
            manual_clock=manual_clock,
            egress_start_delay=egress_start_delay,
            egress_stop_delay=egress_stop_delay,
            recording_bytes_per_second=recording_bytes_per_second,
        )
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
        return remote

    # ---- credentials and clients ------------------------------------------------

    @property
    def api_key(self) -> str:
        if self._admin is not None and self._app is None:
            return self._admin._async._api_key.raw
        return self._running_app().api_key

    @property
    def webhook_secret(self) -> str | None:
        if self._admin is not None and self._app is None:
            return self._admin.webhook_secret
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
        return self._admin_client()._request(method, path, cast_to=cast_to, body=body(**fields))

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
