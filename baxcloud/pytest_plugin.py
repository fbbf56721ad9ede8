"""pytest fixtures to test your own BaxCloud integration against a real local server.

Installed with the SDK and loaded automatically by pytest (entry point `pytest11`);
the local server needs the `server` extra. Nothing is started until a test uses
one of the fixtures:

- `baxcloud_server` (session): a running `baxcloud.testing.LocalServer`, shared by
  the whole run; use unique room names, or `baxcloud_fresh_server`.
- `baxcloud_fresh_server` (function): a server in its just-started state, for this
  test alone. Mark a test `@pytest.mark.baxcloud(manual_clock=True,
  egress_start_delay=0, ...)` to pass `LocalServer` options; a marked test gets a
  fresh server for every fixture below. One server per set of options serves the
  whole session: it is `reset()` after each test (about a millisecond, where
  starting a server takes a couple of hundred), and replaced by a new one if the
  test stopped it or the reset failed.
- `baxcloud_client` (function): a blocking `BaxCloud` for the test's server.
- `baxcloud_async_client` (function): an `AsyncBaxCloud` for the test's server, for
  async tests run by pytest-asyncio, or by anyio's pytest plugin
  (`@pytest.mark.anyio`); closed after the test on the test's event loop.
- `baxcloud_env` (function): sets BAXCLOUD_API_KEY, BAXCLOUD_BASE_URL and
  BAXCLOUD_WEBHOOK_SECRET (monkeypatched, restored afterwards) so that code which
  builds its own client from the environment talks to the test's server; returns
  the values set.

"The test's server" is `baxcloud_fresh_server` when the test uses that fixture or
carries the `baxcloud` marker, and `baxcloud_server` otherwise.

Options: `--baxcloud-manual-clock` (ini: `baxcloud_manual_clock = true`) starts the
servers with a manual clock (`server.advance_clock(seconds)` moves time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._client import AsyncBaxCloud
    from ._sync.client import BaxCloud
    from .testing import LocalServer

__all__ = [
    "baxcloud_async_client",
    "baxcloud_client",
    "baxcloud_env",
    "baxcloud_fresh_server",
    "baxcloud_server",
]

_MARKER = "baxcloud"
_ENV_NAMES = ("BAXCLOUD_API_KEY", "BAXCLOUD_BASE_URL", "BAXCLOUD_WEBHOOK_SECRET")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("baxcloud", "BaxCloud local server fixtures")
    group.addoption(
        "--baxcloud-manual-clock",
        action="store_true",
        default=None,
        help="start the baxcloud_* servers with a manual clock (advance_clock moves time)",
    )
    parser.addini(
        "baxcloud_manual_clock",
        type="bool",
        default=False,
        help="start the baxcloud_* servers with a manual clock",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**options): give the test a fresh BaxCloud LocalServer built with these "
        "LocalServer options (manual_clock=True, egress_start_delay=0, ...)",
    )


def _manual_clock(config: pytest.Config) -> bool:
    option = config.getoption("baxcloud_manual_clock")
    return bool(option) if option is not None else bool(config.getini("baxcloud_manual_clock"))


@pytest.fixture(scope="session")
def baxcloud_server(pytestconfig: pytest.Config) -> Iterator[LocalServer]:
    """A local BaxCloud server shared by the whole test session."""
    from .testing import LocalServer

    with LocalServer(manual_clock=_manual_clock(pytestconfig)) as server:
        yield server


class _ServerPool:
    """The session's fresh servers: one per set of `LocalServer` options."""

    def __init__(self) -> None:
        self._servers: list[tuple[dict[str, Any], LocalServer]] = []

    def take(self, options: dict[str, Any]) -> LocalServer:
        for known, server in self._servers:
            if known == options:
                return server
        # Servers of other options that would hold the same data directory or port
        # make way (they would keep the new one from starting).
        for known, server in list(self._servers):
            if any(options.get(k) and known.get(k) == options[k] for k in ("data_dir", "port")):
                self.discard(server)
        from .testing import LocalServer

        server = LocalServer(**options).start()
        self._servers.append((dict(options), server))
        return server

    def discard(self, server: LocalServer) -> None:
        self._servers = [(o, s) for o, s in self._servers if s is not server]
        server.stop()

    def close(self) -> None:
        for _, server in self._servers:
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def _baxcloud_server_pool() -> Iterator[_ServerPool]:
    pool = _ServerPool()
    yield pool
    pool.close()


