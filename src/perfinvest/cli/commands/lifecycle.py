"""Investigation lifecycle: start (phase 1), status, list, resume, log."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    context,
    json_option,
)


@cli.command()
@click.option("--scenario", help="The scenario under investigation, in one sentence.")
@click.option("--command", "command_", metavar="CMD", help="The benchmark command to run.")
@click.option("--metric", help="The primary metric's name, as the benchmark reports it.")
@click.option(
    "--direction",
    type=click.Choice(["lower", "higher"]),
    help="Which way the primary metric improves.",
)
@click.option(
    "--unit",
    default="",
    help="The primary metric's unit (e.g. ms, rps); plain text: no < > &, control "
    "characters, at most 32 characters.",
)
@click.option("--success", multiple=True, help="A success criterion (repeatable).")
@click.option("--version", "version_", metavar="V", help="The version being measured.")
@click.option(
    "--mode",
    type=click.Choice(["duration", "repeat", "tool"]),
    default="duration",
    show_default=True,
    help="duration: the command runs for the duration (a recognised hyperfine, pytest-benchmark, "
    "pyperf or go test -bench command is tool-driven); repeat: re-run a short command; tool: "
    "the tool fills the duration with its own options (docs/measuring.md).",
)
@click.option(
    "--tool",
    metavar="NAME",
    help="Force tool-driven mode for this tool: hyperfine, pytest-benchmark, pyperf, go-test.",
)
@click.option(
    "--param-env",
    default="PERF_PARAM_VALUE",
    show_default=True,
    help="Environment variable that carries the breaking-point parameter.",
)
@click.option("--shell", is_flag=True, help="Run the command through /bin/sh instead of argv.")
@click.option(
    "--format",
    "metrics_format",
    metavar="NAME",
    help="Metric format of the output (default: detected): perf-metrics, hyperfine-json, "
    "k6-summary, wrk, pytest-benchmark-json, go-bench, cargo-criterion-json, locust-csv, "
    "pyperf-json.",
)
@click.option(
    "--metrics-file",
    metavar="PATH",
    help="Read metrics from this file (relative to the repository) after each run, "
    "instead of stdout (e.g. a hyperfine --export-json file).",
)
@click.option("--quote", multiple=True, help="The user's words, verbatim (repeatable).")
@click.option(
    "--allow-short-runs",
    metavar="REASON",
    help="Allow runs shorter than 60 s (tests, demos); every such run is marked non-compliant.",
)
@click.option(
    "--load-profile",
    metavar="NAME",
    help="Measure a load profile of `perfinvest load` instead of --command (with --targets); "
    "the metric defaults to p95_ms, lower; breaking-point searches its users.",
)
@click.option(
    "--targets",
    metavar="FILE",
    help="The targets file for --load-profile (default perf/targets.yaml).",
)
@click.option("--no-checkpoint", is_flag=True, help="Do not make the checkpoint commit.")
@json_option
@command_runner("start")
def start(
    scenario: str | None,
    command_: str | None,
    metric: str | None,
    direction: str | None,
    unit: str,
    success: tuple[str, ...],
    version_: str | None,
    mode: str,
    tool: str | None,
    param_env: str,
    shell: bool,
    metrics_format: str | None,
    metrics_file: str | None,
    quote: tuple[str, ...],
    allow_short_runs: str | None,
    load_profile: str | None,
    targets: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 1: set up a new investigation (an active one is archived, never lost).

    Everything must be stated: missing items are answered with exit code 3 and the list of
    what is needed, nothing is guessed and nothing is written.

    \b
    Example:
      perfinvest start --scenario "checkout p95 under load" --command "python bench.py" \\
        --metric p95_ms --direction lower --success "p95_ms < 120" --version v1.4.0
    """
    from perfinvest.app.phases.setup import SetupRequest
    from perfinvest.app.phases.setup import start as start_investigation

    if load_profile is not None or targets is not None:
        from perfinvest.app.load.targets import bench_command

        command_, metrics_format = bench_command(command_, load_profile, targets), "perf-metrics"
        metric, direction = metric or "p95_ms", direction or "lower"
        unit = unit or ("ms" if metric.endswith("_ms") else unit)

    request = SetupRequest(
        scenario=scenario,
        command=command_,
        metric=metric,
        direction=direction,
        success=list(success),
        version=version_,
        mode=mode,
        param_env=param_env,
        shell=shell,
        quotes=list(quote),
        allow_short_runs=allow_short_runs,
        unit=unit,
        metrics_format=metrics_format,
        metrics_file=metrics_file,
        tool=tool,
    )
    return start_investigation(context(no_checkpoint), request)


