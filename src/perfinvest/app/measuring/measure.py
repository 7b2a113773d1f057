"""Measuring: one or more sequential runs of a benchmark, turned into Run records.

Every phase that measures (baseline, breaking point, constraints, experiments, ad-hoc
``perfinvest run``) comes through here, so the benchmark contract, the duration policy
(rule 2), the quiet-machine check (rule 6), reproducibility re-runs (rule 5) and the
artifacts are the same everywhere. The caller holds the host-wide lock (rule 1) around
all of it, so interleaved A/B measurements are one locked session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from perfinvest.adapters import fingerprint
from perfinvest.app.measuring.run_once import contract_env, run_notes, run_once, survivors_note
from perfinvest.app.measuring.spec import (
    Benchmark,
    Measurement,
    Progress,
    Session,
    resolve_tool_mode,
    with_env,
)
from perfinvest.core.models import Run

__all__ = [
    "CV_THRESHOLD",
    "Benchmark",
    "Measurement",
    "Progress",
    "Session",
    "contract_env",
    "measure",
    "primary_values",
    "resolve_tool_mode",
    "run_notes",
    "run_once",
    "survivors_note",
    "with_env",
]

CV_THRESHOLD = 0.05


def primary_values(runs: Sequence[Run], metric: str) -> list[float]:
    values = []
    for run in runs:
        found = run.metric(metric)
        if run.valid and found is not None:
            values.append(found.value)
    return values


def _cv(values: Sequence[float]) -> float | None:
    from perfinvest.core.stats.verdicts import coefficient_of_variation

    return coefficient_of_variation(values) if len(values) >= 2 else None


def measure(
    benchmark: Benchmark,
    session: Session,
    *,
    label: str,
    runs: int,
    primary_metric: str | None,
    max_reruns: int = 2,
    on_run: Callable[[Run], None] | None = None,
) -> Measurement:
    """``runs`` sequential runs; rule 5 adds up to ``max_reruns`` when the CV is too high."""
    benchmark = resolve_tool_mode(benchmark, session.progress)
    result = Measurement(runs=[])
    total = runs
    index = 0
    git = fingerprint.git_state(session.repo_root, session.state_dir)  # the tree holds still
    while index < total:
        index += 1
        run = run_once(benchmark, session, label, index, total, git)
        result.runs.append(run)
        result.warnings.extend(run_notes(run))
        if on_run is not None:
            on_run(run)
        if index == total and primary_metric is not None and total < runs + max_reruns:
            cv = _cv(primary_values(result.runs, primary_metric))
            if cv is not None and cv > CV_THRESHOLD:
                total += 1
                message = (
                    f"rule 5: CV of {primary_metric} across runs is {cv:.1%} > "
                    f"{CV_THRESHOLD:.0%}; re-running ({total - runs} of {max_reruns})"
                )
                result.warnings.append(message)
                session.progress.note(message)
    if primary_metric is not None:
        cv = _cv(primary_values(result.runs, primary_metric))
        if cv is not None and cv > CV_THRESHOLD:
            result.flags.append(
                f"high variance: CV of {primary_metric} is {cv:.1%} after {len(result.runs)} "
                "runs (rule 5); treat comparisons with care"
            )
    return result
