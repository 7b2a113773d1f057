"""Performance budgets and their verdicts (pure): ``perf/budgets.yaml`` against a result.

A budget names a metric (``scenario:name`` or ``name`` plus ``scenario``) and one or both
limits: ``max`` (an absolute ceiling on the current mean, in the metric's unit) and
``max_regression_pct`` (the largest allowed regression against a baseline). A regression
counts only when the comparison is significant (p < 0.05 and its CI beyond the practical
threshold ``max(noise, 2 %)``, see :mod:`perfinvest.core.stats.verdicts`) *and* the change exceeds
the budget: noise never breaches a budget.

How "the change exceeds the budget" is read is the budget's **rule**, said in every verdict:

* ``point`` (the default): the point estimate of the change is beyond the budget. A change
  of +20.95 % breaches a 20 % budget even when its CI reaches down to +12.6 %;
* ``ci`` (conservative, no breach on a change the data cannot place beyond the budget): the
  whole CI is beyond it, i.e. its end nearest to no change.

A budget's ``rule:`` wins over the file's top-level ``rule:``; ``--budget-rule`` wins over both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

from perfinvest.core.errors import usage_error
from perfinvest.core.models import Run
from perfinvest.core.stats.baselines import run_values
from perfinvest.core.stats.comparing import compare_runs

BudgetStatus = Literal["ok", "breach", "skipped", "unbudgeted"]
# a budget's limits, the history gate's, a query budget's (its file's keys), and none
BudgetLimit = Literal[
    "max", "max_regression_pct", "history", "p95_ms_budget", "max_rows", "unbudgeted"
]
BudgetRule = Literal["point", "ci"]
BUDGET_RULES: tuple[BudgetRule, ...] = ("point", "ci")
_KEYS = {"metric", "scenario", "max", "max_regression_pct", "unit", "notes", "rule"}
_RULE_WORDS = {
    "point": "rule: point estimate beyond the budget",
    "ci": "rule: the whole CI beyond the budget",
}


@dataclass(frozen=True)
class Budget:
    metric: str  # the summary key: ``scenario:name`` or ``name``
    max: float | None = None
    max_regression_pct: float | None = None
    unit: str | None = None
    notes: str = ""
    rule: BudgetRule | None = None  # None: the file's rule, else "point"


@dataclass(frozen=True)
class BudgetVerdict:
    """One limit of one budget against the current result."""

    metric: str
    limit: BudgetLimit
    budget: float | None
    current: float | None
    unit: str
    status: BudgetStatus
    message: str
    baseline: float | None = None
    change: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    rule: BudgetRule | None = None  # regression limits: how "beyond the budget" was read

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any, where: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise usage_error(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def _rule(value: Any, where: str) -> BudgetRule | None:
    if value is None:
        return None
    if value not in BUDGET_RULES:
        raise usage_error(f"{where}: rule must be `point` or `ci`, got {value!r}")
    rule: BudgetRule = value
    return rule


def parse_budgets(raw: Any, source: str) -> list[Budget]:
    """The ``budgets:`` list of a budgets file; every problem is one clear usage error."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("budgets"), list):
        raise usage_error(f"{source}: expected a mapping with a `budgets:` list")
    unknown_top = sorted(set(raw) - {"budgets", "rule"})
    if unknown_top:
        raise usage_error(f"{source}: unknown top-level key(s) {', '.join(map(str, unknown_top))}")
    default = _rule(raw.get("rule"), f"{source}: rule")
    budgets = []
    for i, item in enumerate(raw["budgets"]):
        where = f"{source}: budgets[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("metric"), str):
            raise usage_error(f"{where}: each budget needs `metric: NAME`")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise usage_error(f"{where}: unknown key(s) {', '.join(unknown)}")
        scenario = item.get("scenario")
        key = f"{scenario}:{item['metric']}" if scenario else str(item["metric"])
        budget = Budget(
            key,
            _number(item.get("max"), where, "max"),
            _number(item.get("max_regression_pct"), where, "max_regression_pct"),
            str(item["unit"]) if item.get("unit") is not None else None,
            str(item.get("notes") or ""),
            _rule(item.get("rule"), f"{where} ({key})") or default,
        )
        if budget.max is None and budget.max_regression_pct is None:
            raise usage_error(f"{where} ({key}): give `max` and/or `max_regression_pct`")
        if budget.max_regression_pct is not None and budget.max_regression_pct < 0:
            raise usage_error(f"{where} ({key}): max_regression_pct must be >= 0")
        budgets.append(budget)
    return budgets


