"""`baxcloud demo` against a `baxcloud dev` that was used before (BAXCLOUD_BASE_URL)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

from cli.dev_process import WAIT, Dev, start

from baxcloud.testing import LocalServer

ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def run_demo(server: Dev) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAXCLOUD_")}
    env.update(server.settings)
    result = subprocess.run(
        [sys.executable, "-m", "baxcloud", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT * 2,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_demo_neither_depends_on_nor_disturbs_what_the_server_was_set_to(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    server = start(dev, tmp_path, "--manual-clock", "--quiet").wait_ready()
    remote = LocalServer.connect(
        server.settings["BAXCLOUD_BASE_URL"], api_key=server.settings["BAXCLOUD_API_KEY"]
    )
    with server.client() as client:
        # What an earlier session left: a room named like the demo's, auto-stream on for
        # any room with one participant (a recording would start as the host joins),
        # faults on every request.
        client.rooms.create(name="team-standup")
        client.egress.update_auto_stream_config(enabled=True, min_participants=1)
        remote.set_faults(rate=1.0, kinds=["503"], seed=1)

        out = run_demo(server)
        second = run_demo(server)  # and again: nothing the first run left gets in the way

        assert "This server injects faults (rate 1): off during the tour." in out
        assert "This server has auto-stream on: off during the tour." in out
        assert "This server runs on a manual clock: the tour moves it along." in out
        assert "Put back this server's fault injection and auto-stream." in out
        assert "and 1 other room(s) already on this server" in out
        assert "and 1 other room(s) already on this server" in second  # its own room is gone
        for text in (out, second):
            assert "Done: every step succeeded." in text
            assert "x room.finished" in text and "deliveries verified, 0 rejected" in text
        created = re.findall(r"created '(team-standup-\w+)'", out + second)
        assert len(created) == 2 and len(set(created)) == 2
        # Times read as in the CLI's tables: ISO 8601 with the zone.
        for label in ("host token for 'host-1' expires ", "valid until "):
            assert re.search(re.escape(label) + ISO_TIME + "$", out, re.MULTILINE), label
        assert " UTC" not in out

        faults = remote.faults()
        assert (faults["rate"], faults["kinds"], faults["seed"]) == (1.0, ["503"], 1)
        remote.set_faults()  # to check the rest of what was put back
        config = client.egress.get_auto_stream_config()
        assert (config.enabled, config.min_participants) == (True, 1)
        assert [room.name for room in client.rooms.list()] == ["team-standup"]
    # Each run's receiver disabled its endpoint with its last answer (410 Gone).
    endpoints = remote.webhook_endpoints()
    assert len(endpoints) == 2 and not any(e["enabled"] for e in endpoints)
    remote.stop()
