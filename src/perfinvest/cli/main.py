"""The ``perfinvest`` command line: parse, call the app layer, render, exit.

This is the only place that prints or exits. Every command takes ``--json`` and then prints
exactly one JSON object on stdout (DESIGN.md's output contract); user errors become one
line and a documented exit code, never a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from perfinvest import __version__
from perfinvest.core.errors import ExitCode, PerfError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 internal error (a bug), 2 usage, 3 needs input, 4 refused by a rule "
    "or precondition, 5 benchmark failed, 6 state unreadable, 7 environment unavailable, "
    "8 regression found."
)


def json_option(func: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout."
    )(func)


def phase_options(func: F) -> F:
    """Options every phase command shares: the user's words, skipping, checkpointing."""
    func = click.option(
        "--no-checkpoint", is_flag=True, help="Do not make the checkpoint commit for this run."
    )(func)
    func = click.option(
        "--skip-reason",
        metavar="TEXT",
        help="Skip this phase instead of running it; the reason is logged.",
    )(func)
    func = click.option(
        "--quote", metavar="TEXT", help="The user's words that asked for this, logged verbatim."
    )(func)
    return json_option(func)


def record_option(shape: str) -> Callable[[F], F]:
    return click.option(
        "--record",
        "record_path",
        metavar="FILE",
        help=f"JSON file with {shape} to record as this phase's result.",
    )


def _context(no_checkpoint: bool = False) -> Any:
    from perfinvest.app.context import AppContext

    return AppContext.discover(checkpoint=not no_checkpoint)


def _request(quote: str | None, skip_reason: str | None) -> Any:
    from perfinvest.app.session import PhaseRequest

    return PhaseRequest(quote=quote, skip_reason=skip_reason)


def command_runner(name: str) -> Callable[[F], F]:
    """Run the wrapped body, which returns a CommandResult (and maybe a text body); render it."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> int:
            from perfinvest.cli.render import emit

            as_json = bool(kwargs.get("as_json"))
            try:
                outcome = func(*args, **kwargs)
            except PerfError as error:
                from perfinvest.app.result import CommandResult

                emit(CommandResult.failure(name, error), as_json)
                return int(error.code)
            result, body = outcome if isinstance(outcome, tuple) else (outcome, None)
            emit(result, as_json, body)
            return int(result.exit_code)

        return wrapper  # type: ignore[return-value]

    return decorate


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="perfinvest")
def cli() -> None:
    """Run a performance investigation as ten enforced phases.

    \b
    Phases, in order (each its own command):
      1 setup           perfinvest start
      2 baseline        perfinvest baseline
      3 breaking-point  perfinvest breaking-point
      4 constraints     perfinvest constraints
      5 hypotheses      perfinvest hypotheses gather / add
      6 code-paths      perfinvest code-paths
      7 profiling       perfinvest profile
      8 optimization    perfinvest experiment
      9 decision        perfinvest decide
     10 consolidation   perfinvest consolidate

    State lives in $AI_STATE_DIR/perf or <repo>/.claude/perf. Start with `perfinvest start`,
    see where you are with `perfinvest status`. Add --json to any command for agents.
    """


# --- investigation lifecycle --------------------------------------------------------------


@cli.command()
@click.option("--scenario", help="The scenario under investigation, in one sentence.")
@click.option("--command", "command_", metavar="CMD", help="The benchmark command to run.")
@click.option("--metric", help="The primary metric's name, as the benchmark reports it.")
@click.option(
    "--direction",
    type=click.Choice(["lower", "higher"]),
    help="Which way the primary metric improves.",
)
@click.option("--unit", default="", help="The primary metric's unit (e.g. ms, rps).")
@click.option("--success", multiple=True, help="A success criterion (repeatable).")
@click.option("--version", "version_", metavar="V", help="The version being measured.")
@click.option(
    "--mode",
    type=click.Choice(["duration", "repeat"]),
    default="duration",
    show_default=True,
    help="duration: the command runs for the duration; repeat: re-run a short command.",
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
    param_env: str,
    shell: bool,
    metrics_format: str | None,
    metrics_file: str | None,
    quote: tuple[str, ...],
    allow_short_runs: str | None,
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
    from perfinvest.app.setup import SetupRequest
    from perfinvest.app.setup import start as start_investigation

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
    )
    return start_investigation(_context(no_checkpoint), request)


@cli.command()
@json_option
@command_runner("status")
def status(as_json: bool) -> Any:
    """Show the active investigation: phases done, next step, policy in force."""
    from perfinvest.app.status_cache import cached_status

    ctx = _context()
    result = cached_status(ctx)  # the models are loaded only when the state changed
    if result is None:
        from perfinvest.app.queries import status as status_of

        result = status_of(ctx)
    if as_json:
        return result
    lines = [f"investigation {result.investigation}: {result.data['scenario']}"]
    for row in result.data["phases"]:
        mark = "x" if row["done"] else " "
        detail = (
            f" ({row['attempts']} attempt(s), last {row['last_outcome']})"
            if row["attempts"]
            else ""
        )
        lines.append(f"  [{mark}] {row['number']:>2} {row['phase']}{detail}")
    lines.extend(f"- {f}" for f in result.findings)
    return result, "\n".join(lines)


@cli.command(name="list")
@json_option
@command_runner("list")
def list_command(as_json: bool) -> Any:
    """List every investigation in the state folder, the active one first."""
    from perfinvest.app.queries import list_investigations

    result = list_investigations(_context())
    lines = [
        f"{'*' if r['active'] else ' '} {r['id']}  {r['status']:<11} "
        f"{r['version'] or '-':<12} {r['scenario'] or r['problem']}"
        for r in result.data["investigations"]
    ]
    return result, "\n".join(lines) or "no investigations yet: `perfinvest start`"


@cli.command()
@click.argument("investigation_id", metavar="ID")
@json_option
@command_runner("resume")
def resume(investigation_id: str, as_json: bool) -> Any:
    """Make investigation ID active again (the active one is archived first)."""
    from perfinvest.app.queries import resume as resume_investigation

    return resume_investigation(_context(), investigation_id)


@cli.command()
@click.argument("investigation_id", metavar="[ID]", required=False)
@json_option
@command_runner("log")
def log(investigation_id: str | None, as_json: bool) -> Any:
    """Print the reviewer's log (markdown) of the active investigation or of ID."""
    from perfinvest.app.queries import log as log_of

    result = log_of(_context(), investigation_id)
    return result, result.data["markdown"]


