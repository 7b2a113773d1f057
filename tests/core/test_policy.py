"""Rule 2: durations, compliance and refusals."""

from __future__ import annotations

import pytest

from perfinvest.core.errors import ExitCode, PerfError
from perfinvest.core.policy import decide_duration


def test_default_is_sixty_seconds_or_thirty_for_probes() -> None:
    assert decide_duration(None).duration_s == 60.0
    assert decide_duration(None, probe=True).duration_s == 30.0
    assert decide_duration(None).compliant


def test_short_run_without_policy_is_refused() -> None:
    with pytest.raises(PerfError) as caught:
        decide_duration(5)
    assert caught.value.code == ExitCode.REFUSED
    assert "60 s minimum" in caught.value.message and "--allow-short-runs" in caught.value.message
    with pytest.raises(PerfError, match="30 s minimum"):
        decide_duration(29.9, probe=True)


def test_short_run_under_policy_is_non_compliant_with_the_reason() -> None:
    decision = decide_duration(5, short_policy="unit tests")
    assert not decision.compliant and decision.duration_s == 5
    assert decision.note is not None and "unit tests" in decision.note
    env = decide_duration(5, env_allow_short=True)
    assert not env.compliant and env.note is not None and "PERF_ALLOW_SHORT=1" in env.note


def test_long_enough_is_compliant_even_with_a_policy() -> None:
    decision = decide_duration(60, short_policy="unit tests")
    assert decision.compliant and decision.note is None
    assert decision.valid_after_s == pytest.approx(57.0)


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_nonsense_durations_are_usage_errors(bad: float) -> None:
    with pytest.raises(PerfError) as caught:
        decide_duration(bad, short_policy="x")
    assert caught.value.code == ExitCode.USAGE
