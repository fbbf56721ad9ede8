"""The command line's argparse parts: subcommand parsers and `--version`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

__all__ = ["CommandParser", "Version"]


class CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: an unknown argument is reported with this command's
    usage (`baxcloud rooms create ...`), not the top level's.

    `add_parser(..., complete=fn)` defers `fn(parser)`, which adds the parser's
    own arguments and subcommands, until this parser is used: `baxcloud --help`
    need not build the parsers of every command.
    """

    def __init__(
        self,
        *args: Any,
        complete: Callable[[argparse.ArgumentParser], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._complete = complete

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._complete is not None:
            complete, self._complete = self._complete, None
            complete(self)
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


class Version(argparse.Action):
    """`--version`: reads the installed version only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="print the version of baxcloud and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        from .._version import get_version

        print(f"baxcloud {get_version()}")
        parser.exit()
