"""Phase 9's recommendation, computed from the experiments and the success criteria (pure).

One vocabulary throughout the tool: a comparison is ``improved`` / ``regressed`` /
``unchanged`` / ``inconclusive``; a hypothesis becomes ``confirmed`` / ``refuted`` /
``inconclusive``; a decision is ``continue`` / ``stop`` / ``abandon``.

The rules, in order:

1. every success criterion perfinvest can read is met by the latest measured values: ``stop``;
2. some experiment improved the primary metric significantly, but the goal is not met: ``continue``;
3. at least two measured experiments and none improved: ``abandon``;
4. otherwise (too little evidence): ``continue``.

Success criteria are free text; ``metric op number [unit]`` (``p95_ms < 120``,
``throughput >= 5000 rps``) is understood, anything else is named as unreadable in the
reasoning and left to the person deciding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from perfinvest.core.models import CriterionCheck, DecisionVerdict, Experiment

#: How many measured experiments without any gain make ``abandon`` the recommendation.
ABANDON_AFTER = 2

_CRITERION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w.:\[\]/-]*)\s*(?P<op><=|>=|==|<|>|=|≤|≥)\s*"
    r"(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>[A-Za-z%/µ]*)\s*$"
)
_OPS = {"≤": "<=", "≥": ">=", "=": "=="}


@dataclass(frozen=True)
class ParsedCriterion:
    metric: str
    op: str
    target: float


def parse_criterion(text: str) -> ParsedCriterion | None:
    """``metric op number [unit]``, or None when the text is not of that form."""
    match = _CRITERION.match(text)
    if match is None:
        return None
    op = _OPS.get(match["op"], match["op"])
    return ParsedCriterion(match["metric"], op, float(match["number"]))


def _holds(value: float, op: str, target: float) -> bool:
    return {
        "<": value < target,
        "<=": value <= target,
        ">": value > target,
        ">=": value >= target,
        "==": value == target,
    }[op]


def judge_criteria(
    criteria: Sequence[str], observed: Mapping[str, float], source: str
) -> list[CriterionCheck]:
    """Each criterion against ``observed`` (metric → value measured in ``source``)."""
    checks = []
    for text in criteria:
        parsed = parse_criterion(text)
        if parsed is None:
            checks.append(
                CriterionCheck(
                    text=text,
                    note="not of the form `metric op number`: judge it yourself",
                )
            )
            continue
        value = observed.get(parsed.metric)
        if value is None:
            checks.append(
                CriterionCheck(
                    text=text,
                    metric=parsed.metric,
                    op=parsed.op,
                    target=parsed.target,
                    source=source,
                    note=f"{parsed.metric} was not measured in {source}",
                )
            )
            continue
        checks.append(
            CriterionCheck(
                text=text,
                metric=parsed.metric,
                op=parsed.op,
                target=parsed.target,
                observed=value,
                source=source,
                met=_holds(value, parsed.op, parsed.target),
            )
        )
    return checks


@dataclass(frozen=True)
class Recommendation:
    verdict: DecisionVerdict
    reasoning: list[str]
    goal_met: bool | None
    criteria: list[CriterionCheck]


def _describe(check: CriterionCheck) -> str:
    if check.met is None:
        return f"criterion {check.text!r}: {check.note}"
    state = "met" if check.met else "not met"
    measured = f"{check.metric} = {check.observed:.6g} in {check.source}"
    return f"criterion {check.text!r}: {state} ({measured})"


def _effect(e: Experiment) -> str:
    change = f"{e.relative_change:+.2%}" if e.relative_change is not None else "n/a"
    p = f", p={e.p_value:.3g}" if e.p_value is not None else ""
    return f"experiment {e.number} ({e.change}): {e.verdict or 'no verdict'} {change}{p}"


def recommend(
    experiments: Sequence[Experiment],
    criteria: Sequence[str],
    observed: Mapping[str, float],
    source: str,
) -> Recommendation:
    """The recommended verdict and every reason for it, in order."""
    checks = judge_criteria(criteria, observed, source)
    judged = [c for c in checks if c.met is not None]
    goal_met: bool | None = all(c.met for c in judged) if judged else None
    reasoning = [_describe(c) for c in checks]
    unreadable = [c for c in checks if c.met is None]
    if unreadable and judged:
        reasoning.append(
            f"{len(unreadable)} criterion/criteria could not be judged automatically; the goal "
            "counts as met only by the ones perfinvest can read"
        )
    measured = [e for e in experiments if e.state == "measured" and e.verdict is not None]
    gains = [e for e in measured if e.verdict == "improved"]
    no_gain = [e for e in measured if e.verdict != "improved"]
    reasoning.extend(_effect(e) for e in measured)
    verdict: DecisionVerdict
    if goal_met:
        verdict = "stop"
        reasoning.append(f"goal met by {source}: stop")
    elif gains:
        verdict = "continue"
        reasoning.append(
            f"{len(gains)} experiment(s) improved significantly but the goal is "
            f"{'not met' if goal_met is False else 'not judged met'}: continue"
        )
    elif len(no_gain) >= ABANDON_AFTER:
        verdict = "abandon"
        reasoning.append(
            f"{len(no_gain)} measured experiment(s), none improved: abandon (or form new "
            "hypotheses)"
        )
    else:
        verdict = "continue"
        reasoning.append(
            f"only {len(measured)} measured experiment(s) and no gain yet: too little evidence, "
            "continue"
        )
    return Recommendation(verdict, reasoning, goal_met, checks)
