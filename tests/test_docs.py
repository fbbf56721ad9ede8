"""Every Python code block in README.md and docs/ runs against a local server.

Blocks of one file run in order in one namespace (like a reader following the
page), with BAXCLOUD_* pointing at a fresh local server; top-level `await`
is allowed. A block that fails fails the test, so the docs cannot rot.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

from baxcloud.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    text = page.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def run_block(source: str, namespace: dict[str, Any], filename: str) -> None:
    code = compile(source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # noqa: S307 - our own documentation
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def test_every_page_has_code() -> None:
    assert (ROOT / "docs").is_dir()
    for page in PAGES:
        assert python_blocks(page), f"{page.name} has no python code block"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_run(
    page: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with LocalServer(egress_start_delay=0.05, egress_stop_delay=0.05) as server:
        monkeypatch.setenv("BAXCLOUD_API_KEY", server.api_key)
        monkeypatch.setenv("BAXCLOUD_BASE_URL", server.base_url)
        monkeypatch.setenv("BAXCLOUD_WEBHOOK_SECRET", server.webhook_secret)
        namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}"}
        for line, source in python_blocks(page):
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    run_block(source, namespace, f"{page.name}:{line}")
            except Exception as exc:
                raise AssertionError(
                    f"{page.name} block at line {line} failed: {exc!r}\n{out.getvalue()}"
                ) from exc
