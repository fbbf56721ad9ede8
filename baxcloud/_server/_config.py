"""Server configuration and the server's credentials (generated or persisted)."""

from __future__ import annotations

import base64
import binascii
import math
import os
import pathlib
import secrets
import sqlite3
from collections.abc import Iterable
from typing import Any

import attrs

from .._core.api_key import parse_api_key
from .._core.errors import BaxCloudError
from ._faults import FaultConfig, to_fault_config
from ._files import MIN_MAX_BYTES
from ._ids import random_token
from ._storage import get_meta, set_meta
from ._webhook_targets import check_urls

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
WEBHOOK_SECRET_META = "webhook_secret"  # noqa: S105 (a meta key, not a secret)
DEFAULT_RECORDING_MAX_BYTES = 64 * 1024 * 1024


def _optional_path(value: str | os.PathLike[str] | None) -> pathlib.Path | None:
    return None if value is None else pathlib.Path(value)


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number >= 0")


def _url_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _check_urls(instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: Any) -> None:
    check_urls(value)


def _delay_tuple(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(value)


def _check_delays(
    instance: object, attribute: attrs.Attribute[tuple[float, ...]], value: tuple[float, ...]
) -> None:
    for delay in value:
        if isinstance(delay, bool) or not isinstance(delay, (int, float)):
            raise ValueError(f"{attribute.name} must hold numbers of seconds")
        if not math.isfinite(delay) or delay < 0:
            raise ValueError(f"{attribute.name} must hold finite numbers >= 0")


def _plain_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{attribute.name} must be an int")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{attribute.name} must be a finite number > 0")


@attrs.frozen(kw_only=True)
class Credentials:
    """The server's own API key, parsed (its webhook secret is `WebhookDelivery`'s)."""

    api_key: str = attrs.field(repr=False)
    key_id: str
    secret: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class ServerConfig:
    """How to run the local server.

    api_key / webhook_secret: None generates them (or, with `data_dir`, reuses
    the ones persisted there). data_dir: None keeps everything in memory;
    otherwise state and credentials live in `data_dir/baxcloud.sqlite3`.
    manual_clock: time moves only through `POST /_dev/clock/advance`.
    start_time: the manual clock's initial reading (default: now, or the
    persisted reading with `data_dir`).
    egress_start_delay / egress_stop_delay: seconds (server clock) an egress
    spends `starting` before it is `active`, and `ending` before it is
    `completed`; 0 means "at the next sweep" (the next request).
    recording_bytes_per_second: how fast a simulated recording file grows.
    recording_max_bytes: the largest a recording file grows (default 64 MiB,
    at least 4096): a recording whose file reaches it stops by itself, as if
    stopped at that moment, so that a big manual-clock jump cannot fill the disk.
    webhook_urls: endpoints every event is delivered to (more can be added at
    run time through `POST /_dev/webhook-endpoints`); persisted with `data_dir`.
    webhook_retry_schedule: wall-clock seconds to wait before each retry of a
    failed delivery; once exhausted the event is given up for that endpoint.
    webhook_timeout: seconds one delivery attempt may take.
    webhook_secret_grace_period: seconds (server clock) the previous secret
    keeps signing after `POST /_dev/webhook-secret/rotate`.
    faults: fault injection (`FaultConfig`, a mapping of its fields, or a spec
    string such as "rate=0.3,kinds=429+503+drop,seed=7"); off by default.
    """

    api_key: str | None = attrs.field(default=None, repr=False)
    webhook_secret: str | None = attrs.field(default=None, repr=False)
    data_dir: pathlib.Path | None = attrs.field(default=None, converter=_optional_path)
    manual_clock: bool = False
    start_time: float | None = None
    egress_start_delay: float = attrs.field(default=1.0, validator=_non_negative)
    egress_stop_delay: float = attrs.field(default=1.0, validator=_non_negative)
    recording_bytes_per_second: int = attrs.field(
        default=64 * 1024, validator=[attrs.validators.instance_of(int), attrs.validators.ge(0)]
    )
    recording_max_bytes: int = attrs.field(
        default=DEFAULT_RECORDING_MAX_BYTES,
        validator=[_plain_int, attrs.validators.ge(MIN_MAX_BYTES)],
    )
    webhook_urls: tuple[str, ...] = attrs.field(
        default=(), converter=_url_tuple, validator=_check_urls
    )
    webhook_retry_schedule: tuple[float, ...] = attrs.field(
        default=(0.1, 0.5, 2.0, 5.0, 10.0), converter=_delay_tuple, validator=_check_delays
    )
    webhook_timeout: float = attrs.field(default=5.0, validator=_positive)
    webhook_secret_grace_period: float = attrs.field(default=24 * 3600.0, validator=_non_negative)
    faults: FaultConfig = attrs.field(factory=FaultConfig, converter=to_fault_config)


def generate_api_key() -> str:
    return f"bax_sk_{random_token(12)}_{random_token(48)}"


def generate_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_webhook_secret(value: str) -> None:
    """`whsec_` + base64 of 24-64 random bytes; the error never echoes it."""
    problem = "webhook_secret must be 'whsec_' followed by base64 of 24-64 random bytes"
    if not value.startswith(WEBHOOK_SECRET_PREFIX):
        raise BaxCloudError(problem)
    try:
        raw = base64.b64decode(value[len(WEBHOOK_SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise BaxCloudError(problem) from None
    if not 24 <= len(raw) <= 64:
        raise BaxCloudError(problem)


def load_credentials(db: sqlite3.Connection, config: ServerConfig) -> tuple[Credentials, str]:
    """The API key and the webhook secret.

    Explicit values win, then persisted ones, then fresh ones; the result is persisted.
    """
    api_key = config.api_key or get_meta(db, "api_key") or generate_api_key()
    parsed = parse_api_key(api_key)
    if parsed.kind != "sk":
        raise BaxCloudError("the server's api_key must be a secret key (bax_sk_...)")
    webhook_secret = (
        config.webhook_secret or get_meta(db, WEBHOOK_SECRET_META) or generate_webhook_secret()
    )
    check_webhook_secret(webhook_secret)
    set_meta(db, "api_key", parsed.raw)
    set_meta(db, WEBHOOK_SECRET_META, webhook_secret)
    credentials = Credentials(api_key=parsed.raw, key_id=parsed.key_id, secret=parsed.secret)
    return credentials, webhook_secret
