"""The report's later sections: constraints, load, hypotheses, profiles, experiments, decision."""

from __future__ import annotations

from collections.abc import Sequence

from perfinvest.core.export.phase_data import superseded_constraints
from perfinvest.core.models import Hotspot, LimitEffect, ProfilingResult
from perfinvest.core.phases import Phase
from perfinvest.core.quantities import pct
from perfinvest.core.report import figures as fig
from perfinvest.core.report import phase_figures as phase_fig
from perfinvest.core.report.blocks import (
    NON_COMPLIANT,
    SUPERSEDED,
    Block,
    Code,
    Details,
    Download,
    Image,
    KeyValues,
    Paragraph,
    Plot,
    Provenance,
    Row,
    Section,
    Table,
)
from perfinvest.core.report.compare_table import metrics_table
from perfinvest.core.report.flame import flame_stacks, short_path
from perfinvest.core.report.inputs import (
    ReportInputs,
    environment_text,
    num,
    phase_provenance,
    phase_status,
    run_badges,
    run_points,
)
from perfinvest.core.report.summary import named_commit

#: The hottest functions drawn per profile.
TOP_HOTSPOTS = 12
#: Hotspots under this share of the samples (self and total) are folded behind "show all".
MIN_HOTSPOT_PCT = 0.5


