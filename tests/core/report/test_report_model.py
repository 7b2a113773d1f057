"""The report model over a real state folder: every section, badges, provenance, no NaN."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.synthetic import INV_ID, write_empty_state, write_state

from perfinvest.app.context import AppContext
from perfinvest.app.report import gather, load_investigation
from perfinvest.core.report.blocks import Details, Download, Image, Plot, Provenance, Table
from perfinvest.core.report.model import build_report

SECTIONS = [
    "summary", "overview", "phases", "baseline", "history", "breaking-point", "constraints", "load",
    "hypotheses", "profiling", "experiments", "decision",
]  # fmt: skip


def _model(tmp_path: Path, **kwargs: int):  # type: ignore[no-untyped-def]
    write_state(tmp_path / ".claude" / "perf", **kwargs)
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    return build_report(gather(ctx, inv))


def test_every_section_in_order_with_its_plots(tmp_path: Path) -> None:
    report = _model(tmp_path)
    assert [s.key for s in report.sections] == SECTIONS
    plots = {p.key: p for p in report.plots()}
    assert set(plots) == {
        "baseline-distribution-v1", "baseline-timeseries-v1", "history-trend", "breaking-curve",
        "constraints-side-by-side", "load-1", "flamegraph-1", "hotspots-1", "flamegraph-2",
        "experiments-ci", "experiment-1",
    }  # fmt: skip
    # runs with samples: one violin per run (its samples), so CV and outliers show
    violins = plots["baseline-distribution-v1"].figure["data"]
    assert [t["type"] for t in violins] == ["violin"] * 6
    assert all(len(t["y"]) == 40 for t in violins)
    assert sum("(non-compliant)" in t["name"] for t in violins) == 2  # runs 1 and 4
    import statistics

    for trace in violins:  # each run's own CV, from its samples, in its label
        cv = statistics.stdev(trace["y"]) / statistics.fmean(trace["y"])
        assert trace["name"].endswith(f"<br>CV {cv:.1%}")
    # the boundary is marked: a shaded interval between last pass and first fail
    shapes = plots["breaking-curve"].figure["layout"]["shapes"]
    assert {"type": "rect", "x0": 32, "x1": 40}.items() <= next(
        s for s in shapes if s["type"] == "rect"
    ).items()
    # SLO lines on the load plot: p95 <= 60 on the p95 axis, 1 % on the error axis
    load = plots["load-1"].figure["layout"]["shapes"]
    assert {(s["yref"], s["y0"]) for s in load} == {("y3", 60.0), ("y4", 0.01)}
    labels = plots["load-1"].figure["layout"]["annotations"]
    assert sorted(a["text"] for a in labels) == ["SLO error_rate 0.01", "SLO p95_ms 60"]
    assert not report.banner
    for plot in report.plots():
        json.dumps(plot.figure, allow_nan=False)  # JSON-safe: no NaN, no inf


def test_non_compliant_invalid_and_superseded_are_marked(tmp_path: Path) -> None:
    report = _model(tmp_path)
    baseline = next(s for s in report.sections if s.key == "baseline")
    runs = next(b for b in baseline.blocks if isinstance(b, Table) and b.key == "baseline-runs-v1")
    assert [r.badges for r in runs.rows][:3] == [["non-compliant"], ["invalid"], []]
    superseded = next(
        b for b in baseline.blocks if isinstance(b, Table) and b.key == "superseded-baselines"
    )
    assert [r.cells[0] for r in superseded.rows] == [
        "baselines/archive/v1.20261130T100000000000Z.json"
    ]
    assert all(r.badges == ["superseded"] for r in superseded.rows)
    history = next(s for s in report.sections if s.key == "history")
    rows = next(b for b in history.blocks if isinstance(b, Table)).rows
    # oldest first, kept in view; both have short (non-compliant) runs
    assert [r.badges for r in rows] == [["superseded", "non-compliant"], ["non-compliant"]]
    constraints = next(s for s in report.sections if s.key == "constraints")
    table = next(b for b in constraints.blocks if isinstance(b, Table))
    assert [r.badges for r in table.rows] == [["superseded", "non-compliant"], ["non-compliant"]]
    bars = next(b for b in constraints.blocks if isinstance(b, Plot)).figure["data"][0]["x"]
    assert bars[1:] == ["1. cpu=0.5 (superseded) (non-compliant)", "2. cpu=0.5 (non-compliant)"]
    probes = next(s for s in report.sections if s.key == "breaking-point")
    table = next(b for b in probes.blocks if isinstance(b, Table))
    assert all("non-compliant" in r.badges for r in table.rows)
    assert ["non-compliant", "invalid"] in [r.badges for r in table.rows]
    earlier = next(
        b for b in probes.blocks if isinstance(b, Table) and b.key == "superseded-breaking-points"
    )
    assert [r.cells[:4] for r in earlier.rows] == [
        [f"artifacts/{INV_ID}/breaking-point-20261201T100100.json", "found", "16", "48"]
    ]  # the newest file is the state's own result: not listed as superseded
    assert earlier.rows[0].badges == ["superseded", "non-compliant"]


def test_every_section_with_numbers_says_when_where_and_which_config(tmp_path: Path) -> None:
    report = _model(tmp_path)
    shown = {s.key for s in report.sections if any(isinstance(b, Provenance) for b in s.blocks)}
    # the summary quotes the sections below, whose provenance it links to
    assert shown == set(SECTIONS) - {"summary", "history", "hypotheses"}
    for section in report.sections:
        if not section.plots():
            continue
        provenance = [b for b in section.blocks if isinstance(b, Provenance)]
        if section.key == "history":  # each row names its time, host and configuration
            table = next(b for b in section.blocks if isinstance(b, Table))
            assert table.columns[1] == "measured" and table.columns[-2:] == ["host", "config hash"]
            assert all(r.cells[-2:] == ["bench-host", "cafe0123beef4567"] for r in table.rows)
            continue
        assert provenance, section.key
        for p in provenance:
            assert p.timestamp.startswith("2026-12-01T10:"), (section.key, p)
            assert "bench-host" in p.environment, (section.key, p)
            assert p.config_hash == "cafe0123beef4567", (section.key, p)


def test_profiles_are_interactive_icicles_and_an_svg_only_profile_an_image(
    tmp_path: Path,
) -> None:
    report = _model(tmp_path)
    profiling = next(s for s in report.sections if s.key == "profiling")
    # profile 1 (py-spy): its stacks as an icicle, the import folded, paths shortened to the
    # repository and the standard library, py-spy's process root and runpy left out
    (icicle,) = next(p for p in profiling.plots() if p.key == "flamegraph-1").figure["data"]
    assert icicle["type"] == "icicle" and icicle["values"][0] == 100
    nodes = dict(zip(icicle["ids"], icicle["values"], strict=True))
    assert nodes["<module> (bench.py:1)/(imports and start-up)"] == 20
    assert nodes["<module> (bench.py:3)/main (app.py:1)/handle (app.py:10)/slow_scan (app.py:20)"]
    assert "json/__init__.py:231" in " ".join(icicle["labels"])
    assert not [label for label in icicle["labels"] if "/usr/lib" in label or "process" in label]
    assert not [label for label in icicle["labels"] if str(tmp_path.resolve()) in label]
    # its SVG stays a download, never displayed
    (download,) = [b for b in profiling.blocks if isinstance(b, Download)]
    assert download.key == "flamegraph-svg-1" and download.content.startswith("<svg")
    # profile 2 kept only its collapsed stacks: an icicle too
    (other,) = next(p for p in profiling.plots() if p.key == "flamegraph-2").figure["data"]
    assert (
        dict(zip(other["ids"], other["values"], strict=True))[
            "main (app.py:1)/handle (app.py:10)/slow_scan (app.py:20)"
        ]
        == 80
    )
    # profile 3 kept only an SVG: shown as an image
    (image,) = [b for b in profiling.blocks if isinstance(b, Image)]
    assert image.key == "flamegraph-3" and image.content.startswith("<svg")


def test_hotspots_under_half_a_percent_are_behind_show_all(tmp_path: Path) -> None:
    report = _model(tmp_path)
    profiling = next(s for s in report.sections if s.key == "profiling")
    table = next(b for b in profiling.blocks if isinstance(b, Table) and b.key == "hotspots-1")
    assert [r.cells[0] for r in table.rows] == ["slow_scan", "render"]
    bars = next(p for p in profiling.plots() if p.key == "hotspots-1").figure["data"][0]["y"]
    assert len(bars) == 2
    (details,) = [b for b in profiling.blocks if isinstance(b, Details)]
    assert details.summary == "show all 5 hotspots (3 under 0.5 % of the samples)"
    (everything,) = details.blocks
    assert isinstance(everything, Table)
    assert [r.cells[1] for r in everything.rows][2:] == [
        "json/decoder.py:7", "json/encoder.py:7", "json/scanner.py:7"
    ]  # fmt: skip


def test_an_investigation_without_runs_says_so_in_every_section(tmp_path: Path) -> None:
    write_empty_state(tmp_path / ".claude" / "perf")
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    report = build_report(gather(ctx, inv))
    assert report.banner.startswith("No runs yet")
    assert [s.key for s in report.sections] == SECTIONS
    assert report.plots() == []
    for section in report.sections[3:]:
        assert any(getattr(b, "css", "") == "empty" for b in section.blocks), section.key


def test_fifty_runs_still_one_violin_per_run(tmp_path: Path) -> None:
    report = _model(tmp_path, baseline_runs=30, experiment_runs=10)
    plot = next(p for p in report.plots() if p.key == "baseline-distribution-v1")
    assert len(plot.figure["data"]) == 30
    assert isinstance(plot, Plot)


def test_non_finite_values_become_gaps_not_a_broken_page() -> None:
    from perfinvest.adapters.report.html import embedded_json

    text = embedded_json({"y": [1.0, float("nan"), float("inf")], "t": "</script><!--&"})
    assert json.loads(text) == {"y": [1.0, None, None], "t": "</script><!--&"}
    assert "<" not in text and ">" not in text and "&" not in text


def test_long_runs_are_drawn_from_a_bounded_sketch_with_their_extremes() -> None:
    import numpy as np

    from perfinvest.core.report.figures import RunPoint, distribution, timeseries

    samples = [float(v) for v in np.random.default_rng(3).lognormal(0, 0.5, 20_001)]
    point = RunPoint(
        "r1", 1.0, samples, compliant=True, valid=True, at="t", host="h", config_hash="c"
    )
    (violin,) = distribution([point], "p95_ms", "ms")["data"]
    assert len(violin["y"]) == 2000
    assert violin["y"][0] == min(samples) and violin["y"][-1] == max(samples)
    assert abs(float(np.median(violin["y"])) - float(np.median(samples))) < 0.01
    (series,) = timeseries([point], "p95_ms", "ms")["data"]
    assert series["type"] == "scatter" and len(series["x"]) <= 2000
    assert series["x"][:2] == [1, 12] and series["y"][1] == samples[11]  # every 11th sample


def test_text_reaches_plotly_escaped_so_it_shows_as_written() -> None:
    from perfinvest.core.report.phase_figures import HotBar, hotspots, icicle

    (frames,) = icicle([(("main", "std::vector<int>::push <b>"), 3)], "t")["data"]
    assert frames["labels"] == ["all", "main", "std::vector&lt;int&gt;::push &lt;b&gt;"]
    bars = hotspots([HotBar("a<br>b", 1.0, 2.0)], "profile <i>x</i>")
    assert bars["data"][0]["y"] == ["a&lt;br&gt;b"]
    assert bars["layout"]["title"]["text"] == "profile &lt;i&gt;x&lt;/i&gt;"


def test_tukey_outliers_are_named_by_run_not_shown_as_indices(tmp_path: Path) -> None:
    from perfinvest.core.report.blocks import KeyValues

    write_state(tmp_path / ".claude" / "perf")
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    inputs = gather(ctx, inv)
    kept = inputs.current_baseline()
    assert kept is not None
    kept.baseline.summaries["p95_ms"]["runs"]["outliers_tukey"] = [1]
    valid = [r for r in kept.baseline.runs if r.valid]  # the summary's indices count these
    baseline = next(s for s in build_report(inputs).sections if s.key == "baseline")
    values = dict(next(b for b in baseline.blocks if isinstance(b, KeyValues)).items)
    value = valid[1].metrics[0].value
    assert values["outliers (Tukey)"] == f"{valid[1].run_id} ({value:.4g})"
    assert valid[1].run_id != kept.baseline.runs[1].run_id  # run 2 is invalid: skipped


def test_numbers_are_written_for_people() -> None:
    from perfinvest.core.report.inputs import num

    assert [num(v) for v in (16000.0, 14_470_123.4, 500.0, 8.0341, 0.050951, -2500.0)] == [
        "16,000", "14,470,123", "500", "8.034", "0.05095", "-2,500"
    ]  # fmt: skip
    assert num(None) == "n/a" and num(float("nan")) == "nan" and num(3e20) == "3e+20"


def test_the_breaking_point_range_reads_as_a_range(tmp_path: Path) -> None:
    from perfinvest.core.report.blocks import KeyValues

    report = _model(tmp_path)
    section = next(s for s in report.sections if s.key == "breaking-point")
    values = dict(next(b for b in section.blocks if isinstance(b, KeyValues)).items)
    assert values["range"] == "1 to 64 at resolution 1"


def test_a_constrained_configurations_ci_is_drawn_and_written(tmp_path: Path) -> None:
    report = _model(tmp_path)
    section = next(s for s in report.sections if s.key == "constraints")
    (bars,) = next(b for b in section.blocks if isinstance(b, Plot)).figure["data"]
    # the change's CI (+80 % .. +125 % of the 12 ms baseline) around the 24 ms bar
    assert bars["error_y"]["array"][2] == 12.0 * 2.25 - 24.0
    assert bars["error_y"]["arrayminus"][2] == 24.0 - 12.0 * 1.8
    assert bars["error_y"]["array"][:2] == [None, None]  # the baseline, the older record
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.rows[1].cells[4] == "+100.0% (95 % CI +80.0% .. +125.0%)"
