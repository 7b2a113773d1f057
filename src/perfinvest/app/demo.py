"""`perfinvest demo`: a whole investigation, end to end, on a bundled application.

A temporary git repository gets a small word-statistics service whose history hides a
slowdown (a commit made ``unique_words`` quadratic) and a benchmark for it. The demo then
drives all ten phases exactly as an agent would: each phase is a real ``perfinvest ...
--json`` subprocess, and the next step is chosen from the answers (``next``, the
hypotheses' evidence, the profile's hotspots). Nothing here is faked: the measurements,
the cgroup run, the profile and the experiment are real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from perfinvest.core.errors import PerfError, benchmark_failed, environment_error

SHORT_REASON = "demo: short runs so the whole investigation finishes in under 3 minutes"
IDENTITY = {
    "GIT_AUTHOR_NAME": "perfinvest demo",
    "GIT_AUTHOR_EMAIL": "demo@perfinvest.invalid",
    "GIT_COMMITTER_NAME": "perfinvest demo",
    "GIT_COMMITTER_EMAIL": "demo@perfinvest.invalid",
}


@dataclass
class DemoStep:
    """One perfinvest command of the demo and its JSON answer."""

    title: str
    argv: list[str]
    answer: dict[str, Any]
    seconds: float


@dataclass
class DemoResult:
    repo: Path
    kept: bool
    investigation: str
    results_dir: Path
    report: Path | None = None  # the HTML report, under results_dir
    steps: list[DemoStep] = field(default_factory=list)
    short_reason: str | None = None


@dataclass(frozen=True)
class DemoOptions:
    keep: bool = False
    full: bool = False  # the real 60 s policy instead of short runs


def _app_file(name: str) -> str:
    return resources.files("perfinvest.demo_app").joinpath(f"{name}.txt").read_text("utf-8")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **IDENTITY},
    )
    if done.returncode != 0:
        raise environment_error(
            f"git {args[0]} failed in the demo repository: {done.stderr.strip()}"
        )
    return done.stdout.strip()


def build_repository(root: Path) -> Path:
    """The bundled app with its history: fast, released as v0.9, then the planted slowdown."""
    repo = root / "textstats"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text(_app_file("README.md"))
    (repo / "textstats.py").write_text(_app_file("textstats_fast.py"))
    (repo / "bench.py").write_text(_app_file("bench.py"))
    _git(repo, "add", "README.md", "textstats.py", "bench.py")
    _git(repo, "commit", "-q", "-m", "textstats: unique words and word count")
    _git(repo, "tag", "v0.9")
    (repo / "textstats.py").write_text(_app_file("textstats_slow.py"))
    _git(repo, "commit", "-q", "-am", "Make unique_words easier to read")
    with (repo / "README.md").open("a") as handle:
        handle.write("\nSee bench.py for the benchmark contract.\n")
    _git(repo, "commit", "-q", "-am", "Document the benchmark")
    return repo


class _Driver:
    """Runs ``perfinvest ... --json`` in the demo repository, one phase at a time."""

    def __init__(self, repo: Path, on_step: Callable[[DemoStep], None]) -> None:
        self.repo = repo
        self.on_step = on_step
        self.steps: list[DemoStep] = []
        self.env = {**os.environ, **IDENTITY}
        self.env.pop("AI_STATE_DIR", None)

    def __call__(self, title: str, *args: str, allow_fail: bool = False) -> dict[str, Any]:
        argv = [sys.executable, "-m", "perfinvest", *args, "--json"]
        started = time.perf_counter()
        done = subprocess.run(
            argv, cwd=self.repo, capture_output=True, text=True, check=False, env=self.env
        )
        try:
            answer: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise benchmark_failed(
                f"demo step '{title}' printed no JSON answer (exit {done.returncode}): "
                f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}"
            ) from None
        step = DemoStep(title, ["perfinvest", *args], answer, time.perf_counter() - started)
        self.steps.append(step)
        self.on_step(step)
        if not answer.get("ok") and not allow_fail:
            error = answer.get("error") or {}
            raise PerfError(
                f"demo step '{title}' failed: {error.get('message', 'unknown error')}",
                kind="demo",
            )
        return answer


def _planted_commit(gathered: dict[str, Any]) -> dict[str, Any]:
    """The commit in the window that touched the hot module (the demo's planted slowdown)."""
    commits: Sequence[dict[str, Any]] = gathered["data"].get("commits", [])
    touching = [c for c in commits if "textstats.py" in c.get("files", [])]
    if not touching:
        raise benchmark_failed(
            "the history gathered in the demo names no commit touching textstats.py"
        )
    return touching[-1]  # oldest first in the window is the cause; newest-first lists end with it


def _hot_line(profiled: dict[str, Any]) -> str:
    """Where the profile says the time goes: the top hotspot's hottest line (file:line)."""
    hotspots = ((profiled.get("data") or {}).get("profile") or {}).get("hotspots") or [{}]
    top = hotspots[0]
    return str(top.get("hot_line") or top.get("file") or "textstats.py")


def run_demo(options: DemoOptions, on_step: Callable[[DemoStep], None]) -> DemoResult:
    """Create the repository and drive the ten phases; keep or clean up as asked."""
    root = Path(tempfile.mkdtemp(prefix="perfinvest-demo-"))
    repo = build_repository(root)
    run = _Driver(repo, on_step)
    short = () if options.full else ("--duration", "3")
    probe = () if options.full else ("--duration", "2")
    start = [
        "start",
        "--scenario", "unique_words latency on a 2,000-word document",
        "--command", "python3 bench.py",
        "--metric", "p95_ms", "--direction", "lower", "--unit", "ms",
        "--success", "p95_ms < 0.5",
        "--version", "v1.0",
        "--quote", "Since the last release, word statistics feel slow on big documents.",
    ]  # fmt: skip
    if not options.full:
        start += ["--allow-short-runs", SHORT_REASON]
    answer = run("setup", *start)
    investigation = str(answer["investigation"])
    run("baseline", "baseline", "--runs", "2", *short)
    run(
        "breaking point",
        "breaking-point", "--min", "500", "--max", "16000", "--resolution", "1000",
        "--fail-when", "p95_ms>20", *probe,
    )  # fmt: skip
    run("constraints", "constraints", "--cpu", "0.5", "--runs", "2", *short)
    # No --since: the default window (since the version tag before the baseline) must
    # find the planted commit among the user's commits, past perfinvest's checkpoints.
    gathered = run("hypotheses: git history", "hypotheses", "gather")
    planted = _planted_commit(gathered)
    since = gathered["data"].get("since") or "the start of the history"
    run(
        "hypotheses",
        "hypotheses", "add",
        f"commit {planted['sha'][:10]} ({planted['subject']}) made unique_words quadratic",
        "--evidence", f"{planted['sha'][:10]} changed textstats.py since {since}",
        "--confidence", "high",
    )  # fmt: skip
    run("code paths", "code-paths")
    hot = _hot_line(run("profiling", "profile", *short))
    run(
        "experiment start",
        "experiment", "start", "--hypothesis", "H1",
        "--change", f"keep first-seen order with a dict instead of the list scan at {hot}",
        "--files", "textstats.py",
    )  # fmt: skip
    (repo / "textstats.py").write_text(_app_file("textstats_fast.py"))
    run("experiment", "experiment", "run", "--runs", "2", *short)
    recommendation = run("decision: recommendation", "decide", allow_fail=True)
    verdict = (recommendation.get("data") or {}).get("recommendation") or "stop"
    run(
        "decision",
        "decide", "--verdict", str(verdict),
        "--rationale", "the quadratic scan is found, fixed and measured; the fix is a patch",
    )  # fmt: skip
    run("consolidation", "consolidate")
    results = repo / ".claude" / "perf"
    if options.keep:
        report = Path(run("report", "report")["data"]["report"])
    else:  # the repository goes: the report is written where the results are kept, so
        # every path the demo prints (the report step's too) still exists afterwards
        kept = root.parent / f"perfinvest-demo-results-{investigation}"
        target = kept / "reports" / f"{investigation}.html"
        target.parent.mkdir(parents=True)
        report = Path(run("report", "report", "-o", str(target))["data"]["report"])
        shutil.copytree(results, kept, dirs_exist_ok=True)
        shutil.rmtree(root)
        results = kept
    return DemoResult(
        repo=repo,
        kept=options.keep,
        investigation=investigation,
        results_dir=results,
        report=report,
        steps=run.steps,
        short_reason=None if options.full else SHORT_REASON,
    )
