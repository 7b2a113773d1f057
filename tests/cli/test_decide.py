"""Phase 9 from the command line: recommendation first, the verdict recorded next to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.test_experiment import perf, to_phase_8


def test_decide_without_a_verdict_answers_the_recommendation(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    assert cli("experiment", "--skip-reason", "baseline already meets the goal", "--json").code == 0
    answer = cli("decide", "--json")
    assert answer.code == 3
    data = answer.json["data"]
    # the fixture's benchmark reports p95_ms ~12 against "p95_ms < 120"
    assert data["recommendation"] == "stop" and data["goal_met"] is True
    assert data["criteria"][0]["met"] is True and data["criteria"][0]["source"] == "baseline v1"
    assert any("recommended: stop" in n for n in answer.json["error"]["needs"])
    state = json.loads((perf(repo) / "investigation.json").read_text())
    assert state["decision"] is None  # nothing recorded yet


def test_the_verdict_is_recorded_next_to_the_recommendation(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    assert cli("experiment", "--skip-reason", "n/a", "--json").code == 0
    answer = cli("decide", "--verdict", "continue", "--rationale", "want more headroom", "--json")
    assert answer.code == 0, answer.out
    decision = json.loads((perf(repo) / "investigation.json").read_text())["decision"]
    assert decision["verdict"] == "continue" and decision["recommendation"] == "stop"
    assert decision["rationale"] == "want more headroom" and decision["reasoning"]
    assert "recommended: stop" in answer.json["findings"][0]


def test_a_verdict_needs_a_rationale(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    assert cli("experiment", "--skip-reason", "n/a", "--json").code == 0
    answer = cli("decide", "--verdict", "stop", "--json")
    assert answer.code == 3 and answer.json["error"]["needs"] == [
        "--rationale: why, in a sentence or two"
    ]


def test_decide_before_the_earlier_phases_is_refused(repo: Path, cli: Any) -> None:
    from tests.conftest import START_ARGS

    cli(*START_ARGS, "--json")
    assert cli("decide", "--json").code == 4
