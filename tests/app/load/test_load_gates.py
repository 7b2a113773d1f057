"""The approval gate for hosts outside loopback: allow_hosts never lifts it, and the gate is
decided before any DNS lookup or connection (only ``*.invalid`` hosts here: no traffic out)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from perfinvest.core.load.results import is_loopback

SHORT = ("--duration", "2", "--allow-short", "tests use short runs")
ROUTES = "routes:\n  - {name: health, path: /health}\n"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every name lookup or connection the command tries."""
    tried: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        tried.append(repr(args[:1]))
        raise OSError("network use in a gate test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return tried


@pytest.mark.parametrize(
    ("allow", "needle"),
    [
        ("[perf-target.invalid]", "outside loopback (in allow_hosts: still gated)"),
        ("[]", "outside loopback and allow_hosts"),
    ],
)
def test_a_host_outside_loopback_needs_approve_even_when_allowed(
    allow: str, needle: str, repo: Path, cli: Any, no_network: list[str]
) -> None:
    targets = repo / "t.yaml"
    targets.write_text(f"base_url: http://perf-target.invalid:8000\nallow_hosts: {allow}\n{ROUTES}")
    result = cli("load", "run", "--targets", str(targets), *SHORT, "--json")
    assert result.code == 3, result.out
    assert needle in result.json["error"]["message"]
    assert result.json["error"]["needs"] == ['--approve "reason"']
    assert no_network == []  # refused before any lookup or connection
    assert not (repo / ".claude" / "perf" / "load").exists()


def test_with_approve_the_allowed_host_gets_past_the_gate_to_the_reachability_check(
    repo: Path, cli: Any, no_network: list[str]
) -> None:
    targets = repo / "t.yaml"
    targets.write_text(
        f"base_url: http://perf-target.invalid:8000\nallow_hosts: [perf-target.invalid]\n{ROUTES}"
    )
    result = cli("load", "run", "--targets", str(targets), *SHORT, "--approve", "test", "--json")
    assert result.code == 5, result.out  # the (refused) connection attempt comes after the gate
    assert no_network  # and only then


@pytest.mark.parametrize(
    "host",
    [
        "127.1",
        "0x7f000001",
        "[::ffff:127.0.0.1]",
        "localhost.evil.example",
        "2130706433",
        "127.0.0.1.invalid",
        "localhost.",
        "[::ffff:7f00:1]",
    ],
)
def test_loopback_detection_is_strict(host: str) -> None:
    assert not is_loopback(f"http://{host}:8000/")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "[::1]", "localhost", "a.localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(f"http://{host}:8000/")