# --- phases 2 to 10 -----------------------------------------------------------------------


def measure_options(func: F) -> F:
    """Options every measuring command shares."""
    func = click.option(
        "--strict",
        is_flag=True,
        help="Refuse to measure when the machine is not quiet (rule 6); default: warn.",
    )(func)
    return click.option(
        "--duration",
        type=float,
        metavar="S",
        help="Seconds per run (default and minimum 60; less only under a short-run policy).",
    )(func)


def _measure_options(duration: float | None, strict: bool) -> Any:
    from perfinvest.app.benchmarking import MeasureOptions
    from perfinvest.cli.progress import make_progress

    return MeasureOptions(duration_s=duration, strict=strict, progress=make_progress())


@cli.command()
@click.option(
    "--runs", type=int, default=3, show_default=True, help="Sequential runs (at least 2)."
)
@measure_options
@phase_options
@command_runner("baseline")
def baseline(
    runs: int,
    duration: float | None,
    strict: bool,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 2: measure the current version's baseline (baselines/<version>.json).

    Runs the benchmark --runs times, one after another under the host-wide benchmark lock,
    each for --duration seconds (60 by default). When the primary metric's CV across runs
    exceeds 5 %, up to two more runs are made and the baseline is flagged (rule 5).
    """
    from perfinvest.app.baseline import baseline as measure_baseline

    return measure_baseline(
        _context(no_checkpoint),
        _request(quote, skip_reason),
        runs,
        _measure_options(duration, strict),
    )


@cli.command(name="breaking-point")
@record_option("a breaking-point result")
@phase_options
@command_runner("breaking-point")
def breaking_point(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 3: the parameter value where the scenario breaks (needs a baseline)."""
    from perfinvest.app import phases
    from perfinvest.cli.inputs import read_json_file

    return phases.breaking_point(
        _context(no_checkpoint), _request(quote, skip_reason), read_json_file(record_path)
    )


@cli.command()
@record_option("constraint results (one object or a list)")
@phase_options
@command_runner("constraints")
def constraints(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 4: the benchmark under CPU / memory limits (needs a baseline)."""
    from perfinvest.app import phases
    from perfinvest.cli.inputs import read_json_file

    return phases.constraints(
        _context(no_checkpoint), _request(quote, skip_reason), read_json_file(record_path)
    )


@cli.group(invoke_without_command=True)
@phase_options
@click.pass_context
def hypotheses(
    click_ctx: click.Context,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 5: gather git history first (rule 8), then add hypotheses.

    \b
      perfinvest hypotheses gather [--since REV] [--paths PATH ...]
      perfinvest hypotheses add "statement" --evidence "..." --confidence high
      perfinvest hypotheses list
    """
    if click_ctx.invoked_subcommand is not None:
        return None
    if skip_reason is None:
        click.echo(click_ctx.get_help())
        return int(ExitCode.OK)
    return _skip_hypotheses(
        quote=quote, skip_reason=skip_reason, no_checkpoint=no_checkpoint, as_json=as_json
    )


@command_runner("hypotheses")
def _skip_hypotheses(
    *, quote: str | None, skip_reason: str, no_checkpoint: bool, as_json: bool
) -> Any:
    from perfinvest.app.session import skip_phase
    from perfinvest.core.phases import Phase

    return skip_phase(
        _context(no_checkpoint), "hypotheses", Phase.HYPOTHESES, _request(quote, skip_reason)
    )


@hypotheses.command(name="gather")
@click.option("--since", metavar="REV", help="Start of the window (default: all history).")
@click.option("--paths", multiple=True, metavar="PATH", help="Only commits touching PATH.")
@phase_options
@command_runner("hypotheses gather")
def hypotheses_gather(
    since: str | None,
    paths: tuple[str, ...],
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Read the git history of the window (rule 8: before any hypothesis)."""
    from perfinvest.app import phases

    return phases.gather_history(
        _context(no_checkpoint), _request(quote, skip_reason), since, paths
    )


@hypotheses.command(name="add")
@click.argument("statement")
@click.option("--evidence", multiple=True, help="Evidence for the hypothesis (repeatable).")
@click.option(
    "--confidence",
    type=click.Choice(["low", "medium", "high"]),
    default="medium",
    show_default=True,
)
@phase_options
@command_runner("hypotheses add")
def hypotheses_add(
    statement: str,
    evidence: tuple[str, ...],
    confidence: str,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Add a hypothesis (refused until the history is gathered)."""
    from perfinvest.app import phases

    return phases.add_hypothesis(
        _context(no_checkpoint),
        _request(quote, skip_reason),
        statement,
        evidence,
        confidence,  # type: ignore[arg-type]  # click.Choice checked it
    )


@hypotheses.command(name="list")
@json_option
@command_runner("hypotheses list")
def hypotheses_list(as_json: bool) -> Any:
    """List the hypotheses and their status."""
    from perfinvest.app.queries import describe

    inv = _context().store.load_active()
    result = describe("hypotheses list", inv)
    result.data["hypotheses"] = [h.model_dump(mode="json") for h in inv.hypotheses]
    lines = [f"{h.id} [{h.status}, {h.confidence}] {h.statement}" for h in inv.hypotheses]
    return result, "\n".join(lines) or "no hypotheses yet"


@cli.command(name="code-paths")
@record_option("ranked code paths")
@phase_options
@command_runner("code-paths")
def code_paths(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 6: rank the files and functions (file:line) on the scenario's path."""
    from perfinvest.app import phases
    from perfinvest.cli.inputs import read_json_file

    return phases.code_paths(
        _context(no_checkpoint), _request(quote, skip_reason), read_json_file(record_path)
    )


@cli.command()
@record_option("a profiling result with hotspots")
@phase_options
@command_runner("profile")
def profile(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 7: profile the benchmark and name the hotspots."""
    from perfinvest.app import phases
    from perfinvest.cli.inputs import read_json_file

    return phases.profiling(
        _context(no_checkpoint), _request(quote, skip_reason), read_json_file(record_path)
    )


@cli.command()
@record_option("an experiment (one change, measured, reverted)")
@phase_options
@command_runner("experiment")
def experiment(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 8: one change at a time, measured against the baseline (needs a baseline)."""
    from perfinvest.app import phases
    from perfinvest.cli.inputs import read_json_file

    return phases.experiment(
        _context(no_checkpoint), _request(quote, skip_reason), read_json_file(record_path)
    )


@cli.command()
@click.option("--verdict", type=click.Choice(["continue", "stop", "abandon"]))
@click.option("--rationale", help="Why: a sentence or two, logged.")
@phase_options
@command_runner("decide")
def decide(
    verdict: str | None,
    rationale: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 9: continue, stop or abandon, with the rationale."""
    from perfinvest.app import phases

    return phases.decide(
        _context(no_checkpoint),
        _request(quote, skip_reason),
        verdict,  # type: ignore[arg-type]  # click.Choice checked it
        rationale,
    )


@cli.command()
@phase_options
@command_runner("consolidate")
def consolidate(
    quote: str | None, skip_reason: str | None, no_checkpoint: bool, as_json: bool
) -> Any:
    """Phase 10: one baseline per version; marks the investigation complete."""
    from perfinvest.app import phases

    return phases.consolidate(_context(no_checkpoint), _request(quote, skip_reason))


# --- measuring outside the phases ---------------------------------------------------------


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--mode",
    type=click.Choice(["repeat", "duration"]),
    default="repeat",
    show_default=True,
    help="repeat: re-run a short command to fill the duration; duration: one long run.",
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
@click.option("--shell", is_flag=True, help="Run the command through /bin/sh.")
@measure_options
@json_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@command_runner("run")
def run(
    mode: str,
    runs: int,
    allow_short: str | None,
    metrics_format: str | None,
    export: Path | None,
    shell: bool,
    duration: float | None,
    strict: bool,
    as_json: bool,
    command: tuple[str, ...],
) -> Any:
    """Measure COMMAND outside any investigation (like hyperfine, with the same rules).

    \b
      perfinvest run --allow-short "quick look" --duration 5 -- python bench.py
    """
    from perfinvest.app.adhoc import AdhocRequest, run_adhoc
    from perfinvest.app.context import AppContext

    request = AdhocRequest(
        command=command,
        mode=mode,  # type: ignore[arg-type]  # click.Choice checked it
        runs=runs,
        allow_short=allow_short,
        metrics_format=metrics_format,
        export=export,
        shell=shell,
    )
    return run_adhoc(
        AppContext.discover(checkpoint=False), request, _measure_options(duration, strict)
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
    from perfinvest.app.compare import CompareOptions, compare_versions

    result = compare_versions(
        _context(), version_a, version_b, CompareOptions(metrics, force, fail_on_regression)
    )
    return result, result.data["markdown"]


@cli.command()
@click.argument("baseline_file", type=click.Path(path_type=Path))
@click.argument("current_file", type=click.Path(path_type=Path))
@compare_options
@json_option
@command_runner("diff")
def diff(
    baseline_file: Path,
    current_file: Path,
    metrics: tuple[str, ...],
    force: bool,
    fail_on_regression: bool,
    as_json: bool,
) -> Any:
    """Compare two result files (baselines, or runs exported by `perfinvest run`)."""
    from perfinvest.app.compare import CompareOptions, diff_files

    result = diff_files(
        _context(), baseline_file, current_file, CompareOptions(metrics, force, fail_on_regression)
    )
    return result, result.data["markdown"]


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Folder to write the JSON Schemas into.",
)
@click.option("--check", is_flag=True, help="Only report drift; exit 4 when stale.")
@json_option
@command_runner("schemas")
def schemas(out: Path, check: bool, as_json: bool) -> Any:
    """Regenerate the JSON Schemas of the state files from the models."""
    from perfinvest.app.result import CommandResult
    from perfinvest.app.schemas import stale_schemas, write_schemas
    from perfinvest.core.errors import refused

    if check:
        stale = stale_schemas(out)
        if stale:
            raise refused(
                f"schemas out of date in {out}: {', '.join(stale)}; run `perfinvest schemas`"
            )
        return CommandResult(command="schemas", findings=[f"schemas in {out} are current"])
    written = write_schemas(out)
    result = CommandResult(command="schemas", findings=[f"wrote {len(written)} schema(s) to {out}"])
    result.data["files"] = written
    return result


# --- entry point --------------------------------------------------------------------------


def _fail(message: str, code: ExitCode, kind: str, as_json: bool, command: str) -> int:
    from perfinvest.app.result import CommandResult
    from perfinvest.cli.render import emit

    emit(CommandResult.failure(command, PerfError(message, code, kind=kind)), as_json)
    return int(code)


def _terminate_like_interrupt() -> None:
    """SIGTERM stops a run as Ctrl-C does: the tree killed, the lock freed, it recorded."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (``python -m perfinvest`` and the script)."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    if argv is None:  # a real process, not a test calling main() in-process
        _terminate_like_interrupt()
    command = next((a for a in args if not a.startswith("-")), "perfinvest")
    try:
        rv = cli.main(args=args, prog_name="perfinvest", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as exc:
        message = exc.format_message().splitlines()[0]
        hint = f"; see `perfinvest {command} --help`" if command != "perfinvest" else ""
        return _fail(message + hint, ExitCode.USAGE, "usage", as_json, command)
    except (click.Abort, KeyboardInterrupt):
        sys.stderr.write("perfinvest: interrupted\n")
        return 130
    except PerfError as error:
        return _fail(error.message, error.code, error.kind, as_json, command)
    except Exception as exc:  # a bug: one line unless asked for the traceback
        if os.environ.get("PERFINVEST_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (a bug in perfinvest; rerun with "
            "PERFINVEST_DEBUG=1 for the traceback and report it)",
            ExitCode.INTERNAL,
            "internal",
            as_json,
            command,
        )
    return rv if isinstance(rv, int) else 0
