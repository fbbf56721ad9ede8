"""`/_dev` webhook handlers: endpoints, delivery attempts, and rotating the signing secret.

Operations devAddWebhookEndpoint, devListWebhookEndpoints,
devListWebhookDeliveries and devRotateWebhookSecret; the delivery itself is
`_webhooks.WebhookDelivery`.
"""

from __future__ import annotations

from .._config import generate_webhook_secret
from .._context import Reply, RequestContext
from .._request_input import Field, parse_body
from .._webhook_targets import check_webhook_url
from .._webhooks import attempt_json, endpoint_json, upsert_endpoint

URL_FIELDS = (Field("url", "string", required=True, check=check_webhook_url),)


def create_endpoint(ctx: RequestContext) -> Reply:
    url = parse_body(ctx.body, URL_FIELDS)["url"]
    row, created = upsert_endpoint(ctx.db, ctx.now, url)
    return Reply(201 if created else 200, endpoint_json(row))


def list_endpoints(ctx: RequestContext) -> Reply:
    rows = ctx.db.execute("SELECT * FROM webhook_endpoints ORDER BY created_at, id")
    return Reply(200, {"items": [endpoint_json(row) for row in rows]})


def list_deliveries(ctx: RequestContext) -> Reply:
    sql = "SELECT * FROM webhook_attempts"
    args: tuple[str, ...] = ()
    event_id = ctx.query.get("eventId")
    if event_id is not None:
        sql += " WHERE event_id = ?"
        args = (event_id,)
    items = [attempt_json(row) for row in ctx.db.execute(sql + " ORDER BY id", args)]
    pending = ctx.db.execute("SELECT COUNT(*) FROM webhook_queue").fetchone()[0]
    return Reply(200, {"items": items, "pending": pending})


def rotate_secret(ctx: RequestContext) -> Reply:
    """A new primary webhook secret; the previous one keeps signing for a grace period."""
    parse_body(ctx.body, ())
    new_secret = generate_webhook_secret()
    until = ctx.services.webhooks.rotate(ctx.db, ctx.now, new_secret)
    return Reply(200, {"webhookSecret": new_secret, "previousSecretExpiresAt": int(until)})
