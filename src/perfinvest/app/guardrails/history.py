"""``perfinvest history``: the trend over the baselines history, and a result checked
against the threshold the last N results give (Bencher-style, see
core/guardrails/history_gate.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import NoReturn

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult, regression_failure
from perfinvest.core.errors import refused, usage_error
from perfinvest.core.guardrails.history_gate import (
    DEFAULT_IQR_K,
    DEFAULT_NOISE_FLOOR,
    DEFAULT_WINDOW,
    MIN_POINTS,
    MODELS,
    Direction,
    HistoryModel,
    Judgement,
    TrendPoint,
    TrendRow,
    judge,
    shown,
    summary_key,
    trend,
    trend_markdown,
)
from perfinvest.core.models import Baseline, Run
from perfinvest.store.history import History, Kept, read_history


@dataclass(frozen=True)
class HistoryOptions:
    metric: str | None = None  # default: the newest baseline's primary metric
    scenario: str | None = None
    window: int = DEFAULT_WINDOW
    model: HistoryModel = "t"
    k: float = DEFAULT_IQR_K
    per_run: bool = False  # one point per valid run instead of one per baseline
    noise_floor: float = DEFAULT_NOISE_FLOOR  # limits at least this fraction from the center


@dataclass(frozen=True)
class _Series:
    metric: str  # the name asked for (or the primary one)
    direction: Direction
    points: list[TrendPoint]
    skipped: list[str]  # baselines without the metric, files unreadable
    hosts: list[str]  # per point: the host it was measured on
    configs: list[str]  # per point: its configuration hash
    units: list[str] = field(default_factory=list)  # per point: the metric's unit
    kept: list[Kept] = field(default_factory=list)  # per point: the baseline it comes from


def _mixed(series: _Series, window: int, current_host: str | None = None) -> list[str]:
    """Findings when the window is not one machine's one setup (Bencher's testbed)."""
    hosts = set(series.hosts[-window:])
    configs = set(series.configs[-window:])
    notes = []
    if len(hosts) > 1:
        notes.append(
            f"the window mixes {len(hosts)} hosts ({', '.join(sorted(hosts))}): its spread "
            "includes the machines' difference, not only their noise"
        )
    if len(configs) > 1:
        notes.append(
            f"the window mixes {len(configs)} benchmark configurations (command, mode, "
            "environment): compare like with like"
        )
    if current_host and hosts and current_host not in hosts:
        notes.append(f"the checked result was measured on {current_host}, the window on others")
    return notes


def _check_options(options: HistoryOptions) -> None:
    if options.window < 1:
        raise usage_error("--window must be at least 1 (the number of past results)")
    if options.model not in MODELS:
        raise usage_error(f"unknown --model {options.model!r}: use t or iqr")
    if not options.k > 0:
        raise usage_error("--k must be positive (1.5 is Tukey's fence)")
    if not 0 <= options.noise_floor < 1:
        raise usage_error(
            f"--noise-floor must be a fraction in [0, 1) such as 0.001 (0.1 %), "
            f"got {options.noise_floor}"
        )


def gate_options(
    window: int,
    model: str = "t",
    metric: str | None = None,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
) -> HistoryOptions:
    """A gate's ``--history N`` (N >= 2: one point has no spread) and ``--history-model``."""
    if window < 2:
        raise usage_error(f"--history must be at least 2 (results in the window), got {window}")
    options = HistoryOptions(
        metric=metric,
        window=window,
        model=model,  # type: ignore[arg-type]
        noise_floor=noise_floor,
    )
    _check_options(options)
    return options


def _empty(ctx: AppContext, history: History) -> None:
    if history.entries:
        return
    detail = (
        f" ({len(history.unreadable)} unreadable file(s) skipped)" if history.unreadable else ""
    )
    raise refused(
        f"the baselines history is empty: no baseline in {ctx.paths.baselines_dir}{detail}; "
        "build one with `perfinvest baseline` for each version (a new baseline of a version "
        "archives the old one, so re-running it also adds a point)",
        needs=["perfinvest baseline"],
    )


