"""The local server's layers import only downwards (see `baxcloud._server`'s docstring).

`state` (rows and their changes) knows nothing of HTTP, handlers or the app;
rooms and participants know nothing of the media resources (`state.cascade`
wires them together); handlers know nothing of the app that runs them.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

import baxcloud._server

SERVER = Path(baxcloud._server.__file__).parent
PACKAGE = "baxcloud._server"

MEDIA = ("state.recordings", "state.egress", "state.ingress", "state.cascade")
# module (or package, ending in ".") -> what it must not import at module level
FORBIDDEN = {
    "state.": ("handlers", "_app", "_scheduler", "_serve", "_routing", "starlette"),
    "state.rooms": ("state.participants", *MEDIA),
    "state.participants": MEDIA,
    "handlers.": ("_app", "_serve"),
    "_scheduler": ("handlers", "_app"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SERVER).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Module-level imports (and the names imported from them), named relative to this
    package when inside it."""
    name = _module_name(path)
    full = f"{PACKAGE}.{name}".rstrip(".")
    package = full if path.name == "__init__.py" else full.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    inside = PACKAGE + "."
    return {n.removeprefix(inside) if n.startswith(inside) else n for n in found}


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _rule_applies(module: str, rule: str) -> bool:
    return module.startswith(rule) if rule.endswith(".") else module == rule


MODULES = sorted(SERVER.rglob("*.py"))


def test_the_layers_are_found() -> None:
    names = {_module_name(path) for path in MODULES}
    assert {"state.rooms", "state.participants", "handlers.rooms", "_scheduler", "_app"} <= names
    assert "state.cascade" in _imports(SERVER / "handlers" / "rooms.py")  # the parser works


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_imports_only_downwards(path: Path) -> None:
    module = _module_name(path)
    imported = _imports(path)
    for rule, forbidden in FORBIDDEN.items():
        if not _rule_applies(module, rule):
            continue
        wrong = sorted(name for name in imported for prefix in forbidden if _matches(name, prefix))
        assert not wrong, f"{PACKAGE}.{module} imports {wrong}"
