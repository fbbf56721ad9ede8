"""The `baxcloud` console script as users run it: fresh interpreters, real terminals,
real signals, against a real local server."""

from __future__ import annotations

import argparse
import json
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import psutil
import pytest
from cli.dev_process import SCRIPT, WAIT, baxcloud_command
from helpers import unique

from baxcloud import BaxCloud, Recording
from baxcloud._cli.main import build_parser
from baxcloud._cli.resources import RESOURCES
from baxcloud.testing import LocalServer

# What `baxcloud --help` must not load: the SDK's dependencies and its core.
SDK_MODULES = ("httpx", "cattrs", "anyio", "attr", "attrs", "jwt", "starlette", "uvicorn")
SDK_PACKAGES = ("baxcloud._core", "baxcloud._sync", "baxcloud._resources", "baxcloud._server")
SDK_SINGLES = ("baxcloud._client", "baxcloud._models", "baxcloud._media_models", "baxcloud.testing")

# Runs the console script's entry point for each argv given (as JSON) in one
# interpreter, then reports each exit status and every SDK module it loaded.
RUN_SCRIPT = f"""
import contextlib, io, json, sys
import _baxcloud_cli
statuses = []
for argv in json.loads(sys.argv[1]):
    sys.argv = ["baxcloud", *argv]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            statuses.append(_baxcloud_cli.main())
        except SystemExit as exc:
            statuses.append(exc.code)
loaded = sorted(
    m for m in sys.modules
    if m.split(".")[0] in {SDK_MODULES} or m.startswith({SDK_PACKAGES}) or m in {SDK_SINGLES}
)
print(json.dumps({{"statuses": statuses, "loaded": loaded}}))
"""


def run_script(*argvs: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT, json.dumps(argvs)],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT,
        env=env,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return report


# ---- startup ----------------------------------------------------------------------------


def top_level_commands() -> list[str]:
    (commands,) = [
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    names = list(commands.choices)
    assert {"dev", "demo", *RESOURCES} <= set(names)
    return names


def test_the_console_script_is_the_entry_point_outside_the_package() -> None:
    (script,) = entry_points(group="console_scripts", name="baxcloud")
    assert script.value == "_baxcloud_cli:main"
    assert SCRIPT.exists()


def test_help_version_and_usage_errors_load_no_part_of_the_sdk() -> None:
    argvs = [["--help"], ["--version"]]
    argvs += [[name, "--help"] for name in top_level_commands()]  # any new one too
    for resource_name, resource in RESOURCES.items():
        argvs += [[resource_name, command.name, "--help"] for command in resource.commands]
    argvs += [["rooms", "create", "--nmae", "x"], ["rooms"], ["nope"]]
    report = run_script(*argvs)
    assert report["statuses"] == [0] * (len(argvs) - 3) + [2, 2, 2]
    assert report["loaded"] == []


def test_the_real_script_imports_nothing_of_the_sdk_for_help() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), "rooms", "create", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT,
    )
    assert "usage: baxcloud rooms create" in result.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()}
    assert "baxcloud._cli.resources" in imported  # the timing is real
    assert not {m for m in imported if m.split(".")[0] in SDK_MODULES}
    assert not {m for m in imported if m.startswith(SDK_PACKAGES) or m in SDK_SINGLES}


def test_version() -> None:
    result = baxcloud_command("--version", capture_output=True)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"baxcloud {version('baxcloud')}\n",
        "",
    )
    module = subprocess.run(
        [sys.executable, "-m", "baxcloud", "--version"], capture_output=True, text=True, check=True
    )
    assert module.stdout == result.stdout


# ---- commands through the script ------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(manual_clock=True, egress_start_delay=0, egress_stop_delay=0) as srv:
        yield srv


@pytest.fixture
def client(server: LocalServer) -> Iterator[BaxCloud]:
    with server.client() as c:
        yield c


@pytest.fixture
def env(server: LocalServer) -> dict[str, str]:
    return {**os.environ, "BAXCLOUD_API_KEY": server.api_key, "BAXCLOUD_BASE_URL": server.base_url}


