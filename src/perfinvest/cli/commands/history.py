"""``perfinvest history``: the trend over the baselines history and ``history check``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import F, command_runner, context, json_option


def _model_option(flag: str, lead: str = "") -> Callable[[F], F]:
    return click.option(
        flag,
        type=click.Choice(["t", "iqr"]),
        default="t",
        show_default=True,
        help=f"{lead}t: 95 % prediction interval from mean and stddev (needs 3 points); "
        "iqr: Tukey's fences from the quartiles (needs 4; robust to one wild result).",
    )


#: The threshold model of a gate's ``--history N`` (budget check, diff, metrics export).
history_model_option = _model_option("--history-model", "With --history N: ")


def noise_floor_option(func: F) -> F:
    return click.option(
        "--noise-floor",
        type=float,
        default=0.001,
        show_default=True,
        metavar="F",
        help="The limits stay at least F times the window's center away from it (0.001: "
        "0.1 %), so an exact metric (instructions) is not gated by a zero-width window; 0: off.",
    )(func)


def window_options(func: F) -> F:
    """What chooses the series and its threshold, for the trend and for ``check``."""
    func = noise_floor_option(func)
    func = click.option(
        "--per-run",
        is_flag=True,
        help="One point per run of each baseline instead of one per baseline (its mean): "
        "more points from fewer baselines; the spread is then the runs' noise.",
    )(func)
    func = click.option(
        "--k",
        type=float,
        default=1.5,
        show_default=True,
        help="IQR model: the fence is Q3 + k·IQR (Q1 - k·IQR for higher-is-better).",
    )(func)
    func = _model_option("--model")(func)
    func = click.option(
        "--window",
        type=int,
        default=10,
        show_default=True,
        metavar="N",
        help="The last N results of the history make the threshold.",
    )(func)
    func = click.option("--scenario", metavar="S", help="The metric of this scenario.")(func)
    return click.option(
        "--metric",
        metavar="M",
        help="Metric to follow (default: the primary metric of the newest baseline, "
        "or of the checked file).",
    )(func)


def _options(
    metric: str | None,
    scenario: str | None,
    window: int,
    model: str,
    k: float,
    per_run: bool,
    noise_floor: float,
) -> Any:
    from perfinvest.app.guardrails.history import HistoryOptions

    return HistoryOptions(
        metric,
        scenario,
        window,
        model,  # type: ignore[arg-type]
        k,
        per_run,
        noise_floor,
    )


@cli.group(invoke_without_command=True)
@window_options
@json_option
@click.pass_context
def history(
    click_ctx: click.Context,
    metric: str | None,
    scenario: str | None,
    window: int,
    model: str,
    k: float,
    per_run: bool,
    noise_floor: float,
    as_json: bool,
) -> Any:
    """The trend of a metric over the baselines history (every baseline kept, archived ones
    included, oldest first): mean, CV, change vs the previous result, and whether each
    breaches the threshold of the --window results before it (docs/history.md).

    \b
      perfinvest history --metric p95_ms --window 10
      perfinvest history check current.json --enforce     # exit 8 on a breach
    """
    if click_ctx.invoked_subcommand is not None:
        return None
    return _trend(
        metric=metric,
        scenario=scenario,
        window=window,
        model=model,
        k=k,
        per_run=per_run,
        noise_floor=noise_floor,
        as_json=as_json,
    )


@command_runner("history")
def _trend(
    *,
    metric: str | None,
    scenario: str | None,
    window: int,
    model: str,
    k: float,
    per_run: bool,
    noise_floor: float,
    as_json: bool,
) -> Any:
    from perfinvest.app.guardrails.history import history_trend

    result = history_trend(
        context(), _options(metric, scenario, window, model, k, per_run, noise_floor)
    )
    return result, result.data.get("markdown")


@history.command(name="check")
@click.argument("current", type=click.Path(path_type=Path))
@window_options
@click.option("--enforce", is_flag=True, help="Exit 8 when CURRENT breaches the threshold.")
@json_option
@command_runner("history check")
def check(
    current: Path,
    metric: str | None,
    scenario: str | None,
    window: int,
    model: str,
    k: float,
    per_run: bool,
    noise_floor: float,
    enforce: bool,
    as_json: bool,
) -> Any:
    """Check CURRENT (a baseline file or a `perfinvest run --export` file) against the
    threshold the last --window results of the baselines history give.

    Exit 0 within the threshold or with too short a history (the answer says how many
    results are missing), 8 on a breach with --enforce, 4 on an empty history, 2 on a
    bad file or a metric it does not report.
    """
    from perfinvest.app.guardrails.history import history_check

    result = history_check(
        context(),
        current,
        _options(metric, scenario, window, model, k, per_run, noise_floor),
        enforce=enforce,
    )
    return result, result.data.get("markdown")
