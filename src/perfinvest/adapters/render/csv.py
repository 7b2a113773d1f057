"""``runs.csv``, ``samples.csv`` and ``load_latencies.csv`` from :class:`ExportData`.

Long format with fixed, documented headers (docs/exports.md): one row per run and metric,
one per sample, one per load second and route, so a spreadsheet or pandas reads every
investigation the same way. Numbers are written with Python's shortest round-tripping
``repr``, so reading a file back gives the state's floats exactly. Each file is written
atomically (store/atomic.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from perfinvest.adapters.render.output import ensure_output_dir, write_output
from perfinvest.core.exports import ExportData, ExportRun, environment_id, scenario_route

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
RUNS_CSV, SAMPLES_CSV, LATENCIES_CSV = "runs.csv", "samples.csv", "load_latencies.csv"


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


def csv_tables(data: ExportData) -> list[tuple[str, bytes]]:
    """The CSV files of ``data`` by name, in memory: ``runs.csv``, ``samples.csv`` and
    ``load_latencies.csv`` when the data has load runs with a latency.csv (the bundle of
    ``perfinvest report`` holds them as written by ``perfinvest export csv``)."""
    tables = [
        (RUNS_CSV, RUNS_HEADER, run_rows(data)),
        (SAMPLES_CSV, SAMPLES_HEADER, sample_rows(data)),
    ]
    if data.latencies:
        tables.append((LATENCIES_CSV, LATENCIES_HEADER, latency_rows(data)))
    return [(name, _table(header, rows)) for name, header, rows in tables]


def write_csvs(data: ExportData, out_dir: Path) -> list[Path]:
    """Write :func:`csv_tables` into ``out_dir``; returns the paths written, in order.

    ``data`` comes from :func:`perfinvest.app.exports.gather` (``gather(ctx, inv_id)``).
    """
    ensure_output_dir(out_dir)
    written = []
    for name, content in csv_tables(data):
        path = out_dir / name
        write_output(path, content)
        written.append(path)
    return written
