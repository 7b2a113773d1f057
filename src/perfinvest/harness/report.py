"""The pytest plugin's table, its comparison with a saved file, and ``--perfinvest-compare-fail``.

The baseline is a file ``--perfinvest-save`` wrote (a PerfMetrics v0.1 document whose
per-round statistics keep their round values as samples). Rounds are the replicates:
each round's mean is one sample, and the verdict is ``perfinvest compare``'s own rule
(:func:`perfinvest.core.stats.verdicts.compare` on the round means): Welch's t-test p < alpha *and*
the bootstrap CI of the relative change wholly beyond the practical threshold
``max(noise, 2 %)``; a CI wholly inside it is ``unchanged``; anything else ``inconclusive``.
numpy, scipy and pydantic are imported here only, when comparing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfinvest.harness._result import Result
from perfinvest.harness._save import ROUND_STATS, SCHEMA_VERSION

if TYPE_CHECKING:
    from perfinvest.core.stats.verdicts import Comparison

#: statistics ``--perfinvest-compare-fail`` and ``--perfinvest-compare-stat`` accept
FAIL_STATS = ROUND_STATS
#: The per-round value the verdict compares. Not the mean: one preemption of a few ms on a
#: shared host doubles a round's mean (measured: round means of one A/A pair 40 % apart on
#: a loaded 2-core machine), while the round's median stays put; ``mean`` is an option.
DEFAULT_STAT = "median"
#: The practical threshold's floor. ``perfinvest compare`` uses 2 % between *runs*, whose
#: run-to-run spread it measures; two pytest sessions are one run each, and the offset
#: between sessions (which one session's rounds cannot see) is not measured. 31 back-to-back
#: A/A session pairs on a quiet 2-core host: round medians a median 2.3 % apart, a 90th
#: percentile of 12 % and a maximum of 19.5 %; with the earlier 10 % floor, 2 of 5 A/A trials
#: of one run were called regressed/improved. So 20 % (``--perfinvest-threshold`` lowers it).
MIN_THRESHOLD = 0.20
ALPHA = 0.05
#: A fail rule gates only tests whose median round lasts this long. Shorter rounds (a
#: sub-microsecond call pinned to a few loops) are mostly timer and scheduler noise, and
#: the offset between sessions dwarfs their rounds' spread: an A/A pair of 7 us rounds
#: "showed" +101 % (CI +52 % to +166 %) on CI. pyperf warns below the same 1 ms.
MIN_GATED_ROUND_MS = 1.0

Baseline = dict[str, dict[str, list[float]]]  # test -> statistic -> per-round values (ms)


class BaselineError(ValueError):
    """The baseline file is missing or is not a file ``--perfinvest-save`` wrote."""


def _saved_again(source: Path) -> str:
    return f"save one with pytest --perfinvest-save={source}"


def load_baseline(path: str | Path) -> Baseline:
    """Per test, per statistic (``mean``, ``min``, ``median``, ``max``), the round values."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(
            f"cannot read the baseline {source}: {exc.strerror or exc}; {_saved_again(source)}"
        ) from None
    if "PERF_METRICS_START" in text:
        raise BaselineError(
            f"the baseline {source} holds PERF_METRICS blocks of single iterations (an older "
            f"perfinvest, or write_metrics); rounds are compared now: {_saved_again(source)}"
        )
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"the baseline {source} is not JSON (line {exc.lineno}: {exc.msg}); "
            f"{_saved_again(source)}"
        ) from None
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        raise BaselineError(
            f"the baseline {source} is not a PerfMetrics {SCHEMA_VERSION} document; "
            f"{_saved_again(source)}"
        )
    found: Baseline = {}
    wanted = {f"{stat}_ms": stat for stat in ROUND_STATS}
    for row in doc.get("metrics") or []:
        if not isinstance(row, dict) or row.get("name") not in wanted:
            continue
        samples = row.get("samples")
        scenario = row.get("scenario")
        if isinstance(scenario, str) and isinstance(samples, list) and samples:
            values = [float(x) for x in samples if isinstance(x, int | float)]
            found.setdefault(scenario, {})[wanted[row["name"]]] = values
    if not any("mean" in stats for stats in found.values()):
        raise BaselineError(
            f"the baseline {source} holds no perf-fixture results (no mean_ms with round "
            f"values per test); {_saved_again(source)}"
        )
    return found


