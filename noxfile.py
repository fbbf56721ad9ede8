"""Developer sessions: `nox -s tests tests_httpx2 lint typecheck generate bench soak`.

Each check is defined here once; CI (`.ci/run`) runs README's test command and then
these sessions. Versions come from pyproject.toml (ruff's pin is its `lint` extra).
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "generate"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
LINT = PYPROJECT["project"]["optional-dependencies"]["lint"]


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The test suite against the local server (as README and CI run it)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session(python="3.11")
def tests_httpx2(session: nox.Session) -> None:
    """The test suite with every client sending through httpx2 (tests/http_library.py)."""
    session.install("-e", ".[test]")
    session.run(
        "python", "-m", "pytest", "-q", *session.posargs, env={"BAXCLOUD_TEST_HTTP": "httpx2"}
    )


@nox.session(python="3.11")
def soak(session: nox.Session) -> None:
    """Long reliability soak tests (the `slow` marker, deselected in the default run)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", "-m", "slow", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install(*LINT)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and on tests/ (pyproject.toml's [tool.mypy])."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "baxcloud")
    session.run("mypy", "--strict", "tests")


@nox.session(python="3.11")
def generate(session: nox.Session) -> None:
    """Fail if the generated blocking client is stale."""
    session.install("-e", ".[lint]")
    session.run("python", "scripts/generate_sync.py", "--check")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks: ratios against raw httpx and peers, measured in one run."""
    session.install("-e", ".[server]", "livekit-api", "standardwebhooks", "httpx-aiohttp")
    session.run("python", "benchmarks/run.py", *session.posargs)
