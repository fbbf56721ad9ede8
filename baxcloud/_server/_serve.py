"""Running the app under uvicorn."""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from .._core.errors import BaxCloudError
from ._app import LocalBaxCloudApp
from ._config import ServerConfig

ReadyCallback = Callable[[str, LocalBaxCloudApp], None]
LogWriter = Callable[[str], None]


class CannotListen(BaxCloudError):
    """The server could not listen on `host`:`port` (in use, not allowed, no such address)."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        if error.errno == errno.EADDRINUSE:
            text = f"port {port} is in use on {host}; pick another with --port"
        elif error.errno == errno.EACCES:
            text = f"not allowed to listen on port {port} of {host}; pick another with --port"
        else:
            code = error.errno if not isinstance(error, socket.gaierror) else None
            reason = os.strerror(code) if code else (error.strerror or str(error))
            text = f"cannot listen on {host} port {port}: {reason}"
        super().__init__(text)
        self.host, self.port, self.error = host, port, error


class _BindFailure(logging.Filter):
    """Takes uvicorn's log record of a failed bind (its message is the OSError itself)."""

    def __init__(self) -> None:
        super().__init__()
        self.error: OSError | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, OSError) and self.error is None:
            self.error = record.msg
            return False
        return True


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _base_url(host: str, port: int) -> str:
    """A URL that reaches the server from this machine (0.0.0.0 and :: are not addresses)."""
    address = _parse_ip(host)
    if address is not None and address.is_unspecified:
        host = "127.0.0.1" if address.version == 4 else "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def is_loopback_host(host: str) -> bool:
    """Whether `host` (an address or a name) is reachable from this machine only."""
    address = _parse_ip(host)
    if address is not None:
        return address.is_loopback
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    found = [_parse_ip(str(info[4][0])) for info in infos]
    return bool(found) and all(a is not None and a.is_loopback for a in found)


def _lan_address(version: int) -> str | None:
    """This machine's address on its default route, if it has one."""
    family, probe = (
        (socket.AF_INET, "192.0.2.1") if version == 4 else (socket.AF_INET6, "2001:db8::1")
    )
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))  # UDP: picks a route, sends nothing
            found = str(sock.getsockname()[0])
    except OSError:
        return None
    address = _parse_ip(found)
    if address is None or address.is_loopback or address.is_unspecified:
        return None
    return str(address)


def exposure_warning(host: str, port: int) -> str | None:
    """What to tell someone serving on a non-loopback `host`; None on loopback."""
    if is_loopback_host(host):
        return None
    address = _parse_ip(host)
    everywhere = address is not None and address.is_unspecified
    where = " (every network interface)" if everywhere else ""
    text = (
        f"listening on {host}{where}, not only on this machine: anyone who can reach "
        f"port {port} of this machine gets full access to the server with the printed "
        "BAXCLOUD_API_KEY. Use --host 127.0.0.1 unless other machines must connect."
    )
    lan = _lan_address(address.version) if everywhere and address is not None else None
    if lan is not None:
        text += f" Other machines can connect to {_base_url(lan, port)}"
    return text


def create_uvicorn_server(
    app: LocalBaxCloudApp,
    *,
    host: str = "127.0.0.1",
    port: int = 7880,
    on_ready: ReadyCallback | None = None,
    log_level: str = "warning",
    log: LogWriter | None = None,
) -> Any:
    """A `uvicorn.Server` for `app` (port 0 picks a free port).

    `on_ready(base_url, app)` runs once it is listening. Run it with
    `.run()` (blocking) or `await .serve()`; stop it with `.should_exit = True`.
    With `log`, a line per request and per webhook attempt goes to it (`_access_log`).
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

    asgi: Any = app
    if log is not None:
        from ._access_log import enable

        asgi = enable(app, log)
    config = uvicorn.Config(
        asgi,
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
    log: LogWriter | None = None,
) -> None:
    """Run the local server until interrupted (blocking).

    Raises `CannotListen` when `host`:`port` cannot be listened on (in use, say).
    """
    app = LocalBaxCloudApp(config)
    bind_failure = _BindFailure()
    uvicorn_log = logging.getLogger("uvicorn.error")
    try:
        server = create_uvicorn_server(app, host=host, port=port, on_ready=on_ready, log=log)
        uvicorn_log.addFilter(bind_failure)
        try:
            server.run()
        except SystemExit:  # uvicorn's way out of a failed start
            if bind_failure.error is not None:
                raise CannotListen(host, port, bind_failure.error) from None
            raise
    finally:
        uvicorn_log.removeFilter(bind_failure)
        app.close()