def test_a_command_runs_with_the_whole_package_loaded(
    server: LocalServer, client: BaxCloud, env: dict[str, str]
) -> None:
    name = unique("script")
    client.rooms.create(name=name)
    check = RUN_SCRIPT + (
        "import baxcloud, baxcloud._cli.main\n"
        "assert baxcloud.BaxCloud is sys.modules['baxcloud._sync.client'].BaxCloud\n"
        "assert baxcloud._cli.main.run\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check, json.dumps([["rooms", "get", name]])],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=env,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["statuses"] == [0]
    assert "httpx" in report["loaded"] and "baxcloud._sync.client" in report["loaded"]

    listed = baxcloud_command("rooms", "list", "--json", env=env, capture_output=True)
    assert listed.returncode == 0, listed.stderr
    assert name in [room["name"] for room in json.loads(listed.stdout)]


def test_errors_are_one_line_through_the_script(env: dict[str, str]) -> None:
    result = baxcloud_command(
        "recordings", "url", "rec_1", "--expires-in", "5", env=env, capture_output=True
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "baxcloud recordings url: error: --expires-in must be between 60 and 604800, got 5\n"
    )
    no_key = {k: v for k, v in env.items() if k != "BAXCLOUD_API_KEY"}
    result = baxcloud_command("rooms", "list", env=no_key, capture_output=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--api-key" in result.stderr and "BAXCLOUD_API_KEY" in result.stderr
    assert "api_key=" not in result.stderr


# ---- recordings download ----------------------------------------------------------------


def completed_recording(server: LocalServer, client: BaxCloud) -> Recording:
    room = unique("dl")
    client.rooms.create(name=room)
    server.join(client.tokens.create(room_name=room, participant_identity="ann"))
    recording = client.recordings.start(room_name=room)
    server.advance_clock(5)
    client.recordings.stop(recording.egress_id)
    server.advance_clock(1)
    done = client.recordings.get(recording.id)
    assert done.status == "completed" and done.size_bytes
    return done


def test_download_draws_no_progress_bar_into_a_pipe_but_does_on_a_terminal(
    server: LocalServer, client: BaxCloud, env: dict[str, str], tmp_path: Path
) -> None:
    recording = completed_recording(server, client)
    piped = baxcloud_command(
        "recordings", "download", recording.id, str(tmp_path / "piped"), env=env,
        capture_output=True,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == f"{tmp_path / 'piped'} ({recording.size_bytes} bytes)\n"
    assert piped.stderr == ""

    controller, terminal = pty.openpty()
    try:
        on_terminal = baxcloud_command(
            "recordings", "download", recording.id, str(tmp_path / "shown"), env=env,
            stdout=subprocess.PIPE, stderr=terminal,
        )  # fmt: skip
        os.close(terminal)
        drawn = _read_all(controller)
    finally:
        os.close(controller)
    assert on_terminal.returncode == 0
    assert f"\r{recording.id} [" in drawn
    assert "##############################] 100.0%" in drawn
    assert (tmp_path / "shown").read_bytes() == (tmp_path / "piped").read_bytes()


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def _wait_for_connection(pid: int, port: int) -> None:
    """Until the process has a TCP connection to `port` (its call is under way)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        connections = psutil.Process(pid).net_connections(kind="tcp")
        if any(c.raddr and c.raddr.port == port for c in connections):
            return
        time.sleep(0.02)
    pytest.fail("the command never connected to the server")


def test_ctrl_c_keeps_the_partial_file_and_the_same_command_resumes(
    server: LocalServer, client: BaxCloud, env: dict[str, str], tmp_path: Path
) -> None:
    recording = completed_recording(server, client)
    whole = client.recordings.download(recording.id, tmp_path / "whole")
    content = whole.read_bytes()
    target = tmp_path / "video.mp4"
    partial = tmp_path / "video.mp4.part"
    partial.write_bytes(content[: len(content) // 2])  # as an earlier interrupted run left it
    command = [str(SCRIPT), "recordings", "download", recording.id, str(target)]

    server.set_faults(rate=1.0, kinds=["slow"], slow_seconds=5)  # every call hangs a while
    try:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        _wait_for_connection(proc.pid, int(server.base_url.rsplit(":", 1)[1]))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        server.set_faults()
    assert proc.returncode == 130
    assert out == ""
    assert err == (
        f"baxcloud recordings download: interrupted; the bytes downloaded so far are kept in "
        f"{partial}: run the same command again to resume\n"
    )
    assert partial.read_bytes() == content[: len(content) // 2]
    assert not target.exists()

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=WAIT)
    assert again.returncode == 0, again.stderr
    assert target.read_bytes() == content
    assert not partial.exists()


# ---- demo -----------------------------------------------------------------------------


def test_demo_without_the_server_extra_says_how_to_install_it() -> None:
    no_server_extra = (
        "import sys\n"
        "class NoServerExtra:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('starlette', 'uvicorn'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoServerExtra())\n"
        "import _baxcloud_cli\n"
        "sys.argv = ['baxcloud', 'demo']\n"
        "sys.exit(_baxcloud_cli.main())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAXCLOUD_")}
    result = subprocess.run(
        [sys.executable, "-c", no_server_extra],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "baxcloud demo: error: the local server needs the server extra: "
        "pip install 'baxcloud[server]'\n"
    )


def test_a_reader_that_stops_early_gets_no_traceback(client: BaxCloud, env: dict[str, str]) -> None:
    name = unique("pipe")
    client.rooms.create(name=name)
    proc = subprocess.Popen(
        [str(SCRIPT), "rooms", "get", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`: gone before the command prints
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(WAIT) == 1
    assert err == ""
