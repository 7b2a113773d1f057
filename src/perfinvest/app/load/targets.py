"""``perfinvest load init/check``, and the targets file seen from the phases.

``start --load-profile`` makes ``load bench`` the benchmark command; breaking point then
takes its default failure conditions from the targets' SLOs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import usage_error

DEFAULT_TARGETS = Path("perf/targets.yaml")


def bench_command(command: str | None, profile: str | None, targets: str | None) -> str:
    """The benchmark command of ``start --load-profile``: this perfinvest's ``load bench``."""
    import shlex
    import sys

    if command is not None:
        raise usage_error("give either --command or --load-profile, not both")
    if profile is None:
        raise usage_error("--targets goes with --load-profile NAME (e.g. --load-profile baseline)")
    path = targets or str(DEFAULT_TARGETS)
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.load.profiles import resolve_profile

    resolve_profile(load_targets(Path(path)), profile)  # refuse a bad file or profile now
    argv = [sys.executable, "-m", "perfinvest", "load", "bench", "--profile", profile]
    return shlex.join([*argv, "--targets", path])


_NEGATE = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}
_RUN_METRIC = {"rps": "throughput_rps"}


def slo_fail_when(command: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """For a ``load bench`` benchmark: its targets' default SLOs as failure conditions.

    ``p95_ms <= 150`` becomes ``p95_ms>150``: breaking point's ``--fail-when`` default when
    the investigation measures a load profile. Empty for any other command.
    """
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.load.slo import parse_slo

    argv = list(command)
    if "load" not in argv or "bench" not in argv:
        return ()
    path = Path(argv[argv.index("--targets") + 1]) if "--targets" in argv else DEFAULT_TARGETS
    targets = load_targets(path if path.is_absolute() else cwd / path)
    out = []
    scoped: list[tuple[str | None, str]] = [(None, text) for text in targets.slo_defaults]
    scoped += [(route.name, text) for route in targets.routes for text in route.slo]
    for scope, text in scoped:  # the defaults on the aggregate, exceptions on their route
        slo = parse_slo(text)
        if slo.op in _NEGATE and slo.metric != "requests":
            name = _RUN_METRIC.get(slo.metric, slo.metric)
            prefix = f"{scope}:" if scope else ""
            out.append(f"{prefix}{name}{_NEGATE[slo.op]}{slo.limit:g}")
    return tuple(out)


def targets_path(ctx: AppContext, path: Path) -> Path:
    return path if path.is_absolute() else (Path.cwd() / path)


def load_init(ctx: AppContext, path: Path, force: bool) -> CommandResult:
    from perfinvest.adapters.load.targets_file import TEMPLATE
    from perfinvest.store.outputs import check_output, write_output

    target = targets_path(ctx, path)
    if target.exists() and not force:
        raise usage_error(f"{target} exists; pass --force to overwrite it")
    check_output(ctx.paths, target, force=force, what="targets file", create_parents=True)
    written = write_output(
        ctx.paths, target, TEMPLATE, force=force, what="targets file", create_parents=True
    )
    result = CommandResult(command="load init")
    result.findings = [f"wrote {target}: edit base_url and routes, then `perfinvest load check`"]
    result.data = {"path": str(target)}
    if written.backup is not None:
        result.data["backup"] = str(written.backup)
        result.findings.append(f"the file it replaced is kept at {written.backup}")
    result.next = "perfinvest load check"
    return result


def load_check(ctx: AppContext, path: Path) -> CommandResult:
    from perfinvest.adapters.load.engine import read_rows
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.load.profiles import plan, resolve_profile
    from perfinvest.core.load.targets import BUILTIN_SHAPES

    target = targets_path(ctx, path)
    targets = load_targets(target)
    for route in targets.routes:
        read_rows(route, target.parent)
    profiles = sorted({*BUILTIN_SHAPES, *targets.profiles})
    plans = {name: plan(name, resolve_profile(targets, name)) for name in profiles}
    result = CommandResult(command="load check")
    result.findings = [
        f"{target}: valid: {len(targets.routes)} route(s), profiles {', '.join(profiles)}"
    ]
    result.data = {
        "path": str(target),
        "urls": targets.urls,
        "routes": {r.name: targets.route_slos(r) for r in targets.routes},
        "profiles": {
            n: {"shape": p.shape, "duration_s": p.duration_s, "peak_users": p.peak_users}
            for n, p in plans.items()
        },
    }
    result.next = "perfinvest load run --profile smoke"
    return result
