"""How a resource command is described: the SDK method it calls and its arguments.

Standard library only: `baxcloud --help` builds every parser from these
descriptions without loading the SDK. An argument is named after the SDK
parameter it feeds (`room_name` is `--room-name`, or `ROOM_NAME` where the SDK
takes it positionally), so the command line and the Python API read alike;
tests/cli check the names against the SDK's signatures.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

__all__ = ["Arg", "Column", "Command", "Resource", "flag", "option", "positional"]

# (header, key): key is a field name, "a.b" for a nested field, "a|b" for the first
# of several fields that is set, "#field" for the length of a list field.
Column = tuple[str, str]


# NamedTuple rather than dataclasses, which would import `inspect` (and `ast`):
# a fifth of `baxcloud --help`'s time.
class Arg(NamedTuple):
    """One command-line argument and the SDK parameter it feeds.

    `into` gathers the value into a mapping passed as that SDK parameter
    (`grants=`, `file=`, `stream=`) under the key `param`. Arguments that are not
    given are not passed, so the SDK's defaults apply.
    """

    param: str
    help: str
    is_positional: bool = False
    flag: str | None = None  # default: --param-name
    into: str | None = None
    options: Mapping[str, Any] = {}  # never changed: `option` and `flag` pass their own

    @property
    def name(self) -> str:
        """The argument as the user writes it (`--room-name`) or sees it (`ROOM_NAME`)."""
        if self.is_positional:
            return self.param.upper()
        return self.flag or "--" + self.param.replace("_", "-")

    @property
    def dest(self) -> str:
        return f"sdk:{self.into}:{self.param}" if self.into else f"sdk:{self.param}"


def positional(param: str, help: str, **options: Any) -> Arg:
    return Arg(param, help, is_positional=True, options=options)


def option(
    param: str, help: str, *, flag: str | None = None, into: str | None = None, **options: Any
) -> Arg:
    if options.get("action") != "store_const":
        options.setdefault("metavar", param.upper())
    return Arg(param, help, flag=flag, into=into, options=options)


def flag(param: str, help: str, *, into: str | None = None) -> Arg:
    """A yes/no option: `--param` passes True, `--no-param` False."""
    return Arg(param, help, into=into, options={"action": argparse.BooleanOptionalAction})


class Command(NamedTuple):
    """One `baxcloud RESOURCE NAME` command.

    output: "one" (a model), "page" (a paged list: adds --page/--limit and walks
    every page unless one is given), "items" (a plain list), "none" (prints
    `done`, formatted with the SDK arguments), "download".
    """

    name: str
    method: str
    help: str
    args: tuple[Arg, ...] = ()
    output: str = "one"
    done: str = ""
    note: str = ""
    # Called instead of `method` when no option at all was given (auto-config).
    method_without_args: str | None = None
    # Secret fields always shown as **** (the API masks them too, after creation).
    secret_fields: tuple[str, ...] = ()
    prepare: Callable[[dict[str, Any]], None] | None = None


class Resource(NamedTuple):
    sdk_class: str
    help: str
    columns: tuple[Column, ...]
    commands: tuple[Command, ...]
    # Field values shown as words in tables and detail views (not in --json).
    shown_as: Mapping[str, Mapping[Any, str]] = {}
