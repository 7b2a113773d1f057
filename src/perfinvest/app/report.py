"""``perfinvest report``: the HTML report of an investigation, and ``--bundle``'s archive.

Read-only over the state: the files the investigation points to are read here (baselines
current and superseded, experiment runs, load results, flamegraphs, the history trend),
arranged by ``core/report/model.py`` and rendered by ``adapters/report/html.py``. The
only files written are the report (or the bundle), atomically, and ``reports/.gitignore``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import ExitCode, PerfError, usage_error
from perfinvest.core.models import BreakingPointResult, Investigation, Run
from perfinvest.core.report.inputs import Flamegraph, KeptBaseline, LoadRun, ReportInputs
from perfinvest.core.report.phase_figures import LoadSecond

#: Flamegraphs larger than this are linked by name, not embedded.
MAX_EMBEDDED_SVG = 5 * 2**20
#: Change patches larger than this are named, not shown (the bundle holds them whole).
MAX_SHOWN_PATCH = 512 * 2**10
REPORTS_GITIGNORE = "# written by perfinvest: reports are rendered from the state\n*\n"
#: A bundle's members get this fixed time, so the same files give the same archive.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ReportRequest:
    investigation: str | None = None  # None: the active one
    output: Path | None = None  # None: <perf>/reports/<id>.html (or .zip)
    bundle: bool = False
    #: extra (path in zip, file) members of a bundle, e.g. the CSV exports
    extra_members: Sequence[tuple[str, Path]] = ()
    force: bool = False  # -o over a file perfinvest did not write (backed up first)


def load_investigation(ctx: AppContext, given: str | None) -> tuple[Investigation, Path]:
    """The active investigation, or ``given`` (a full id or a unique prefix), and its file."""
    from perfinvest.app.queries import resolve_id

    store = ctx.store
    if given is None:
        return store.load_active(), ctx.paths.active
    wanted = resolve_id(ctx, given)
    if store.has_active():
        active = store.load_active()
        if active.id == wanted:
            return active, ctx.paths.active
    return store.load_inactive(wanted), ctx.paths.inactive(wanted)


def _baselines(ctx: AppContext, inv: Investigation) -> tuple[list[KeptBaseline], list[str]]:
    from perfinvest.store.history import read_history

    history = read_history(ctx.paths)
    ref = inv.baseline.path if inv.baseline else None
    kept = [
        KeptBaseline(k.relative, k.baseline, k.archived)
        for k in history.entries
        if k.baseline.investigation_id == inv.id or k.relative == ref
    ]
    return kept, history.unreadable


def _history_rows(ctx: AppContext, metric: str) -> list[dict[str, Any]]:
    from perfinvest.app.guardrails.history import HistoryOptions, history_trend
    from perfinvest.store.history import read_history

    try:
        rows: list[dict[str, Any]] = history_trend(ctx, HistoryOptions(metric=metric)).data["rows"]
    except PerfError:  # an empty history, or none reports the metric: the section says so
        return []
    entries = read_history(ctx.paths).entries
    machines = {k.relative: (k.baseline.environment.host, k.baseline.config_hash) for k in entries}
    compliant = {k.relative: all(r.compliant for r in k.baseline.runs) for k in entries}
    for row in rows:  # every point says where and with which configuration it was measured
        row["host"], row["config_hash"] = machines.get(str(row.get("source")), ("", ""))
        row["compliant"] = compliant.get(str(row.get("source")), True)
    return rows


def _experiment_runs(
    ctx: AppContext, inv: Investigation, problems: list[str]
) -> dict[int, tuple[list[Run], list[Run]]]:
    from perfinvest.store.experiment_runs import read_experiment_runs

    out: dict[int, tuple[list[Run], list[Run]]] = {}
    for exp in inv.experiments:
        if exp.runs is None:
            continue
        path = ctx.paths.perf_dir / exp.runs.path
        try:
            out[exp.number] = read_experiment_runs(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{exp.runs.path}: unreadable ({type(exc).__name__}); not shown")
    return out


def _num(text: str) -> float | None:
    try:
        return float(text) if text not in ("", "nan") else None
    except ValueError:
        return None


def _load_runs(ctx: AppContext, inv: Investigation, problems: list[str]) -> list[LoadRun]:
    root = ctx.paths.artifacts(inv.id)
    runs = []
    for path in sorted(root.rglob("result.json")) if root.is_dir() else []:
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            problems.append(f"{ctx.paths.relative(path)}: unreadable; not shown")
            continue
        if not isinstance(result, dict) or result.get("kind") != "perfinvest.load-result":
            continue
        if result.get("interrupted"):
            problems.append(
                f"{ctx.paths.relative(path.parent)}: an interrupted load run (partial, not "
                "judged); not shown"
            )
            continue
        seconds = []
        latency = path.parent / "latency.csv"
        if latency.is_file():
            with latency.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    if row.get("route") != "all":
                        continue
                    seconds.append(
                        LoadSecond(
                            second=_num(row.get("second", "")) or 0.0,
                            users=_num(row.get("users", "")),
                            requests=_num(row.get("requests", "")) or 0.0,
                            failures=_num(row.get("failures", "")) or 0.0,
                            p95_ms=_num(row.get("p95_ms", "")),
                            p50_ms=_num(row.get("p50_ms", "")),
                            p99_ms=_num(row.get("p99_ms", "")),
                        )
                    )
        runs.append(LoadRun(ctx.paths.relative(path.parent), result, seconds))
    return runs


def _patches(ctx: AppContext, inv: Investigation, problems: list[str]) -> dict[int, str]:
    """Each experiment's change (its ``change.patch``), to show it in the report."""
    out = {}
    for exp in inv.experiments:
        if exp.patch is None:
            continue
        path = ctx.paths.perf_dir / exp.patch.path
        try:
            if path.stat().st_size > MAX_SHOWN_PATCH:
                problems.append(f"{exp.patch.path}: larger than 512 KiB, not shown")
                continue
            out[exp.number] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            problems.append(f"{exp.patch.path}: unreadable; not shown")
    return out