def constraints_section(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    metric = inv.setup.metric.name
    section = Section("constraints", "Constraints", phase_status(inv, Phase.CONSTRAINTS))
    if not inv.constraints:
        section.blocks.append(Paragraph("No constrained runs yet.", "empty"))
        return section
    kept = inputs.current_baseline()
    base = None
    if kept is not None:
        base = ((kept.baseline.summaries.get(metric) or {}).get("runs") or {}).get("mean")
    # a configuration measured again later supersedes the earlier record (both kept)
    later = superseded_constraints(inv.constraints)
    marked = _constraint_non_compliant(inputs)
    labels = ["unconstrained (baseline)"] + [
        f"{i + 1}. {c.label or c.backend}"
        + (" (superseded)" if old else "")
        + (" (non-compliant)" if marked else "")
        for i, (c, old) in enumerate(zip(inv.constraints, later, strict=True))
    ]
    values = [base] + [c.metrics.get(metric) for c in inv.constraints]
    notes = [""] + [pct(c.deltas.get(metric)) for c in inv.constraints]
    intervals = [(None, None)] + [_interval(c.effects.get(metric)) for c in inv.constraints]
    section.blocks.append(
        Plot(
            "constraints-side-by-side",
            "side by side",
            phase_fig.side_by_side(labels, values, notes, metric, inv.setup.metric.unit, intervals),
        )
    )
    rows = []
    for c, old in zip(inv.constraints, later, strict=True):
        effect = c.effects.get(metric)
        rows.append(
            Row(
                [
                    c.label or "-",
                    c.backend + (" (approximate)" if c.approximate else ""),
                    f"{c.valid_runs}/{len(c.runs)}",
                    num(c.metrics.get(metric)),
                    _change(effect, c.deltas.get(metric)),
                    effect.effect if effect else "",
                    "n/a" if c.throttled_periods is None else str(c.throttled_periods),
                    "n/a"
                    if c.peak_memory_bytes is None
                    else f"{c.peak_memory_bytes / 2**20:.1f} MiB",
                    f"yes ({c.oom_kills})" if c.oom_killed else "no",
                ],
                ([SUPERSEDED] if old else []) + ([NON_COMPLIANT] if marked else []),
            )
        )
    section.blocks.append(
        Table(
            "constraints",
            [
                "limit",
                "backend",
                "valid runs",
                metric,
                "change",
                "effect",
                "throttled periods",
                "peak memory",
                "OOM",
            ],
            rows,
        )
    )
    section.blocks.append(phase_provenance(inputs, Phase.CONSTRAINTS, "constrained runs"))
    return section


def _interval(effect: LimitEffect | None) -> tuple[float | None, float | None]:
    """The constrained mean's 95 % interval: the change's CI applied to the baseline mean."""
    if effect is None or effect.ci_low is None or effect.ci_high is None:
        return None, None
    return effect.baseline * (1 + effect.ci_low), effect.baseline * (1 + effect.ci_high)


def _change(effect: LimitEffect | None, delta: float | None) -> str:
    if effect is None or effect.ci_low is None or effect.ci_high is None:
        return pct(delta)
    return f"{pct(delta)} (95 % CI {pct(effect.ci_low)} .. {pct(effect.ci_high)})"


def _constraint_non_compliant(inputs: ReportInputs) -> bool:
    return any(a.non_compliant for a in inputs.inv.attempts_of(Phase.CONSTRAINTS))


def hypotheses_section(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    section = Section("hypotheses", "Hypotheses", phase_status(inv, Phase.HYPOTHESES))
    if inv.history is not None:
        section.blocks.append(
            Paragraph(
                f"Git history gathered {inv.history.gathered_at.isoformat(timespec='seconds')} "
                f"({inv.history.since_source or 'window'}): {len(inv.history.commits)} commit(s)."
            )
        )
    if not inv.hypotheses:
        section.blocks.append(Paragraph("No hypotheses yet.", "empty"))
        return section
    section.blocks.append(
        Table(
            "hypotheses",
            ["id", "statement", "confidence", "status", "evidence", "commit", "note"],
            [
                Row(
                    [
                        h.id,
                        h.statement,
                        h.confidence,
                        h.status,
                        "; ".join(h.evidence),
                        named_commit(inv, h),
                        h.status_note,
                    ],
                    [f"status-{h.status}"],
                )
                for h in inv.hypotheses
            ],
        )
    )
    if inv.code_paths:
        section.blocks.append(
            Table(
                "code-paths",
                ["file:line", "function", "score", "why"],
                [
                    Row(
                        [
                            f"{c.file}:{c.line}" if c.line else c.file,
                            c.function or "",
                            f"{c.score:g}",
                            c.reason,
                        ]
                    )
                    for c in inv.code_paths[:10]
                ],
                "code paths ranked (phase 6)",
            )
        )
    return section


def _hotspot_table(key: str, hotspots: Sequence[Hotspot], root: str) -> Table:
    return Table(
        key,
        ["function", "hot line", "self %", "total %", "samples"],
        [
            Row(
                [
                    h.function,
                    h.hot_line or (f"{short_path(h.file, root)}:{h.line}" if h.file else ""),
                    f"{h.self_pct:.1f}",
                    f"{h.total_pct:.1f}",
                    str(h.samples),
                ]
            )
            for h in hotspots
        ],
    )


def _flamegraph(inputs: ReportInputs, profile: ProfilingResult, title: str) -> list[Block]:
    """The stacks as an interactive icicle (the profiler's SVG offered as a download);
    a profile that kept only an SVG shows it as an image."""
    n = profile.number
    flame = inputs.flamegraphs.get(n)
    if n in inputs.stacks:
        stacks = flame_stacks(inputs.stacks[n], inputs.source_root)
        blocks: list[Block] = [
            Plot(
                f"flamegraph-{n}",
                f"flamegraph of {title}",
                phase_fig.icicle(
                    stacks, f"{title}: click a frame to zoom in, the root to zoom out"
                ),
            )
        ]
        if flame is not None:
            blocks.append(
                Download(
                    f"flamegraph-svg-{n}",
                    f"download the {profile.profiler} flamegraph SVG ({flame.relative})",
                    f"profile-{n}-flamegraph.svg",
                    "image/svg+xml",
                    flame.svg,
                )
            )
        return blocks
    if flame is not None:
        return [Image(f"flamegraph-{n}", f"flamegraph of {title}", "image/svg+xml", flame.svg)]
    return [Paragraph(f"{title}: no flamegraph or stacks kept.", "empty")]


def profiling_section(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    root = inputs.source_root
    section = Section("profiling", "Profiles", phase_status(inv, Phase.PROFILING))
    if not inv.profiling:
        section.blocks.append(Paragraph("No profiles yet.", "empty"))
        return section
    for profile in inv.profiling:
        n = profile.number
        title = f"profile-{n} ({profile.profiler}, {profile.total_samples} samples)"
        section.blocks.extend(_flamegraph(inputs, profile, title))
        shown = [h for h in profile.hotspots if max(h.self_pct, h.total_pct) >= MIN_HOTSPOT_PCT]
        if shown:
            bars = [
                phase_fig.HotBar(
                    f"{h.function} ({h.hot_line or (short_path(h.file, root) if h.file else '?')})",
                    h.self_pct,
                    h.total_pct,
                )
                for h in shown[:TOP_HOTSPOTS]
            ]
            section.blocks.append(
                Plot(f"hotspots-{n}", f"hotspots of {title}", phase_fig.hotspots(bars, title))
            )
            section.blocks.append(_hotspot_table(f"hotspots-{n}", shown, root))
        hidden = len(profile.hotspots) - len(shown)
        if hidden:
            section.blocks.append(
                Details(
                    f"hotspots-all-{n}",
                    f"show all {len(profile.hotspots)} hotspots ({hidden} under "
                    f"{MIN_HOTSPOT_PCT} % of the samples)",
                    [_hotspot_table(f"hotspots-all-{n}", profile.hotspots, root)],
                )
            )
        badges = "" if profile.run_valid is not False else " (the profiled run was invalid)"
        section.blocks.append(
            Provenance(
                f"{title}{badges}",
                profile.created_at.isoformat(timespec="seconds") if profile.created_at else "n/a",
                phase_provenance(inputs, Phase.PROFILING, "").environment,
                phase_provenance(inputs, Phase.PROFILING, "").config_hash,
            )
        )
    return section


def experiments_section(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    metric = inv.setup.metric
    section = Section("experiments", "Experiments", phase_status(inv, Phase.OPTIMIZATION))
    if not inv.experiments:
        section.blocks.append(Paragraph("No experiments yet.", "empty"))
        return section
    changes = [
        fig.Change(
            f"experiment {e.number}",
            e.relative_change,
            e.ci_low,
            e.ci_high,
            e.verdict or e.state,
            e.compliant,
        )
        for e in inv.experiments
        if e.relative_change is not None
    ]
    if changes:
        section.blocks.append(
            Plot("experiments-ci", "change with CI", fig.changes_with_ci(changes, metric.name))
        )
    for exp in inv.experiments:
        sides = inputs.experiment_runs.get(exp.number)
        badges = [] if exp.compliant else [NON_COMPLIANT]
        section.blocks.append(
            KeyValues(
                [
                    ("experiment", f"{exp.number}: {exp.change}"),
                    ("hypothesis", exp.hypothesis or "none"),
                    ("state", exp.state + (" (non-compliant runs)" if not exp.compliant else "")),
                    ("verdict", exp.verdict or "n/a"),
                    (
                        "change",
                        f"{pct(exp.relative_change)} (95 % CI {pct(exp.ci_low)} .. "
                        f"{pct(exp.ci_high)}), p={num(exp.p_value, 3)}",
                    ),
                    ("means", f"{num(exp.baseline_mean)} -> {num(exp.candidate_mean)}"),
                    ("tree restored", "verified" if exp.restore_verified else "not verified"),
                ]
            )
        )
        if exp.effects:
            section.blocks.append(metrics_table(exp, *(sides or ([], []))))
        patch = inputs.patches.get(exp.number)
        if patch is not None:
            files = (
                exp.diffstat or ", ".join(exp.changed_files) or f"{len(patch.splitlines())} lines"
            )
            section.blocks.append(
                Details(
                    f"patch-{exp.number}",
                    f"the change of experiment {exp.number} ({files}): show the diff",
                    [Code(f"patch-{exp.number}", patch, "diff")],
                )
            )
        if sides is None:
            section.blocks.append(Paragraph(f"Experiment {exp.number}: no runs file.", "empty"))
            continue
        baseline, candidate = sides
        section.blocks.append(
            Plot(
                f"experiment-{exp.number}",
                f"experiment {exp.number}",
                fig.two_sides(
                    run_points(baseline, metric.name),
                    run_points(candidate, metric.name),
                    metric.name,
                    metric.unit,
                ),
            )
        )
        rows = []
        for side, runs in (("baseline", baseline), ("candidate", candidate)):
            for run in runs:
                found = run.metric(metric.name)
                rows.append(
                    Row(
                        [
                            side,
                            run.run_id,
                            run.started_at.isoformat(timespec="seconds"),
                            num(found.value) if found else "n/a",
                            run.environment.host,
                            run.environment.config_hash,
                        ],
                        run_badges(run) or badges,
                    )
                )
        section.blocks.append(
            Table(
                f"experiment-runs-{exp.number}",
                ["side", "run", "started (UTC)", metric.name, "host", "config hash"],
                rows,
            )
        )
        first = (baseline or candidate)[0] if (baseline or candidate) else None
        if first is not None:
            section.blocks.append(
                Provenance(
                    f"experiment {exp.number}",
                    (exp.ended_at or first.started_at).isoformat(timespec="seconds"),
                    environment_text(first.environment),
                    ", ".join(sorted({r.environment.config_hash for r in baseline + candidate})),
                )
            )
    return section


def decision_section(inputs: ReportInputs) -> Section:
    inv = inputs.inv
    section = Section("decision", "Decision", phase_status(inv, Phase.DECISION))
    decision = inv.decision
    if decision is None:
        section.blocks.append(Paragraph("No decision yet.", "empty"))
        return section
    items = [
        ("verdict", decision.verdict),
        ("recommended", decision.recommendation or "n/a"),
        ("goal met", "n/a" if decision.goal_met is None else str(decision.goal_met).lower()),
        ("rationale", decision.rationale),
        (
            "decided",
            decision.decided_at.isoformat(timespec="seconds") if decision.decided_at else "",
        ),
    ]
    if inv.consolidation is not None:
        items.append(
            (
                "consolidated",
                f"{inv.consolidation.version} ({inv.consolidation.baseline_path or 'n/a'}) at "
                f"{inv.consolidation.completed_at.isoformat(timespec='seconds')}",
            )
        )
    section.blocks.append(KeyValues(items))
    section.blocks.extend(Paragraph(r, "note") for r in decision.reasoning)
    if inputs.baselines:
        section.blocks.append(phase_provenance(inputs, Phase.DECISION, "values judged"))
    return section
