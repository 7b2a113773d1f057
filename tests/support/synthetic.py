"""A state folder with every kind of result a report shows, written through the real store.

Used by the report tests and by ``benchmarks/report_generation.py``: a baseline whose runs
carry raw samples (some non-compliant, one invalid), a superseded baseline, breaking-point
probes, a constrained configuration, an experiment with its runs file, a load run with
its latency.csv, a profile with a flamegraph, hypotheses and a decision. The values come
from a seeded numpy Generator, so nothing is hard-coded into what the report draws.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from perfinvest.adapters.profilers.render import flamegraph_svg
from perfinvest.core.models import (
    ArtifactRef,
    Baseline,
    BaselineRef,
    BreakingPointResult,
    ConstraintResult,
    CriterionCheck,
    DecisionRecord,
    EnvironmentFingerprint,
    Experiment,
    Hotspot,
    Hypothesis,
    Investigation,
    LimitEffect,
    Metric,
    MetricSpec,
    PhaseAttempt,
    Probe,
    ProfilingResult,
    Run,
    Setup,
    ShortRunPolicy,
)
from perfinvest.core.phases import PHASE_ORDER
from perfinvest.core.profiling.hotspots import Stack
from perfinvest.core.stats.comparing import compare_runs, metric_effects
from perfinvest.store.atomic import atomic_write_text
from perfinvest.store.documents import write_document
from perfinvest.store.paths import StatePaths

INV_ID = "perf-20261201-100000-0123abcd"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ENV = EnvironmentFingerprint(
    host="bench-host",
    cpu_model="Test CPU",
    cpu_count=2,
    kernel="6.1.0",
    python="3.11.7",
    config_hash="cafe0123beef4567",
)


def _run(
    run_id: str, at: datetime, samples: list[float], *, compliant: bool, valid: bool = True
) -> Run:
    return Run(
        run_id=run_id,
        started_at=at,
        ended_at=at + timedelta(seconds=3),
        duration_s=3.0,
        requested_duration_s=3.0,
        compliant=compliant,
        compliance_note=None if compliant else "3 s < 60 s minimum, allowed by short-run policy",
        valid=valid,
        invalid_reason=None if valid else "ended early",
        metrics=[
            Metric(
                name="p95_ms",
                value=float(np.mean(samples)),
                unit="ms",
                direction="lower",
                samples=samples,
            )
        ],
        environment=ENV,
    )


def _runs(rng: np.random.Generator, prefix: str, n: int, center: float, samples: int) -> list[Run]:
    return [
        _run(
            f"{prefix}-{i + 1}",
            T0 + timedelta(seconds=10 * i),
            [float(v) for v in rng.normal(center, center * 0.05, samples)],
            compliant=i % 3 != 0,  # every third run is short (non-compliant)
            valid=i != 1,
        )
        for i in range(n)
    ]


def _attempts(phases: int) -> list[PhaseAttempt]:
    return [
        PhaseAttempt(
            phase=phase,
            attempt=1,
            outcome="skipped" if phase.value == "code-paths" else "completed",
            started_at=T0 + timedelta(minutes=i),
            ended_at=T0 + timedelta(minutes=i, seconds=30),
            summary=f"{phase.value} done",
            skip_reason="not needed here" if phase.value == "code-paths" else None,
            non_compliant=phase.value
            in ("baseline", "breaking-point", "constraints", "optimization"),
        )
        for i, phase in enumerate(PHASE_ORDER[:phases])
    ]


def write_state(
    perf: Path, *, baseline_runs: int = 6, experiment_runs: int = 3, samples: int = 40
) -> str:
    """Write the whole state under ``perf`` (a ``.claude/perf`` folder); returns the id."""
    rng = np.random.default_rng(14)
    paths = StatePaths(perf.parent)
    artifacts = paths.artifacts(INV_ID)
    spec = MetricSpec(name="p95_ms", direction="lower", unit="ms")
    runs = _runs(rng, "baseline", baseline_runs, 12.0, samples)
    old = Baseline(
        version="v1",
        investigation_id=INV_ID,
        created_at=T0 - timedelta(days=1),
        config_hash=ENV.config_hash,
        primary_metric=spec,
        runs=_runs(rng, "old", 2, 13.0, samples),
        summaries={"p95_ms": {"direction": "lower", "runs": {"n": 2, "mean": 13.0, "cv": 0.04}}},
        environment=ENV,
    )
    archived = paths.baseline_archive_dir / "v1.20261130T100000000000Z.json"
    write_document(archived, old)
    values = [r.metrics[0].value for r in runs if r.valid]
    current = Baseline(
        version="v1",
        investigation_id=INV_ID,
        created_at=T0,
        config_hash=ENV.config_hash,
        primary_metric=spec,
        runs=runs,
        summaries={
            "p95_ms": {
                "direction": "lower",
                "runs": {
                    "n": len(values),
                    "mean": float(np.mean(values)),
                    "stddev": float(np.std(values, ddof=1)),
                    "cv": float(np.std(values, ddof=1) / np.mean(values)),
                    "min": min(values),
                    "median": float(np.median(values)),
                    "max": max(values),
                    "outliers_tukey": [],
                },
            }
        },
        environment=ENV,
        supersedes=paths.relative(archived),
    )
    write_document(paths.baseline("v1"), current)
    side_a = _runs(rng, "exp1-baseline", experiment_runs, 12.0, samples)
    side_b = _runs(rng, "exp1-candidate", experiment_runs, 6.0, samples)
    for side, rss in ((side_a, 40.0), (side_b, 52.0)):  # the candidate uses more memory
        for run in side:
            value = float(rng.normal(rss, rss * 0.01))
            run.metrics.append(Metric(name="rss_mb", value=value, unit="MB", direction="lower"))
    side_b[0].metrics.append(Metric(name="cache_hits", value=7.0))  # one side reports it
    effects = metric_effects(  # phase 8's own comparison of the two sides, every metric both report
        compare_runs(
            [r for r in side_a if r.valid],
            [r for r in side_b if r.valid],
            baseline_label="baseline side",
            candidate_label="candidate",
            primary="p95_ms",
        )
    )
    runs_file = artifacts / "experiment-1" / "runs.json"
    atomic_write_text(
        runs_file,
        json.dumps(
            {
                "baseline": [r.model_dump(mode="json") for r in side_a],
                "candidate": [r.model_dump(mode="json") for r in side_b],
            }
        ),
    )
    patch = artifacts / "experiment-1" / "change.patch"
    atomic_write_text(
        patch,
        "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -20,3 +20,3 @@\n"
        " def slow_scan(items):\n-    seen = []\n+    seen = set()  # <b>not</b> markup\n"
        "     return [i for i in items if i not in seen]\n",
    )
    stacks = [
        Stack(("main (app.py:1)", "handle (app.py:10)", "slow_scan (app.py:20)"), 80),
        Stack(("main (app.py:1)", "handle (app.py:10)", "render <b>&amp; (app.py:30)"), 20),
    ]
    collapsed = artifacts / "profile-2" / "stacks.collapsed.txt"  # a profile without an SVG
    atomic_write_text(
        collapsed, "\n".join(f"{';'.join(s.frames)} {s.count}" for s in stacks) + "\n"
    )
    flame = artifacts / "profile-1" / "flamegraph.svg"
    atomic_write_text(flame, flamegraph_svg(stacks, "profile-1 <script>alert(1)</script>"))
    # py-spy's own stacks of profile 1: absolute paths, its process root, an import
    root = perf.parent.parent.resolve()
    pyspy = artifacts / "profile-1" / "stacks.collapsed.txt"
    process = 'process 4242:"/usr/bin/python3 bench.py"'
    atomic_write_text(
        pyspy,
        f"{process};<module> ({root}/bench.py:3);main ({root}/app.py:1);"
        f"handle ({root}/app.py:10);slow_scan ({root}/app.py:20) 70\n"
        f"{process};<module> ({root}/bench.py:3);main ({root}/app.py:1);"
        f"handle ({root}/app.py:10);dumps (/usr/lib/python3.11/json/__init__.py:231) 10\n"
        f"{process};<module> ({root}/bench.py:1);"
        "_find_and_load (<frozen importlib._bootstrap>:1176);"
        "_find_and_load_unlocked (<frozen importlib._bootstrap>:1147);"
        "<module> (/usr/lib/python3.11/json/__init__.py:1) 20\n",
    )
    old_flame = artifacts / "profile-3" / "flamegraph.svg"  # an older profile: its SVG only
    atomic_write_text(old_flame, flamegraph_svg(stacks[:1], "profile-3"))
    _write_load_run(artifacts / "load-baseline-20261201T100500")
    inv = Investigation(
        id=INV_ID,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=10),
        status="complete",
        setup=Setup(
            scenario='checkout p95 <under> load & "quotes"',
            command=["python", "bench.py"],
            metric=spec,
            success_criteria=["p95_ms < 10"],
            version="v1",
            quotes=["it got slow </script><script>alert(1)</script>"],
            short_run_policy=ShortRunPolicy(reason="tests use short runs", set_at=T0),
        ),
        attempts=_attempts(len(PHASE_ORDER)),
        baseline=BaselineRef(version="v1", path="baselines/v1.json", created_at=T0, runs=len(runs)),
        breaking_point=BreakingPointResult(
            minimum=1,
            maximum=64,
            breaking_point=40,
            last_passing=32,
            verdict="found",
            thresholds=["p95_ms>20"],
            compliant=False,
            compliance_note="2 s < 30 s minimum for probes",
            probes=[
                Probe(
                    value=v,
                    passed=v < 40,
                    stage="bisect",
                    run_id=f"probe-{v}",
                    metrics={"p95_ms": 8.0 + v * 0.4 + float(rng.normal(0, 0.5))},
                )
                for v in (64, 32, 48, 40, 36, 1)
            ]
            + [Probe(value=44, passed=None, stage="bisect", reason="too short")],
        ),
        constraints=[
            ConstraintResult(
                backend="cgroup1",
                label="cpu=0.5",
                cpu=0.5,
                runs=["constrained-1", "constrained-2"],
                valid_runs=2,
                metrics={"p95_ms": 25.0},
                deltas={"p95_ms": 25.0 / 12.0 - 1},
                throttled_periods=12,
                peak_memory_bytes=30 * 2**20,
            ),
            ConstraintResult(  # the same limit measured again: the one above is superseded
                backend="cgroup1",
                label="cpu=0.5",
                cpu=0.5,
                runs=["constrained-3", "constrained-4"],
                valid_runs=2,
                metrics={"p95_ms": 24.0},
                deltas={"p95_ms": 24.0 / 12.0 - 1},
                effects={
                    "p95_ms": LimitEffect(
                        baseline=12.0,
                        constrained=24.0,
                        relative_change=1.0,
                        ci_low=0.8,
                        ci_high=1.25,
                        effect="slower under limit",
                    )
                },
            ),
        ],
        hypotheses=[
            Hypothesis(
                id="H1", statement="slow_scan is quadratic", status="confirmed", created_at=T0
            ),
            Hypothesis(
                id="H2", statement="render <i>allocates</i>", status="refuted", created_at=T0
            ),
        ],
        profiling=[
            ProfilingResult(
                number=1,
                profiler="py-spy",
                created_at=T0,
                total_samples=100,
                artifacts=[
                    ArtifactRef(path=paths.relative(flame), description="flamegraph SVG"),
                    ArtifactRef(path=paths.relative(pyspy), description="collapsed stacks"),
                ],
                hotspots=[
                    Hotspot(
                        function="slow_scan",
                        file="app.py",
                        line=20,
                        self_pct=80,
                        total_pct=80,
                        samples=80,
                        hot_line="app.py:22",
                    ),
                    Hotspot(
                        function="render",
                        file="app.py",
                        line=30,
                        self_pct=20,
                        total_pct=20,
                        samples=20,
                    ),
                    *(  # stdlib frames near 0 %: folded behind "show all"
                        Hotspot(
                            function=name,
                            file=f"/usr/lib/python3.11/json/{name}.py",
                            line=7,
                            self_pct=0.2,
                            total_pct=0.3,
                            samples=1,
                        )
                        for name in ("decoder", "encoder", "scanner")
                    ),
                ],
            ),
            ProfilingResult(
                number=2,
                profiler="perf",
                created_at=T0,
                total_samples=100,
                artifacts=[ArtifactRef(path=paths.relative(collapsed), description="stacks")],
            ),
            ProfilingResult(
                number=3,
                profiler="py-spy",
                created_at=T0,
                total_samples=80,
                artifacts=[ArtifactRef(path=paths.relative(old_flame), description="SVG")],
            ),
        ],
        experiments=[
            Experiment(
                number=1,
                hypothesis="H1",
                change="a set instead of a list scan",
                metric="p95_ms",
                verdict="improved",
                relative_change=-0.5,
                ci_low=-0.55,
                ci_high=-0.45,
                p_value=0.001,
                baseline_mean=12.0,
                candidate_mean=6.0,
                runs_per_side=experiment_runs,
                compliant=False,
                runs=ArtifactRef(path=paths.relative(runs_file)),
                patch=ArtifactRef(path=paths.relative(patch)),
                changed_files=["M app.py"],
                diffstat=" app.py | 2 +-",
                restore_verified=True,
                effects=effects,
            )
        ],
        decision=DecisionRecord(
            verdict="stop",
            rationale="goal met",
            recommendation="stop",
            goal_met=True,
            criteria=[CriterionCheck(text="p95_ms < 10", met=True, observed=6.0, source="exp 1")],
        ),
    )
    write_document(paths.active, inv)
    # the breaking-point phase keeps each search's result; the state holds the last one
    assert inv.breaking_point is not None
    earlier = inv.breaking_point.model_copy(update={"breaking_point": 48.0, "last_passing": 16.0})
    for stamp, result in (("20261201T100100", earlier), ("20261201T100200", inv.breaking_point)):
        atomic_write_text(
            artifacts / f"breaking-point-{stamp}.json", result.model_dump_json(indent=2)
        )
    return INV_ID


def _write_load_run(folder: Path) -> None:
    rows = ["second,route,users,requests,failures,p50_ms,p95_ms,p99_ms,max_ms"]
    for s in range(30):
        users = min(s + 1, 20)
        for route in ("/checkout", "all"):
            p50 = 10 + s // 3
            rows.append(
                f"{s},{route},{users},{users * 5},{s // 10},{p50},{40 + s},{60 + s},{90 + s}"
            )
    atomic_write_text(folder / "latency.csv", "\n".join(rows) + "\n")
    result = {
        "kind": "perfinvest.load-result",
        "profile": "baseline",
        "passed": False,
        "compliant": False,
        "verdicts": [
            {"route": "/checkout", "slo": "p95_ms <= 60", "metric": "p95_ms", "measured": 62.0,
             "verdict": "FAIL"},
            {"route": "all", "slo": "error_rate < 1%", "metric": "error_rate", "measured": 0.02,
             "verdict": "FAIL"},
        ],
        "routes": {
            "/checkout": {"requests": 5400, "rps": 60.0, "p50_ms": 10.0, "p95_ms": 62.0,
                          "p99_ms": 80.0, "max_ms": 95.0, "error_rate": 0.02,
                          "statuses": {"200": 5292, "500": 108}},
            "all": {"requests": 5400, "rps": 60.0, "p50_ms": 10.0, "p95_ms": 62.0,
                    "p99_ms": 80.0, "max_ms": 95.0, "error_rate": 0.02,
                    "statuses": {"200": 5292, "500": 108}},
        },
        "errors": [
            {"route": "/checkout", "error": "HTTPError('500 Server Error')", "count": 100},
            {"route": "/checkout", "error": "ConnectionResetError(104)", "count": 8},
        ],
        "phase_verdicts": [
            {"phase": "ramp", "route": "/checkout", "slo": "p95_ms <= 60", "metric": "p95_ms",
             "measured": 45.0, "verdict": "PASS"},
            {"phase": "hold", "route": "/checkout", "slo": "p95_ms <= 60", "metric": "p95_ms",
             "measured": 66.0, "verdict": "FAIL"},
        ],
        "run": _run(
            "load-baseline-1", datetime(2026, 12, 1, 10, 5, tzinfo=UTC), [62.0] * 5,
            compliant=False,
        ).model_dump(mode="json"),
    }  # fmt: skip
    atomic_write_text(folder / "result.json", json.dumps(result))


def write_empty_state(perf: Path) -> str:
    """An investigation just started: setup done, nothing measured."""
    paths = StatePaths(perf.parent)
    inv = Investigation(
        id=INV_ID,
        created_at=T0,
        updated_at=T0,
        setup=Setup(
            scenario="nothing measured yet",
            command=["python", "bench.py"],
            metric=MetricSpec(name="p95_ms", direction="lower"),
            success_criteria=["p95_ms < 10"],
            version="v1",
        ),
        attempts=_attempts(1),
    )
    write_document(paths.active, inv)
    return INV_ID
