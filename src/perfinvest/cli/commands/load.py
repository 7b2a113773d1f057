"""``perfinvest load``: targets file, Locust runs per profile, the suite, the SLO matrix."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import F, command_runner, json_option, measure_settings

TARGETS_HELP = "The targets file."


@cli.group()
def load() -> None:
    """Load testing on Locust: targets file, profiles, SLO PASS/FAIL matrix (docs/load-testing.md).

    \b
      perfinvest load init                 # writes a commented perf/targets.yaml
      perfinvest load check                # validates it (exit 2 naming line and field)
      perfinvest load run --profile smoke --allow-short "quick look" --duration 5
      perfinvest load suite                # smoke, baseline, ramp, spike, soak, burst
    """


def _targets_option(func: F) -> F:
    return click.option(
        "--targets",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("perf/targets.yaml"),
        show_default=True,
        help=TARGETS_HELP,
    )(func)


_ENFORCE = click.option(
    "--enforce",
    is_flag=True,
    help="Exit 8 when any SLO is FAIL (default: warn-only, exit 0 with the matrix).",
)


def _run_options(func: F) -> F:
    options: list[Callable[[F], F]] = [
        click.option(
            "--users",
            type=click.IntRange(min=1),
            help="Override the users (ramp: the top; spike: the low level, peak 10x).",
        ),
        click.option("--duration", type=float, metavar="S", help="Override the duration (s)."),
        click.option("--rate", "rate_rps", type=float, metavar="RPS", help="burst: arrival rate."),
        click.option(
            "--allow-short",
            metavar="REASON",
            help="Allow a run under 60 s outside an investigation; marked non-compliant.",
        ),
        click.option(
            "--approve",
            metavar="REASON",
            help="Approve a run past a gate (over 60 users, a fault: route, a host outside "
            "loopback/allow_hosts); the reason is logged.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=0),
            default=0,
            help="N local Locust worker processes under a master (histograms merged exactly).",
        ),
        click.option("--master", is_flag=True, help="Be the master of workers on other machines."),
        click.option(
            "--expect-workers", type=click.IntRange(min=1), default=1, help="With --master."
        ),
        click.option("--worker", is_flag=True, help="Be a worker of a master (--master-host H)."),
        click.option("--master-host", metavar="H", help="The master's host, with --worker."),
        click.option("--master-port", type=int, default=5557, show_default=True),
        _targets_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _progress_line() -> Callable[[dict[str, Any]], None]:
    """The live line on stderr, updated every second (a line a second off a terminal):
    users, rps (the requests completed in the last whole second; a master's, of a second
    its workers have all reported, some seconds back), p95, requests, errors."""
    tty = sys.stderr.isatty()

    def show(p: dict[str, Any]) -> None:
        lag = p.get("rps_lag_s") or 1
        of = f" (of {lag} s ago)" if lag > 1 else ""
        text = (
            f"load t={p.get('t', 0):>5}s users={p.get('users')} rps={p.get('rps')}{of} "
            f"p95={p.get('p95_ms')}ms requests={p.get('requests')} errors={p.get('errors')}"
        )
        if tty:
            sys.stderr.write("\r" + text + "   ")
        else:
            sys.stderr.write("perfinvest: " + text + "\n")
        sys.stderr.flush()

    return show


def _request(profile: str, kwargs: dict[str, Any], bench: bool = False) -> Any:
    from perfinvest.app.load.request import LoadRequest
    from perfinvest.core.errors import usage_error
    from perfinvest.core.load.distribution import Distribution

    if kwargs["worker"] and not kwargs["master_host"]:
        raise usage_error("--worker needs --master-host H")
    if kwargs["master"] and kwargs["worker"]:
        raise usage_error("--master and --worker exclude each other")
    distribution = Distribution(
        workers=kwargs["workers"],
        master=kwargs["master"],
        expect_workers=kwargs["expect_workers"],
        master_host=kwargs["master_host"] if kwargs["worker"] else None,
        master_port=kwargs["master_port"],
    )
    return LoadRequest(
        targets=kwargs["targets"],
        profile=profile,
        users=kwargs["users"],
        duration_s=kwargs["duration"],
        rate_rps=kwargs["rate_rps"],
        allow_short=kwargs["allow_short"],
        approve=kwargs["approve"],
        distribution=distribution,
        bench=bench,
    )


def _ctx() -> Any:
    from perfinvest.app.context import AppContext

    return AppContext.discover(checkpoint=False)


@load.command("init")
@_targets_option
@click.option("--force", is_flag=True, help="Overwrite an existing targets file.")
@json_option
@command_runner("load init")
def load_init(targets: Path, force: bool, as_json: bool) -> Any:
    """Write a commented targets file to edit."""
    from perfinvest.app.load.targets import load_init as run

    return run(_ctx(), targets, force)


@load.command("check")
@_targets_option
@json_option
@command_runner("load check")
def load_check(targets: Path, as_json: bool) -> Any:
    """Validate the targets file: every mistake with its line and field, exit 2."""
    from perfinvest.app.load.targets import load_check as run

    return run(_ctx(), targets)


@load.command("run")
@click.option(
    "--profile",
    default="baseline",
    show_default=True,
    help="smoke, baseline, ramp, spike, soak, burst or a profile named in the targets file.",
)
@_run_options
@_ENFORCE
@json_option
@command_runner("load run")
def load_run(profile: str, enforce: bool, as_json: bool, **kwargs: Any) -> Any:
    """Run one load profile on Locust and judge every route's SLOs (PASS/FAIL matrix).

    Holds the host-wide benchmark lock; results go to load-<profile>-<time>/ (latency.csv,
    slo_matrix.md, result.json, runs.json) under <state_dir>/perf/artifacts/<id>/, or
    <state_dir>/perf/load/ outside an investigation (.claude/perf/load/ unless
    AI_STATE_DIR is set); the answer names it. Ctrl-C or SIGTERM: the partial run is
    recorded, marked interrupted, not judged (exit 130).
    Failed requests are metrics (error_rate, failures), never a broken run. Warn-only:
    exit 0 whatever the matrix says, unless --enforce (exit 8 on any FAIL, for CI).
    """
    from perfinvest.app.load.run import load_run as run

    result = run(
        _ctx(),
        _request(profile, kwargs),
        measure_settings(None, False),
        _progress_line(),
        enforce=enforce,
    )
    _end_line()
    return result, result.data.get("matrix")


@load.command("suite")
@click.option(
    "--profiles",
    default="smoke,baseline,ramp,spike,soak,burst",
    show_default=True,
    help="Comma-separated profiles, run in this order.",
)
@_run_options
@_ENFORCE
@json_option
@command_runner("load suite")
def load_suite(profiles: str, enforce: bool, as_json: bool, **kwargs: Any) -> Any:
    """Run the profiles in order; halt when smoke or the health gate fails; --enforce:
    exit 8 when any profile failed an SLO or the suite halted."""
    from perfinvest.app.load.run import load_suite as run

    names = [p.strip() for p in profiles.split(",") if p.strip()]
    result = run(
        _ctx(),
        _request("suite", kwargs),
        measure_settings(None, False),
        names,
        _progress_line(),
        enforce=enforce,
    )
    _end_line()
    return result


@load.command("bench")
@click.option("--profile", default="baseline", show_default=True)
@_run_options
@json_option
@command_runner("load bench")
def load_bench(profile: str, as_json: bool, **kwargs: Any) -> Any:
    """A load run as a phase's benchmark command: metrics as a PERF_METRICS block on stdout.

    Used by `start --load-profile`: the duration comes from PERF_RUN_DURATION and, in the
    breaking-point phase, the users from PERF_PARAM_VALUE; the measuring phase holds the lock.
    """
    import os

    from perfinvest.app.load.run import load_run as run

    if kwargs["duration"] is None and os.environ.get("PERF_RUN_DURATION"):
        kwargs["duration"] = float(os.environ["PERF_RUN_DURATION"])
    if kwargs["approve"] is None and os.environ.get("PERFINVEST_LOAD_APPROVE"):
        kwargs["approve"] = os.environ["PERFINVEST_LOAD_APPROVE"]  # a phase cannot pass flags
    request = _request(profile, kwargs, bench=True)
    param = os.environ.get("PERF_PARAM_VALUE")
    if param:
        from dataclasses import replace

        from perfinvest.core.errors import usage_error

        try:
            request = replace(request, param_value=float(param))
        except ValueError:
            raise usage_error(f"PERF_PARAM_VALUE={param!r} is not a number") from None
    result = run(_ctx(), request, measure_settings(None, False))
    if not as_json:
        click.echo(result.data.get("perf_metrics", ""))
    return result, result.data.get("matrix")


def _end_line() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")
