"""Measuring outside the phases: run, compare, diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.commands.history import history_model_option
from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    F,
    command_runner,
    context,
    json_option,
    measure_options,
    measure_settings,
    meter_option,
)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--mode",
    type=click.Choice(["repeat", "duration", "tool"]),
    help="repeat (default; duration with --format): re-run a short command to fill the "
    "duration; duration: one long run; tool: hyperfine, pytest-benchmark, pyperf or go test "
    "-bench fills the duration itself (the default for those commands).",
)
@click.option(
    "--tool",
    metavar="NAME",
    help="Force tool-driven mode for this tool: hyperfine, pytest-benchmark, pyperf, go-test.",
)
@click.option("--runs", type=int, default=1, show_default=True, help="Sequential runs.")
@click.option(
    "--allow-short",
    metavar="REASON",
    help="Allow a duration under 60 s; the run is marked non-compliant with REASON.",
)
@click.option("--format", "metrics_format", metavar="NAME", help="Metric format (duration mode).")
@click.option(
    "--export",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the runs as JSON (schemas/run.schema.json, one per run) to this file.",
)
@click.option(
    "--shell",
    is_flag=True,
    help="Run COMMAND as one /bin/sh command line (its words joined by spaces), "
    "e.g. --shell -- 'sleep 1; echo x'.",
)
@measure_options
@meter_option
@json_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@command_runner("run")
def run(
    mode: str | None,
    tool: str | None,
    runs: int,
    allow_short: str | None,
    metrics_format: str | None,
    export: Path | None,
    shell: bool,
    duration: float | None,
    strict: bool,
    meter: str | None,
    as_json: bool,
    command: tuple[str, ...],
) -> Any:
    """Measure COMMAND outside any investigation (like hyperfine, with the same rules).

    Without --duration each run lasts the 60 s minimum (said on stderr first).

    \b
      perfinvest run --allow-short "quick look" --duration 5 -- python bench.py
      perfinvest run --shell --allow-short "quick look" --duration 5 -- 'make -s; ./app'
      perfinvest run --meter instructions --runs 2 -- ./app   # exact, under cachegrind
      perfinvest run -- hyperfine 'sleep 0.1'     # hyperfine fills the 60 s itself
    """
    from perfinvest.app.context import AppContext
    from perfinvest.app.measuring.adhoc import AdhocRequest, run_adhoc

    request = AdhocRequest(
        command=command,
        mode=mode,  # type: ignore[arg-type]  # click.Choice checked it
        runs=runs,
        allow_short=allow_short,
        metrics_format=metrics_format,
        export=export,
        shell=shell,
        tool=tool,
    )
    return run_adhoc(
        AppContext.discover(checkpoint=False), request, measure_settings(duration, strict, meter)
    )


def compare_options(func: F) -> F:
    func = click.option(
        "--fail-on-regression",
        is_flag=True,
        help="Exit 8 when the primary metric (or a --metric) regressed.",
    )(func)
    func = click.option(
        "--force", is_flag=True, help="Compare despite different environments (logged)."
    )(func)
    return click.option(
        "--metric", "metrics", multiple=True, help="Only these metrics (repeatable)."
    )(func)


@cli.command()
@click.argument("version_a")
@click.argument("version_b")
@compare_options
@json_option
@command_runner("compare")
def compare(
    version_a: str,
    version_b: str,
    metrics: tuple[str, ...],
    force: bool,
    fail_on_regression: bool,
    as_json: bool,
) -> Any:
    """Compare the baselines of two versions: change, CI, p-values, verdict per metric."""
    from perfinvest.app.measuring.compare import CompareOptions, compare_versions

    result = compare_versions(
        context(),
        version_a,
        version_b,
        CompareOptions(metrics, force, fail_on_regression),
    )
    return result, result.data["markdown"]


@cli.command()
@click.argument("baseline_file", type=click.Path(path_type=Path))
@click.argument("current_file", type=click.Path(path_type=Path), required=False)
@compare_options
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write diff.json and diff.md here (regressions first, byte-identical per input); "
    "never inside the state folder.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Let --report-dir replace a diff.json/diff.md perfinvest did not write (backed up "
    "under <perf>/artifacts/backups/).",
)
@click.option(
    "--history",
    type=int,
    metavar="N",
    help="Compare the one file given against the last N results of the baselines history "
    "(a threshold from their spread) instead of a second file.",
)
@history_model_option
@json_option
@command_runner("diff")
def diff(
    baseline_file: Path,
    current_file: Path | None,
    metrics: tuple[str, ...],
    force: bool,
    fail_on_regression: bool,
    report_dir: Path | None,
    overwrite: bool,
    history: int | None,
    history_model: str,
    as_json: bool,
) -> Any:
    """Compare two result files A B (baselines, runs exported by `perfinvest run`, PerfMetrics,
    or a tool's export: hyperfine --export-json, pytest-benchmark, pyperf...), or
    with --history N one file B against the last N results of the baselines history.

    --report-dir DIR writes diff.json + diff.md (change, CI, p-values, verdict per metric;
    against the history: the threshold and the trend). Exit 8 with --fail-on-regression,
    2 (bad file, N < 2, mixed units), 4 (empty history, different environments)."""
    from perfinvest.app.measuring.compare import CompareOptions, diff_files
    from perfinvest.core.errors import usage_error

    options = CompareOptions(metrics, force, fail_on_regression, report_dir, overwrite)
    if history is not None:
        if current_file is not None:
            raise usage_error("with --history N give one file, B: the history is its A")
        from perfinvest.app.guardrails.history_diff import diff_history

        result = diff_history(context(), baseline_file, history, options, history_model)
    elif current_file is None:
        raise usage_error("give two files A B, or one file B with --history N")
    else:
        result = diff_files(context(), baseline_file, current_file, options)
    return result, result.data["markdown"]
