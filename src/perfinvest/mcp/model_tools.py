"""The MCP tools that model a system instead of measuring it: ``simulate`` (a deterministic
discrete-event simulation) and ``capacity`` (the Universal Scalability Law fitted to
throughput by concurrency), as the CLI's ``cli/commands/simulate.py`` and
``cli/commands/capacity.py``.

Neither holds the benchmark lock nor runs the user's code: both answer in seconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from perfinvest.mcp.params import ToolSet, command_tool
from perfinvest.mcp.runner import Args


class ModelTools(ToolSet):
    """What-if answers from a queueing model, and the capacity a throughput curve implies."""

    @command_tool("extra_args")
    def simulate(
        self,
        scenario: Annotated[
            str | None,
            Field(
                description="A scenario YAML file (relative to cwd) or a bundled name: "
                "api-route, ingestion-pipeline (list_scenarios shows them)."
            ),
        ] = None,
        seed: Annotated[
            int | None,
            Field(
                description="Seed of every random stream (default 0): the same scenario and "
                "seed give the same answer, byte for byte.",
                ge=0,
            ),
        ] = None,
        output: Annotated[
            str | None,
            Field(
                description="Write the result as PerfMetrics v0.1 here (readable by diff and "
                "budget_check)."
            ),
        ] = None,
        export: Annotated[
            str | None,
            Field(
                description="Write the result as runs, one per batch of the counted window "
                "(as the run tool's export): diff then judges a change against the batch "
                "means' spread."
            ),
        ] = None,
        batches: Annotated[
            int | None, Field(description="How many batches export cuts the window into (10).")
        ] = None,
        overrides: Annotated[
            list[str] | None,
            Field(
                description="Change fields before validating, each PATH=VALUE (VALUE is "
                "YAML), e.g. ['arrival.rate_per_s=200', 'routes.checkout.stages.app."
                "workers=6']."
            ),
        ] = None,
        max_requests: Annotated[
            int | None,
            Field(
                description="Refuse a scenario that would simulate more requests (default "
                "5 000 000, about 100 000 per CPU second).",
                ge=1,
            ),
        ] = None,
        name: Annotated[
            str | None, Field(description="The scenario name the PerfMetrics file carries.")
        ] = None,
        list_scenarios: Annotated[
            bool,
            Field(description="Only list the bundled scenarios (data.scenarios) and stop."),
        ] = False,
    ) -> Args:
        """Simulate a system as queues (a scenario: arrivals, routes, stages with worker
        pools, timeouts) to answer what-if questions without running anything: more
        load, fewer workers, a slower stage. Simulated time only, deterministic per seed.

        The answer's data.simulation has latency percentiles, throughput and error rate
        (timeouts, rejections) overall and per route, and utilization and waiting per
        stage. An invalid scenario is exit 2, naming the field.
        """
        args = Args("simulate").opt("--seed", seed).opt("--output", output)
        args.opt("--export", export).opt("--batches", batches).many("--set", overrides)
        args.opt("--max-requests", max_requests).opt("--name", name)
        return args.flag("--list", list_scenarios).arg(scenario)

    @command_tool("extra_args")
    def capacity(
        self,
        from_file: Annotated[
            str | None,
            Field(
                description="Points to fit (relative to cwd): a CSV with a "
                "`concurrency,throughput` header, or JSON, a list of {concurrency, "
                "throughput} (or that list under points). Default: the investigation's "
                "own measurements (see source)."
            ),
        ] = None,
        source: Annotated[
            Literal["auto", "breaking-point", "load"] | None,
            Field(
                description="Without from_file: the breaking-point probes or the load runs "
                "of the active investigation (auto, the default: probes if any, else load "
                "runs)."
            ),
        ] = None,
        metric: Annotated[
            str | None,
            Field(
                description="The probes' throughput metric (default: a higher-is-better "
                "primary metric, else throughput_rps, rps, throughput, ...)."
            ),
        ] = None,
        current: Annotated[
            float | None,
            Field(description="The current concurrency, for the headroom left before the peak."),
        ] = None,
        current_throughput: Annotated[
            float | None,
            Field(description="The current throughput instead of current (headroom)."),
        ] = None,
    ) -> Args:
        """Fit the Universal Scalability Law to throughput measured at several concurrencies:
        how far the system scales, where throughput peaks, and the headroom at the current
        load. Use it after a breaking-point search or load runs at several user counts.

        data.fit has λ (single-client throughput), σ (contention), κ (coherency), the peak
        and where it is, the headroom and the fit's error. Points that cannot support a fit
        (fewer than 4 concurrencies, a valley beyond the noise, too noisy) are exit 4 with
        the reason in data.refusal; nothing to fit is exit 3. With an active
        investigation the fit is also kept under artifacts/<id>/ (data.artifact).
        """
        args = Args("capacity").opt("--from", from_file).opt("--source", source)
        args.opt("--metric", metric).opt("--current", current)
        return args.opt("--current-throughput", current_throughput)