def _flamegraphs(ctx: AppContext, inv: Investigation, problems: list[str]) -> dict[int, Flamegraph]:
    out = {}
    for profile in inv.profiling:
        svgs = [a for a in profile.artifacts if a.path.endswith(".svg")]
        svgs.sort(key=lambda a: not a.path.endswith("flamegraph.svg"))  # ours first
        for artifact in svgs[:1]:
            path = ctx.paths.perf_dir / artifact.path
            try:
                if path.stat().st_size > MAX_EMBEDDED_SVG:
                    problems.append(f"{artifact.path}: larger than 5 MiB, not embedded")
                    continue
                out[profile.number] = Flamegraph(artifact.path, path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                problems.append(f"{artifact.path}: unreadable; not shown")
    return out


def _superseded_breaking_points(
    ctx: AppContext, inv: Investigation, problems: list[str]
) -> list[tuple[str, BreakingPointResult]]:
    """Earlier searches' results (``breaking-point-<time>.json``): the state keeps the last."""
    from perfinvest.store.searches import read_searches

    found, unreadable = read_searches(ctx.paths.artifacts(inv.id))
    problems.extend(f"{ctx.paths.relative(path)}: unreadable; not shown" for path, _ in unreadable)
    return [
        (ctx.paths.relative(path), result) for path, result in found if result != inv.breaking_point
    ]


def _stacks(
    ctx: AppContext, inv: Investigation, problems: list[str]
) -> dict[int, list[tuple[tuple[str, ...], int]]]:
    """Each profile's collapsed stacks (drawn as an interactive icicle)."""
    from perfinvest.core.profiling.hotspots import ProfileFormatError, parse_collapsed

    out = {}
    for profile in inv.profiling:
        found = [a for a in profile.artifacts if a.path.endswith(".collapsed.txt")]
        found.sort(key=lambda a: not a.path.endswith("stacks.collapsed.txt"))  # ours first
        if not found:
            continue
        try:
            text = (ctx.paths.perf_dir / found[0].path).read_text(encoding="utf-8")
            stacks = parse_collapsed(text)
        except (OSError, UnicodeDecodeError, ProfileFormatError):
            problems.append(f"{found[0].path}: unreadable; not shown")
            continue
        out[profile.number] = [(s.frames, s.count) for s in stacks]
    return out


def as_of(ctx: AppContext, inv: Investigation) -> str:
    """The time a report states: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else
    the state's last update. Never the clock: the same state gives the same bytes."""
    raw = ctx.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return inv.updated_at.astimezone(UTC).isoformat(timespec="seconds")
    try:
        stamp = datetime.fromtimestamp(int(raw.strip()), UTC)
    except (ValueError, OverflowError, OSError):
        raise usage_error(
            f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds since 1970-01-01 "
            "UTC: set it to one (e.g. $(git log -1 --format=%ct)) or unset it"
        ) from None
    return stamp.isoformat(timespec="seconds") + " (SOURCE_DATE_EPOCH)"


def gather(ctx: AppContext, inv: Investigation) -> ReportInputs:
    """Read everything the report shows; what cannot be read is named, not hidden."""
    baselines, unreadable = _baselines(ctx, inv)
    problems = list(unreadable)
    flamegraphs = _flamegraphs(ctx, inv, problems)
    return ReportInputs(
        inv=inv,
        generated_at=as_of(ctx, inv),
        baselines=baselines,
        experiment_runs=_experiment_runs(ctx, inv, problems),
        load_runs=_load_runs(ctx, inv, problems),
        flamegraphs=flamegraphs,
        stacks=_stacks(ctx, inv, problems),
        history_rows=_history_rows(ctx, inv.setup.metric.name),
        history_metric=inv.setup.metric.name,
        superseded_breaking_points=_superseded_breaking_points(ctx, inv, problems),
        patches=_patches(ctx, inv, problems),
        problems=problems,
        source_root=str(ctx.repo_root),
    )


def render(ctx: AppContext, inv: Investigation) -> tuple[str, Any]:
    """The page and the report model it was rendered from."""
    from perfinvest.adapters.report.html import render_html
    from perfinvest.core.report.model import build_report

    model = build_report(gather(ctx, inv))
    return render_html(model), model


def _target(ctx: AppContext, inv: Investigation, request: ReportRequest) -> Path:
    """Where to write; a user-given path must be a file in an existing folder (exit 2)."""
    suffix = ".zip" if request.bundle else ".html"
    if request.output is None:
        return ctx.paths.perf_dir / "reports" / f"{inv.id}{suffix}"
    from perfinvest.store.outputs import check_output

    return check_output(ctx.paths, request.output, force=request.force, what="report")


def _write(ctx: AppContext, path: Path, data: bytes, request: ReportRequest) -> Path | None:
    """Write the report; a user-given path goes through the output guard (returns the
    backup of a forced-over file)."""
    from perfinvest.store.atomic import atomic_write_bytes, atomic_write_text
    from perfinvest.store.outputs import write_output

    if request.output is not None:
        return write_output(ctx.paths, path, data, force=request.force, what="report").backup
    atomic_write_bytes(path, data)  # the state folder itself: a failure is exit 7
    gitignore = path.parent / ".gitignore"
    if not gitignore.exists():
        atomic_write_text(gitignore, REPORTS_GITIGNORE)
    return None


def bundle_members(
    ctx: AppContext,
    inv: Investigation,
    state_file: Path,
    html: str,
    extra: Sequence[tuple[str, Path]],
) -> list[tuple[str, bytes | Path]]:
    """What a bundle holds, by path in the archive, sorted: the report, the log, the state,
    the investigation's baselines (superseded ones too), its artifacts, the CSV exports,
    ``extra``."""
    paths = ctx.paths
    members: dict[str, bytes | Path] = {"report.html": html.encode("utf-8")}
    members["investigation.json"] = state_file
    log = paths.log(inv.id)
    if log.is_file():
        members[paths.relative(log)] = log
    kept, _ = _baselines(ctx, inv)
    for baseline in kept:
        members[baseline.relative] = paths.perf_dir / baseline.relative
    artifacts = paths.artifacts(inv.id)
    for path in sorted(artifacts.rglob("*")) if artifacts.is_dir() else []:
        if path.is_file() and not path.is_symlink():
            members[paths.relative(path)] = path
    for name, content in _csv_members(ctx, inv):
        members[name] = content
    for name, path in extra:
        members[name] = path
    return sorted(members.items())


def _csv_members(ctx: AppContext, inv: Investigation) -> list[tuple[str, bytes]]:
    """``csv/<name>.csv``: what ``perfinvest export csv`` writes for this investigation;
    none when nothing is measured yet (the report says so already)."""
    from perfinvest.adapters.export.csv import csv_tables
    from perfinvest.app.export.read import collect

    try:
        data = collect(ctx, inv)
    except PerfError as error:
        if error.code is ExitCode.REFUSED:
            return []
        raise
    return [(f"csv/{name}", content) for name, content in csv_tables(data)]


def build_zip(members: Sequence[tuple[str, bytes | Path]]) -> bytes:
    """A deflated archive, members in the given order with a fixed time (deterministic)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, source if isinstance(source, bytes) else source.read_bytes())
    return buffer.getvalue()


def report(ctx: AppContext, request: ReportRequest) -> CommandResult:
    """Render the report (or the bundle) of one investigation and write it atomically."""
    inv, state_file = load_investigation(ctx, request.investigation)
    target = _target(ctx, inv, request)
    html, model = render(ctx, inv)
    last = inv.last_phase()
    result = CommandResult(
        command="report",
        investigation=inv.id,
        phase=last.value if last else None,
        status=inv.status,
        baseline=inv.baseline.version if inv.baseline else None,
    )
    if request.bundle:
        try:
            members = bundle_members(ctx, inv, state_file, html, request.extra_members)
            data = build_zip(members)
        except OSError as exc:
            raise usage_error(
                f"cannot read a file for the bundle: {exc.filename}: {exc.strerror or exc}"
            ) from None
        backup = _write(ctx, target, data, request)
        result.data["bundle"] = str(target)
        result.data["members"] = [name for name, _ in members]
        result.findings = [f"bundle written: {target} ({len(members)} files)"]
    else:
        data = html.encode("utf-8")
        backup = _write(ctx, target, data, request)
        result.data["report"] = str(target)
        result.findings = [f"report written: {target}"]
    if backup is not None:
        result.data["backup"] = str(backup)
        result.findings.append(f"the file it replaced is kept at {backup}")
    if model.banner:
        result.findings.append(model.banner)
    result.data["bytes"] = len(data)
    result.data["sections"] = [s.key for s in model.sections]
    result.data["plots"] = [p.key for p in model.plots()]
    result.next = "open it in a browser: everything is inlined, no network needed"
    return result
