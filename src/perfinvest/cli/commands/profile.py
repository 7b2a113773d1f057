"""Phase 7: profiling (``profile``) and comparing two profiles (``profile diff``)."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    context,
    json_option,
    measure_options,
    measure_settings,
    phase_options,
    request,
)

PROFILER_CHOICES = ["auto", "py-spy", "perf", "cprofile", "node", "go", "java"]


@cli.group(invoke_without_command=True)
@click.option(
    "--profiler",
    type=click.Choice(PROFILER_CHOICES),
    default="auto",
    show_default=True,
    help="Which profiler; auto picks from the command and the repository (reason recorded).",
)
@click.option(
    "--rate",
    type=float,
    metavar="HZ",
    help="Sampling rate (default: py-spy 100, perf 99, node 1000; JFR/Go use their own).",
)
@click.option("--top", type=int, default=20, show_default=True, help="Hotspots to keep and show.")
@measure_options
@phase_options
@click.pass_context
def profile(
    click_ctx: click.Context,
    profiler: str,
    rate: float | None,
    top: int,
    duration: float | None,
    strict: bool,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 7: profile one benchmark run and name the hotspots and their hot lines.

    A hotspot is a function: its file and definition line, self % and total %, and its
    hottest lines with their own self % (hot_line = file:line of the hottest), wherever
    the profiler records lines (py-spy, perf on a -g build, node, go, java; not cProfile).

    \b
      perfinvest profile [--profiler auto|py-spy|perf|cprofile|node|go|java]
                         [--duration S] [--rate HZ] [--top N]
      perfinvest profile diff A B      (A, B: profile numbers or collapsed-stack files)

    The benchmark runs once under the profiler, holding the host-wide benchmark lock, for
    --duration seconds (60 by default). Files land in artifacts/<id>/profile-<n>/ (profiler
    output, collapsed stacks, speedscope JSON, flamegraph SVG, hotspots.md) with their
    sha256 in the state. A profiler that is not installed or not permitted (ptrace,
    perf_event_paranoid) answers exit 7 with what to install or allow.
    """
    if click_ctx.invoked_subcommand is not None:
        return None
    return _run_profile(
        profiler=profiler,
        rate=rate,
        top=top,
        duration=duration,
        strict=strict,
        quote=quote,
        skip_reason=skip_reason,
        no_checkpoint=no_checkpoint,
        as_json=as_json,
    )


@command_runner("profile")
def _run_profile(
    *,
    profiler: str,
    rate: float | None,
    top: int,
    duration: float | None,
    strict: bool,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    from perfinvest.app.phases.profiling import ProfileOptions, profiling

    result = profiling(
        context(no_checkpoint),
        request(quote, skip_reason),
        ProfileOptions(
            profiler=profiler,
            rate_hz=rate,
            top=top,
            measure=measure_settings(duration, strict),
        ),
    )
    table = result.data.get("table") if result.ok else None
    return (result, table) if table else result


@profile.command(name="diff")
@click.argument("a")
@click.argument("b")
@click.option("--top", type=int, default=20, show_default=True, help="Functions to show.")
@json_option
@command_runner("profile diff")
def profile_diff(a: str, b: str, top: int, as_json: bool) -> Any:
    """Rank the functions whose share of samples changed most from profile A to profile B.

    A and B are profile numbers of the active investigation (3 or profile-3) or paths to
    collapsed-stack files or profile folders (e.g. artifacts/<id>/profile-3). Where both
    profiles have a function's lines, each line is compared too (hot_line: the line that
    moved most).
    """
    from perfinvest.app.phases.profiling import profile_diff as diff

    return diff(context(), a, b, top)
