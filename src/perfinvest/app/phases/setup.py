"""Phase 1, setup: the investigation starts only once everything is stated (rule 9)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perfinvest.app.after_save import append_log_soft
from perfinvest.app.answers import base_result
from perfinvest.app.checkpoint import checkpoint, checkpoint_data, checkpoint_findings
from perfinvest.app.context import AppContext
from perfinvest.app.queries import remember_status
from perfinvest.app.result import CommandResult
from perfinvest.core import machine
from perfinvest.core.errors import PerfError, needs_input, usage_error
from perfinvest.core.ids import check_version, new_investigation_id
from perfinvest.core.models import Investigation, MetricSpec, Setup, ShortRunPolicy
from perfinvest.core.phases import Phase
from perfinvest.core.report.log import render_attempt, render_header

if TYPE_CHECKING:
    from perfinvest.store.state import StateStore

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METRIC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$")


@dataclass
class SetupRequest:
    """What ``perfinvest start`` was given; every field may be missing (then we ask)."""

    scenario: str | None = None
    command: str | None = None
    metric: str | None = None
    direction: str | None = None
    success: list[str] = field(default_factory=list)
    version: str | None = None
    mode: str = "duration"
    param_env: str = "PERF_PARAM_VALUE"
    shell: bool = False
    quotes: list[str] = field(default_factory=list)
    allow_short_runs: str | None = None
    unit: str = ""
    metrics_format: str | None = None
    metrics_file: str | None = None
    tool: str | None = None


#: Each required item, and how to give it: the ``needs`` list an agent acts on.
REQUIRED: tuple[tuple[str, str], ...] = (
    ("scenario", "--scenario: the user-facing scenario under investigation, in one sentence"),
    ("command", "--command: the benchmark command that exercises the scenario"),
    ("metric", "--metric: the primary metric's name as the benchmark reports it"),
    ("direction", "--direction: lower or higher, which way the primary metric improves"),
    ("success", "--success: a success criterion, e.g. 'p95_ms < 120 at 200 rps'"),
    ("version", "--version: the version being measured (names baselines/<version>.json)"),
)


def missing_items(request: SetupRequest) -> list[str]:
    missing = []
    for name, hint in REQUIRED:
        value = getattr(request, name)
        blank_text = isinstance(value, str) and not value.strip()
        blank_list = isinstance(value, list) and not any(v.strip() for v in value)
        if not value or blank_text or blank_list:
            missing.append(hint)
    return missing


#: Words a shell would treat as operators, stored literally as argv without --shell.
_SHELL_WORDS = frozenset({";", "|", "||", "&&", "&", ">", ">>", "<", "2>", "2>&1", "|&"})


def shell_words_warning(argv: list[str], shell: bool) -> str | None:
    """A warning when a command stored as argv holds shell operators (``a; b | c``): they
    reach the program as literal arguments, which is rarely what was meant."""
    if shell:
        return None
    found = [
        word
        for word in argv
        if word in _SHELL_WORDS or word.endswith(";") or word.startswith(("$(", "`"))
    ]
    if not found:
        return None
    shown = ", ".join(dict.fromkeys(found))
    return (
        f"warning: the command holds shell operator(s) {shown} but runs without a shell: "
        f"they reach {argv[0]} as literal arguments; pass --shell to run it as a shell "
        "command line"
    )


def _parse_command(command: str, shell: bool) -> list[str]:
    if shell:
        return [command]
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise usage_error(
            f"cannot split --command {command!r}: {exc}; fix the quoting or pass --shell"
        ) from None
    if not argv:
        raise usage_error("--command is empty; give the benchmark command to run")
    return argv


def _validated_setup(request: SetupRequest, ctx: AppContext) -> Setup:
    assert request.scenario and request.command and request.metric and request.version
    if request.direction not in ("lower", "higher"):
        raise usage_error(f"--direction must be lower or higher, not {request.direction!r}")
    if request.mode not in ("duration", "repeat", "tool"):
        raise usage_error(f"--mode must be duration, repeat or tool, not {request.mode!r}")
    tool = _checked_tool(request)
    if request.mode == "tool" and tool is None:
        from perfinvest.adapters.tools.run import detect

        command = _parse_command(request.command, request.shell)
        if detect(command, request.shell, ctx.repo_root) is None:
            raise usage_error(
                "--mode tool: the command is not a hyperfine, pytest-benchmark, pyperf or "
                "go test -bench command perfinvest recognises; name the tool with --tool NAME"
            )
    if not _METRIC_NAME.match(request.metric):
        raise usage_error(
            f"invalid --metric {request.metric!r}: start with a letter or _, then letters, "
            "digits or _ . : / - (at most 128)"
        )
    if not _ENV_NAME.match(request.param_env):
        raise usage_error(f"invalid --param-env {request.param_env!r}: not an environment name")
    metrics_format = _checked_format(request.metrics_format)
    if request.metrics_file is not None and (
        not request.metrics_file.strip() or "\x00" in request.metrics_file
    ):
        raise usage_error("--metrics-file needs a path relative to the repository")
    policy = None
    if request.allow_short_runs is not None:
        if not request.allow_short_runs.strip():
            raise usage_error("--allow-short-runs needs a reason, e.g. 'CI smoke test'")
        policy = ShortRunPolicy(reason=request.allow_short_runs.strip(), set_at=ctx.now())
    return Setup(
        scenario=request.scenario.strip(),
        command=_parse_command(request.command, request.shell),
        shell=request.shell,
        metric=MetricSpec(
            name=request.metric, direction=request.direction, unit=request.unit.strip()
        ),
        success_criteria=[s.strip() for s in request.success if s.strip()],
        version=check_version(request.version),
        mode="tool" if request.tool else request.mode,
        param_env=request.param_env,
        quotes=list(request.quotes),
        short_run_policy=policy,
        metrics_format=metrics_format,
        metrics_file=request.metrics_file,
        tool=tool,
    )


def _check_unit(unit: str) -> None:
    from perfinvest.core.quantities import unit_problem

    problem = unit_problem(unit)
    if problem is not None:
        shown = repr(unit) if len(unit) <= 60 else repr(unit[:40]) + "..."
        raise usage_error(
            f"invalid --unit {shown}: {problem}; give a plain unit such as ms, s, rps, bytes "
            "or requests/s"
        )


def _checked_tool(request: SetupRequest) -> str | None:
    """``--tool`` as a canonical name; it implies (and needs) tool-driven mode."""
    if request.tool is None:
        return None
    from perfinvest.core.tools.recognise import resolve_tool

    if request.mode == "repeat":
        raise usage_error("--tool drives the tool itself: drop --mode repeat or --tool")
    return resolve_tool(request.tool)


def _checked_format(name: str | None) -> str | None:
    """The canonical format name; an unknown one is a usage error listing the known."""
    if name is None:
        return None
    from perfinvest.adapters.formats.registry import FORMATS, resolve

    try:
        return resolve(name)
    except PerfError:
        raise usage_error(
            f"unknown --format {name!r}; known formats: {', '.join(FORMATS)}"
        ) from None


def heal_interrupted_switch(
    ctx: AppContext, store: StateStore | None = None, active: Investigation | None = None
) -> list[str]:
    """Repair what a start or resume killed half-way left behind; caller holds the lock.

    A start archives the active investigation, activates the new one, then writes its log
    and checkpoints. Killed after the archive, a stale copy of the still-active
    investigation sits in ``investigations/`` (the store retires that copy on activation);
    killed after the activation, the new investigation has no log. The copy is removed
    (the active file holds the same investigation, newer) and the log is written from
    the recorded attempts; the caller's checkpoint then commits it all. Returns findings.
    ``active``: the active investigation the caller already loaded under this lock.
    """
    store = store or ctx.store  # the caller's: the one whose lock repaired a short log
    if active is None:
        try:
            active = store.load_active() if store.has_active() else None
        except PerfError:  # an unreadable active file is the command's own error to report
            return []
    if active is None:
        return []
    healed: list[str] = []
    copy = ctx.paths.inactive(active.id)
    if copy.is_file():
        try:
            stale = store.load_inactive(active.id).updated_at <= active.updated_at
        except PerfError:
            stale = False
        if stale:
            copy.unlink()
            healed.append(f"removed a stale copy of the active investigation: {copy.name}")
    if not ctx.paths.log(active.id).exists() and active.attempts:
        for attempt in active.attempts:
            store.append_log(active.id, render_header(active), render_attempt(active, attempt))
        healed.append(f"wrote the missing log of {active.id} from its recorded attempts")
    elif store.repaired is not None:  # taking the lock re-rendered a short log (F7)
        healed.append(f"wrote the missing log sections of {active.id} from its recorded attempts")
        store.repaired = None
    return healed


def start(ctx: AppContext, request: SetupRequest) -> CommandResult:
    """Create and activate a new investigation; an active one is archived, and we say so."""
    _check_unit(request.unit)  # bad input first: before asking for what is missing
    missing = missing_items(request)
    if missing:
        raise needs_input(
            f"setup needs {len(missing)} more item(s) before anything runs: "
            + ", ".join(m.split(":")[0] for m in missing),
            missing,
        )
    setup = _validated_setup(request, ctx)
    store = ctx.store
    findings: list[str] = []
    with store.locked():
        active = store.load_active() if store.has_active() else None  # read once
        findings.extend(heal_interrupted_switch(ctx, store, active))
        archived = store.archive_active(active) if active is not None else None
        now = ctx.now()
        inv = Investigation(
            id=new_investigation_id(now, ctx.entropy(4)),
            created_at=now,
            updated_at=now,
            setup=setup,
        )
        if archived is not None:
            findings.append(
                f"archived the previously active investigation {archived.id}; "
                f"`perfinvest resume {archived.id}` brings it back"
            )
        attempt = machine.record_attempt(
            inv,
            Phase.SETUP,
            "completed",
            started_at=now,
            ended_at=ctx.now(),
            summary=f"investigation started: {setup.scenario}",
            quote="\n\n".join(setup.quotes) or None,
            evidence=[
                " ".join(setup.command),
                f"metric {setup.metric.name} ({setup.metric.direction})",
            ],
            decision="; ".join(setup.success_criteria),
        )
        store.activate(inv)
        remember_status(ctx, inv)
        log_path, log_problems = append_log_soft(
            ctx, inv.id, render_header(inv), [render_attempt(inv, attempt)]
        )
        committed = checkpoint(ctx, inv, Phase.SETUP)
    result = base_result("start", inv, Phase.SETUP)
    result.findings = [attempt.summary, *findings, *log_problems, *checkpoint_findings(committed)]
    warning = shell_words_warning(setup.command, setup.shell)
    if warning is not None:
        result.findings.append(warning)
    if setup.short_run_policy is not None:
        result.findings.append(
            "short-run policy recorded: runs may be shorter than 60 s and are marked "
            f"non-compliant ({setup.short_run_policy.reason})"
        )
    result.data.update(
        {
            "archived": archived.id if archived else None,
            "log": str(log_path),
            "state": str(ctx.paths.active),
            "command": setup.command,
            "shell": setup.shell,
            "checkpoint": checkpoint_data(committed),
        }
    )
    return result
