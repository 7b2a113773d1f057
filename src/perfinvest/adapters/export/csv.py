"""``runs.csv``, ``samples.csv``, ``load_latencies.csv``, ``probes.csv`` and
``constraints.csv`` from :class:`ExportData`.

Long format with fixed, documented headers (docs/exports.md): one row per run and metric,
one per sample, one per load second and route, one per breaking-point probe and metric,
one per constrained configuration and metric, so a spreadsheet or pandas reads every
investigation the same way. Numbers are written with Python's shortest round-tripping
``repr``, so reading a file back gives the state's floats exactly. Each file is written
atomically (store/atomic.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from perfinvest.adapters.output import ensure_output_dir, write_output
from perfinvest.core.export.data import ExportData, ExportRun, environment_id, scenario_route
from perfinvest.core.export.phase_data import split_key

if TYPE_CHECKING:
    from perfinvest.store.paths import StatePaths

RUNS_HEADER = (
    "investigation",
    "version",
    "phase",
    "profile",
    "experiment",
    "side",
    "source",
    "superseded",
    "run_id",
    "started_at",
    "ended_at",
    "duration_s",
    "valid",
    "compliant",
    "environment",
    "host",
    "config_hash",
    "scenario",
    "route",
    "metric",
    "value",
    "unit",
    "direction",
)
SAMPLES_HEADER = (
    "investigation",
    "version",
    "source",
    "run_id",
    "scenario",
    "route",
    "metric",
    "index",
    "value",
    "unit",
)
LATENCIES_HEADER = (
    "investigation",
    "run_id",
    "profile",
    "second",
    "route",
    "users",
    "requests",
    "failures",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
)
PROBES_HEADER = (
    "investigation",
    "version",
    "source",
    "superseded",
    "searched_at",
    "parameter",
    "verdict",
    "last_passing",
    "breaking_point",
    "compliant",
    "probe",
    "stage",
    "level",
    "passed",
    "reason",
    "run_id",
    "at",
    "duration_s",
    "exit_code",
    "environment",
    "config_hash",
    "scenario",
    "metric",
    "value",
)
CONSTRAINTS_HEADER = (
    "investigation",
    "version",
    "source",
    "superseded",
    "constraint",
    "at",
    "limits",
    "backend",
    "approximate",
    "cpu",
    "memory_bytes",
    "pids",
    "runs",
    "valid_runs",
    "throttled_periods",
    "throttled_time_s",
    "cpu_time_s",
    "peak_memory_bytes",
    "oom_killed",
    "oom_kills",
    "environment",
    "config_hash",
    "scenario",
    "metric",
    "value",
    "relative_change",
    "effect",
)
RUNS_CSV, SAMPLES_CSV, LATENCIES_CSV = "runs.csv", "samples.csv", "load_latencies.csv"
PROBES_CSV, CONSTRAINTS_CSV = "probes.csv", "constraints.csv"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    return str(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _run_head(er: ExportRun) -> list[object]:
    run = er.run
    return [
        er.investigation,
        er.version,
        er.phase,
        er.profile,
        er.experiment,
        er.side,
        er.source,
        er.superseded,
        run.run_id,
        run.started_at.isoformat(),
        run.ended_at.isoformat() if run.ended_at else None,
        run.duration_s,
        run.valid,
        run.compliant,
        environment_id(er.environment),
        er.environment.host,
        er.config_hash,
    ]


def run_rows(data: ExportData) -> list[list[object]]:
    rows: list[list[object]] = []
    for er in data.runs:
        head = _run_head(er)
        if not er.run.metrics:  # an invalid run that reported nothing is still a row
            rows.append([*head, *scenario_route(er, None), None, None, None, None])
        for m in er.run.metrics:
            scenario, route = scenario_route(er, m.scenario)
            rows.append([*head, scenario, route, m.name, m.value, m.unit, m.direction])
    return rows


def sample_rows(data: ExportData) -> list[list[object]]:
    return [
        [
            er.investigation,
            er.version,
            er.source,
            er.run.run_id,
            *scenario_route(er, m.scenario),
            m.name,
            index,
            value,
            m.unit,
        ]
        for er in data.runs
        for m in er.run.metrics
        for index, value in enumerate(m.samples)
    ]


def latency_rows(data: ExportData) -> list[list[object]]:
    return [
        [
            r.investigation,
            r.run_id,
            r.profile,
            r.second,
            r.route,
            r.users,
            r.requests,
            r.failures,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.max_ms,
        ]
        for r in data.latencies
    ]


def probe_rows(data: ExportData) -> list[list[object]]:
    """One row per probe and metric of every search (a probe without metrics: one row)."""
    rows: list[list[object]] = []
    for bp in data.breaking_points:
        result = bp.result
        search = [
            bp.investigation,
            bp.version,
            bp.source,
            bp.superseded,
            bp.at.isoformat(),
            result.parameter,
            result.verdict,
            result.last_passing,
            result.breaking_point,
            result.compliant,
        ]
        for item in bp.probes:
            probe = item.probe
            head = [
                *search,
                item.number,
                probe.stage,
                probe.value,
                {True: "true", False: "false", None: "invalid"}[probe.passed],
                probe.reason,
                probe.run_id,
                item.at.isoformat(),
                probe.duration_s,
                probe.exit_code,
                environment_id(bp.environment),
                bp.config_hash,
            ]
            metrics = sorted(probe.metrics.items())
            if not metrics:
                rows.append([*head, None, None, None])
            for key, value in metrics:
                rows.append([*head, *split_key(key), value])
    return rows


def constraint_rows(data: ExportData) -> list[list[object]]:
    """One row per constrained configuration and metric (none measured: one row)."""
    rows: list[list[object]] = []
    for kept in data.constraints:
        c = kept.result
        head = [
            kept.investigation,
            kept.version,
            kept.source,
            kept.superseded,
            kept.number,
            kept.at.isoformat(),
            c.label,
            c.backend,
            c.approximate,
            c.cpu,
            c.memory_bytes,
            c.pids,
            " ".join(c.runs),
            c.valid_runs,
            c.throttled_periods,
            c.throttled_time_s,
            c.cpu_time_s,
            c.peak_memory_bytes,
            c.oom_killed,
            c.oom_kills,
            environment_id(kept.environment),
            kept.config_hash,
        ]
        if not c.metrics:
            rows.append([*head, None, None, None, None, None])
        for key, value in sorted(c.metrics.items()):
            effect = c.effects.get(key)
            rows.append(
                [
                    *head,
                    *split_key(key),
                    value,
                    c.deltas.get(key),
                    effect.effect if effect is not None else None,
                ]
            )
    return rows


def csv_tables(data: ExportData) -> list[tuple[str, bytes]]:
    """The CSV files of ``data`` by name, in memory: ``runs.csv``, ``samples.csv``, and
    when the data has them ``load_latencies.csv`` (load runs with a latency.csv),
    ``probes.csv`` (breaking-point searches) and ``constraints.csv`` (the bundle of
    ``perfinvest report`` holds them as written by ``perfinvest export csv``)."""
    tables = [
        (RUNS_CSV, RUNS_HEADER, run_rows(data)),
        (SAMPLES_CSV, SAMPLES_HEADER, sample_rows(data)),
    ]
    if data.latencies:
        tables.append((LATENCIES_CSV, LATENCIES_HEADER, latency_rows(data)))
    if data.breaking_points:
        tables.append((PROBES_CSV, PROBES_HEADER, probe_rows(data)))
    if data.constraints:
        tables.append((CONSTRAINTS_CSV, CONSTRAINTS_HEADER, constraint_rows(data)))
    return [(name, _table(header, rows)) for name, header, rows in tables]


def write_csvs(
    data: ExportData, out_dir: Path, *, guard: StatePaths | None = None, force: bool = False
) -> list[Path]:
    """Write :func:`csv_tables` into ``out_dir``; returns the paths written, in order.

    ``data`` comes from :func:`perfinvest.app.export.read.gather` (``gather(ctx, inv_id)``).
    """
    tables = csv_tables(data)
    if guard is not None:  # every file is checked before the first is written
        from perfinvest.store.outputs import check_output, check_output_dir

        check_output_dir(guard, out_dir)
        for name, _ in tables:
            if (out_dir / name).exists():
                check_output(guard, out_dir / name, force=force)
    ensure_output_dir(out_dir)
    written = []
    for name, content in tables:
        path = out_dir / name
        write_output(path, content, guard=guard, force=force)
        written.append(path)
    return written
