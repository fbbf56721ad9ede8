"""Every Python code block in README.md and docs/ runs as a script, as written.

Each block is saved to a file and run with `python block.py` in a fresh interpreter
(so no top-level `await`, and no block leans on another), with BAXCLOUD_* pointing at
the page's local server, which is reset (`LocalServer.reset()`) before each block, as
if the reader had just started `baxcloud dev`.

Where a block shows what it prints, with `# -> ` comments (at the end of a line, or
on a line of their own), its output must be exactly those lines, in order; `...` in
an expected line stands for any text. A block that fails, or prints anything else,
fails the test, so the docs cannot rot.
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
EXPECTED = re.compile(r"#\s*->(?: (.*))?$", re.MULTILINE)


def blocks(page: Path) -> list[tuple[int, str]]:
    """(line number of the block's first line, code) for every python block of `page`."""
    text = page.read_text("utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def expected_output(code: str) -> list[str] | None:
    """The lines a block shows it prints (`# -> ...`), or None when it shows none."""
    lines = [(m.group(1) or "").rstrip() for m in EXPECTED.finditer(code)]
    return lines or None


def output_problem(expected: list[str], printed: str) -> str | None:
    """Why `printed` is not the `expected` lines (`...` matching any text), or None."""
    got = [line.rstrip() for line in printed.splitlines()]
    patterns = [re.compile(".*".join(map(re.escape, line.split("...")))) for line in expected]
    same = len(got) == len(patterns)
    if same and all(p.fullmatch(g) for p, g in zip(patterns, got, strict=True)):
        return None
    shown = "\n".join(f"  # -> {line}" for line in expected)
    return f"the page shows:\n{shown}\nbut the block printed:\n" + "\n".join(
        f"  {line}" for line in got
    )


def test_every_page_has_code() -> None:
    assert (ROOT / "docs").is_dir()
    for page in PAGES:
        assert blocks(page), f"{page.name} has no python code block"


def test_expected_output_is_compared() -> None:
    code = 'print(2)  # -> 2\nprint("a", 1)\n# -> a ...\n'
    assert expected_output(code) == ["2", "a ..."]
    assert output_problem(["2", "a ..."], "2\na 17\n") is None
    assert output_problem(["2", "a ..."], "3\na 17\n") is not None  # a wrong value
    assert output_problem(["2", "a ..."], "2\n") is not None  # a line missing
    assert output_problem(["2"], "2\nextra\n") is not None  # a line not shown
    assert expected_output("print(1)  # one\n") is None


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
        for line, code in blocks(page):
            server.reset()
            script = tmp_path / f"{page.stem}_{line}.py"
            script.write_text(code, "utf-8")
            result = subprocess.run(
                [sys.executable, script.name],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            where = f"{page.name}:{line}"
            failure = f"{where}\n{result.stdout[-3000:]}{result.stderr[-5000:]}"
            assert result.returncode == 0, failure
            expected = expected_output(code)
            if expected is not None:
                problem = output_problem(expected, result.stdout)
                assert problem is None, f"{where}: {problem}"
