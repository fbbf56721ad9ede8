"""Fault injection in the local server: every kind, exemptions, reproducibility, config."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from helpers import unique

from baxcloud import (
    APIConnectionError,
    APITimeoutError,
    BaxCloudError,
    ConflictError,
    InternalServerError,
    RateLimitError,
)
from baxcloud._cli.main import main as cli_main
from baxcloud._server import FAULT_KINDS, FaultConfig, ServerConfig
from baxcloud._server._faults import parse_fault_spec, to_fault_config
from baxcloud.testing import LocalServer


def outcome(call: Any) -> str:
    try:
        call()
    except BaxCloudError as exc:
        return f"{type(exc).__name__}:{getattr(exc, 'status_code', '')}"
    return "ok"


@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [
        ("429", RateLimitError, 429),
        ("500", InternalServerError, 500),
        ("503", InternalServerError, 503),
        ("drop", APIConnectionError, None),
    ],
)
def test_each_kind_fails_before_the_handler(
    fault_server: LocalServer, kind: str, error: type[Exception], status: int | None
) -> None:
    fault_server.set_faults(rate=1, kinds=[kind], seed=1)
    name = unique()
    with fault_server.client(max_retries=0) as client:
        with pytest.raises(error) as info:
            client.rooms.create(name=name)
        if status is not None:
            assert info.value.status_code == status  # type: ignore[attr-defined]
        else:
            assert not isinstance(info.value, APITimeoutError)
            assert isinstance(info.value.__cause__, httpx.TransportError)
        if kind == "429":
            assert info.value.retry_after is not None  # type: ignore[attr-defined]
            assert 0 <= info.value.retry_after <= 0.2  # type: ignore[attr-defined]
        fault_server.set_faults()
        assert name not in {room.name for room in client.rooms.list()}  # nothing happened
    assert fault_server.faults()["injected"][kind] == 0  # counters restart with the settings


def test_counters_record_each_injected_fault(fault_server: LocalServer) -> None:
    fault_server.set_faults(rate=1, kinds=["500", "503"], seed=3)
    with fault_server.client(max_retries=0) as client:
        for _ in range(10):
            with pytest.raises(InternalServerError):
                client.rooms.get("nope")
    state = fault_server.faults()
    assert state["requests"] == 10
    assert state["injected"]["500"] + state["injected"]["503"] == 10
    assert state["injected"]["500"] > 0 and state["injected"]["503"] > 0
    assert set(state["injected"]) == set(FAULT_KINDS)


def test_slow_outlasts_the_client_timeout_then_commits(fault_server: LocalServer) -> None:
    fault_server.set_faults(rate=1, kinds=["slow"], slow_seconds=0.5)
    name = unique()
    with (
        fault_server.client(max_retries=0, timeout=0.05) as client,
        pytest.raises(APITimeoutError),
    ):
        client.rooms.create(name=name, idempotency_key="slow-key")
    fault_server.set_faults()
    with fault_server.client(max_retries=50) as client:
        # The slow request still runs; the same key answers 409 in_use (retried), then replays.
        room = client.rooms.create(name=name, idempotency_key="slow-key")
        assert room.name == name
        assert [r.name for r in client.rooms.list() if r.name == name] == [name]


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_after_commit_commits_then_fails_and_a_retry_replays(
    fault_server: LocalServer, seed: int
) -> None:
    fault_server.set_faults(rate=1, kinds=["after_commit"], seed=seed)
    name = unique()
    with (
        fault_server.client(max_retries=0) as client,
        pytest.raises((InternalServerError, APIConnectionError)),
    ):
        client.rooms.create(name=name, idempotency_key=f"k-{name}")
    fault_server.set_faults()
    with httpx.Client(base_url=fault_server.base_url) as raw:
        headers = {"Authorization": f"Bearer {fault_server.api_key}"}
        listed = raw.get("/v1/rooms", params={"limit": 100}, headers=headers).json()
        assert name in {room["name"] for room in listed["items"]}  # the change happened
        again = raw.post(
            "/v1/rooms",
            json={"name": name},
            headers={**headers, "Idempotency-Key": f"k-{name}"},
        )
    assert again.status_code == 201  # the stored success, not 409 room_already_exists
    assert again.headers["idempotent-replayed"] == "true"


def test_after_commit_without_retries_of_same_key_is_visible(
    fault_server: LocalServer, fast_backoff: None
) -> None:
    fault_server.set_faults(rate=1, kinds=["after_commit"], seed=5)
    with fault_server.client(max_retries=0) as client:
        name = unique()
        # The answer after the commit is a 503 or a dropped connection.
        with pytest.raises((InternalServerError, APIConnectionError)):
            client.rooms.create(name=name)
        fault_server.set_faults()
        # A *new* logical call (new key) now meets the committed room: that is the
        # hazard the SDK's per-call Idempotency-Key exists to avoid.
        with pytest.raises(ConflictError) as info:
            client.rooms.create(name=name)
        assert info.value.code == "room_already_exists"


def test_dev_endpoints_and_openapi_are_never_faulted(fault_server: LocalServer) -> None:
    fault_server.set_faults(rate=1, kinds=list(FAULT_KINDS), seed=9, slow_seconds=5)
    events = fault_server.events()
    for _ in range(20):
        assert fault_server.events() == events
        assert fault_server.faults()["rate"] == 1
    with httpx.Client(base_url=fault_server.base_url) as raw:
        for _ in range(20):
            assert raw.get("/openapi.json").status_code == 200
    assert fault_server.faults()["requests"] == 0


def test_same_seed_same_requests_same_faults(fault_server: LocalServer) -> None:
    def run(seed: int) -> list[str]:
        fault_server.set_faults(rate=0.5, kinds=["429", "500", "503", "drop"], seed=seed)
        with fault_server.client(max_retries=0) as client:
            return [outcome(lambda: client.rooms.get("missing")) for _ in range(40)]

    first, second, other = run(7), run(7), run(8)
    assert first == second
    assert first != other
    assert "ok" not in first or len(set(first)) > 1


def test_rate_zero_is_off_and_rate_one_faults_every_request(fault_server: LocalServer) -> None:
    with fault_server.client(max_retries=0) as client:
        fault_server.set_faults(rate=0, kinds=["500"])
        for _ in range(10):
            client.rooms.list()
        fault_server.set_faults(rate=1, kinds=["500"])
        for _ in range(10):
            with pytest.raises(InternalServerError):
                client.rooms.list()


def test_faults_given_at_start_as_a_mapping_or_spec() -> None:
    with LocalServer(faults={"rate": 1, "kinds": ["503"], "seed": 1}) as server:
        assert server.faults()["kinds"] == ["503"]
        with server.client(max_retries=0) as client, pytest.raises(InternalServerError):
            client.rooms.list()
    with (
        LocalServer(faults="rate=1,kinds=429") as server,
        server.client(max_retries=0) as client,
        pytest.raises(RateLimitError),
    ):
        client.rooms.list()


def test_fault_config_validation() -> None:
    assert FaultConfig().rate == 0
    assert "slow" not in FaultConfig().kinds
    assert FaultConfig(kinds=[429, "drop"]).kinds == ("429", "drop")
    assert ServerConfig(faults={"rate": 0.25}).faults == FaultConfig(rate=0.25)
    assert to_fault_config(None) == FaultConfig()
    bad_values: list[dict[str, Any]] = [
        {"rate": 1.5},
        {"rate": -0.1},
        {"kinds": ["teapot"]},
        {"kinds": []},
    ]
    for bad in bad_values:
        with pytest.raises(ValueError):
            FaultConfig(**bad)
    for bad_type in ({"rate": "x"}, {"seed": 1.5}, {"kinds": [None]}):
        with pytest.raises(TypeError):
            FaultConfig(**bad_type)
    with pytest.raises(TypeError):
        to_fault_config(42)  # type: ignore[arg-type]


def test_fault_spec_syntax() -> None:
    config = parse_fault_spec("rate=0.3,kinds=429+503+drop,seed=7,slow_seconds=1.5")
    assert config == FaultConfig(rate=0.3, kinds=("429", "503", "drop"), seed=7, slow_seconds=1.5)
    assert parse_fault_spec("") == FaultConfig()
    for bad in ("rate", "rate=x", "speed=3", "kinds=429+nope", "seed=1.5", "rate=2"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)


def test_dev_faults_endpoint_validates(fault_server: LocalServer) -> None:
    headers = {"Authorization": f"Bearer {fault_server.api_key}"}
    with httpx.Client(base_url=fault_server.base_url, headers=headers) as raw:
        cases = [
            ({"rate": 2}, 422),
            ({"kinds": ["nope"]}, 422),
            ({"kinds": []}, 422),
            ({"rate": "high"}, 400),
            ({"speed": 1}, 400),
            ({"slowSeconds": -1}, 422),
        ]
        for payload, status in cases:
            response = raw.post("/_dev/faults", json=payload)
            assert response.status_code == status, payload
            assert response.json()["error"]["code"] in {
                "validation_failed",
                "invalid_request",
                "unknown_field",
            }
        ok = raw.post("/_dev/faults", content=json.dumps({"rate": 0.5, "kinds": ["drop"]}))
        assert ok.status_code == 200
        assert ok.json()["kinds"] == ["drop"]
        assert raw.get("/_dev/faults").json()["rate"] == 0.5
        assert raw.get("/_dev/faults", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_cli_dev_faults_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import baxcloud._server as server_pkg

    seen: list[ServerConfig] = []
    monkeypatch.setattr(server_pkg, "serve", lambda config, **kwargs: seen.append(config))
    assert cli_main(["dev", "--faults", "rate=0.3,kinds=429+503+drop,seed=7"]) == 0
    assert seen[0].faults == FaultConfig(rate=0.3, kinds=("429", "503", "drop"), seed=7)
    assert cli_main(["dev"]) == 0
    assert seen[1].faults.rate == 0
    assert cli_main(["dev", "--faults", "rate=7"]) == 2
    assert "--faults" in capsys.readouterr().err
