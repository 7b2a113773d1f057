"""Pure parts of load testing: SLO parsing, histogram percentiles, plans, targets errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from perfinvest.core.load.profiles import plan, resolve_profile
from perfinvest.core.load.slo import judge, merge_histograms, parse_slo, percentile
from perfinvest.core.load.targets import Targets

TARGETS = {"base_url": "http://127.0.0.1:1", "routes": [{"name": "a", "path": "/a"}]}


def test_slo_parsing_and_errors() -> None:
    assert parse_slo("p95_ms <= 150").holds(150)
    assert not parse_slo("error_rate < 1%").holds(0.01)
    with pytest.raises(ValueError, match="unknown metric 'p97_ms'"):
        parse_slo("p97_ms < 3")
    with pytest.raises(ValueError, match="METRIC OP NUMBER"):
        parse_slo("p95 is fast")


def test_percentiles_come_from_the_merged_histogram_not_averages() -> None:
    fast = {1.0: 99}  # p99 1 ms
    slow = {100.0: 99, 500.0: 1}  # p99 100 ms
    merged = merge_histograms([fast, slow])
    assert sum(merged.values()) == 199
    assert percentile(merged, 99) == 100.0  # rank 198 of 199 falls among the 100 ms
    assert percentile(merged, 50) == 100.0  # rank 100: the first 100 ms request
    assert percentile(merged, 49) == 1.0
    assert percentile(merged, 99.9) == 500.0
    assert math.isnan(percentile({}, 95))
    (verdict,) = judge("a", ["p95_ms <= 10"], {})
    assert not verdict.passed  # no data is a FAIL, not a PASS


def test_route_exception_overrides_the_default_for_its_metric_only() -> None:
    data: dict[str, Any] = {
        **TARGETS,
        "routes": [{"name": "a", "path": "/a", "slo": ["p95_ms <= 500"]}],
    }
    targets = Targets.model_validate(data)
    assert targets.route_slos(targets.routes[0]) == ["p95_ms <= 500", "error_rate < 0.01"]


def test_shapes_follow_their_plans() -> None:
    targets = Targets.model_validate(TARGETS)
    ramp = plan("ramp", resolve_profile(targets, "ramp"), users=10, duration_s=10)
    assert ramp.users_at(0) == 1 and ramp.users_at(9) == 10 and ramp.users_at(10) is None
    assert ramp.users_at(4) is not None and 1 < ramp.users_at(4) < 10  # type: ignore[operator]
    spike = plan("spike", resolve_profile(targets, "spike"), users=2, duration_s=10)
    assert [spike.users_at(t) for t in (1, 4, 8)] == [2, 20, 2]
    burst = plan("burst", resolve_profile(targets, "burst"), rate_rps=30, duration_s=5)
    assert burst.rate_rps == 30 and burst.peak_users == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("routes: [\n", "t.yaml:2: not valid YAML"),
        ("base_url: http://127.0.0.1:1\nroutes:\n  - name: a\n    pth: /a\n", "t.yaml:4: routes.0"),
        (
            "base_url: http://127.0.0.1:1\nroutes:\n  - name: a\n    path: /a\n"
            "    slo: ['p97_ms < 3']\n",
            "t.yaml:5: routes.0.slo: SLO 'p97_ms < 3': unknown metric",
        ),
        ("base_url: ftp://x\nroutes: [{name: a, path: /a}]\n", "t.yaml:1: base_url"),
        (
            "base_url: http://127.0.0.1:1\nroutes: [{name: a, path: /a}]\n"
            "profiles:\n  custom: {users: 3}\n",
            "t.yaml:3: profiles: profile 'custom' needs a shape",
        ),
    ],
)
def test_load_check_names_line_and_field(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(text)
    result = cli("load", "check", "--targets", "t.yaml", "--json")
    assert result.code == 2
    assert expected in result.json["error"]["message"]


def test_init_writes_a_file_check_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("load", "init", "--json").code == 0
    assert (tmp_path / "perf" / "targets.yaml").read_text().startswith("# perfinvest")
    checked = cli("load", "check", "--json")
    assert checked.code == 0, checked.out
    assert set(checked.json["data"]["profiles"]) >= {"smoke", "ramp", "spike", "soak", "burst"}
    assert cli("load", "init", "--json").code == 2  # never overwrites without --force


def test_the_init_template_validates_against_the_committed_schema() -> None:
    import json

    import jsonschema
    import yaml

    from perfinvest.adapters.load.targets_file import TEMPLATE

    schema = json.loads((Path(__file__).parents[3] / "schemas" / "targets.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(TEMPLATE), schema)


def test_start_with_a_load_profile_refuses_bad_combinations(repo: Path, cli: Any) -> None:
    base = ("start", "--scenario", "s", "--success", "p95_ms < 100", "--version", "v1")
    both = cli(*base, "--command", "true", "--load-profile", "baseline", "--json")
    assert both.code == 2 and "not both" in both.json["error"]["message"]
    missing = cli(*base, "--load-profile", "baseline", "--targets", "nope.yaml", "--json")
    assert missing.code == 2 and "nope.yaml not found" in missing.json["error"]["message"]
    (repo / "t.yaml").write_text("base_url: http://127.0.0.1:1\nroutes: [{name: a, path: /a}]\n")
    unknown = cli(*base, "--load-profile", "nope", "--targets", "t.yaml", "--json")
    assert unknown.code == 2 and "unknown profile 'nope'" in unknown.json["error"]["message"]
    ok = cli(*base, "--load-profile", "smoke", "--targets", "t.yaml", "--json")
    assert ok.code == 0, ok.out
    assert ok.json["data"]["command"][-5:] == ["bench", "--profile", "smoke", "--targets", "t.yaml"]
    assert not (repo / ".claude" / "perf" / "load").exists()


def test_load_bench_takes_users_and_approval_from_the_phase_environment(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "t.yaml").write_text("base_url: http://127.0.0.1:9\nroutes: [{name: a, path: /a}]\n")
    monkeypatch.setenv("PERF_RUN_DURATION", "2")
    monkeypatch.setenv("PERF_PARAM_VALUE", "61")
    gated = cli("load", "bench", "--targets", "t.yaml", "--json")
    assert gated.code == 3 and "61 users" in gated.json["error"]["message"]
    monkeypatch.setenv("PERFINVEST_LOAD_APPROVE", "searching past 60 on loopback")
    passed_gate = cli("load", "bench", "--targets", "t.yaml", "--json")
    assert passed_gate.code == 5  # past the gate: now the (closed) port is what stops it
    assert "unreachable" in passed_gate.json["error"]["message"]


def test_an_interrupted_plan_is_steady_over_the_seconds_it_ran() -> None:
    from perfinvest.core.load.profiles import cut_short
    from perfinvest.core.load.targets import Profile

    smoke = plan("smoke", Profile())
    assert (smoke.steady_start_s, smoke.steady_end_s) == (1.0, 60.0)
    cut = cut_short(smoke, 12.5)
    assert (cut.steady_start_s, cut.steady_end_s, cut.duration_s) == (1.0, 12.5, 60.0)
    early = cut_short(smoke, 0.6)  # stopped before the steady window began: all it ran
    assert (early.steady_start_s, early.steady_end_s) == (0.0, 0.6)
    assert cut_short(smoke, 90.0) == smoke  # past its end: unchanged


def test_an_interrupted_matrix_shows_values_and_judges_nothing() -> None:
    from perfinvest.core.load.slo import render_matrix

    rows = judge("r", ["p95_ms <= 10"], {"p95_ms": 20.0})
    matrix = render_matrix("smoke", rows, {"r": {"p95_ms": 20.0}}, interrupted="stopped")
    assert matrix.startswith("# SLO matrix: smoke (interrupted: stopped)")
    assert "| 20 | not judged |" in matrix and "FAIL" not in matrix
    assert "| FAIL |" in render_matrix("smoke", rows, {"r": {"p95_ms": 20.0}})
