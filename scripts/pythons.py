"""Run the test suite on Pythons this machine lacks, in a Debian sid chroot.

    python scripts/pythons.py 3.15 [pytest args...]     # as root

Debian sid carries python3.13, python3.14 and python3.15. The first run builds a
minimal sid chroot with them (debootstrap, installed with apt-get if missing),
downloads the test extra's wheels for the requested Python with this machine's
pip (pip inside the chroot cannot be used: 3.13+ rejects this network's TLS
certificate), and makes a venv in the chroot with them and the project
installed editable from /src. Later runs reuse all three; each is remade when
what it was made from changes (the package list, pyproject.toml).

Each run mounts the checkout at /src, /proc and /dev in a mount namespace of its
own (`unshare`), so nothing stays mounted after it and concurrent runs from
different checkouts do not meet; one that needs the venv rebuilt (another
pyproject.toml) waits for the runs using it. `nox -s tests -p 3.15` calls this script.

Environment: BAXCLOUD_PYTHONS_CACHE (default ~/.cache/baxcloud-pythons),
BAXCLOUD_PYTHONS_MIRROR (default http://deb.debian.org/debian).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSIONS = ("3.13", "3.14", "3.15")
SUITE = "sid"
PACKAGES = [f"python{v}{suffix}" for v in VERSIONS for suffix in ("", "-venv")]
# The project is installed editable; pip builds that offline from the wheelhouse.
BUILD_REQUIREMENTS = ["hatchling>=1.24", "editables"]

CACHE = Path(os.environ.get("BAXCLOUD_PYTHONS_CACHE", "~/.cache/baxcloud-pythons")).expanduser()
MIRROR = os.environ.get("BAXCLOUD_PYTHONS_MIRROR", "http://deb.debian.org/debian")
ROOT = CACHE / SUITE
STAMP = ".baxcloud-pythons"  # what a cached part was made from


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("python", choices=VERSIONS)
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("must run as root (debootstrap, mount and chroot need it)")
    while True:
        with _locked(fcntl.LOCK_EX):
            venv = prepare(args.python)
            built = _built(args.python)
        # Runs share what is built; a run from a checkout that needs it rebuilt waits.
        with _locked(fcntl.LOCK_SH):
            if _built(args.python) == built:  # not rebuilt for another checkout meanwhile
                return run_in_chroot([f"{venv}/bin/python", "-m", "pytest", *args.pytest_args])


def prepare(version: str) -> str:
    """Build what is missing or stale; return the venv's path inside the chroot."""
    _chroot()
    requirements = test_requirements()
    wheels = _wheelhouse(version, requirements + BUILD_REQUIREMENTS)
    return _venv(version, requirements, wheels)


def test_requirements() -> list[str]:
    """The runtime and test-extra requirements of pyproject.toml, self-references expanded."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    found: list[str] = list(project["dependencies"])
    seen: set[str] = set()

    def add(extra: str) -> None:
        if extra in seen:
            return
        seen.add(extra)
        for requirement in extras[extra]:
            own = re.fullmatch(rf"{project['name']}\[(.+)\]", requirement)
            if own is None:
                found.append(requirement)
            else:
                for name in own.group(1).split(","):
                    add(name.strip())

    add("test")
    return found


# ---- the three cached parts -------------------------------------------------------


def _chroot() -> None:
    wanted = "\n".join([SUITE, *PACKAGES])
    if _stamp(ROOT) == wanted:
        return
    if shutil.which("debootstrap") is None:
        _step("installing debootstrap")
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "debootstrap"], check=True)
    _step(f"building the {SUITE} chroot with {', '.join(PACKAGES)}")
    building = ROOT.with_name(ROOT.name + ".new")
    shutil.rmtree(building, ignore_errors=True)
    include = ",".join(PACKAGES)
    cmd = ["debootstrap", "--variant=minbase", f"--include={include}", SUITE, str(building)]
    subprocess.run([*cmd, MIRROR], check=True, stdout=subprocess.DEVNULL)
    (building / "src").mkdir()
    (building / STAMP).write_text(wanted)
    shutil.rmtree(ROOT, ignore_errors=True)
    building.rename(ROOT)


def _wheelhouse(version: str, requirements: list[str]) -> Path:
    """Every wheel the requirements need on `version`, fetched by this machine's pip."""
    wheels = CACHE / "wheels" / version
    wanted = "\n".join(requirements)
    if _stamp(wheels) == wanted:
        return wheels
    _step(f"downloading wheels for Python {version}")
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    built: set[str] = set()
    while True:
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--python-version", version,
             "--only-binary=:all:", "--find-links", str(wheels), "-d", str(wheels),
             *requirements],
            capture_output=True, text=True,
        )  # fmt: skip
        if download.returncode == 0:
            break
        missing = _missing_wheel(download.stderr)
        if missing is None or missing in built:
            sys.stderr.write(download.stderr)
            raise SystemExit(f"cannot get the wheels for Python {version}")
        built.add(missing)
        _pure_python_wheel(missing, wheels)
    (wheels / STAMP).write_text(wanted)
    return wheels


