"""Running the app under uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._app import LocalBaxCloudApp
from ._config import ServerConfig

ReadyCallback = Callable[[str, LocalBaxCloudApp], None]


def _base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def create_uvicorn_server(
    app: LocalBaxCloudApp,
    *,
    host: str = "127.0.0.1",
    port: int = 7880,
    on_ready: ReadyCallback | None = None,
    log_level: str = "warning",
) -> Any:
    """A `uvicorn.Server` for `app` (port 0 picks a free port).

    `on_ready(base_url, app)` runs once it is listening. Run it with
    `.run()` (blocking) or `await .serve()`; stop it with `.should_exit = True`.
    """
    import uvicorn

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.should_exit or on_ready is None:
                return
            bound_port = port
            for server in getattr(self, "servers", []):
                for sock in server.sockets:
                    bound_port = int(sock.getsockname()[1])
                    break
            on_ready(_base_url(host, bound_port), app)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        server_header=False,
    )
    return _Server(config)


def serve(
    config: ServerConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 7880,
    on_ready: ReadyCallback | None = None,
) -> None:
    """Run the local server until interrupted (blocking)."""
    app = LocalBaxCloudApp(config)
    try:
        create_uvicorn_server(app, host=host, port=port, on_ready=on_ready).run()
    finally:
        app.close()
