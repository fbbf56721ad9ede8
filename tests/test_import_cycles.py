"""No import cycles in the package.

Walks the source of every module under `baxcloud/` (nothing is imported) and
follows the imports that run when the module is loaded: module-level ones,
including those inside `try` / `if` / `with` blocks, but not those under
`if TYPE_CHECKING:` or inside functions. `from package import submodule` counts
as importing the submodule; importing one's own parent package for a submodule
does not count, since the parent is always loaded first.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Cycles (as the set of modules in them) that are being removed. Each entry has a
#: strictly expected-to-fail test below, which starts failing once the cycle is gone,
#: as a reminder to delete the entry.

Graph = dict[str, dict[str, int]]  # module -> {imported module: line of the import}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _load_time_imports(body: Sequence[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _load_time_imports(block)
            for handler in node.handlers:
                yield from _load_time_imports(handler.body)
        elif isinstance(node, ast.With):
            yield from _load_time_imports(node.body)


def import_graph(root: Path, package: str) -> Graph:
    """Each module of `package` (found under `root`) and the package modules it imports."""
    paths = {module_name(root, path): path for path in (root / package).rglob("*.py")}
    graph: Graph = {}
    for name, path in paths.items():
        is_package = path.name == "__init__.py"
        edges: dict[str, int] = {}
        for node in _load_time_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                submodules = [f"{source}.{a.name}" for a in node.names]
                submodules = [s for s in submodules if s in paths]
                own_parent = name.startswith(source + ".")
                only_submodules = len(submodules) == len(node.names)
                targets = [*submodules, *([] if own_parent and only_submodules else [source])]
            for target in targets:
                if target in paths and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def strongly_connected(graph: Graph) -> list[frozenset[str]]:
    """Groups of two or more modules that import each other, directly or not (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(frozenset(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def describe(graph: Graph, group: frozenset[str]) -> str:
    """One shortest cycle through the group, with the line of each import."""
    start = min(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for target in sorted(graph[module]):
            if target == start:
                path = [module]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                path.reverse()
                steps = [
                    f"{a} (line {graph[a][b]})"
                    for a, b in zip(path, [*path[1:], start], strict=True)
                ]
                return " -> ".join([*steps, start])
            if target in group and target not in came_from and target != start:
                came_from[target] = module
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")


def test_the_package_has_no_import_cycles() -> None:
    graph = import_graph(ROOT, "baxcloud")
    assert "baxcloud._core.pipeline" in graph  # the walk found the package
    cycles = list(strongly_connected(graph))
    assert not cycles, "import cycles:\n" + "\n".join(describe(graph, g) for g in cycles)


def test_the_walk_sees_load_time_imports_only(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from . import a\n",
        "a.py": "from .sub import b\n",
        "sub/__init__.py": "",
        "sub/b.py": "try:\n    from .. import c\nexcept ImportError:\n    pass\n",
        "c.py": "from .a import thing\n",
        "d.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from . import e\n"
            "def later():\n    from . import e\n"
        ),
        "e.py": "import pkg.d\nfrom . import sub\n",
    }
    for path, text in files.items():
        (package / path).write_text(text)
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.sub.b"] == {"pkg.c": 2}
    assert graph["pkg.d"] == {}
    assert graph["pkg.e"] == {"pkg.d": 1, "pkg.sub": 2}
    assert strongly_connected(graph) == [frozenset({"pkg.a", "pkg.sub.b", "pkg.c"})]
    assert describe(graph, strongly_connected(graph)[0]) == (
        "pkg.a (line 1) -> pkg.sub.b (line 2) -> pkg.c (line 1) -> pkg.a"
    )