@pytest.fixture
def baxcloud_fresh_server(
    request: pytest.FixtureRequest, _baxcloud_server_pool: _ServerPool
) -> Iterator[LocalServer]:
    """A local BaxCloud server in its just-started state, for this test alone.

    Options come from `@pytest.mark.baxcloud`; the server is shared with the other
    tests of the same options, and reset after each.
    """
    from ._core.errors import BaxCloudError

    options: dict[str, Any] = {"manual_clock": _manual_clock(request.config)}
    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None:
        if marker.args:
            raise pytest.UsageError("@pytest.mark.baxcloud takes keyword arguments only")
        options.update(marker.kwargs)
    server = _baxcloud_server_pool.take(options)
    yield server
    try:
        server.reset()
    except BaxCloudError:  # stopped by the test, say: the next test gets a new server
        _baxcloud_server_pool.discard(server)


def _test_server(request: pytest.FixtureRequest) -> LocalServer:
    """The fresh server if the test uses one (or is marked), else the session server."""
    wants_fresh = "baxcloud_fresh_server" in request.fixturenames or (
        request.node.get_closest_marker(_MARKER) is not None
    )
    name = "baxcloud_fresh_server" if wants_fresh else "baxcloud_server"
    server: LocalServer = request.getfixturevalue(name)
    return server


@pytest.fixture
def baxcloud_client(request: pytest.FixtureRequest) -> Iterator[BaxCloud]:
    """A blocking `BaxCloud` client for the test's local server."""
    with _test_server(request).client() as client:
        yield client


@pytest.fixture
def baxcloud_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point BAXCLOUD_* environment variables at the test's local server."""
    server = _test_server(request)
    values = {"BAXCLOUD_API_KEY": server.api_key, "BAXCLOUD_BASE_URL": server.base_url}
    if server.webhook_secret is not None:
        values["BAXCLOUD_WEBHOOK_SECRET"] = server.webhook_secret
    for name in _ENV_NAMES:
        if name in values:
            monkeypatch.setenv(name, values[name])
        else:
            monkeypatch.delenv(name, raising=False)
    return values


# ---- the async client: one fixture, pytest-asyncio or anyio -------------------------
#
# pytest-asyncio and anyio's plugin each run only the async fixtures meant for them,
# so `baxcloud_async_client` is a plain fixture that picks the variant for the
# test's runner: anyio's when the test uses `anyio_backend` (`@pytest.mark.anyio`),
# pytest-asyncio's otherwise (in strict mode too: that variant is declared with
# `pytest_asyncio.fixture`).


def _async_client_fixture() -> Callable[[pytest.FixtureRequest], AsyncIterator[AsyncBaxCloud]]:
    async def fixture(request: pytest.FixtureRequest) -> AsyncIterator[AsyncBaxCloud]:
        async with _test_server(request).async_client() as client:
            yield client

    return fixture


_ANYIO_VARIANT = "_baxcloud_async_client_anyio"
_ASYNCIO_VARIANT = "_baxcloud_async_client_asyncio"

_baxcloud_async_client_anyio = pytest.fixture(name=_ANYIO_VARIANT)(_async_client_fixture())

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - depends on the environment
    _HAS_PYTEST_ASYNCIO = False
else:
    _HAS_PYTEST_ASYNCIO = True
    _baxcloud_async_client_asyncio = pytest_asyncio.fixture(name=_ASYNCIO_VARIANT)(
        _async_client_fixture()
    )


@pytest.fixture
def baxcloud_async_client(request: pytest.FixtureRequest) -> AsyncBaxCloud:
    """An `AsyncBaxCloud` client for the test's local server (async tests only)."""
    if "anyio_backend" in request.fixturenames:
        variant = _ANYIO_VARIANT
    elif _HAS_PYTEST_ASYNCIO:
        variant = _ASYNCIO_VARIANT
    else:  # pragma: no cover - depends on the environment
        raise pytest.UsageError(
            "baxcloud_async_client needs pytest-asyncio, or anyio's pytest plugin with "
            "the test marked @pytest.mark.anyio"
        )
    client: AsyncBaxCloud = request.getfixturevalue(variant)
    return client
