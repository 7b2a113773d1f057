"""A real load run (Locust against a local HTTP server) in an investigation's report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.app.load.test_load_run import ROUTES, SHORT, write_targets
from tests.conftest import START_ARGS
from tests.support.browser import DOM_QUERY, READY, chromium_missing, open_page
from tests.support.server import Behaviour, serve


@pytest.mark.slow
def test_a_real_load_run_is_drawn_over_time_with_its_slo_lines(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    from perfinvest.app.context import AppContext
    from perfinvest.app.report import gather, load_investigation
    from perfinvest.core.report.blocks import Table
    from perfinvest.core.report.model import build_report

    assert cli(*START_ARGS, "--json").code == 0
    behaviour = Behaviour(
        routes={"/fast": (0.002, 200), "/slow": (0.15, 200), "/health": (0.0, 200)}
    )
    with serve(behaviour) as url:
        targets = write_targets(repo / "t.yaml", url, ROUTES)
        run = cli("load", "run", "--profile", "ramp", "--targets", str(targets), "--users", "2",
                  "--duration", "3", *SHORT, "--json")  # fmt: skip
    assert run.code in (0, 8), run.out  # the slow route fails its SLO: a FAIL row
    ctx = AppContext.discover(repo)
    inv, _ = load_investigation(ctx, None)
    inputs = gather(ctx, inv)
    (load,) = inputs.load_runs
    assert load.seconds and sum(s.requests for s in load.seconds) > 0  # from latency.csv
    report = build_report(inputs)
    plot = next(p for p in report.plots() if p.key == "load-1")
    # rps and p50/p95/p99 over time, from the real latency.csv
    lines = {t["name"]: t for t in plot.figure["data"]}
    assert set(lines) >= {"requests/s", "p50", "p95", "p99"}
    assert sum(lines["requests/s"]["y"]) == sum(s.requests for s in load.seconds)
    assert any(v for v in lines["p99"]["y"] if v) and any(v for v in lines["p50"]["y"] if v)
    section = next(s for s in report.sections if s.key == "load")
    tables = {b.key: b for b in section.blocks if isinstance(b, Table)}
    matrix = tables["load-matrix-1"]
    assert matrix.rows[-1].cells[0] == "all" and len(matrix.rows) >= 2
    routes = tables["load-routes-1"]
    assert routes.rows[-1].cells[0] == "all" and "200:" in routes.rows[-1].cells[-1]
    shapes = plot.figure["layout"]["shapes"]
    assert {(s["yref"], s["y0"]) for s in shapes} >= {("y3", 80.0), ("y4", 0.01)}
    answer = cli("report", "--json")
    assert answer.code == 0 and "load-1" in answer.json["data"]["plots"]
    if chromium_missing() is None:
        page = open_page(Path(answer.json["data"]["report"]), DOM_QUERY, tmp_path / "l.png", READY)
        assert page.errors == []
        (drawn,) = [p for p in page.value["plots"] if p["key"] == "load-1"]
        assert drawn["rendered"] and drawn["traces"] == 6
