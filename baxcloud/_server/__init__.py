"""The local BaxCloud server: the HTTP API of `openapi.json`, plus `/_dev` simulation.

Starlette, uvicorn and sqlite3 are imported only from this package, never by
`import baxcloud`. The layout, from the outside in:

- `_app`: the request pipeline (auth, body, idempotency, hooks, one SQLite
  transaction per handler); `_routing`, `_context`, `_request_input`,
  `_errors`, `_idempotency` and `_faults` serve it; `_serve` runs it under uvicorn.
- `handlers/`: one module per resource, every handler `(RequestContext) -> Reply`;
  `handlers.build_router` maps each operation of openapi.json to one.
- `state/`: the rows and their changes, one module per resource (rooms,
  participants with their tracks, recordings, egress, ingress), the event log,
  the page query; `state.cascade` wires what one resource's change sets off in
  another.
- `_scheduler`: timed changes (rooms closing, egress and ingress moving on),
  and recording files written off the event loop (`_files`).
- `_webhooks`: delivery of the event log to endpoints (`_webhook_targets`
  checks where to); `_storage`, `_lock`, `_config`, `_clock`, `_ids` underneath.
"""

from __future__ import annotations

from ._app import LocalBaxCloudApp, RequestHook, RequestInfo
from ._config import ServerConfig, generate_api_key, generate_webhook_secret
from ._faults import FAULT_KINDS, FaultConfig
from ._lock import DataDirectoryInUse
from ._serve import CannotListen, create_uvicorn_server, serve

__all__ = [
    "FAULT_KINDS",
    "CannotListen",
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
