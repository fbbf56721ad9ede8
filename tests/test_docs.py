"""Every Python code block in README.md and docs/ runs against a local server.

Blocks of one page run in order in one namespace (like a reader following the
page), in a fresh interpreter (so pages cannot affect each other or the rest of
the suite: Django, for one, can be configured once per process), with
BAXCLOUD_* pointing at a fresh local server; top-level `await` is allowed. A
block that fails fails the test, so the docs cannot rot.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from baxcloud.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

RUNNER = r"""
import ast, asyncio, re, sys
page = sys.argv[1]
text = open(page, encoding="utf-8").read()
namespace = {"__name__": "__docs__"}
for match in re.finditer(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
    line = text.count("\n", 0, match.start()) + 2
    code = compile(match.group(1), f"{page}:{line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    print(f"--- block at line {line}: ok", flush=True)
"""


def test_every_page_has_code() -> None:
    assert (ROOT / "docs").is_dir()
    for page in PAGES:
        assert BLOCK.search(page.read_text()), f"{page.name} has no python code block"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_run(page: Path, tmp_path: Path) -> None:
    with LocalServer(egress_start_delay=0.05, egress_stop_delay=0.05) as server:
        assert server.webhook_secret is not None
        env = {
            **os.environ,
            "BAXCLOUD_API_KEY": server.api_key,
            "BAXCLOUD_BASE_URL": server.base_url,
            "BAXCLOUD_WEBHOOK_SECRET": server.webhook_secret,
        }
        result = subprocess.run(
            [sys.executable, "-c", RUNNER, str(page)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    blocks = len(BLOCK.findall(page.read_text()))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert result.stdout.count(": ok") == blocks
