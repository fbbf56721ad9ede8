"""The pytest plugin, exercised the way a user's test suite would use it.

Each test writes a small suite into pytester's temporary directory and runs it in
a subprocess, where the plugin is found through the installed `pytest11` entry point.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_SUITE = """
import os
import sys

import pytest

from baxcloud import AsyncBaxCloud, BaxCloud, NotFoundError


def test_plugin_loads_no_server():
    # Runs first: loading the plugin must not import the server (nor start one).
    assert "baxcloud.pytest_plugin" in sys.modules
    assert "baxcloud._server" not in sys.modules
    assert "baxcloud.testing" not in sys.modules


def test_session_server_join(baxcloud_server, baxcloud_client):
    room = baxcloud_client.rooms.create(name="plugin-room", max_participants=5)
    token = baxcloud_client.tokens.create(room_name=room.name, participant_identity="ann")
    joined = baxcloud_server.join(token)
    assert joined.identity == "ann"
    assert [p.identity for p in baxcloud_client.participants.list(room.name)] == ["ann"]


def test_env_lets_app_build_its_own_client(baxcloud_env, baxcloud_server):
    assert baxcloud_env["BAXCLOUD_BASE_URL"] == baxcloud_server.base_url
    assert os.environ["BAXCLOUD_API_KEY"] == baxcloud_server.api_key
    assert os.environ["BAXCLOUD_WEBHOOK_SECRET"] == baxcloud_server.webhook_secret
    with BaxCloud() as own:  # what application code does
        assert own.rooms.get("plugin-room").num_participants == 1


def test_env_is_restored():
    assert "BAXCLOUD_API_KEY" not in os.environ
    assert "BAXCLOUD_BASE_URL" not in os.environ


@pytest.mark.baxcloud(manual_clock=True)
def test_marked_test_gets_fresh_server(
    baxcloud_fresh_server, baxcloud_client, baxcloud_env, baxcloud_server
):
    assert baxcloud_fresh_server.base_url != baxcloud_server.base_url
    assert baxcloud_client.base_url == baxcloud_fresh_server.base_url
    assert os.environ["BAXCLOUD_BASE_URL"] == baxcloud_fresh_server.base_url
    assert list(baxcloud_client.rooms.list()) == []
    baxcloud_client.rooms.create(name="short-lived", empty_timeout=10)
    baxcloud_fresh_server.advance_clock(11)
    with pytest.raises(NotFoundError):
        baxcloud_client.rooms.get("short-lived")


@pytest.mark.asyncio
async def test_async_client_with_pytest_asyncio(baxcloud_async_client, baxcloud_server):
    assert isinstance(baxcloud_async_client, AsyncBaxCloud)
    room = await baxcloud_async_client.rooms.create(name="asyncio-room")
    baxcloud_server.join(
        baxcloud_async_client.tokens.create(room_name=room.name, participant_identity="bob")
    )
    page = await baxcloud_async_client.participants.list(room.name)
    assert [p.identity for p in page.items] == ["bob"]


@pytest.mark.anyio
async def test_async_client_with_anyio(baxcloud_async_client):
    room = await baxcloud_async_client.rooms.create(name="anyio-room")
    assert (await baxcloud_async_client.rooms.get(room.name)).sid == room.sid
"""


@pytest.fixture
def user_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in ("BAXCLOUD_API_KEY", "BAXCLOUD_BASE_URL", "BAXCLOUD_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_user_suite=USER_SUITE)
    return pytester


@pytest.mark.parametrize("asyncio_mode", ["strict", "auto"])
def test_user_suite_passes(user_suite: pytest.Pytester, asyncio_mode: str) -> None:
    result = user_suite.runpytest_subprocess(
        "-p", "no:randomly", "-o", f"asyncio_mode={asyncio_mode}"
    )
    result.assert_outcomes(passed=7)


def test_fixture_failures_are_reported(pytester: pytest.Pytester) -> None:
    # A test that should fail does fail: the fixtures are real, not stand-ins.
    pytester.makepyfile(
        """
        import pytest
        from baxcloud import ConflictError

        def test_duplicate_room(baxcloud_client):
            baxcloud_client.rooms.create(name="dup")
            baxcloud_client.rooms.create(name="dup")

        def test_clock_is_not_manual_by_default(baxcloud_server):
            with pytest.raises(ConflictError):
                baxcloud_server.advance_clock(1)
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*ConflictError*room_already_exists*"])


