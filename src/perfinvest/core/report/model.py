"""From the state to the report's sections: what each phase shows, pure.

Every section is present, in the order of the methodology; a phase with nothing to show
says so. Every block of numbers is followed by its provenance (when, on what machine,
with which configuration hash), non-compliant and invalid runs carry a badge, and
superseded baselines stay in view, marked as such: nothing is hidden or dropped.
"""

from __future__ import annotations

import re

from perfinvest.core.models import Run
from perfinvest.core.phases import PHASE_ORDER, Phase
from perfinvest.core.report import figures as fig
from perfinvest.core.report import phase_figures as phase_fig
from perfinvest.core.report.blocks import (
    INVALID,
    NON_COMPLIANT,
    SUPERSEDED,
    KeyValues,
    Paragraph,
    Plot,
    Provenance,
    Report,
    Row,
    Section,
    Table,
)
from perfinvest.core.report.inputs import (
    ReportInputs,
    environment_text,
    num,
    phase_provenance,
    phase_status,
    run_badges,
    run_points,
)
from perfinvest.core.report.load_section import load_section
from perfinvest.core.report.sections import (
    constraints_section,
    decision_section,
    experiments_section,
    hypotheses_section,
    profiling_section,
)
from perfinvest.core.report.summary import summary_section


def _overview(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    setup = inv.setup
    items = [
        ("scenario", setup.scenario),
        ("benchmark", " ".join(setup.command)),
        ("primary metric", f"{setup.metric.name} ({setup.metric.direction} is better)"),
        ("version", setup.version),
        ("mode", setup.mode),
        ("status", inv.status.replace("_", " ")),
        ("started", inv.created_at.isoformat(timespec="seconds")),
        ("updated", inv.updated_at.isoformat(timespec="seconds")),
        ("report as of", inputs.generated_at),
    ]
    if setup.short_run_policy is not None:
        items.append(("short-run policy", setup.short_run_policy.reason))
    section = Section("overview", "Scenario and success criteria", inv.status.replace("_", " "))
    section.blocks.append(KeyValues(items))
    checks = {c.text: c for c in inv.decision.criteria} if inv.decision else {}
    rows = []
    for text in setup.success_criteria:
        check = checks.get(text)
        met = "not judged yet" if check is None or check.met is None else str(check.met).lower()
        observed = num(check.observed) if check is not None else "n/a"
        rows.append(Row([text, met, observed, check.source if check else ""]))
    section.blocks.append(
        Table("criteria", ["success criterion", "met", "observed", "source"], rows)
    )
    if inv.decision is not None and inv.decision.criteria:
        section.blocks.append(phase_provenance(inputs, Phase.DECISION, "criteria judged"))
    section.blocks.extend(
        Paragraph(f"User's words: \u201c{q}\u201d", "quote") for q in setup.quotes
    )
    if setup.short_run_policy is not None:
        section.blocks.append(
            Paragraph(
                "Runs shorter than 60 s were allowed by the short-run policy above; each such "
                "run is marked non-compliant wherever it appears.",
                "warning",
            )
        )
    return section


def _phases(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    section = Section("phases", "Phases")
    rows = []
    for phase in PHASE_ORDER:
        attempts = inv.attempts_of(phase)
        last = attempts[-1] if attempts else None
        badges = [NON_COMPLIANT] if any(a.non_compliant for a in attempts) else []
        rows.append(
            Row(
                [
                    f"{phase.number}. {phase.value}",
                    phase_status(inv, phase),
                    str(len(attempts)),
                    last.ended_at.isoformat(timespec="seconds") if last else "",
                    (last.skip_reason or last.summary) if last else "",
                ],
                badges,
            )
        )
    section.blocks.append(
        Table("phases", ["phase", "status", "attempts", "last at", "last summary"], rows)
    )
    if inv.events:
        section.blocks.append(
            Table(
                "events",
                ["at", "kind", "message"],
                [Row([e.at.isoformat(timespec="seconds"), e.kind, e.message]) for e in inv.events],
                "events a reviewer must see",
            )
        )
    if inputs.baselines:  # the summaries quote measured values
        latest = inv.attempts[-1].phase if inv.attempts else Phase.SETUP
        section.blocks.append(phase_provenance(inputs, latest, "phase summaries"))
    return section


def _baseline(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    metric = inv.setup.metric
    section = Section("baseline", "Baseline", phase_status(inv, Phase.BASELINE))
    kept = inputs.current_baseline()
    if kept is None:
        section.blocks.append(Paragraph("No baseline yet: `perfinvest baseline`.", "empty"))
        return section
    baseline = kept.baseline
    points = run_points(baseline.runs, metric.name)
    key = f"{baseline.version}"
    section.blocks.append(
        Paragraph(f"Baseline {baseline.version} ({kept.relative}), {len(baseline.runs)} run(s).")
    )
    section.blocks.extend(Paragraph(flag, "warning") for flag in baseline.flags)
    if points:
        section.blocks.append(
            Plot(
                f"baseline-distribution-{key}",
                "distribution per run",
                fig.distribution(points, metric.name, metric.unit),
            )
        )
        section.blocks.append(
            Plot(
                f"baseline-timeseries-{key}",
                "time series",
                fig.timeseries(points, metric.name, metric.unit),
            )
        )
    else:
        section.blocks.append(Paragraph(f"No run reports {metric.name}.", "empty"))
    summary = (baseline.summaries.get(metric.name) or {}).get("runs") or {}
    if summary:
        outliers = summary.get("outliers_tukey") or []
        section.blocks.append(
            KeyValues(
                [
                    ("mean", num(summary.get("mean"))),
                    ("stddev", num(summary.get("stddev"))),
                    ("CV", f"{summary['cv']:.1%}" if summary.get("cv") is not None else "n/a"),
                    (
                        "min / median / max",
                        " / ".join(num(summary.get(k)) for k in ("min", "median", "max")),
                    ),
                    ("outliers (Tukey)", _outlier_runs(baseline.runs, metric.name, outliers)),
                ]
            )
        )
    section.blocks.append(_runs_table(f"baseline-runs-{key}", baseline.runs, metric.name))
    superseded = [k for k in inputs.baselines if k.archived]
    if superseded:
        section.blocks.append(
            Table(
                "superseded-baselines",
                ["file", "version", "created", "runs", f"{metric.name} mean", "config hash"],
                [
                    Row(
                        [
                            k.relative,
                            k.baseline.version,
                            k.baseline.created_at.isoformat(timespec="seconds"),
                            str(len(k.baseline.runs)),
                            num(
                                (
                                    (k.baseline.summaries.get(metric.name) or {}).get("runs") or {}
                                ).get("mean")
                            ),
                            k.baseline.config_hash,
                        ],
                        [SUPERSEDED],
                    )
                    for k in superseded
                ],
                "superseded baselines, kept in history (nothing is deleted)",
            )
        )
    section.blocks.append(
        Provenance(
            f"baseline {baseline.version}",
            baseline.created_at.isoformat(timespec="seconds"),
            environment_text(baseline.environment),
            baseline.config_hash,
        )
    )
    return section


def _outlier_runs(runs: list[Run], metric: str, indices: list[int]) -> str:
    """The runs the summary's Tukey outlier indices point at (indices into the valid runs
    reporting ``metric``, in order, as ``core/stats/baselines`` summarised them), named."""
    measured = [r for r in runs if r.valid and any(m.key == metric for m in r.metrics)]
    named = []
    for index in indices:
        if isinstance(index, int) and 0 <= index < len(measured):
            run = measured[index]
            found = run.metric(metric)
            named.append(f"{run.run_id} ({num(found.value) if found else 'n/a'})")
        else:
            named.append(f"run #{index} (not among the valid runs)")
    return ", ".join(named) or "none"


def _runs_table(key: str, runs: list[Run], metric: str) -> Table:
    rows = []
    for run in runs:
        found = run.metric(metric)
        rows.append(
            Row(
                [
                    run.run_id,
                    run.started_at.isoformat(timespec="seconds"),
                    f"{run.duration_s:.1f} s",
                    num(found.value) if found else "n/a",
                    str(len(found.samples)) if found else "0",
                    run.environment.host,
                    run.environment.config_hash,
                    run.compliance_note or run.invalid_reason or "",
                ],
                run_badges(run),
            )
        )
    return Table(
        key,
        ["run", "started (UTC)", "duration", metric, "samples", "host", "config hash", "note"],
        rows,
    )


def _history(inputs: ReportInputs) -> Section:
    section = Section("history", "Baselines history")
    rows = inputs.history_rows
    metric = inputs.history_metric or inputs.inv.setup.metric.name
    if len(rows) < 2:
        section.blocks.append(
            Paragraph(
                f"{len(rows)} kept baseline(s) report {metric}: a trend needs at least 2 "
                "(each version's baseline, or a version re-measured).",
                "empty",
            )
        )
        return section
    spec = inputs.inv.setup.metric
    unit = spec.unit if metric == spec.name else ""
    section.blocks.append(Plot("history-trend", "trend", fig.history_trend(rows, metric, unit)))
    section.blocks.append(
        Table(
            "history",
            [
                "version",
                "measured",
                "mean",
                "CV",
                "runs",
                "change",
                "status",
                "file",
                "host",
                "config hash",
            ],
            [
                Row(
                    [
                        str(r["label"]),
                        str(r["at"])[:19],
                        num(r["mean"]),
                        "n/a" if r.get("cv") is None else f"{r['cv']:.1%}",
                        str(r.get("runs", "")),
                        "n/a" if r.get("change") is None else f"{r['change']:+.1%}",
                        str(r.get("status", "")).replace("_", " "),
                        str(r.get("source", "")),
                        str(r.get("host", "")),
                        str(r.get("config_hash", "")),
                    ],
                    ([SUPERSEDED] if r.get("archived") else [])
                    + ([] if r.get("compliant", True) else [NON_COMPLIANT]),
                )
                for r in rows
            ],
        )
    )
    return section


def _breaking_point(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    section = Section("breaking-point", "Breaking point", phase_status(inv, Phase.BREAKING_POINT))
    bp = inv.breaking_point
    if bp is None or not bp.probes:
        section.blocks.append(Paragraph("No breaking-point probes yet.", "empty"))
        return section
    threshold = _first_threshold(bp.thresholds)
    metric = threshold[0] if threshold else inv.setup.metric.name
    probes = [
        phase_fig.ProbePoint(p.value, p.metrics.get(metric), p.passed, p.stage, p.run_id or "")
        for p in bp.probes
    ]
    section.blocks.append(
        Plot(
            "breaking-curve",
            "probes",
            phase_fig.breaking_curve(
                probes,
                parameter=bp.parameter,
                metric=metric,
                limit=threshold[1] if threshold else None,
                last_passing=bp.last_passing,
                breaking_point=bp.breaking_point,
                compliant=bp.compliant,
                unit=inv.setup.metric.unit if metric == inv.setup.metric.name else "",
            ),
        )
    )
    section.blocks.append(
        KeyValues(
            [
                ("verdict", (bp.verdict or "n/a").replace("_", " ")),
                ("last passing", num(bp.last_passing)),
                ("breaking point", num(bp.breaking_point)),
                (
                    "range",
                    f"{num(bp.minimum)} to {num(bp.maximum)} at resolution {num(bp.resolution)}",
                ),
                ("fails when", ", ".join(bp.thresholds)),
                ("confidence", bp.confidence),
            ]
        )
    )
    badges = [] if bp.compliant else [NON_COMPLIANT]
    section.blocks.append(
        Table(
            "probes",
            ["value", "stage", "verdict", metric, "duration", "run", "reason"],
            [
                Row(
                    [
                        num(p.value, 6),
                        p.stage,
                        "invalid" if p.passed is None else "pass" if p.passed else "fail",
                        num(p.metrics.get(metric)),
                        "n/a" if p.duration_s is None else f"{p.duration_s:.1f} s",
                        p.run_id or "",
                        p.reason,
                    ],
                    badges + ([INVALID] if p.passed is None else []),
                )
                for p in bp.probes
            ],
            bp.compliance_note or "",
        )
    )
    if inputs.superseded_breaking_points:
        section.blocks.append(
            Table(
                "superseded-breaking-points",
                ["file", "verdict", "last passing", "breaking point", "probes", "fails when"],
                [
                    Row(
                        [
                            name,
                            (old.verdict or "n/a").replace("_", " "),
                            num(old.last_passing),
                            num(old.breaking_point),
                            str(len(old.probes)),
                            ", ".join(old.thresholds),
                        ],
                        [SUPERSEDED] + ([] if old.compliant else [NON_COMPLIANT]),
                    )
                    for name, old in inputs.superseded_breaking_points
                ],
                "earlier searches, replaced by the one above and kept (nothing is deleted)",
            )
        )
    section.blocks.append(phase_provenance(inputs, Phase.BREAKING_POINT, "probes"))
    return section


def _first_threshold(texts: list[str]) -> tuple[str, float] | None:
    for text in texts:
        match = re.match(r"^\s*([\w.:/-]+)\s*(?:>=|<=|>|<)\s*([-+0-9.eE]+)\s*$", text)
        if match:
            try:
                return match.group(1), float(match.group(2))
            except ValueError:
                continue
    return None


def has_runs(inputs: ReportInputs) -> bool:
    inv = inputs.inv
    return bool(
        inputs.baselines
        or (inv.breaking_point and inv.breaking_point.probes)
        or inv.constraints
        or inputs.experiment_runs
        or inputs.load_runs
        or inv.profiling
    )


def build_report(inputs: ReportInputs) -> Report:
    """The summary, then every section in the methodology's order; ``banner`` says when
    nothing ran yet."""
    inv = inputs.inv
    sections = [
        summary_section(inputs),
        _overview(inputs),
        _phases(inputs),
        _baseline(inputs),
        _history(inputs),
        _breaking_point(inputs),
        constraints_section(inputs),
        load_section(inputs),
        hypotheses_section(inputs),
        profiling_section(inputs),
        experiments_section(inputs),
        decision_section(inputs),
    ]
    if inputs.problems:
        sections.append(
            Section(
                "problems",
                "Files not shown",
                blocks=[Paragraph(p, "warning") for p in inputs.problems],
            )
        )
    banner = (
        ""
        if has_runs(inputs)
        else "No runs yet: this investigation has measured nothing so far "
        "(next: `perfinvest baseline`)."
    )
    return Report(
        title=f"perfinvest report: {inv.setup.scenario}",
        investigation=inv.id,
        generated_at=inputs.generated_at,
        sections=sections,
        banner=banner,
    )
