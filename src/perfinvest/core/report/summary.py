"""The report's first section: the question, the answer, the cause found, what is uncertain.

A reviewer reads this before anything else. Every claim names the section holding its
evidence (an anchor), and the numbers are those the phases recorded: the experiment the
decision rests on (the last improved one, else the last measured, as phase 9 picks its
observed values), the latest profile's top hotspot, the hypothesis that experiment tested
and the commit it names. Nothing is computed anew here: the summary only quotes the state.
"""

from __future__ import annotations

import re

from perfinvest.core.models import Experiment, Hypothesis, Investigation, Run
from perfinvest.core.quantities import pct
from perfinvest.core.report.blocks import Claim, Claims, Section
from perfinvest.core.report.inputs import ReportInputs, num

#: Rule 5's default: a baseline whose CV across runs is above this is noisy.
HIGH_CV = 0.05
_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")


def decisive_experiment(inv: Investigation) -> Experiment | None:
    """The experiment the answer rests on: the last improved one, else the last measured."""
    measured = [e for e in inv.experiments if e.state == "measured" and e.verdict is not None]
    improved = [e for e in measured if e.verdict == "improved"]
    chosen = improved or measured
    return chosen[-1] if chosen else None


def _question(inputs: ReportInputs) -> Claims:
    setup = inputs.inv.setup
    metric = setup.metric
    unit = f", in {metric.unit}" if metric.unit else ""
    items = [
        Claim("scenario", "scenario", setup.scenario, "overview"),
        Claim(
            "metric",
            "primary metric",
            f"{metric.name} ({metric.direction} is better{unit})",
            "overview",
        ),
    ]
    items.extend(
        Claim(f"criterion-{i}", "success criterion", text, "overview")
        for i, text in enumerate(setup.success_criteria, 1)
    )
    return Claims("question", "The question", items)


def _with_unit(value: float | None, unit: str) -> str:
    return num(value) + (f" {unit}" if unit and value is not None else "")


def _answer(inputs: ReportInputs) -> Claims:
    inv = inputs.inv
    decision = inv.decision
    metric = inv.setup.metric
    items = []
    if decision is None:
        items.append(Claim("verdict", "verdict", "no decision yet (phase 9)", "decision"))
    else:
        recommended = decision.recommendation or "none computed"
        items.append(
            Claim(
                "verdict",
                "verdict",
                f"{decision.verdict} (recommended: {recommended}): {decision.rationale}",
                "decision",
            )
        )
    exp = decisive_experiment(inv)
    if exp is not None:
        name = exp.metric or metric.name
        items.append(
            Claim(
                "before-after",
                f"{name} before \u2192 after",
                f"{_with_unit(exp.baseline_mean, metric.unit)} \u2192 "
                f"{_with_unit(exp.candidate_mean, metric.unit)} (experiment {exp.number})",
                "experiments",
            )
        )
        items.append(
            Claim(
                "change",
                "change",
                f"{pct(exp.relative_change)} (95 % CI {pct(exp.ci_low)} .. {pct(exp.ci_high)}), "
                f"p = {num(exp.p_value, 3)}: {exp.verdict}",
                "experiments",
                {"improved": "yes", "regressed": "no"}.get(exp.verdict or "", ""),
            )
        )
    else:
        kept = inputs.current_baseline()
        mean = None
        if kept is not None:
            mean = ((kept.baseline.summaries.get(metric.name) or {}).get("runs") or {}).get("mean")
        items.append(
            Claim(
                "before-after",
                f"{metric.name} before \u2192 after",
                f"{_with_unit(mean, metric.unit)} \u2192 n/a (no measured experiment yet)",
                "baseline" if kept is not None else "experiments",
            )
        )
    items.append(_goal(inv))
    return Claims("answer", "The answer", items)


def _goal(inv: Investigation) -> Claim:
    decision = inv.decision
    if decision is None or decision.goal_met is None:
        return Claim("goal", "goal", "not judged yet", "overview")
    checks = "; ".join(
        f"{c.text}: {'not judged' if c.met is None else 'met' if c.met else 'not met'}"
        + ("" if c.observed is None else f" ({num(c.observed)})")
        for c in decision.criteria
    )
    met = decision.goal_met
    return Claim(
        "goal",
        "goal",
        ("met" if met else "not met") + (f": {checks}" if checks else ""),
        "overview",
        "yes" if met else "no",
    )


def _hypothesis(inv: Investigation, exp: Experiment | None) -> Hypothesis | None:
    by_id = {h.id: h for h in inv.hypotheses}
    if exp is not None and exp.hypothesis in by_id:
        return by_id[exp.hypothesis]
    confirmed = [h for h in inv.hypotheses if h.status == "confirmed"]
    return confirmed[0] if confirmed else None


