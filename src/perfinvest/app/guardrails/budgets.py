"""CI guardrails: ``budget check`` (budgets against a result, a baseline, the history)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfinvest.app.context import AppContext
from perfinvest.app.measuring.compare import load_runs
from perfinvest.app.result import CommandResult, regression_failure
from perfinvest.core.errors import usage_error
from perfinvest.core.guardrails.budgets import (
    BudgetRule,
    BudgetStatus,
    BudgetVerdict,
    check_budgets,
    parse_budgets,
    render_junit,
    render_markdown,
)
from perfinvest.core.models import Run

if TYPE_CHECKING:
    from perfinvest.app.guardrails.history import HistoryOptions

DEFAULT_BUDGETS = Path("perf/budgets.yaml")


@dataclass(frozen=True)
class BudgetOptions:
    budgets: Path | None = None  # default: perf/budgets.yaml under the repo root
    baseline: Path | None = None
    version: str | None = None
    enforce: bool = False
    junit: Path | None = None
    summary: Path | None = None  # markdown appended here (e.g. $GITHUB_STEP_SUMMARY)
    history: int | None = None  # also judge each budget's metric against the last N
    history_model: str = "t"  # t or iqr (docs/history.md)
    rule: BudgetRule | None = None  # --budget-rule: point or ci, over the file's rules
    noise_floor: float = 0.001  # the history limits' least distance, relative (docs/history.md)


def read_yaml(path: Path, what: str) -> Any:
    import yaml

    from perfinvest.store.safe_yaml import load_yaml, read_yaml_text

    try:
        text = read_yaml_text(path)
    except OSError as exc:
        raise usage_error(
            f"cannot read {what} {path}: {exc.strerror or exc} (write one, see docs/guardrails.md)"
        ) from None
    try:
        return load_yaml(text, str(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise usage_error(
            f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None


def _baseline(ctx: AppContext, options: BudgetOptions) -> tuple[list[Run] | None, str]:
    if options.baseline is not None and options.version is not None:
        raise usage_error("give --baseline FILE or --version V, not both")
    if options.baseline is not None:
        runs, _ = load_runs(options.baseline)
        return runs, options.baseline.name
    if options.version is not None:
        return list(ctx.store.load_baseline(options.version).runs), options.version
    return None, "baseline"


def _history(
    ctx: AppContext, current: Path, runs: list[Run], metrics: list[str], options: HistoryOptions
) -> tuple[list[BudgetVerdict], list[str], str]:
    """Each budget's metric against the last ``window`` results: verdicts, notes, trends."""
    from dataclasses import replace

    from perfinvest.app.guardrails.history import current_point, same_unit, window_of, window_trend
    from perfinvest.core.guardrails.history_gate import judge
    from perfinvest.core.stats.baselines import run_values

    values = run_values(runs)
    units = {m.key: m.unit for r in runs for m in r.metrics}
    out, notes, tables = [], [], []
    window = options.window
    for key in metrics:
        found = window_of(ctx, key, replace(options, metric=key), exclude=current)
        same_unit(found, units.get(key), str(current))
        notes += found.notes
        mean = sum(values[key]) / len(values[key])
        j = judge(
            [p.mean for p in found.points],
            mean,
            metric=key,
            direction=found.direction,
            model=options.model,
            k=options.k,
            noise_floor=options.noise_floor,
        )
        status: BudgetStatus = "breach" if j.breach else "ok" if j.status == "within" else "skipped"
        out.append(
            BudgetVerdict(key, "history", float(window), mean, units[key], status, j.message)
        )
        _, table = window_trend(found, current_point(current.name, runs, key), options)
        tables.append(f"\n### {key}: the last {len(found.points)} results\n\n{table}")
    return out, notes, "".join(tables)


