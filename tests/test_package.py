"""Packaging promises: cheap import, public names, version, CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import typing
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import baxcloud
from baxcloud._cli.dev import parse_export_line

ROOT = Path(__file__).resolve().parent.parent


def test_import_does_not_load_the_server_or_its_dependencies() -> None:
    code = (
        "import sys, baxcloud; "
        "heavy = [m for m in ('baxcloud._server', 'baxcloud.testing', 'baxcloud._cli.main', "
        "'starlette', 'uvicorn', 'sqlite3', '_sqlite3', 'jwt') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_version_comes_from_package_metadata() -> None:
    assert baxcloud.__version__ == version("baxcloud")


def test_public_names() -> None:
    for name in baxcloud.__all__:
        value = getattr(baxcloud, name)
        if isinstance(value, ModuleType):
            assert value.__name__ == f"baxcloud.{name}"
        elif isinstance(value, str):
            assert name == "__version__" and value == version("baxcloud")
        elif typing.get_origin(value) is None:  # a class or function, not a type alias
            assert value.__qualname__ == name, f"{name} is exported under another name"
    assert issubclass(baxcloud.APITimeoutError, baxcloud.APIConnectionError)
    assert issubclass(baxcloud.RateLimitError, baxcloud.APIStatusError)
    assert issubclass(baxcloud.WebhookVerificationError, baxcloud.BaxCloudError)
    assert (ROOT / "baxcloud" / "py.typed").exists()


# Names from the standard library, typing and httpx that public signatures may use.
FOREIGN_NAMES = {
    *("Any", "Callable", "Iterable", "Literal", "Mapping", "None", "Self", "Sequence", "T"),
    *("Path", "PathLike", "TracebackType", "Unpack"),
    *("AsyncClient", "Client", "Proxy", "Response", "Timeout", "URL"),  # httpx, httpx2
}


def test_what_public_signatures_use_is_exported() -> None:
    """Every capitalised name in a public method's annotations can be imported from baxcloud."""
    import inspect

    classes = [getattr(baxcloud, n) for n in baxcloud.__all__ if n != "webhooks"]
    classes = [c for c in classes if inspect.isclass(c) and c.__module__.startswith("baxcloud")]
    namespaces = [c for c in classes if c.__name__.startswith(("Async", "Sync"))]
    assert {c.__name__ for c in namespaces} >= {"AsyncRecordings", "SyncRecordings", "SyncEgress"}
    missing: dict[str, set[str]] = {}
    for cls in classes:
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            constructed_by_users = cls in (baxcloud.AsyncBaxCloud, baxcloud.BaxCloud)
            if name.startswith("_") and not (name == "__init__" and constructed_by_users):
                continue
            for annotation in inspect.get_annotations(member).values():
                for used in re.findall(r"\b[A-Z][A-Za-z0-9]*\b", str(annotation)):
                    exported = used in baxcloud.__all__ or used in baxcloud.webhooks.__all__
                    if not exported and used not in FOREIGN_NAMES:
                        missing.setdefault(used, set()).add(f"{cls.__name__}.{name}")
    assert not missing, {k: sorted(v)[:3] for k, v in missing.items()}


def test_the_local_servers_settings_are_exported_from_testing() -> None:
    import baxcloud.testing as testing

    assert set(testing.__all__) == {
        "DataDirectoryInUse",
        "FAULT_KINDS",
        "FaultConfig",
        "LocalServer",
    }
    config = testing.FaultConfig(rate=0.5, kinds=["429"], seed=3)
    assert config.kinds == ("429",)
    assert "slow" in testing.FAULT_KINDS
    assert issubclass(testing.DataDirectoryInUse, baxcloud.BaxCloudError)


def test_demo_runs_against_an_embedded_server() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAXCLOUD_")}
    result = subprocess.run(
        [sys.executable, "-m", "baxcloud", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in (
        "Started an embedded local BaxCloud server",
        "created 'team-standup-",
        "Room Host (host-1) joined",
        "Viewer (viewer-42) joined",
        "verified viewer token: can_publish=False",
        "participants now: ['host-1']",
        'metadata={"status": "active"}',
        "active recordings in the room: 1",
        "completed: rec_",
        "pre-signed download URL valid until",
        "rtmp://a.rtmp.youtube.com/live2/****: active",
        "auto-stream: enabled=True",
        "RTMPS URL: rtmps://",
        "OBS is ACTIVE; OBS Studio is in the room",
        "gone: room_not_found",
        "deliveries verified, 0 rejected",
        "x participant.joined",
        "x recording.completed",
        "x room.finished",
        "Done: every step succeeded.",
    ):
        assert expected in out, expected
    assert "eyJ" not in out  # no token is printed
    assert "YOUTUBE_KEY" not in out and "TWITCH_KEY" not in out  # nor stream keys
    downloaded = re.search(r"downloaded (\S+): (\d+) bytes", out)
    completed = re.search(r"completed: (\S+), (\d+) bytes", out)
    assert downloaded and completed and downloaded.groups() == completed.groups()


def test_dev_server_prints_working_credentials(tmp_path: Path) -> None:
    with subprocess.Popen(  # closes the pipe and waits on the way out
        [sys.executable, "-m", "baxcloud", "dev", "--port", "0", "--data", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            settings: dict[str, str] = {}
            while len(settings) < 3:
                line = proc.stdout.readline()
                assert line, "dev server exited early"
                setting = parse_export_line(line)
                if setting is not None:
                    settings[setting[0]] = setting[1]
            client = baxcloud.BaxCloud(
                api_key=settings["BAXCLOUD_API_KEY"], base_url=settings["BAXCLOUD_BASE_URL"]
            )
            with client:
                assert client.rooms.create(name="from-cli").name == "from-cli"
            assert settings["BAXCLOUD_WEBHOOK_SECRET"].startswith("whsec_")
        finally:
            proc.terminate()
            proc.wait(10)
    # With --data the credentials and the room survive a restart.
    from baxcloud.testing import LocalServer

    with LocalServer(data_dir=tmp_path) as restarted:
        assert restarted.api_key == settings["BAXCLOUD_API_KEY"]
        with restarted.client() as client:
            assert client.rooms.get("from-cli").name == "from-cli"
