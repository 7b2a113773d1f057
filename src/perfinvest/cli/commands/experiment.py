"""Phase 8: optimization experiments (start, run, abort, list, show, apply, ab)."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    command_runner,
    context,
    json_option,
    measure_options,
    measure_settings,
    phase_command,
    phase_options,
    request,
)

_RUNS_HELP = "Runs per side, interleaved A B A B (at least 2)."


@cli.group(invoke_without_command=True)
@phase_options
@click.pass_context
def experiment(
    click_ctx: click.Context,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 8: one change at a time, measured against the recorded tree, then reverted.

    \b
    1. perfinvest experiment start --hypothesis H1 --change "cache the parsed config" \\
           --files src/config.py
       records HEAD, the index and every file (your uncommitted work is protected).
    2. Make exactly that one change in the working tree.
    3. perfinvest experiment run
       keeps the change as a patch, measures the recorded tree (a separate git worktree)
       against your working tree interleaved A B A B, gives the verdict, restores the tree
       and verifies it byte for byte.
    4. perfinvest experiment apply N   re-applies a kept change for you to commit.

    `experiment abort` restores without measuring; `experiment ab` compares
    PERF_EXPERIMENT=0 with =1 without touching the tree. `experiment --skip-reason "why"`
    skips the phase. After a crash, `perfinvest recover` puts the tree back.
    """
    if click_ctx.invoked_subcommand is not None:
        return None
    if skip_reason is None:
        click.echo(click_ctx.get_help(), err=True)
        raise click.UsageError(
            "missing command: start, run, abort, list, show, apply or ab "
            '(or --skip-reason "why" to skip the phase)'
        )
    return _skip(quote=quote, skip_reason=skip_reason, no_checkpoint=no_checkpoint, as_json=as_json)


@command_runner("experiment")
def _skip(quote: str | None, skip_reason: str | None, no_checkpoint: bool, as_json: bool) -> Any:
    from perfinvest.app.session import skip_phase
    from perfinvest.core.phases import Phase

    return skip_phase(
        context(no_checkpoint), "experiment", Phase.OPTIMIZATION, request(quote, skip_reason)
    )


def _files_option(func: Any) -> Any:
    return click.option(
        "--files",
        multiple=True,
        metavar="PATH",
        help="A file or folder the change may touch (repeat it); `run` refuses changes elsewhere.",
    )(func)


@experiment.command("start")
@click.option("--hypothesis", metavar="ID", help="The hypothesis this tests (e.g. H1).")
@click.option("--change", metavar="TEXT", help="What the one change is, in a sentence.")
@_files_option
@phase_command("experiment start")
def start(
    hypothesis: str | None,
    change: str | None,
    files: tuple[str, ...],
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Record the tree exactly (HEAD, index, every file) and open an experiment.

    Needs a baseline for the current version. Refused while another experiment is open,
    in the middle of a merge or rebase, on a detached HEAD, or with submodules.
    """
    from perfinvest.app import experiments

    return experiments.start(phase.context(), phase.request(), hypothesis, change, files)


@experiment.command("run")
@click.option("--runs", type=int, default=3, show_default=True, help=_RUNS_HELP)
@measure_options
@phase_command("experiment run")
def run(
    runs: int,
    duration: float | None,
    strict: bool,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Measure the change against the recorded tree, then restore and verify the tree.

    The change (working tree against the recording) is kept as a binary-safe patch. It must
    not be empty, touch the perf state, or go beyond the declared --files. The baseline
    side runs in a separate git worktree holding the recorded tree; the candidate is your
    working tree; runs alternate A B A B under the host benchmark lock. Ctrl-C or SIGTERM
    during the runs restore the tree before exiting (130); once the runs are done, a signal
    waits until the result is recorded. The restore takes out only the change: files you
    edit meanwhile are kept.
    """
    from perfinvest.app import experiments

    return experiments.run(
        phase.context(),
        phase.request(),
        runs,
        measure_settings(duration, strict),
    )


@experiment.command("abort")
@phase_command("experiment abort")
def abort(phase: PhaseInput, as_json: bool) -> Any:
    """Restore the recorded tree without measuring (the change is kept as a patch)."""
    from perfinvest.app import experiments

    return experiments.abort(phase.context(), phase.request())


@experiment.command("ab")
@click.option("--hypothesis", metavar="ID", help="The hypothesis this tests (e.g. H1).")
@click.option("--change", metavar="TEXT", help="What PERF_EXPERIMENT=1 switches on.")
@click.option("--runs", type=int, default=3, show_default=True, help=_RUNS_HELP)
@measure_options
@phase_command("experiment ab")
def ab(
    hypothesis: str | None,
    change: str | None,
    runs: int,
    duration: float | None,
    strict: bool,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Flag-style A/B: PERF_EXPERIMENT=0 against =1 on the working tree, interleaved.

    For benchmarks that switch the optimization on with the PERF_EXPERIMENT variable;
    the tree is not touched, so there is nothing to restore.
    """
    from perfinvest.app import experiments

    return experiments.ab(
        phase.context(),
        phase.request(),
        hypothesis,
        change,
        runs,
        measure_settings(duration, strict),
    )


@experiment.command("list")
@json_option
@command_runner("experiment list")
def list_command(as_json: bool) -> Any:
    """Every experiment with its own effect on the primary metric (one line each)."""
    from perfinvest.app import experiments

    result = experiments.list_experiments(context())
    return result, "\n".join(result.findings)


@experiment.command("show")
@click.argument("number", type=int)
@json_option
@command_runner("experiment show")
def show(number: int, as_json: bool) -> Any:
    """Experiment NUMBER in full: change, diffstat, every metric, the restore check."""
    from perfinvest.app import experiments

    result = experiments.show_experiment(context(), number)
    exp = result.data["experiment"]
    lines = [*result.findings]
    if exp.get("diffstat"):
        lines += ["", exp["diffstat"]]
    for effect in exp.get("effects", []):
        change = effect.get("relative_change")
        shown = f"{change:+.2%}" if change is not None else "n/a"
        lines.append(
            f"  {effect['metric']}: {effect['baseline_mean']:.6g} -> {effect['candidate_mean']:.6g}"
            f" {effect.get('unit') or ''} ({shown}) {effect['verdict']}"
        )
    return result, "\n".join(lines)


@experiment.command("apply")
@click.argument("number", type=int)
@click.option(
    "--no-checkpoint", is_flag=True, help="Do not make the checkpoint commit of the perf files."
)
@json_option
@command_runner("experiment apply")
def apply(number: int, no_checkpoint: bool, as_json: bool) -> Any:
    """Re-apply experiment NUMBER's kept change to the working tree, for you to commit.

    Refused while an experiment is open, or when the patch does not apply cleanly (git's
    reason is shown). The perf state it records is checkpointed; the code is yours to commit.
    """
    from perfinvest.app import experiments

    return experiments.apply_change(context(no_checkpoint), number)