def budget_check(ctx: AppContext, current: Path, options: BudgetOptions) -> CommandResult:
    """Warn-only by default: breaches are reported, exit 0; ``enforce`` makes them exit 8."""
    window = None
    if options.history is not None:
        from perfinvest.app.guardrails.history import gate_options

        window = gate_options(
            options.history, options.history_model, noise_floor=options.noise_floor
        )
    budgets_path = options.budgets or ctx.repo_root / DEFAULT_BUDGETS
    budgets = parse_budgets(read_yaml(budgets_path, "budgets file"), str(budgets_path))
    runs, _ = load_runs(current)
    baseline, label = _baseline(ctx, options)
    verdicts = check_budgets(
        budgets,
        runs,
        baseline,
        current_label=current.name,
        baseline_label=label,
        rule=options.rule,
    )
    result = CommandResult(command="budget check")
    trends = ""
    if window is not None:
        extra, notes, trends = _history(
            ctx, current, runs, sorted({b.metric for b in budgets}), window
        )
        verdicts += extra
        result.findings += notes
    done = _finish(
        "budget check", verdicts, options.enforce, options.junit, options.summary, trends
    )
    done.findings += result.findings
    return done


def _finish(
    command: str,
    verdicts: list[BudgetVerdict],
    enforce: bool,
    junit: Path | None,
    summary: Path | None,
    trends: str = "",
) -> CommandResult:
    result = CommandResult(command=command)
    markdown = render_markdown(verdicts, enforce) + trends
    breaches = [v for v in verdicts if v.status == "breach"]
    result.findings = [
        ("BREACH: " if v.status == "breach" else f"{v.status}: ") + v.message
        for v in sorted(verdicts, key=lambda v: (v.status != "breach", v.metric, v.limit))
    ]
    result.data = {
        "enforce": enforce,
        "breaches": len(breaches),
        "verdicts": [v.to_json() for v in verdicts],
        "markdown": markdown,
    }
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(render_junit(verdicts), encoding="utf-8")
    if summary is not None:
        with summary.open("a", encoding="utf-8") as out:
            out.write(markdown)
    if breaches and enforce:
        regression_failure(
            result, f"budget breached: {', '.join(sorted({v.metric for v in breaches}))}"
        )
    elif breaches:
        result.next = "warn-only: pass --enforce to fail the job on a breach (exit 8)"
    return result


def query_check(
    ctx: AppContext, stats_path: Path, budgets: Path | None, enforce: bool, junit: Path | None
) -> CommandResult:
    """Query budgets against a stats file; warn-only unless ``enforce`` (exit 8)."""
    from perfinvest.core.guardrails.query_budgets import check_queries, loads_stats, parse_stats

    path = budgets or ctx.repo_root / "perf/query-budgets.yaml"
    try:
        text = stats_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise usage_error(f"cannot read {stats_path}: {reason or exc}") from None
    stats = parse_stats(loads_stats(text, str(stats_path)), str(stats_path))
    raw, lines = _yaml_with_lines(path, "query budgets file")
    verdicts = check_queries(raw, stats, str(path), lines)
    return _finish("budget queries", verdicts, enforce, junit, None)


def _yaml_with_lines(path: Path, what: str) -> tuple[Any, dict[tuple[int, str], int]]:
    """The query budgets file and the line of each ``queries[i]`` item and field in it."""
    import yaml

    from perfinvest.store.safe_yaml import compose_yaml

    raw = read_yaml(path, what)  # every read and parse error, as for the other files
    _, root = compose_yaml(path.read_text(encoding="utf-8"), str(path))
    lines: dict[tuple[int, str], int] = {}
    if not isinstance(root, yaml.MappingNode):
        return raw, lines
    for key, value in root.value:
        if key.value != "queries" or not isinstance(value, yaml.SequenceNode):
            continue
        for i, item in enumerate(value.value):
            lines[(i, "")] = item.start_mark.line + 1
            if isinstance(item, yaml.MappingNode):
                for field, _ in item.value:
                    lines[(i, str(field.value))] = field.start_mark.line + 1
    return raw, lines
