"""Errors of the resource commands, in the command line's words.

Every failure is one line on stderr, `baxcloud rooms get: error: ...` (or a JSON
object with `--json`), and an exit status: 1 when the API, the connection or a
token check failed, 2 for a usage error. The SDK's argument checks name Python
parameters (`expires_in must be ...`); here they name the argument the user
typed (`--expires-in must be ...`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence

from .spec import Command

__all__ = ["API_ERROR", "USAGE_ERROR", "cli_names", "fail", "report_sdk_error", "translate"]

USAGE_ERROR = 2
API_ERROR = 1

# The client's settings, as a resource command takes them.
CLIENT_NAMES = {
    "api_key": "the API key (--api-key or BAXCLOUD_API_KEY)",
    "base_url": "--base-url",
    "timeout": "--timeout",
    "max_retries": "--max-retries",
}


def cli_names(command: Command, resource_name: str) -> dict[str, str]:
    """SDK name -> the command line's: `expires_in` -> `--expires-in`, and the
    method (`recordings.get_download_url`) -> the command (`recordings url`)."""
    names = {f"{resource_name}.{command.method}": f"{resource_name} {command.name}"}
    names.update(CLIENT_NAMES)
    for arg in command.args:
        names.setdefault(arg.param, arg.name)
        if arg.into is not None:
            names.setdefault(arg.into, arg.name)
    if command.output == "page":
        names.update(page="--page", limit="--limit")
    return names


_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9_]*\b")


def translate(message: str, names: Mapping[str, str]) -> str:
    """`message` with the SDK's parameter names replaced by the command line's.

    A name with an underscore is replaced anywhere; a plain word (`name`, `mode`)
    only where it starts the message, as the SDK's checks put it (`mode must be
    one of ...`), so that ordinary words elsewhere stay as they are.
    """
    for dotted in (name for name in names if "." in name):
        message = message.replace(dotted, names[dotted])

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in names and ("_" in word or match.start() == 0):
            return names[word]
        return word

    return _IDENTIFIER.sub(replace, message)


def fail(
    prog: str,
    as_json: bool,
    exit_status: int,
    message: str,
    *,
    code: str | None = None,
    status: int | None = None,
    request_id: str | None = None,
    details: Sequence[tuple[str | None, str]] = (),
) -> int:
    """Print one error (a line, or a JSON object) on stderr; return the exit status."""
    if as_json:
        error = {
            "code": code,
            "message": message,
            "status": status,
            "request_id": request_id,
            "details": [{"field": f, "message": m} for f, m in details],
        }
        sys.stderr.write(json.dumps({"error": error}) + "\n")
        return exit_status
    if details:  # the API's message sums them up; these name the arguments
        message = "; ".join(f"{f}: {m}" if f else m for f, m in details)
    about = []
    if status is not None:  # the API's own code; the others are for --json
        about += [code or "error", f"HTTP {status}"]
    if request_id:
        about.append(f"request id {request_id}")
    suffix = f" ({', '.join(about)})" if about else ""
    sys.stderr.write(f"{prog}: error: {_one_line(message)}{suffix}\n")
    return exit_status


def _one_line(text: str) -> str:
    return " ".join(text.split())


def report_sdk_error(
    prog: str, as_json: bool, exc: BaseException, names: Mapping[str, str]
) -> int | None:
    """Report an error the SDK raised on purpose; None for anything else (a bug)."""
    from .._core.errors import (
        APIConnectionError,
        APIStatusError,
        BaxCloudError,
        TokenVerificationError,
    )

    if isinstance(exc, APIStatusError):
        # People read the flag to fix; scripts (--json) get the API's own field names.
        details = [
            (d.field if as_json or not d.field else translate(_snake(d.field), names), d.message)
            for d in exc.details
        ]
        return fail(
            prog,
            as_json,
            API_ERROR,
            exc.message,
            code=exc.code,
            status=exc.status_code,
            request_id=exc.request_id,
            details=details,
        )
    if isinstance(exc, TokenVerificationError):
        return fail(prog, as_json, API_ERROR, str(exc), code="token_invalid")
    if isinstance(exc, APIConnectionError):
        return fail(prog, as_json, API_ERROR, str(exc), code="connection_error")
    if isinstance(exc, BaxCloudError):
        return fail(prog, as_json, API_ERROR, translate(str(exc), names))
    if isinstance(exc, (TypeError, ValueError)):  # the SDK's argument checks
        return fail(prog, as_json, USAGE_ERROR, translate(str(exc), names), code="invalid_argument")
    return None


def _snake(field: str) -> str:
    """`body.maxParticipants` -> `max_participants`: the API's field as the SDK names it."""
    last = field.rsplit(".", 1)[-1]
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", last).lower()
