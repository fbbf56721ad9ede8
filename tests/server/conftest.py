"""Fixtures for tests that drive the local server's ASGI app in-process.

Each test module provides its own `app` fixture (a `LocalBaxCloudApp` configured
for that module); these give it an authenticated and an anonymous client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from helpers import asgi_client


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """The local server runs on asyncio (uvicorn's loop); its in-process tests do too."""
    return "asyncio"


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    async with asgi_client(app, app.api_key) as c:
        yield c


@pytest.fixture
async def anon(app: Any) -> AsyncIterator[Any]:
    async with asgi_client(app, None) as c:
        yield c