def _info(runs: Sequence[Run]) -> dict[str, tuple[str, str | None]]:
    return {m.key: (m.unit, m.direction) for r in runs if r.valid for m in r.metrics}


def check_budgets(
    budgets: Sequence[Budget],
    current: Sequence[Run],
    baseline: Sequence[Run] | None,
    *,
    current_label: str,
    baseline_label: str = "baseline",
    seed: int = 0,
    rule: BudgetRule | None = None,
) -> list[BudgetVerdict]:
    """Every limit of every budget; a budget on a metric the result lacks, or in another
    unit, is a usage error (a typo must not pass silently as "no breach").

    ``rule`` (``--budget-rule``) overrides every budget's rule for the regression limits.
    """
    info = _info(current)
    values = run_values(current)
    for b in budgets:
        if b.metric not in values:
            raise usage_error(
                f"budget on {b.metric}: {current_label} does not report it "
                f"(it reports {', '.join(sorted(values)) or 'no metric'})"
            )
        unit = info[b.metric][0]
        if b.unit is not None and b.unit != unit:
            raise usage_error(
                f"budget on {b.metric} is in {b.unit or 'no unit'} but {current_label} "
                f"reports it in {unit or 'no unit'}: fix the budget's `unit`"
            )
    table = None
    regress = [b.metric for b in budgets if b.max_regression_pct is not None]
    if baseline is not None and regress:
        base_keys = set(run_values(baseline))
        wanted = sorted({k for k in regress if k in base_keys})
        if wanted:
            table = compare_runs(
                baseline,
                current,
                baseline_label=baseline_label,
                candidate_label=current_label,
                metrics=wanted,
                seed=seed,
            )
    rows = {r.key: r for r in table.rows} if table else {}
    out: list[BudgetVerdict] = []
    for b in budgets:
        unit = info[b.metric][0]
        mean = math.fsum(values[b.metric]) / len(values[b.metric])
        if b.max is not None:
            higher = info[b.metric][1] == "higher"
            bad = mean < b.max if higher else mean > b.max
            word = "min" if higher else "max"
            out.append(
                BudgetVerdict(
                    b.metric,
                    "max",
                    b.max,
                    mean,
                    unit,
                    "breach" if bad else "ok",
                    f"{b.metric} = {mean:.4g} {unit} against the {word} {b.max:.4g} {unit}",
                )
            )
        if b.max_regression_pct is not None:
            applied = rule or b.rule or "point"
            row = rows.get(b.metric)
            out.append(_regression(b, mean, unit, row, baseline is not None, applied))
    return out


def _worse(change: float | None, direction: str) -> float | None:
    """The change as a regression (positive is worse), whatever the direction."""
    return None if change is None else (-change if direction == "higher" else change)


def _regression(
    b: Budget, mean: float, unit: str, row: Any, have_baseline: bool, rule: BudgetRule
) -> BudgetVerdict:
    pct = b.max_regression_pct or 0.0
    if row is None:
        why = "the baseline does not report it" if have_baseline else "no baseline given"
        return BudgetVerdict(
            b.metric,
            "max_regression_pct",
            pct,
            mean,
            unit,
            "skipped",
            f"{b.metric}: regression budget {pct:g} % not checked: {why}",
        )
    c = row.comparison
    change = c.relative_change
    worse = _worse(change, c.direction)
    ends = [_worse(c.ci_low, c.direction), _worse(c.ci_high, c.direction)]
    nearest = min((e for e in ends if e is not None), default=None)  # nearest to no change
    judged = worse if rule == "point" else nearest
    breach = c.verdict == "regressed" and judged is not None and judged * 100 > pct
    ci = (
        f"; 95 % CI {c.ci_low:+.1%} to {c.ci_high:+.1%}"
        if c.ci_low is not None and c.ci_high is not None
        else ""
    )
    said = f" ({_RULE_WORDS[rule]}{ci})"
    if breach:
        msg = f"{b.metric}: significant regression of {worse:.1%} exceeds the {pct:g} % budget"
    elif c.verdict == "regressed":
        msg = f"{b.metric}: significant regression of {worse:.1%}, within the {pct:g} % budget"
        if rule == "ci" and worse is not None and worse * 100 > pct and nearest is not None:
            msg += f": the CI reaches {nearest:.1%}, not wholly beyond it"
    else:
        msg = f"{b.metric}: {c.verdict} ({c.reason})"
        said = f" ({_RULE_WORDS[rule]})"
    msg += said
    return BudgetVerdict(
        b.metric,
        "max_regression_pct",
        pct,
        c.candidate_mean,
        unit,
        "breach" if breach else "ok",
        msg,
        c.baseline_mean,
        change,
        c.ci_low,
        c.ci_high,
        c.p_welch,
        rule,
    )