def _missing_wheel(pip_stderr: str) -> str | None:
    """The requirement pip found no wheel for, from its error message."""
    match = re.search(r"No matching distribution found for (\S+)", pip_stderr)
    return match.group(1) if match else None


def _pure_python_wheel(requirement: str, wheels: Path) -> None:
    """Build a wheel from a pure-Python sdist (with this machine's Python)."""
    _step(f"no wheel for {requirement}: building one from its source")
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
             f"--no-binary={name.group()}", "-w", out, requirement],
            check=True,
        )  # fmt: skip
        for wheel in Path(out).glob("*.whl"):
            if not wheel.name.endswith("-none-any.whl"):
                raise SystemExit(f"{requirement} is not pure Python ({wheel.name})")
            shutil.move(wheel, wheels / wheel.name)


def _venv(version: str, requirements: list[str], wheels: Path) -> str:
    venv = _venv_path(version)
    wanted = (REPO / "pyproject.toml").read_text() + (wheels / STAMP).read_text()
    if _stamp(ROOT / venv.lstrip("/")) == wanted:
        return venv
    _step(f"making the Python {version} venv")
    shutil.rmtree(ROOT / venv.lstrip("/"), ignore_errors=True)
    install = ["-m", "pip", "install", "-q", "--no-index", "--find-links=/wheels"]
    for cmd in (
        [f"/usr/bin/python{version}", "-m", "venv", venv],
        [f"{venv}/bin/python", *install, *requirements],
        [f"{venv}/bin/python", *install, "--no-deps", "-e", "/src"],
    ):
        if run_in_chroot(cmd, wheels=wheels) != 0:
            raise SystemExit(f"failed in the chroot: {shlex.join(cmd)}")
    (ROOT / venv.lstrip("/") / STAMP).write_text(wanted)
    return venv


def _venv_path(version: str) -> str:
    return f"/opt/venv-{version}"


def _built(version: str) -> tuple[str | None, ...]:
    """What the chroot, the wheelhouse and the venv for `version` were made from."""
    venv = ROOT / _venv_path(version).lstrip("/")
    return _stamp(ROOT), _stamp(CACHE / "wheels" / version), _stamp(venv)


# ---- running in the chroot --------------------------------------------------------


def run_in_chroot(cmd: list[str], *, wheels: Path | None = None) -> int:
    """Run `cmd` in the chroot at /src, with the checkout, /proc and /dev mounted."""
    mounts = [
        ["mount", "--rbind", "/dev", f"{ROOT}/dev"],
        ["mount", "-t", "proc", "proc", f"{ROOT}/proc"],
        ["mount", "--bind", str(REPO), f"{ROOT}/src"],
    ]
    if wheels is not None:
        (ROOT / "wheels").mkdir(exist_ok=True)
        mounts.append(["mount", "--bind", "-o", "ro", str(wheels), f"{ROOT}/wheels"])
    shutil.copyfile("/etc/hosts", ROOT / "etc" / "hosts")
    env = ["env", "-i", "HOME=/root", "LANG=C.UTF-8", "PATH=/usr/bin:/bin", f"TERM={_term()}"]
    inner = [*env, "sh", "-c", 'cd /src && exec "$@"', "sh", *cmd]
    script = " && ".join(
        [*map(shlex.join, mounts), "exec " + shlex.join(["chroot", str(ROOT), *inner])]
    )
    unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
    return subprocess.run(unshare, check=False).returncode


def _term() -> str:
    return os.environ.get("TERM", "dumb")


# ---- small helpers -----------------------------------------------------------------


def _stamp(directory: Path) -> str | None:
    try:
        return (directory / STAMP).read_text()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def _locked(how: int) -> Iterator[None]:
    """The cache's lock: exclusive to build, shared to run."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "lock", "w") as lock:
        fcntl.flock(lock, how)
        yield


def _step(message: str) -> None:
    print(f"[pythons {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