def _point(kept: Kept, key: str) -> TrendPoint:
    runs = kept.baseline.summaries[key]["runs"]
    return TrendPoint(
        label=kept.baseline.version,
        at=kept.baseline.created_at.isoformat(),
        mean=float(runs["mean"]),
        cv=runs.get("cv"),
        runs=int(runs.get("n", 0)),
        source=kept.relative,
        archived=kept.archived,
    )


def _run_points(kept: Kept, key: str) -> list[TrendPoint]:
    """``--per-run``: each valid run of the baseline is a point (more points, sooner)."""
    return [
        TrendPoint(
            label=f"{kept.baseline.version} {run.run_id}",
            at=run.started_at.isoformat(),
            mean=metric.value,
            runs=1,
            source=kept.relative,
            archived=kept.archived,
        )
        for run in kept.baseline.runs
        if run.valid
        for metric in run.metrics
        if metric.key == key
    ]


def _series(
    entries: list[Kept], metric: str | None, options: HistoryOptions, history: History
) -> _Series:
    name = metric or entries[-1].baseline.primary_metric.name
    direction: Direction = None
    points: list[TrendPoint] = []
    skipped = list(history.unreadable)
    hosts: list[str] = []
    configs: list[str] = []
    units: list[str] = []
    baselines: list[Kept] = []
    for kept in entries:
        summaries = kept.baseline.summaries
        key = summary_key(list(summaries), name, options.scenario)
        if key is None:
            skipped.append(f"{kept.relative} has no {name!r}")
            continue
        try:
            found = _run_points(kept, key) if options.per_run else [_point(kept, key)]
        except (KeyError, TypeError, ValueError, AttributeError):
            skipped.append(f"{kept.relative} has no readable summary of {key!r}")
            continue
        direction = summaries[key].get("direction") or direction
        points.extend(found)
        hosts.extend([kept.baseline.environment.host] * len(found))
        configs.extend([kept.baseline.config_hash] * len(found))
        units.extend([str(summaries[key].get("unit") or "")] * len(found))
        baselines.extend([kept] * len(found))
    return _Series(name, direction, points, skipped, hosts, configs, units, baselines)


def _no_points(metric: str, options: HistoryOptions) -> NoReturn:
    where = f" for scenario {options.scenario!r}" if options.scenario else ""
    raise refused(
        f"no baseline in the history reports {metric!r}{where}; choose another "
        "--metric (see `perfinvest history --json`), or measure it with `perfinvest baseline`",
        needs=["--metric"],
    )


def history_trend(ctx: AppContext, options: HistoryOptions) -> CommandResult:
    """The trend table over the whole history; each row judged against the window before it."""
    _check_options(options)
    history = read_history(ctx.paths)
    _empty(ctx, history)
    series = _series(history.entries, options.metric, options, history)
    if not series.points:
        _no_points(series.metric, options)
    rows = trend(
        series.points,
        metric=series.metric,
        direction=series.direction,
        window=options.window,
        model=options.model,
        k=options.k,
        noise_floor=options.noise_floor,
    )
    result = CommandResult(command="history")
    breaches = [r for r in rows if r.status == "breach"]
    result.findings = [
        f"{series.metric}: {len(rows)} point(s) in the history, {len(breaches)} breach(es) "
        f"({options.model} model over a window of {options.window})",
        *(
            f"{r.point.label} ({r.point.at[:19]}): {shown(r.point.mean)} breaches the threshold "
            "of the results before it"
            for r in breaches
        ),
        *_mixed(series, len(series.points)),
        *series.skipped,
    ]
    markdown = trend_markdown(series.metric, rows)
    result.data = {
        "metric": series.metric,
        "direction": series.direction,
        "model": options.model,
        "window": options.window,
        "min_points": MIN_POINTS[options.model],
        "rows": [r.to_json() for r in rows],
        "skipped": series.skipped,
        "markdown": markdown,
    }
    return result


def _load_current(path: Path) -> tuple[list[Run], str | None, Baseline | None]:
    """The runs of a result file (baseline or `run --export`), its primary metric, baseline."""
    from perfinvest.app.measuring.compare import load_runs

    runs, primary = load_runs(path)
    baseline = None
    if primary is not None:
        from perfinvest.store.documents import parse_document

        baseline = parse_document(path.read_text(encoding="utf-8"), Baseline, path)
    return runs, primary, baseline