@cli.command()
@json_option
@command_runner("status")
def status(as_json: bool) -> Any:
    """Show the active investigation: phases done, next step, policy in force, and its
    latest load runs (profile, when, PASS/FAIL/interrupted, folder)."""
    from perfinvest.app.status_cache import cached_status

    ctx = context()
    result = cached_status(ctx)  # the models are loaded only when the state changed
    if result is None:
        from perfinvest.app.queries import status as status_of

        result = status_of(ctx)
    from perfinvest.app.status_notes import live_notes, load_run_line, load_runs

    result.findings.extend(live_notes(ctx))
    runs = load_runs(ctx, result.investigation)
    result.data["load_runs"] = runs
    result.findings.extend(load_run_line(r) for r in runs)
    if as_json:
        return result
    from perfinvest.core.printable import one_line

    lines = [f"investigation {result.investigation}: {one_line(result.data['scenario'])}"]
    for row in result.data["phases"]:
        mark = "x" if row["done"] else " "
        detail = (
            f" ({row['attempts']} attempt(s), last {row['last_outcome']})"
            if row["attempts"]
            else ""
        )
        lines.append(f"  [{mark}] {row['number']:>2} {row['phase']}{detail}")
    lines.extend(f"- {one_line(f)}" for f in result.findings)
    return result, "\n".join(lines)


@cli.command(name="list")
@json_option
@command_runner("list")
def list_command(as_json: bool) -> Any:
    """List every investigation in the state folder, the active one first."""
    from perfinvest.app.queries import list_investigations
    from perfinvest.core.printable import one_line

    result = list_investigations(context())
    lines = [
        one_line(
            f"{'*' if r['active'] else ' '} {r['id']}  {r['status']:<11} "
            f"{r['version'] or '-':<12} {r['scenario'] or r['problem']}"
        )
        for r in result.data["investigations"]
    ]
    return result, "\n".join(lines) or "no investigations yet: `perfinvest start`"


@cli.command()
@click.argument("investigation_id", metavar="ID")
@json_option
@command_runner("resume")
def resume(investigation_id: str, as_json: bool) -> Any:
    """Make investigation ID active again (the active one is archived first).

    ID may be a unique prefix of the id (`perfinvest resume perf-20261123`); a prefix
    several ids share is refused with the list of them.
    """
    from perfinvest.app.queries import resume as resume_investigation

    return resume_investigation(context(), investigation_id)


@cli.command()
@click.argument("investigation_id", metavar="[ID]", required=False)
@json_option
@command_runner("log")
def log(investigation_id: str | None, as_json: bool) -> Any:
    """Print the reviewer's log (markdown) of the active investigation or of ID.

    Only the log is printed (`perfinvest log > review.md`); --json wraps it in the answer.
    """
    from perfinvest.app.queries import log as log_of
    from perfinvest.app.result import CommandResult
    from perfinvest.cli.render import Document
    from perfinvest.core.errors import PerfError

    try:
        result = log_of(context(), investigation_id)
    except PerfError as error:  # the error on stderr, nothing in `log > review.md`
        return CommandResult.failure("log", error), Document("")
    return result, Document(result.data["markdown"])