def number_text(value: float) -> str:
    """A value for people: whole numbers in full (``14,900``, never ``1.49e+04``), others to
    four significant digits (``3.142``, ``1,235``)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if math.isfinite(value) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return format(value, ".4g")


def _fmt(value: float | None, spec: str | None = None) -> str:
    if value is None:
        return "n/a"
    return number_text(value) if spec is None else format(value, spec)


def render_markdown(verdicts: Sequence[BudgetVerdict], enforce: bool) -> str:
    """The step-summary table: breaches first, each marked."""
    breaches = [v for v in verdicts if v.status == "breach"]
    mode = "enforced" if enforce else "warn-only"
    head = (
        f"## Performance budgets ({mode}): {len(breaches)} breach(es) of {len(verdicts)} check(s)"
    )
    lines = [
        head,
        "",
        "| status | metric | limit | budget | current | baseline | change | 95 % CI | p |",
        "|---|---|---|---:|---:|---:|---:|---|---:|",
    ]
    order = sorted(verdicts, key=lambda v: (v.status != "breach", v.metric, v.limit))
    for v in order:
        mark = {"breach": "**BREACH**", "ok": "ok"}.get(v.status, v.status)
        budget = f"{_fmt(v.budget)} %" if v.limit == "max_regression_pct" else _fmt(v.budget)
        ci = (
            "n/a"
            if v.ci_low is None or v.ci_high is None
            else f"[{v.ci_low:+.2%}, {v.ci_high:+.2%}]"
        )
        change = "n/a" if v.change is None else f"{v.change:+.2%}"
        limit = f"{v.limit} ({v.rule})" if v.rule else v.limit
        lines.append(
            f"| {mark} | {v.metric} | {limit} | {budget} | {_fmt(v.current)} {v.unit} | "
            f"{_fmt(v.baseline)} | {change} | {ci} | {_fmt(v.p_value, '.3g')} |"
        )
    return "\n".join(lines) + "\n"


def render_junit(verdicts: Sequence[BudgetVerdict], name: str = "perfinvest.budgets") -> str:
    """JUnit XML: one testcase per limit, named ``metric limit`` (a repeat gets `` #2``: a CI
    dashboard keys results by name); a breach is a failure, a skipped or unbudgeted check
    skipped."""
    failures = sum(v.status == "breach" for v in verdicts)
    skipped = sum(v.status in ("skipped", "unbudgeted") for v in verdicts)
    seen: dict[str, int] = {}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name={quoteattr(name)} tests="{len(verdicts)}" '
        f'failures="{failures}" errors="0" skipped="{skipped}">',
    ]
    for v in verdicts:
        title = f"{v.metric} {v.limit}"
        seen[title] = seen.get(title, 0) + 1
        if seen[title] > 1:
            title += f" #{seen[title]}"
        case = f"  <testcase classname={quoteattr(name)} name={quoteattr(title)}"
        if v.status == "ok":
            out.append(case + " />")
        elif v.status in ("skipped", "unbudgeted"):
            out += [case + ">", f"    <skipped message={quoteattr(v.message)} />", "  </testcase>"]
        else:
            out += [
                case + ">",
                f'    <failure type="budget" message={quoteattr(v.message)}>'
                f"{escape(v.message)}</failure>",
                "  </testcase>",
            ]
    out.append("</testsuite>")
    return "\n".join(out) + "\n"
