"""The local BaxCloud server (contract Part C).

Starlette, uvicorn and sqlite3 are imported only from this package, never by
`import baxcloud`.
"""

from __future__ import annotations

from ._app import LocalBaxCloudApp, RequestHook, RequestInfo
from ._config import ServerConfig, generate_api_key, generate_webhook_secret
from ._faults import FAULT_KINDS, FaultConfig
from ._lock import DataDirectoryInUse
from ._serve import create_uvicorn_server, serve

__all__ = [
    "FAULT_KINDS",
    "DataDirectoryInUse",
    "FaultConfig",
    "LocalBaxCloudApp",
    "RequestHook",
    "RequestInfo",
    "ServerConfig",
    "create_uvicorn_server",
    "generate_api_key",
    "generate_webhook_secret",
    "serve",
]