@pytest.mark.parametrize("how", ["option", "ini"])
def test_manual_clock_option(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(
        """
        def test_session_clock(baxcloud_server, baxcloud_client):
            baxcloud_client.rooms.create(name="brief", empty_timeout=5)
            before = baxcloud_server.advance_clock(0)
            assert baxcloud_server.advance_clock(6) == before + 6
            assert [r.name for r in baxcloud_client.rooms.list()] == []
        """
    )
    if how == "ini":
        pytester.makeini("[pytest]\nbaxcloud_manual_clock = true\n")
        result = pytester.runpytest_subprocess()
    else:
        result = pytester.runpytest_subprocess("--baxcloud-manual-clock")
    result.assert_outcomes(passed=1)


def test_help_lists_option_and_marker(pytester: pytest.Pytester) -> None:
    assert pytester.runpytest_subprocess("--help").ret == 0
    pytester.runpytest_subprocess("--help").stdout.fnmatch_lines(["*--baxcloud-manual-clock*"])
    pytester.runpytest_subprocess("--markers").stdout.fnmatch_lines(["*@pytest.mark.baxcloud*"])


def test_fresh_servers_are_shared_per_options_and_reset_between_tests(
    pytester: pytest.Pytester,
) -> None:
    # Runs in file order: each test sees what the previous ones left in `seen`.
    pytester.makepyfile(
        """
        import pytest

        seen = {}

        def _dirty(server, client):
            client.rooms.create(name="left-over", empty_timeout=10)
            server.join(client.tokens.create(room_name="left-over", participant_identity="a"))
            server.add_webhook_endpoint("http://127.0.0.1:9/hooks")
            server.set_faults(rate=0.0, seed=5)
            return server.advance_clock(100)

        @pytest.mark.baxcloud(manual_clock=True, egress_start_delay=0)
        def test_first(baxcloud_fresh_server, baxcloud_client):
            seen["server"] = baxcloud_fresh_server
            seen["url"] = baxcloud_fresh_server.base_url
            seen["key"] = baxcloud_fresh_server.api_key
            seen["start"] = baxcloud_fresh_server.advance_clock(0)
            _dirty(baxcloud_fresh_server, baxcloud_client)

        @pytest.mark.baxcloud(manual_clock=True, egress_start_delay=0)
        def test_same_options_same_server_just_started(baxcloud_fresh_server, baxcloud_client):
            server = baxcloud_fresh_server
            assert server is seen["server"]
            assert (server.base_url, server.api_key) == (seen["url"], seen["key"])
            assert list(baxcloud_client.rooms.list()) == []
            assert server.events() == []
            assert server.webhook_endpoints() == []
            assert server.faults()["seed"] is None
            assert server.advance_clock(0) == seen["start"]

        @pytest.mark.baxcloud(manual_clock=True, egress_start_delay=2)
        def test_other_options_other_server(baxcloud_fresh_server):
            assert baxcloud_fresh_server is not seen["server"]

        @pytest.mark.baxcloud(manual_clock=True, egress_start_delay=0)
        def test_a_test_may_stop_its_server(baxcloud_fresh_server):
            baxcloud_fresh_server.stop()

        @pytest.mark.baxcloud(manual_clock=True, egress_start_delay=0)
        def test_then_the_next_gets_a_new_one(baxcloud_fresh_server, baxcloud_client):
            assert baxcloud_fresh_server is not seen["server"]
            assert list(baxcloud_client.rooms.list()) == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=5)