def named_commit(inv: Investigation, hypothesis: Hypothesis) -> str:
    """The commit the hypothesis names (a sha prefix in its words), from the git history."""
    words = " ".join([hypothesis.statement, *hypothesis.evidence])
    commits = inv.history.commits if inv.history is not None else []
    for token in _SHA.findall(words):
        for commit in commits:
            if commit.sha.startswith(token):
                stat = f"{len(commit.files)} file(s), +{commit.insertions} -{commit.deletions}"
                return f"{commit.sha[:10]} {commit.subject} ({stat})"
    return ""


def _cause(inputs: ReportInputs) -> Claims:
    inv = inputs.inv
    hypothesis = _hypothesis(inv, decisive_experiment(inv))
    items = []
    if hypothesis is None:
        items.append(Claim("hypothesis", "hypothesis", "none confirmed or tested", "hypotheses"))
    else:
        items.append(
            Claim(
                "hypothesis",
                "hypothesis",
                f"{hypothesis.id} ({hypothesis.status}): {hypothesis.statement}",
                "hypotheses",
                {"confirmed": "yes", "refuted": "no"}.get(hypothesis.status, ""),
            )
        )
        commit = named_commit(inv, hypothesis)
        items.append(
            Claim(
                "commit",
                "commit",
                commit or "none named by the hypothesis in the gathered history",
                "hypotheses",
            )
        )
    profiled = [p for p in inv.profiling if p.hotspots]
    if profiled:
        profile = profiled[-1]
        top = profile.hotspots[0]
        where = top.hot_line or (f"{top.file}:{top.line}" if top.file else "?")
        items.append(
            Claim(
                "hot-line",
                "hot line",
                f"{where} in {top.function} ({top.self_pct:.1f} % self, {top.total_pct:.1f} % "
                f"total, profile-{profile.number})",
                "profiling",
            )
        )
    else:
        items.append(Claim("hot-line", "hot line", "no profile yet", "profiling"))
    return Claims("cause", "The cause found", items)


def _runs_by_section(inputs: ReportInputs) -> list[tuple[str, list[Run]]]:
    kept = inputs.current_baseline()
    sides = [run for a, b in inputs.experiment_runs.values() for run in a + b]
    return [("baseline", kept.baseline.runs if kept else []), ("experiments", sides)]


def _uncertain(inputs: ReportInputs) -> Claims:
    inv = inputs.inv
    items = []
    groups = _runs_by_section(inputs)
    runs = [run for _, group in groups for run in group]
    short = [run for run in runs if not run.compliant]
    if short:
        first = next(key for key, group in groups if any(not r.compliant for r in group))
        policy = inv.setup.short_run_policy
        why = f" (short-run policy: {policy.reason})" if policy is not None else ""
        items.append(
            Claim(
                "non-compliant",
                "non-compliant runs",
                f"{len(short)} of {len(runs)} runs{why}",
                first,
                "no",
            )
        )
    invalid = [run for run in runs if not run.valid]
    if invalid:
        items.append(
            Claim("invalid", "invalid runs", f"{len(invalid)} of {len(runs)} runs", "baseline")
        )
    kept = inputs.current_baseline()
    if kept is not None:
        summary = (kept.baseline.summaries.get(inv.setup.metric.name) or {}).get("runs") or {}
        cv = summary.get("cv")
        flags = [f for f in kept.baseline.flags if "variance" in f]
        if flags or (cv is not None and cv > HIGH_CV):
            text = "; ".join(flags) or f"baseline CV {cv:.1%} is above {HIGH_CV:.0%}"
            items.append(Claim("high-variance", "high variance", text, "baseline", "no"))
    bp = inv.breaking_point
    if bp is not None and bp.widened:
        items.append(
            Claim(
                "widened",
                "widened interval",
                "the breaking point is an interval: a re-check disagreed",
                "breaking-point",
                "no",
            )
        )
    unsure = [e for e in inv.experiments if e.verdict == "inconclusive"]
    if unsure:
        numbers = ", ".join(str(e.number) for e in unsure)
        items.append(
            Claim("inconclusive", "inconclusive", f"experiment(s) {numbers}", "experiments")
        )
    if inputs.problems:
        items.append(
            Claim("unread", "files not shown", f"{len(inputs.problems)} unreadable", "problems")
        )
    if not items:
        items.append(Claim("nothing", "nothing flagged", "no run or result is marked uncertain"))
    return Claims("uncertain", "Left uncertain", items)


def summary_section(inputs: ReportInputs) -> Section:
    """The headline: read first, every claim linked to the section holding its evidence."""
    section = Section("summary", "Summary", inputs.inv.status.replace("_", " "))
    section.blocks.extend([_question(inputs), _answer(inputs), _cause(inputs), _uncertain(inputs)])
    return section
