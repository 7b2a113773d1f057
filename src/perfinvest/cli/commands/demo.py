"""`perfinvest demo`: the whole methodology on a bundled application, end to end."""

from __future__ import annotations

import sys
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, json_option


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the demo repository to explore it afterwards.")
@click.option(
    "--full",
    is_flag=True,
    help="Use the real 60 s run policy (about 20 minutes) instead of short, non-compliant runs.",
)
@json_option
@command_runner("demo")
def demo(keep: bool, full: bool, as_json: bool) -> Any:
    """Run all ten phases on a small bundled app with a slowdown planted in its history.

    Creates a temporary git repository, then sets up, measures a baseline, finds the
    breaking point, runs under a CPU limit, reads the history and finds the planted commit,
    ranks code paths, profiles, fixes the hotspot in one experiment (measured, reverted,
    verified), decides, consolidates and writes the HTML report (its path is printed).
    Each step is a real `perfinvest ... --json` call.
    """
    from perfinvest.app.demo import DemoOptions, DemoStep, run_demo
    from perfinvest.app.result import CommandResult

    out = sys.stderr if as_json else sys.stdout
    if not full:
        out.write(
            "perfinvest demo: short-run policy in force (runs shorter than 60 s are marked "
            "non-compliant): demo: short runs so it finishes in under 3 minutes\n"
        )

    def show(step: DemoStep) -> None:
        answer = step.answer
        first = (answer.get("findings") or [""])[0]
        if not answer.get("ok"):
            first = (answer.get("error") or {}).get("message", first)
        out.write(f"  {step.title:<26} {step.seconds:5.1f} s  {first}\n")
        out.flush()

    result = run_demo(DemoOptions(keep=keep, full=full), show)
    perf = result.results_dir
    log = perf / "investigations" / f"{result.investigation}.md"
    baselines = perf / "baselines"
    artifacts = perf / "artifacts" / result.investigation
    if result.kept:
        commands = [
            f"cd {result.repo} && perfinvest log",
            f"cd {result.repo} && perfinvest status",
            f"cd {result.repo} && git log --oneline",
        ]
    else:
        commands = [f"less {log}", f"cat {baselines / 'v1.0.json'}", f"ls -R {artifacts}"]
    answer = CommandResult(
        command="demo",
        investigation=result.investigation,
        phase="consolidation",
        status="complete",
        baseline="v1.0",
        findings=[
            s.answer.get("findings", [""])[0]
            for s in result.steps
            if s.answer.get("findings") and s.title != "report"
        ],
    )
    if result.report is not None:  # where it is now (the demo's repository may be gone)
        answer.findings.append(f"report written: {result.report}")
    answer.data = {
        "repository": str(result.repo) if result.kept else None,
        "log": str(log),
        "report": str(result.report) if result.report else None,
        "baselines": str(baselines),
        "artifacts": str(artifacts),
        "commands": commands,
        "short_run_policy": result.short_reason,
        "steps": [
            {
                "title": s.title,
                "argv": s.argv,
                "seconds": round(s.seconds, 2),
                "ok": s.answer.get("ok"),
            }
            for s in result.steps
        ],
    }
    body = "\n".join(
        [
            "",
            f"log:       {log}",
            f"report:    {result.report}  (open it in a browser; it needs no network)",
            f"baselines: {baselines}",
            f"artifacts: {artifacts}",
            "look at them with:",
            *(f"  {c}" for c in commands),
        ]
    )
    return answer, body
