"""The MCP tool of load testing on Locust: ``perfinvest load`` (docs/load-testing.md).

A load run takes as long as its profile (a minute by default, a soak much longer), like a
baseline: the call runs the command and reports progress meanwhile (``runner.py``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from perfinvest.mcp.params import ToolSet, command_tool
from perfinvest.mcp.runner import Args


class LoadTools(ToolSet):
    """Validating the targets file and running load profiles with SLO verdicts."""

    @command_tool("extra_args")
    def load(
        self,
        action: Annotated[
            Literal["check", "run", "suite", "init"],
            Field(
                description="check: validate the targets file (every mistake with its line "
                "and field); run: one profile, every route's SLOs judged (PASS/FAIL matrix); "
                "suite: the profiles in order, halting when smoke or the health gate fails; "
                "init: write a commented targets file to edit."
            ),
        ],
        profile: Annotated[
            str | None,
            Field(
                description="run: smoke, baseline (default), ramp, spike, soak, burst or a "
                "profile of the targets file."
            ),
        ] = None,
        profiles: Annotated[
            list[str] | None,
            Field(description="suite: the profiles, in order (default: all six)."),
        ] = None,
        users: Annotated[
            int | None,
            Field(description="Override the users (ramp: the top; spike: the low level)."),
        ] = None,
        duration: Annotated[
            float | None,
            Field(
                description="Override the profile's duration (s); under 60 s only with "
                "allow_short or an investigation's short-run policy."
            ),
        ] = None,
        rate: Annotated[float | None, Field(description="burst: arrival rate (rps).")] = None,
        allow_short: Annotated[
            str | None,
            Field(
                description="A reason to allow a run under 60 s outside an investigation; "
                "marked non-compliant."
            ),
        ] = None,
        approve: Annotated[
            str | None,
            Field(
                description="A reason to run past a gate (over 60 users, a fault: route, a "
                "host outside loopback/allow_hosts), logged."
            ),
        ] = None,
        workers: Annotated[
            int | None, Field(description="N local Locust worker processes under a master.")
        ] = None,
        targets: Annotated[
            str | None, Field(description="The targets file (default: perf/targets.yaml).")
        ] = None,
    ) -> Args:
        """Load testing on Locust: targets file, profiles, SLO PASS/FAIL matrix per route.

        run and suite hold the host-wide benchmark lock and take minutes; the results go to
        load-<profile>-<time>/ under <state_dir>/perf/artifacts/<id>/ (or
        <state_dir>/perf/load/ outside an investigation; data.output_dir names it). Failed
        requests are metrics (error_rate, failures), never a broken run.
        """
        args = Args("load", action).opt("--profile", profile)
        args.opt("--profiles", ",".join(profiles) if profiles else None)
        args.opt("--users", users).opt("--duration", duration).opt("--rate", rate)
        args.opt("--allow-short", allow_short)
        args.opt("--approve", approve).opt("--workers", workers)
        return args.opt("--targets", targets)
