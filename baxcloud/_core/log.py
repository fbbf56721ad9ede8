"""The `baxcloud` logger, configured from BAXCLOUD_LOG, with secret redaction.

The pipeline never formats secrets into log records in the first place; the
filter below is a second line of defence for anything that slips through
(for example a user's own extra header value or a URL with a stream key).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable

logger = logging.getLogger("baxcloud")

# Every pattern runs in time linear in the text: possessive quantifiers never
# backtrack, and a token may only start where a run of its characters starts, so
# no position is scanned again from each of many starting points.
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # API keys: keep the key id, hide the secret.
    (re.compile(r"(bax_(?:sk|pk)_[A-Za-z0-9]{4,32}_)[A-Za-z0-9]{8,}+"), r"\1****"),
    # Webhook secrets.
    (re.compile(r"whsec_[A-Za-z0-9+/=]++"), "whsec_****"),
    # JWTs (participant tokens).
    (
        re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*+\.[A-Za-z0-9_-]++\.[A-Za-z0-9_-]++"),
        "<token>",
    ),
    # Bearer credentials of any form.
    (re.compile(r"(?i)(bearer\s++)\S++"), r"\1****"),
    # Stream keys: the last path segment of an RTMP(S) URL.
    (re.compile(r"rtmps?://[^\s\"']*+"), lambda match: _hide_stream_key(match.group())),
)


def _hide_stream_key(url: str) -> str:
    scheme_end = url.index("//") + 2
    path = url.rstrip("/")
    cut = path.rfind("/")
    if cut < scheme_end or cut == len(path) - 1:
        return url  # no path segment after the host
    return path[: cut + 1] + "****" + url[len(path) :]


# Where any pattern above could match: the start of each. Kept beside them, so that
# text with none of these (most of it) skips the patterns altogether.
_MIGHT_BE_SECRET = re.compile(r"bax_|whsec_|eyJ|rtmp|(?i:bearer)")


def redact(text: str) -> str:
    if _MIGHT_BE_SECRET.search(text) is None:
        return text
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _configure() -> None:
    logger.addFilter(RedactingFilter())
    level = os.environ.get("BAXCLOUD_LOG", "").strip().lower()
    if level in ("debug", "info"):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)


_configure()
