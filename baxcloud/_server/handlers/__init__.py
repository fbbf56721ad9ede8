"""The handlers: one module per resource, every handler `(RequestContext) -> Reply`.

`build_router` maps each operation of openapi.json to its handler. Handlers
parse and check the request (`_request_input`), then change or read the
state (`..state`) inside the request's transaction; the app does the rest
(see `_app`).
"""

from __future__ import annotations

from .._routing import Router
from . import (
    downloads,
    egress,
    faults,
    ingress,
    openapi,
    participants,
    recordings,
    rooms,
    simulation,
    webhooks,
)


def build_router() -> Router:
    router = Router()
    router.add("/openapi.json", {"GET": openapi.get_openapi})
    router.add("/v1/rooms", {"GET": rooms.list_rooms, "POST": rooms.create_room})
    router.add(
        "/v1/rooms/{name}",
        {"GET": rooms.get_room, "PATCH": rooms.update_room, "DELETE": rooms.delete_room},
    )
    router.add("/v1/rooms/{name}/participants", {"GET": participants.list_participants})
    router.add(
        "/v1/rooms/{name}/participants/{identity}",
        {
            "GET": participants.get_participant,
            "PATCH": participants.update_participant,
            "DELETE": participants.remove_participant,
        },
    )
    router.add("/v1/recordings", {"GET": recordings.list_recordings, "POST": recordings.start})
    router.add("/v1/recordings/stop", {"POST": recordings.stop})
    router.add("/v1/recordings/active", {"GET": recordings.list_active})
    router.add("/v1/recordings/{id}", {"GET": recordings.get})
    router.add("/v1/recordings/{id}/download-url", {"GET": recordings.download_url})
    router.add("/v1/egress", {"GET": egress.list_egress, "POST": egress.start})
    # Before /v1/egress/{id}: routes are tried in order.
    router.add(
        "/v1/egress/auto-stream-config",
        {"GET": egress.get_auto_stream_config, "PATCH": egress.update_auto_stream_config},
    )
    router.add("/v1/egress/{id}", {"GET": egress.get, "DELETE": egress.delete})
    router.add("/v1/egress/{id}/stop", {"POST": egress.stop})
    router.add("/v1/ingress", {"GET": ingress.list_ingress, "POST": ingress.create})
    router.add("/v1/ingress/{id}", {"GET": ingress.get, "DELETE": ingress.delete})
    router.add(
        "/downloads/{recordingId}/{filename}",
        {"GET": downloads.download, "HEAD": downloads.download},
    )
    router.add("/_dev/join", {"POST": simulation.join})
    router.add("/_dev/leave", {"POST": simulation.leave})
    router.add("/_dev/publish-track", {"POST": simulation.publish_track})
    router.add("/_dev/unpublish-track", {"POST": simulation.unpublish_track})
    router.add("/_dev/clock", {"GET": simulation.get_clock})
    router.add("/_dev/clock/advance", {"POST": simulation.advance_clock})
    router.add("/_dev/connect-ingress", {"POST": simulation.connect_ingress})
    router.add("/_dev/disconnect-ingress", {"POST": simulation.disconnect_ingress})
    router.add("/_dev/fail-ingress", {"POST": simulation.fail_ingress})
    router.add("/_dev/fail-egress", {"POST": simulation.fail_egress})
    router.add("/_dev/events", {"GET": simulation.events})
    router.add(
        "/_dev/webhook-endpoints",
        {"GET": webhooks.list_endpoints, "POST": webhooks.create_endpoint},
    )
    router.add("/_dev/webhook-deliveries", {"GET": webhooks.list_deliveries})
    router.add("/_dev/webhook-secret/rotate", {"POST": webhooks.rotate_secret})
    router.add("/_dev/faults", {"GET": faults.get_faults, "POST": faults.set_faults})
    router.add("/_dev/reset", {"POST": simulation.reset})
    return router
