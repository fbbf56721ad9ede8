"""The `baxcloud` console script, kept outside the `baxcloud` package on purpose.

Importing anything under `baxcloud` first runs `baxcloud/__init__.py`, which loads
the SDK (httpx, cattrs, anyio: most of `import baxcloud`'s cost). `baxcloud --help`,
`--version` and a usage error need none of it. So the script makes the package's
module without running its `__init__`, parses the command line with
`baxcloud._cli` (which imports nothing of the SDK), and only then runs
`__init__`, in that same module object, before the command runs: from there on
`baxcloud` is the package every other program imports.
"""

from __future__ import annotations

import importlib.util
import sys


def main() -> int:
    package = None
    if "baxcloud" not in sys.modules:
        spec = importlib.util.find_spec("baxcloud")
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules["baxcloud"] = package
    try:
        from baxcloud._cli.main import parse_args, run

        args = parse_args(sys.argv[1:])  # exits here for --help, --version, usage errors
    except BaseException:
        if package is not None:
            del sys.modules["baxcloud"]
        raise
    if package is not None:
        package.__spec__.loader.exec_module(package)  # type: ignore[union-attr]
    return run(args)
