"""Running a resource command: the SDK call on the blocking client, then its output."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import USAGE_ERROR, cli_names, fail, report_sdk_error, translate
from .spec import Command, Resource

__all__ = ["run_command"]

INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _sdk_arguments(command: Command, args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for arg in command.args:
        value = getattr(args, arg.dest)
        if value is None:
            continue
        if arg.into:
            kwargs.setdefault(arg.into, {})[arg.param] = value
        else:
            kwargs[arg.param] = value
    if command.output == "page":
        for name in ("page", "limit"):
            if getattr(args, name) is not None:
                kwargs[name] = getattr(args, name)
    if command.prepare is not None:
        command.prepare(kwargs)
    return kwargs


def run_command(
    resource_name: str, resource: Resource, command: Command, prog: str, args: argparse.Namespace
) -> int:
    from .._core.errors import BaxCloudError
    from .._sync.client import BaxCloud

    names = cli_names(command, resource_name)
    kwargs = _sdk_arguments(command, args)
    if command.method == "verify" and kwargs.get("token") == "-":
        kwargs["token"] = sys.stdin.read().strip()
    if args.api_key is None and os.environ.get("BAXCLOUD_API_KEY") is None:
        return fail(
            prog,
            args.json,
            USAGE_ERROR,
            "no API key: set the BAXCLOUD_API_KEY environment variable (or pass --api-key)",
            code="configuration",
        )
    settings: dict[str, Any] = {"api_key": args.api_key, "base_url": args.base_url}
    for name in ("timeout", "max_retries"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    try:
        client = BaxCloud(**settings)
    except (BaxCloudError, ValueError, TypeError) as exc:  # a malformed key, say
        message = translate(str(exc), names)
        return fail(prog, args.json, USAGE_ERROR, message, code="configuration")

    with client:
        method_name = command.method
        if command.method_without_args and not kwargs:
            method_name = command.method_without_args
        call = getattr(getattr(client, resource_name), method_name)
        try:
            if command.output == "download":
                result = _download(call, kwargs, args)
            else:
                result = call(**kwargs)
            if command.output == "page" and not ("page" in kwargs or "limit" in kwargs):
                result = list(result)  # every item of every page
        except KeyboardInterrupt:
            if command.output != "download":
                raise
            sys.stderr.write(_interrupted_message(prog, kwargs["destination"]) + "\n")
            return INTERRUPTED
        except Exception as exc:
            status = report_sdk_error(prog, args.json, exc, names)
            if status is None:
                raise
            return status
    _print_result(resource, command, args, kwargs, result)
    return 0


def _download(call: Any, kwargs: dict[str, Any], args: argparse.Namespace) -> Any:
    progress = None
    # A progress bar redraws one line with \r: only for a person at a terminal,
    # never into a log file or a pipe.
    if not args.no_progress and sys.stderr.isatty():
        from .output import ProgressBar

        progress = ProgressBar(sys.stderr, kwargs["recording_id"])
    try:
        return call(**kwargs, progress=progress)
    finally:
        if progress is not None:
            progress.finish()


def _interrupted_message(prog: str, destination: str) -> str:
    target = Path(destination)
    partial = f"a .part file in {target}" if target.is_dir() else f"{target}.part"
    return (
        f"{prog}: interrupted; the bytes downloaded so far are kept in {partial}: "
        "run the same command again to resume"
    )


def _masked(data: Any, fields: Sequence[str]) -> Any:
    from .output import MASK

    if isinstance(data, list):
        return [_masked(item, fields) for item in data]
    return {k: MASK if k in fields and v is not None else v for k, v in data.items()}


def _print_result(
    resource: Resource,
    command: Command,
    args: argparse.Namespace,
    kwargs: Mapping[str, Any],
    result: Any,
) -> None:
    from .output import print_json, render_detail, render_table, table_data, to_data

    out = sys.stdout
    if command.output == "none":
        if args.json:
            print_json({"ok": True}, out)
        else:
            out.write(command.done.format(**kwargs) + "\n")
        return
    if command.output == "download":
        size = result.stat().st_size
        if args.json:
            print_json(
                {"recording_id": kwargs["recording_id"], "path": str(result), "size_bytes": size},
                out,
            )
        else:
            out.write(f"{result} ({size} bytes)\n")
        return

    hidden = command.secret_fields

    def convert(model: Any) -> Any:
        if args.json:
            return to_data(model)
        return table_data(model, resource.shown_as)

    paged = command.output == "page" and not isinstance(result, list)
    items = result.items if paged else result
    if command.output in ("page", "items"):
        data = _masked([convert(item) for item in items], hidden)
        if args.json:
            if paged:
                data = {
                    "items": data,
                    "page": result.page,
                    "limit": result.limit,
                    "total": result.total,
                    "has_more": result.has_more,
                }
            print_json(data, out)
            return
        render_table(data, resource.columns, out)
        if paged:
            more = f"; next: --page {result.page + 1}" if result.has_more else ""
            sys.stderr.write(
                f"page {result.page} (limit {result.limit}): {len(items)} of {result.total}{more}\n"
            )
        return
    data = _masked(convert(result), hidden)
    if args.json:
        print_json(data, out)
    else:
        render_detail(data, out)