def _current_value(runs: list[Run], metric: str, scenario: str | None, path: Path) -> float:
    keys = sorted({m.key for r in runs if r.valid for m in r.metrics})
    key = summary_key(keys, metric, scenario)
    values = [m.value for r in runs if r.valid for m in r.metrics if m.key == key]
    if key is None or not values:
        shown = ", ".join(keys[:8]) or "none"
        raise usage_error(
            f"{path} has no valid run reporting {metric!r}"
            + (f" in scenario {scenario!r}" if scenario else "")
            + f" (it reports: {shown}); choose one with --metric"
        )
    return fmean(values)


def _same_result(kept: Kept, path: Path, baseline: Baseline | None) -> bool:
    """The checked file (or an archived copy of it) is not part of its own window."""
    if kept.path.resolve() == path.resolve():
        return True
    return baseline is not None and (
        kept.baseline.version == baseline.version
        and kept.baseline.created_at == baseline.created_at
    )


@dataclass(frozen=True)
class Window:
    """The last N points of one metric in the history: what a gate judges a result with."""

    metric: str
    direction: Direction
    points: list[TrendPoint]
    unit: str  # the one unit of every point ("" for a unitless metric)
    kept: list[Kept]  # per point: its baseline file
    notes: list[str]  # skipped files, mixed hosts or setups


def _one_unit(series: _Series, window: int) -> str:
    """A window mixing units (ms here, s there) has no meaningful spread: refused, exit 2."""
    found = sorted(set(series.units[-window:]))
    if len(found) > 1:
        where = ", ".join(
            f"{kept.relative} in {unit or 'no unit'}"
            for kept, unit in zip(series.kept[-window:], series.units[-window:], strict=True)
        )
        raise usage_error(
            f"the history window of {series.metric!r} mixes units ({', '.join(found)}): "
            f"{where}; re-measure in one unit, or choose a smaller window of the newest results"
        )
    return found[0] if found else ""


def windows_of(
    ctx: AppContext,
    metrics: Sequence[str | None],
    options: HistoryOptions,
    *,
    exclude: Path | None = None,
    baseline: Baseline | None = None,
    current_host: str | None = None,
) -> tuple[dict[str, Window], list[str]]:
    """The last ``options.window`` points of each metric (``None``: the newest baseline's
    primary one) in the baselines history, read once, and the metrics no baseline reports.
    Refuses (exit 4) an empty history, and (exit 2) a window that mixes units.
    ``exclude`` (and ``baseline``, its document): a result that must not be part of its
    own window, nor its archived copy; ``current_host``: named when the window is not it."""
    _check_options(options)
    history = read_history(ctx.paths)
    entries = [
        k for k in history.entries if exclude is None or not _same_result(k, exclude, baseline)
    ]
    _empty(ctx, History(entries, history.unreadable))
    found: dict[str, Window] = {}
    missing: list[str] = []
    n = options.window
    for metric in metrics:
        series = _series(entries, metric, options, history)
        if not series.points:
            missing.append(series.metric)
            continue
        unit = _one_unit(series, n)
        notes = [*_mixed(series, n, current_host), *series.skipped]
        found[series.metric] = Window(
            series.metric, series.direction, series.points[-n:], unit, series.kept[-n:], notes
        )
    return found, missing


def window_of(
    ctx: AppContext,
    metric: str | None,
    options: HistoryOptions,
    *,
    exclude: Path | None = None,
    baseline: Baseline | None = None,
    current_host: str | None = None,
) -> Window:
    """:func:`windows_of` for one metric; refuses (exit 4) a history without it."""
    found, missing = windows_of(
        ctx, [metric], options, exclude=exclude, baseline=baseline, current_host=current_host
    )
    if missing:
        _no_points(missing[0], options)
    return next(iter(found.values()))


def history_window(
    ctx: AppContext, metric: str, options: HistoryOptions, *, exclude: Path | None = None
) -> tuple[list[TrendPoint], Direction, list[str]]:
    """:func:`window_of` as (points, direction, findings): what a budget check passes to
    :func:`perfinvest.core.guardrails.history_gate.judge`."""
    found = window_of(ctx, metric, options, exclude=exclude)
    return found.points, found.direction, found.notes