def compare_rounds(
    stat: str,
    base: Sequence[float],
    current: Sequence[float],
    *,
    min_threshold: float = MIN_THRESHOLD,
    alpha: float = ALPHA,
) -> Comparison:
    """``perfinvest compare``'s verdict on per-round values (lower is better)."""
    from perfinvest.core.stats.verdicts import compare

    return compare(
        f"{stat}_ms", "lower", list(base), list(current), min_threshold=min_threshold, alpha=alpha
    )


@dataclass(frozen=True)
class Row:
    result: Result
    comparison: Comparison | None  # None: no baseline for this test (or no comparison asked)


def compare_results(
    results: Sequence[Result],
    baseline: Baseline,
    *,
    stat: str = DEFAULT_STAT,
    min_threshold: float = MIN_THRESHOLD,
) -> list[Row]:
    """Every result against its baseline: one ``stat`` per round (the round median by
    default) is one sample."""
    rows = []
    for result in results:
        base = baseline.get(result.name, {}).get(stat)
        current = result.round_values(stat)
        cmp = compare_rounds(stat, base, current, min_threshold=min_threshold) if base else None
        rows.append(Row(result, cmp))
    return rows


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _change(cmp: Comparison) -> str:
    if cmp.relative_change is None:
        return "–"
    text = f"{cmp.relative_change:+.1%}"
    if cmp.ci_low is not None and cmp.ci_high is not None:
        text += f" ({cmp.ci_low:+.1%} to {cmp.ci_high:+.1%})"
    return text


def table(rows: Sequence[Row], *, compared: bool) -> str:
    """A pytest-benchmark-like markdown table; with ``compared`` the change and verdict too."""
    head = "| benchmark | min (ms) | median (ms) | mean (ms) | stddev (ms) | rounds | ops/s |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if compared:
        head += f" change ({(1 - ALPHA):.0%} CI) | verdict |"  # of the compared statistic
        rule += "---:|---|"
    lines = [head, rule]
    for row in rows:
        r, s = row.result, row.result.stats
        ops = 1000.0 / s["mean"] if s["mean"] > 0 else math.inf
        line = (
            f"| {r.name} | {_fmt(s['min'])} | {_fmt(s['median'])} | {_fmt(s['mean'])} | "
            f"{_fmt(s['stddev'])} | {r.rounds} | {ops:,.1f} |"
        )
        if compared:
            cmp = row.comparison
            line += (
                " – | new (no baseline) |" if cmp is None else f" {_change(cmp)} | {cmp.verdict} |"
            )
        lines.append(line)
    return "\n".join(lines) + "\n"


def markdown(
    results: Sequence[Result],
    baseline: Baseline,
    *,
    stat: str = DEFAULT_STAT,
    min_threshold: float = MIN_THRESHOLD,
) -> str:
    """The table against the baseline, the rule that decided, and what to be wary of."""
    rows = compare_results(results, baseline, stat=stat, min_threshold=min_threshold)
    notes = []
    for row in rows:
        r = row.result
        outliers = int(r.stats["outliers_low"] + r.stats["outliers_high"])
        if outliers or r.gc_collections:
            notes.append(
                f"- {r.name}: {outliers} outliers kept, {r.gc_collections} GC collections "
                f"during {r.gc_iterations} of {r.iterations} iterations"
            )
        if row.comparison is not None and row.comparison.verdict != "unchanged":
            notes.append(f"- {r.name}: {row.comparison.reason}")
    rule = (
        f"\nChange and verdict are of the round {stat}s: each round's {stat} is one sample "
        "(iterations inside a round are not independent). A change counts when Welch's "
        f"t-test on them gives p < {ALPHA:g} and the bootstrap {(1 - ALPHA):.0%} CI of the "
        f"change lies wholly beyond the practical threshold max(noise, {min_threshold:.0%}), "
        f"noise being the larger CV of the round {stat}s; a CI wholly inside it is "
        "unchanged; anything else inconclusive (the rule of `perfinvest compare`).\n"
    )
    return table(rows, compared=True) + rule + ("\n" + "\n".join(notes) + "\n" if notes else "")


