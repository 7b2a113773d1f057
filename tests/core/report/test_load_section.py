"""A load run in the report: over time (users, rps, p50/p95/p99, errors), the SLO matrix
with its all row, the routes with their statuses, errors by type, the phases judged apart."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.support.synthetic import INV_ID, write_state

from perfinvest.app.context import AppContext
from perfinvest.app.report import gather, load_investigation
from perfinvest.core.report.blocks import Paragraph, Plot, Section, Table
from perfinvest.core.report.load_section import load_section

FOLDER = Path("artifacts") / INV_ID / "load-baseline-20261201T100500"


def _section(tmp_path: Path) -> Section:
    write_state(tmp_path / ".claude" / "perf")
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    return load_section(gather(ctx, inv))


def _table(section: Section, key: str) -> Table:
    return next(b for b in section.blocks if isinstance(b, Table) and b.key == key)


def test_the_run_is_drawn_over_time_from_its_latency_csv(tmp_path: Path) -> None:
    section = _section(tmp_path)
    (plot,) = [b for b in section.blocks if isinstance(b, Plot)]
    names = [t["name"] for t in plot.figure["data"]]
    assert names == ["users", "requests/s", "p50", "p95", "p99", "error rate"]
    with (tmp_path / ".claude" / "perf" / FOLDER / "latency.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["route"] == "all"]
    by_name = {t["name"]: t for t in plot.figure["data"]}
    for name in ("p50", "p95", "p99"):
        assert by_name[name]["y"] == [float(r[f"{name}_ms"]) for r in rows]
        assert by_name[name]["yaxis"] == "y3"  # one latency panel
    assert by_name["requests/s"]["y"] == [float(r["requests"]) for r in rows]


def test_the_slo_matrix_has_a_row_for_all_judged_against_every_slo(tmp_path: Path) -> None:
    matrix = _table(_section(tmp_path), "load-matrix-1")
    assert matrix.columns == ["route", "p95_ms <= 60", "error_rate < 1%"]
    cells = {r.cells[0]: r.cells[1:] for r in matrix.rows}
    assert list(cells) == ["/checkout", "all"]
    assert cells["/checkout"] == ["FAIL (62)", ""]  # no error-rate SLO on the route itself
    # all: its own recorded verdict where there is one, else the aggregate judged (62 > 60)
    assert cells["all"] == ["FAIL (62)", "FAIL (0.02)"]
    assert all("fail" in r.badges and "non-compliant" in r.badges for r in matrix.rows)


def test_routes_statuses_errors_and_phases(tmp_path: Path) -> None:
    section = _section(tmp_path)
    routes = _table(section, "load-routes-1")
    assert [r.cells[0] for r in routes.rows] == ["/checkout", "all"]
    assert routes.rows[-1].cells[-2:] == ["2.00%", "200: 5292, 500: 108"]
    errors = _table(section, "load-errors-1")
    assert [r.cells for r in errors.rows] == [
        ["/checkout", "HTTPError('500 Server Error')", "100"],
        ["/checkout", "ConnectionResetError(104)", "8"],
    ]
    phases = _table(section, "load-phases-1")
    assert [(r.cells[0], r.cells[-1]) for r in phases.rows] == [("ramp", "PASS"), ("hold", "FAIL")]
    assert "fail" in phases.rows[1].badges and "fail" not in phases.rows[0].badges


def test_a_result_without_errors_or_phases_says_so(tmp_path: Path) -> None:
    write_state(tmp_path / ".claude" / "perf")
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    inputs = gather(ctx, inv)
    result = inputs.load_runs[0].result
    for key in ("errors", "phase_verdicts", "routes"):
        result.pop(key)
    result["verdicts"].append({"route": "all", "slo": "not an SLO", "verdict": "FAIL"})
    section = load_section(inputs)
    assert any(isinstance(b, Paragraph) and b.text == "No request failed." for b in section.blocks)
    assert not [b for b in section.blocks if isinstance(b, Table) and b.key == "load-phases-1"]
    matrix = _table(section, "load-matrix-1")
    all_row = next(r for r in matrix.rows if r.cells[0] == "all")
    assert all_row.cells[1] == "FAIL (n/a)"  # no aggregate values recorded: p95 unknown