def same_unit(window: Window, unit: str | None, what: str) -> None:
    """A result in another unit than its window cannot be judged by it (exit 2)."""
    if window.points and (unit or "") != window.unit:
        raise usage_error(
            f"{what} reports {window.metric!r} in {unit or 'no unit'}, its history window in "
            f"{window.unit or 'no unit'}: compare like with like"
        )


def current_point(label: str, runs: list[Run], key: str) -> TrendPoint:
    """A result being checked as the last row of a trend table (its mean over valid runs)."""
    valid = [r for r in runs if r.valid]
    values = [m.value for r in valid for m in r.metrics if m.key == key]
    return TrendPoint(
        label=f"{label} (checked)",
        at=valid[0].started_at.isoformat() if valid else "",
        mean=fmean(values),
        runs=len(values),
        source=label,
    )


def window_trend(
    window: Window,
    current: TrendPoint | None,
    options: HistoryOptions,
) -> tuple[list[TrendRow], str]:
    """The window (and the current result, last) as trend rows and their markdown table:
    the text output of every gate that runs against the history."""
    points = [*window.points, *([current] if current is not None else [])]
    rows = trend(
        points,
        metric=window.metric,
        direction=window.direction,
        window=max(len(points), 1),
        model=options.model,
        k=options.k,
        noise_floor=options.noise_floor,
    )
    return rows, trend_markdown(window.metric, rows)


def history_check(
    ctx: AppContext, current: Path, options: HistoryOptions, *, enforce: bool
) -> CommandResult:
    """``current``'s mean against the last ``window`` results' threshold; exit 8 on a breach
    with ``enforce``."""
    _check_options(options)
    runs, primary, baseline = _load_current(current)
    history = read_history(ctx.paths)
    entries = [k for k in history.entries if not _same_result(k, current, baseline)]
    _empty(ctx, History(entries, history.unreadable))
    metric = options.metric or primary or entries[-1].baseline.primary_metric.name
    value = _current_value(runs, metric, options.scenario, current)
    current_host = next((r.environment.host for r in runs if r.environment.host), None)
    found = window_of(
        ctx, metric, options, exclude=current, baseline=baseline, current_host=current_host
    )
    key = summary_key(sorted({m.key for r in runs for m in r.metrics}), metric, options.scenario)
    unit = next((m.unit for r in runs for m in r.metrics if m.key == key), None)
    same_unit(found, unit, str(current))
    direction = found.direction or next(
        (m.direction for r in runs for m in r.metrics if m.key == key and m.direction), None
    )
    window = found.points
    verdict = judge(
        [p.mean for p in window],
        value,
        metric=metric,
        direction=direction,
        model=options.model,
        k=options.k,
        noise_floor=options.noise_floor,
    )
    _, trend_md = window_trend(found, current_point(current.name, runs, key or metric), options)
    result = CommandResult(command="history check")
    result.findings = [verdict.message, *found.notes]
    result.data = {
        "current": str(current),
        "verdict": verdict.to_json(),
        "window": [p.__dict__ for p in window],
        "markdown": check_markdown(verdict, window) + "\n" + trend_md,
    }
    if verdict.status == "insufficient_history":
        result.findings.append(
            f"add {verdict.needed - verdict.points} more baseline(s) with `perfinvest baseline` "
            "(each version's, or a version re-measured) to gate on the history"
        )
    if verdict.breach and enforce:
        regression_failure(result, verdict.message)
    return result


def check_markdown(verdict: Judgement, window: list[TrendPoint]) -> str:
    limits = verdict.threshold
    limit_text = (
        f"[{shown(limits.lower)}, {shown(limits.upper)}] ({limits.formula})" if limits else "n/a"
    )
    return (
        f"| metric | current | window | threshold | status |\n|---|---:|---:|---|---|\n"
        f"| {verdict.metric} | {shown(verdict.current)} | {len(window)} | {limit_text} | "
        f"{verdict.status.replace('_', ' ')} |\n"
    )