# --------------------------------------------------------------- --perfinvest-compare-fail


@dataclass(frozen=True)
class FailRule:
    """``STAT:N%`` (relative to the baseline) or ``STAT:SECONDS`` (absolute), as
    pytest-benchmark's ``--benchmark-compare-fail``."""

    stat: str
    value: float
    relative: bool
    text: str

    def threshold(self, baseline_value_ms: float) -> float:
        """The rule as a fraction of the baseline's value."""
        if self.relative:
            return self.value
        return self.value * 1000.0 / baseline_value_ms if baseline_value_ms > 0 else math.inf


def parse_threshold(text: str) -> float:
    """``5%`` or ``0.05`` as a fraction in [0, 1); a ``ValueError`` naming the option."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"--perfinvest-threshold={text!r}: give a percentage such as 5% (or 0.05)")
    return value


def parse_fail(expr: str) -> FailRule:
    """``mean:10%`` or ``min:0.001``; a ``ValueError`` saying what is accepted otherwise."""
    usage = (
        f"--perfinvest-compare-fail={expr!r}: use STAT:N% or STAT:SECONDS with STAT one of "
        f"{', '.join(FAIL_STATS)} (e.g. mean:10%)"
    )
    stat, sep, amount = expr.strip().partition(":")
    stat = stat.strip().lower()
    if not sep or stat not in FAIL_STATS:
        raise ValueError(usage)
    amount = amount.strip()
    relative = amount.endswith("%")
    try:
        value = float(amount[:-1] if relative else amount)
    except ValueError:
        raise ValueError(usage) from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{usage}; the amount must be > 0")
    return FailRule(stat, value / 100 if relative else value, relative, expr.strip())


def _median_round_ms(result: Result) -> float:
    """How long a timed round of ``result`` took, in ms (samples are ms per call)."""
    lengths = sorted(math.fsum(samples) * result.loops for samples in result.round_samples())
    return lengths[len(lengths) // 2]


def check_fail(
    results: Sequence[Result], baseline: Baseline, rules: Sequence[FailRule]
) -> tuple[list[str], list[str]]:
    """(failures, warnings): a rule fails a test only when its regression is *shown*: the
    comparison of per-round values with the rule as the practical threshold says
    ``regressed`` (whole CI beyond it, p < alpha). A point estimate beyond the rule whose
    CI reaches below it is a warning (more rounds needed), not a failure."""
    failures, warnings = [], []
    for result in results:
        saved = baseline.get(result.name, {})
        round_ms = _median_round_ms(result)
        if round_ms < MIN_GATED_ROUND_MS and any(saved.get(rule.stat) for rule in rules):
            warnings.append(
                f"{result.name}: not gated: its rounds last {round_ms:.3g} ms, under "
                f"{MIN_GATED_ROUND_MS:g} ms, where timer and scheduler noise swamp a change; "
                "give perf() more iterations or min_time"
            )
            continue
        for rule in rules:
            base = saved.get(rule.stat)
            if not base:
                continue
            base_value = math.fsum(base) / len(base)
            cut = rule.threshold(base_value)
            cmp = compare_rounds(rule.stat, base, result.round_values(rule.stat), min_threshold=cut)
            what = f"{result.name}: {rule.stat} {_change(cmp)} against {rule.text}"
            if cmp.verdict == "regressed":
                failures.append(f"{what}: regression shown ({cmp.reason})")
            elif cmp.relative_change is not None and cmp.relative_change > cut:
                warnings.append(f"{what}: beyond the rule but not shown ({cmp.reason})")
    return failures, warnings
