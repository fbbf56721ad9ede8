"""`baxcloud dev` in a subprocess, as a user runs it, the `baxcloud` console script,
and a webhook receiver."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from baxcloud import BaxCloud
from baxcloud._cli.dev import READY, parse_export_line

WAIT = 60.0  # hang guard only
SCRIPT = pathlib.Path(sys.executable).with_name("baxcloud")  # the console script
MODULE = (sys.executable, "-m", "baxcloud")


def shell_env(settings: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any BAXCLOUD_ variable, plus `settings`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BAXCLOUD_")}
    return {**base, **(settings or {})}


def baxcloud_command(
    *args: str, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.CompletedProcess[str]:
    """`baxcloud ARGS`: the console script, run to its end."""
    return subprocess.run(
        [str(SCRIPT), *args], text=True, timeout=WAIT, env=env, check=False, **popen
    )


class Dev:
    """`python -m baxcloud dev ARGS` (or `baxcloud dev ARGS` with `script=True`) in a
    subprocess; stderr goes to a file."""

    def __init__(self, tmp: pathlib.Path, *args: str, script: bool = False) -> None:
        self.stderr_path = tmp / f"stderr-{id(self)}.txt"
        program = (str(SCRIPT),) if script else MODULE
        with self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                [*program, "dev", "--port", "0", *args],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.heading: list[str] = []  # what it printed up to READY
        self.settings: dict[str, str] = {}
        self.log: list[str] = []  # what it printed after its heading
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            if self._ready.is_set():
                with self._lock:
                    self.log.append(line)
                continue
            self.heading.append(line)
            setting = parse_export_line(line)
            if setting is not None:
                self.settings[setting[0]] = setting[1]
            if line == READY:
                self._ready.set()

    def wait_ready(self) -> Dev:
        if not self._ready.wait(WAIT):
            self.kill()
            pytest.fail(f"baxcloud dev did not start: {self.stderr()}")
        return self

    def wait_log(self, found: Callable[[list[str]], bool]) -> list[str]:
        """The log lines once `found(lines)` holds (fails after WAIT seconds)."""
        deadline = time.monotonic() + WAIT
        while True:
            with self._lock:
                lines = list(self.log)
            if found(lines):
                return lines
            if time.monotonic() > deadline:
                pytest.fail(f"not logged; the log was: {lines}")
            time.sleep(0.02)

    def stop(self) -> int:
        """Ctrl+C, as a user stops it; the exit status once its output is all read."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(WAIT)
        self._close_stdout()
        return code

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT)
        self._close_stdout()

    def _close_stdout(self) -> None:
        """Once the reader has read it all (the process has exited)."""
        self._reader.join(WAIT)
        assert self.proc.stdout is not None
        self.proc.stdout.close()

    def environment(self) -> dict[str, str]:
        """What a shell has after pasting the heading's `export` lines (the
        base URL and the API key)."""
        return {name: self.settings[name] for name in ("BAXCLOUD_BASE_URL", "BAXCLOUD_API_KEY")}

    def client(self) -> BaxCloud:
        return BaxCloud(
            api_key=self.settings["BAXCLOUD_API_KEY"],
            base_url=self.settings["BAXCLOUD_BASE_URL"],
            max_retries=0,
        )


def start(dev: list[Dev], tmp: pathlib.Path, *args: str) -> Dev:
    process = Dev(tmp, *args)
    dev.append(process)
    return process


class Receiver:
    """A webhook endpoint on loopback answering each POST with the next of `statuses`
    (the last one repeats); it keeps what it received."""

    def __init__(self, *statuses: int) -> None:
        self._statuses = list(statuses or (204,))
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    receiver.bodies.append(body)
                    receiver.headers.append(dict(self.headers.items()))
                    status = receiver._statuses[0]
                    if len(receiver._statuses) > 1:
                        receiver._statuses.pop(0)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._http.server_address[1])
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(WAIT)
