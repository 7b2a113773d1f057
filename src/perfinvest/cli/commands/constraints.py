"""Phase 4: constraints."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    measure_options,
    measure_settings,
    phase_command,
)


@cli.command()
@click.option(
    "--cpu",
    "cpus",
    type=float,
    multiple=True,
    metavar="N",
    help="CPU limit in CPUs (0.5 = half of one CPU's time); repeat for a matrix.",
)
@click.option(
    "--memory",
    "memories",
    multiple=True,
    metavar="SIZE",
    help="Memory limit: 256MB, 1GiB, 512m (KiB/MiB/GiB and k/m/g are 1024-based); repeatable.",
)
@click.option("--pids", "pids", type=int, multiple=True, metavar="N", help="Process limit.")
@click.option("--runs", type=int, default=2, show_default=True, help="Runs per configuration.")
@click.option(
    "--backend",
    type=click.Choice(["auto", "cgroup2", "cgroup1", "docker", "fallback"]),
    default="auto",
    show_default=True,
    help="How limits are applied; auto picks one and records why.",
)
@click.option(
    "--image",
    metavar="IMAGE",
    help="Docker image to run the benchmark in (present locally; implies Docker with auto).",
)
@measure_options
@phase_command("constraints")
def constraints(
    cpus: tuple[float, ...],
    memories: tuple[str, ...],
    pids: tuple[int, ...],
    runs: int,
    backend: str,
    image: str | None,
    duration: float | None,
    strict: bool,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Phase 4: the benchmark under real CPU / memory limits (needs a baseline).

    Every combination of the given limits is a configuration (--cpu 0.5 --cpu 1 --memory
    256MB makes two), measured --runs times now, each run in a fresh cgroup (v2 or v1) or
    container that the benchmark joins before it does any work, and compared with the
    version's unconstrained baseline runs. A limit is a condition, not a candidate: each
    metric gets the limit's effect (change, 95 % CI, p-value, labelled "slower under
    limit", "capped by limit", ...), never improved/regressed; plus CPU throttling, peak
    memory and OOM kills (from the kernel's counters, not exit codes). Groups and
    containers are removed after every run, also on Ctrl-C. --backend fallback (taskset +
    prlimit) is approximate and says so in every output.

    Example: perfinvest constraints --cpu 0.5 --memory 256MB
    """
    from perfinvest.app.phases import constraints as phases

    return phases.constraints(
        phase.context(),
        phase.request(),
        phases.ConstraintOptions(
            cpus=cpus,
            memories=memories,
            pids=pids,
            runs=runs,
            backend=backend,
            image=image,
            measure=measure_settings(duration, strict),
        ),
    )
