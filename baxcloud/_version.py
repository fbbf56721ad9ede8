from __future__ import annotations

import functools


@functools.cache
def get_version() -> str:
    """The installed distribution's version (read once, on first use)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("baxcloud")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"
