"""Breaking-point thresholds and probe verdicts, pure: what makes one probe pass or fail.

Thresholds (``--fail-when``) are *failure conditions*: ``p95_ms>150`` means a probe fails
when its ``p95_ms`` is above 150 (the k6 threshold ``p95_ms<150`` is the same rule written as
the passing condition). Operators: ``>``, ``>=``, ``<``, ``<=``.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from perfinvest.core.errors import usage_error

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_THRESHOLD = re.compile(
    r"^\s*([A-Za-z_][\w.:/-]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class Threshold:
    """``metric op limit``: the probe fails when ``value op limit`` holds."""

    metric: str
    op: str
    limit: float

    @property
    def text(self) -> str:
        return f"{self.metric}{self.op}{self.limit:g}"

    def crossed(self, value: float) -> bool:
        return _OPS[self.op](value, self.limit)


def parse_threshold(text: str) -> Threshold:
    match = _THRESHOLD.match(text)
    if match is None:
        raise usage_error(
            f"cannot read --fail-when {text!r}: write METRIC OP NUMBER, e.g. "
            '"p95_ms>150" or "error_rate>=0.01" (OP is >, >=, < or <=; the probe fails '
            "when it holds)"
        )
    limit = float(match.group(3))
    if not math.isfinite(limit):
        raise usage_error(f"--fail-when {text!r}: the limit must be a finite number")
    return Threshold(match.group(1), match.group(2), limit)


def _resolved(threshold: Threshold, names: set[str]) -> Threshold:
    """A bare name (``p90_ms``) stands for ``scenario:p90_ms`` when exactly one scenario has it."""
    if threshold.metric in names:
        return threshold
    matches = [n for n in names if n.endswith(f":{threshold.metric}")]
    if len(matches) == 1:
        return Threshold(matches[0], threshold.op, threshold.limit)
    return threshold


def parse_thresholds(texts: Iterable[str], known: Iterable[str]) -> list[Threshold]:
    """Parse every ``--fail-when``; refuse metric names the baseline's runs never reported."""
    names = set(known)
    thresholds = [_resolved(parse_threshold(text), names) for text in texts]
    unknown = sorted({t.metric for t in thresholds if t.metric not in names})
    if unknown:
        raise usage_error(
            f"unknown metric(s) in --fail-when: {', '.join(unknown)}; the baseline's runs "
            f"report: {', '.join(sorted(names)) or '(none)'}"
        )
    return thresholds


@dataclass(frozen=True)
class Judgement:
    """A probe's metrics against the thresholds."""

    crossed: tuple[str, ...]  # e.g. "p95_ms=180 > 150"
    missing: tuple[str, ...]  # threshold metrics the probe did not report

    @property
    def failed(self) -> bool:
        return bool(self.crossed)


def judge(thresholds: Sequence[Threshold], metrics: Mapping[str, float]) -> Judgement:
    crossed: list[str] = []
    missing: list[str] = []
    for threshold in thresholds:
        value = metrics.get(threshold.metric)
        if value is None:
            missing.append(threshold.metric)
        elif threshold.crossed(value):
            crossed.append(f"{threshold.metric}={value:.6g} {threshold.op} {threshold.limit:g}")
    return Judgement(tuple(crossed), tuple(dict.fromkeys(missing)))


# --- judging one probe ---------------------------------------------------------------------


def classify_probe(
    *,
    invalid_reason: str | None,
    exit_code: int | None,
    metrics: Mapping[str, float],
    thresholds: Sequence[Threshold],
    allow_no_metrics: bool,
    load_errors: str | None = None,
) -> tuple[bool | None, str]:
    """(passed, why): True passes, False fails, None is an invalid probe (not a failure).

    Fails: a threshold crossed, a non-zero exit, a timeout (the target hung), or, with
    ``allow_no_metrics``, no metrics. Invalid: interrupted, too short, or no metrics
    without ``allow_no_metrics``. A load tool that exits non-zero because some requests
    failed (``load_errors``) reported its metrics: the thresholds judge it (an
    ``error_rate`` threshold is how a user says how many failures a probe may have).
    """
    reason = invalid_reason or ""
    if reason.startswith("interrupted"):
        return None, reason
    if reason.startswith("timed out"):
        return False, reason
    if exit_code not in (0, None) and load_errors is None:
        return False, reason or f"exit code {exit_code}"
    if reason.startswith("no metrics"):
        return (False, f"{reason} (counted as a failure)") if allow_no_metrics else (None, reason)
    if reason:
        return None, reason
    judged = judge(thresholds, metrics)
    if judged.crossed:
        return False, "; ".join(judged.crossed)
    if judged.missing:
        why = f"did not report {', '.join(judged.missing)}"
        return (False, f"{why} (counted as a failure)") if allow_no_metrics else (None, why)
    return True, "within every threshold"
