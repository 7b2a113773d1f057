"""The perfinvest MCP tools: each one runs ``python -m perfinvest <command> ... --json``.

The tools do not call the app layer: they build the command line a person would type and
run it as a subprocess in the server's working directory (or the ``cwd`` argument), so the
server follows the CLI whatever its phases become, and an agent sees exactly the answers the
CLI documents. The subprocess's stdout is captured (it never reaches the MCP protocol
stream); its stderr is forwarded, line by line, to the server's stderr.

A perfinvest *user* error (a missing setup field, a phase out of order, a refused rule) is
not a tool error: the tool returns the answer with ``ok: false`` and ``error.needs``. A tool
error (an exception) means perfinvest could not be run or did not answer with JSON.

Options are passed as ``--name=value`` and positional arguments after ``--``, so no value
(a quote starting with ``-``, say) can be mistaken for an option. Every phase tool takes
``extra_args`` for options the CLI gains later.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import anyio
from anyio.abc import ByteReceiveStream, Process
from pydantic import Field

from perfinvest.mcp.models import PerfAnswer

#: How the server runs perfinvest: this interpreter, the installed package, ``-P`` so that a
#: folder of the user's repository (``mcp/``, ``click/``...) never shadows an installed module.
DEFAULT_PROGRAM: tuple[str, ...] = (sys.executable, "-P", "-m", "perfinvest")

#: Seconds a cancelled command gets to stop after SIGTERM (it restores the tree, frees the
#: lock) before it is killed.
TERMINATE_GRACE_S = 30.0

STDERR_TAIL_LINES = 20

#: Seconds between progress notifications while a command runs (clients that sent a
#: progress token reset their idle timeout on each); ``PERFINVEST_MCP_PROGRESS_S`` overrides.
PROGRESS_INTERVAL_S = 10.0

#: Called while a command runs: seconds elapsed, the last line it wrote to stderr.
ProgressHook = Callable[[float, str | None], Awaitable[None]]


class PerfinvestUnavailableError(RuntimeError):
    """perfinvest could not be run, or did not answer with one JSON object (a tool error)."""


class Args:
    """A perfinvest command line under construction: options, then ``--json``, then args."""

    def __init__(self, *command: str) -> None:
        self.items: list[str] = list(command)
        self.positionals: list[str] = []

    def opt(self, name: str, value: object) -> Args:
        if value is not None:
            self.items.append(f"{name}={_text(value)}")
        return self

    def many(self, name: str, values: Sequence[object] | None) -> Args:
        for value in values or ():
            self.opt(name, value)
        return self

    def flag(self, name: str, on: bool | None) -> Args:
        if on:
            self.items.append(name)
        return self

    def arg(self, value: object) -> Args:
        if value is not None:
            self.positionals.append(_text(value))
        return self

    def extra(self, extra_args: Sequence[str] | None) -> Args:
        self.items.extend(extra_args or ())
        return self

    def phase(
        self,
        quote: str | None,
        skip_reason: str | None,
        no_checkpoint: bool,
        extra_args: Sequence[str] | None,
    ) -> Args:
        """The options every phase command shares, then the caller's extra arguments."""
        self.opt("--quote", quote).opt("--skip-reason", skip_reason)
        return self.flag("--no-checkpoint", no_checkpoint).extra(extra_args)

    def argv(self) -> list[str]:
        tail = ["--", *self.positionals] if self.positionals else []
        return [*self.items, "--json", *tail]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_answer(stdout: str) -> dict[str, Any] | None:
    """The one JSON object perfinvest printed, or None when stdout holds none."""
    text = stdout.strip()
    candidates = [text, *reversed([line for line in text.splitlines() if line.strip()])]
    for candidate in candidates:
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "ok" in parsed:
            return parsed
    return None


class Runner:
    """Runs one perfinvest command line and turns its answer into a :class:`PerfAnswer`."""

    def __init__(
        self,
        default_cwd: Path | None = None,
        program: Sequence[str] = DEFAULT_PROGRAM,
        terminate_grace_s: float = TERMINATE_GRACE_S,
        on_progress: ProgressHook | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        self.default_cwd = (default_cwd or Path.cwd()).resolve()
        self.program = list(program)
        self.terminate_grace_s = terminate_grace_s
        self.on_progress = on_progress
        self.progress_interval_s = progress_interval_s

    def directory(self, cwd: str | None) -> Path:
        if not cwd:
            return self.default_cwd
        path = Path(cwd).expanduser()
        path = path if path.is_absolute() else self.default_cwd / path
        if not path.is_dir():
            raise PerfinvestUnavailableError(f"cwd {cwd!r} is not a directory")
        return path.resolve()

    async def run(self, args: Sequence[str], cwd: str | None = None) -> PerfAnswer:
        directory = self.directory(cwd)
        argv = [*self.program, *args]
        shown = ["perfinvest", *args]
        try:
            process = await anyio.open_process(
                argv,
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise PerfinvestUnavailableError(
                f"cannot run perfinvest ({argv[0]}): {exc}; install it with "
                "`pip install 'perfinvest[mcp]'`"
            ) from exc
        stdout = bytearray()
        tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        try:
            async with anyio.create_task_group() as ticking:
                if self.on_progress is not None:
                    ticking.start_soon(self._tick, self.on_progress, tail)
                async with anyio.create_task_group() as group:
                    assert process.stdout is not None and process.stderr is not None
                    group.start_soon(_collect, process.stdout, stdout)
                    group.start_soon(_forward, process.stderr, tail, _label(shown))
                ticking.cancel_scope.cancel()
            code = await process.wait()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stop(process)
            raise
        return self._answer(stdout.decode("utf-8", "replace"), code, list(tail), shown)

    async def _tick(self, report: ProgressHook, tail: deque[str]) -> None:
        began = anyio.current_time()
        while True:
            await anyio.sleep(self.progress_interval_s)
            try:
                await report(anyio.current_time() - began, tail[-1] if tail else None)
            except Exception as exc:  # a client that went away must not stop the command
                sys.stderr.write(f"perfinvest mcp: progress not sent: {exc}\n")

    async def _stop(self, process: Process) -> None:
        """SIGTERM (perfinvest stops like Ctrl-C: tree killed, lock freed), then SIGKILL."""
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            with anyio.move_on_after(self.terminate_grace_s):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
        await process.aclose()

    def _answer(self, stdout: str, code: int, tail: list[str], shown: list[str]) -> PerfAnswer:
        answer = parse_answer(stdout)
        if answer is None:
            said = " | ".join(line for line in tail if line.strip())
            if re.search(r"No module named '?perfinvest'?(\s|$)", said):
                raise PerfinvestUnavailableError(
                    f"perfinvest is not installed for {self.program[0]}: "
                    "`pip install 'perfinvest[mcp]'` in that environment"
                )
            raise PerfinvestUnavailableError(
                f"`{' '.join(shown)}` printed no JSON answer (exit {code})"
                + (f"; its stderr ends: {said[-1500:]}" if said else "")
                + (f"; its stdout began: {stdout.strip()[:300]!r}" if stdout.strip() else "")
            )
        answer.setdefault("command", shown[1] if len(shown) > 1 else "perfinvest")
        return PerfAnswer.model_validate({**answer, "exit_code": code, "command_line": shown})


def _label(shown: list[str]) -> str:
    """``perfinvest hypotheses add``: the command words, without options or values."""
    words: list[str] = []
    for word in shown:
        if word.startswith("-"):
            break
        words.append(word)
    return " ".join(words[:3])


async def _collect(stream: ByteReceiveStream, into: bytearray) -> None:
    async for chunk in stream:
        into.extend(chunk)


async def _forward(stream: ByteReceiveStream, tail: deque[str], label: str) -> None:
    """Copy the command's stderr to ours (never to stdout), keeping the last lines."""
    pending = b""
    async for chunk in stream:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            _emit(raw, tail, label)
    if pending:
        _emit(pending, tail, label)


def _emit(raw: bytes, tail: deque[str], label: str) -> None:
    line = raw.decode("utf-8", "replace").rstrip("\r")
    tail.append(line)
    sys.stderr.write(f"[{label}] {line}\n")
    sys.stderr.flush()


# ---- the tools' parameters --------------------------------------------------------------

Cwd = Annotated[
    str | None,
    Field(
        description="Run in this directory (the repository under investigation); default: "
        "the server's working directory."
    ),
]
Quote = Annotated[str | None, Field(description="The user's words that asked for this, logged.")]
SkipReason = Annotated[
    str | None,
    Field(description="Skip this phase instead of running it; the reason is logged."),
]
NoCheckpoint = Annotated[bool, Field(description="Do not make the checkpoint commit.")]
ExtraArgs = Annotated[
    list[str] | None,
    Field(
        description="More command-line arguments for options without a parameter here, e.g. "
        "['--resolution=5']; see `perfinvest <command> --help`."
    ),
]
Duration = Annotated[
    float | None,
    Field(
        description="Seconds per run (default and minimum 60; less only under a short-run "
        "policy set at start)."
    ),
]
Strict = Annotated[
    bool, Field(description="Refuse to measure when the machine is not quiet (rule 6).")
]


class PerfTools:
    """The tools, one method each; the method's docstring is the tool's description."""

    #: tool name -> method name
    NAMES: ClassVar[dict[str, str]] = {
        "start": "start",
        "status": "status",
        "list": "list_investigations",
        "resume": "resume",
        "log": "log",
        "compare": "compare",
        "baseline": "baseline",
        "breaking_point": "breaking_point",
        "constraints": "constraints",
        "hypotheses_gather": "hypotheses_gather",
        "hypotheses_add": "hypotheses_add",
        "hypotheses_list": "hypotheses_list",
        "code_paths": "code_paths",
        "profile": "profile",
        "profile_diff": "profile_diff",
        "experiment": "experiment",
        "decide": "decide",
        "consolidate": "consolidate",
        "recover": "recover",
    }

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    async def start(
        self,
        scenario: Annotated[
            str | None, Field(description="The scenario under investigation, in one sentence.")
        ] = None,
        command: Annotated[
            str | None,
            Field(
                description="The benchmark command (split like a shell would, run as argv "
                "unless shell is true)."
            ),
        ] = None,
        metric: Annotated[
            str | None, Field(description="The primary metric's name, as the benchmark reports it.")
        ] = None,
        direction: Annotated[
            Literal["lower", "higher"] | None,
            Field(description="Which way the primary metric improves."),
        ] = None,
        success: Annotated[
            list[str] | None,
            Field(description="Success criteria, e.g. ['p95_ms < 120 at 200 rps']."),
        ] = None,
        version: Annotated[
            str | None, Field(description="The version being measured (names its baseline).")
        ] = None,
        unit: Annotated[str | None, Field(description="The metric's unit (ms, rps...).")] = None,
        mode: Annotated[
            Literal["duration", "repeat"] | None,
            Field(
                description="duration (default): the command runs for PERF_RUN_DURATION; "
                "repeat: a short command is re-run until the duration is filled."
            ),
        ] = None,
        param_env: Annotated[
            str | None,
            Field(
                description="Variable carrying the breaking-point parameter "
                "(default PERF_PARAM_VALUE)."
            ),
        ] = None,
        shell: Annotated[bool, Field(description="Run the command through /bin/sh.")] = False,
        metrics_format: Annotated[
            str | None,
            Field(
                description="Metric format of the output (default: detected): perf-metrics, "
                "hyperfine-json, k6-summary, wrk, pytest-benchmark-json, go-bench, "
                "cargo-criterion-json, locust-csv, pyperf-json."
            ),
        ] = None,
        metrics_file: Annotated[
            str | None,
            Field(
                description="Read metrics from this file (relative to the repository) after "
                "each run instead of stdout."
            ),
        ] = None,
        quote: Annotated[
            list[str] | None, Field(description="The user's words, verbatim, logged.")
        ] = None,
        allow_short_runs: Annotated[
            str | None,
            Field(
                description="A reason to allow runs shorter than 60 s (tests, demos); every "
                "such run is marked non-compliant."
            ),
        ] = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 1, setup: start a new investigation (an active one is archived, never lost).

        Everything must be stated; nothing is guessed. When anything is missing the answer
        has ok=false, error.kind "needs_input" and error.needs listing exactly what to ask
        the user for. On success `next` names the next phase (baseline).
        """
        args = Args("start").opt("--scenario", scenario).opt("--command", command)
        args.opt("--metric", metric).opt("--direction", direction)
        args.many("--success", success).opt("--version", version).opt("--unit", unit)
        args.opt("--mode", mode).opt("--param-env", param_env).flag("--shell", shell)
        args.opt("--format", metrics_format).opt("--metrics-file", metrics_file)
        args.many("--quote", quote).opt("--allow-short-runs", allow_short_runs)
        args.flag("--no-checkpoint", no_checkpoint).extra(extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def status(self, cwd: Cwd = None) -> PerfAnswer:
        """Where the active investigation stands: phases done, next step, policy in force."""
        return await self.runner.run(Args("status").argv(), cwd)

    async def list_investigations(self, cwd: Cwd = None) -> PerfAnswer:
        """Every investigation in the state folder (data.investigations), the active first."""
        return await self.runner.run(Args("list").argv(), cwd)

    async def resume(
        self,
        id: Annotated[str, Field(description="The investigation id, e.g. perf-20261123-...")],
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Make an investigation active again (the active one is archived first)."""
        return await self.runner.run(Args("resume").arg(id).argv(), cwd)

    async def log(
        self,
        id: Annotated[
            str | None, Field(description="An investigation id; default: the active one.")
        ] = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """The reviewer's log of an investigation; the markdown is in data.markdown."""
        return await self.runner.run(Args("log").arg(id).argv(), cwd)

    async def compare(
        self,
        version_a: Annotated[str, Field(description="The reference version (its baseline).")],
        version_b: Annotated[str, Field(description="The version compared against it.")],
        metrics: Annotated[
            list[str] | None, Field(description="Only these metrics; default: all shared.")
        ] = None,
        force: Annotated[
            bool, Field(description="Compare despite different environments (logged).")
        ] = False,
        fail_on_regression: Annotated[
            bool, Field(description="Answer exit code 8 when the primary metric regressed.")
        ] = False,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Compare two versions' baselines: change, CI, p-values and a verdict per metric."""
        args = Args("compare").many("--metric", metrics).flag("--force", force)
        args.flag("--fail-on-regression", fail_on_regression)
        return await self.runner.run(args.arg(version_a).arg(version_b).argv(), cwd)

    async def baseline(
        self,
        runs: Annotated[int | None, Field(description="Sequential runs (at least 2).")] = None,
        duration: Duration = None,
        strict: Strict = False,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 2: measure the current version's baseline (sequential runs, statistics)."""
        args = Args("baseline").opt("--runs", runs).opt("--duration", duration)
        args.flag("--strict", strict).phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def breaking_point(
        self,
        min: Annotated[
            float | None, Field(description="Lowest parameter value (required).")
        ] = None,
        max: Annotated[
            float | None, Field(description="Highest parameter value (required).")
        ] = None,
        fail_when: Annotated[
            list[str] | None,
            Field(description="Thresholds that make a probe fail, e.g. ['p95_ms>150']."),
        ] = None,
        resolution: Annotated[
            float | None,
            Field(
                description="Stop when the last passing and first failing values are this "
                "close (default 1)."
            ),
        ] = None,
        param_env: Annotated[
            str | None, Field(description="Variable carrying the parameter value.")
        ] = None,
        approve_expansion: Annotated[
            str | None,
            Field(
                description="Rule 4: a reason for a wider range than an earlier result's, logged."
            ),
        ] = None,
        allow_no_metrics: Annotated[
            str | None,
            Field(
                description="A reason to count a probe that printed no metrics as a failure "
                "(default: invalid, re-run)."
            ),
        ] = None,
        duration: Duration = None,
        strict: Strict = False,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 3: binary search for the parameter value where the scenario breaks."""
        args = Args("breaking-point").opt("--min", min).opt("--max", max)
        args.many("--fail-when", fail_when).opt("--resolution", resolution)
        args.opt("--param-env", param_env).opt("--approve-expansion", approve_expansion)
        args.opt("--allow-no-metrics", allow_no_metrics).opt("--duration", duration)
        args.flag("--strict", strict).phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def constraints(
        self,
        cpu: Annotated[
            list[float] | None,
            Field(description="CPU limits in CPUs (0.5 = half a CPU), one configuration each."),
        ] = None,
        memory: Annotated[
            list[str] | None, Field(description="Memory limits, e.g. ['256MB', '1GiB'].")
        ] = None,
        pids: Annotated[int | None, Field(description="Process limit.")] = None,
        runs: Annotated[int | None, Field(description="Runs per configuration.")] = None,
        backend: Annotated[
            str | None,
            Field(
                description="auto (default), cgroup2, cgroup1, docker or fallback; the "
                "reason for the choice is recorded."
            ),
        ] = None,
        image: Annotated[
            str | None, Field(description="Docker image to run the benchmark in.")
        ] = None,
        duration: Duration = None,
        strict: Strict = False,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 4: the benchmark under real CPU / memory limits against the unconstrained."""
        args = Args("constraints").many("--cpu", cpu).many("--memory", memory)
        args.opt("--pids", pids).opt("--runs", runs).opt("--backend", backend)
        args.opt("--image", image).opt("--duration", duration).flag("--strict", strict)
        args.phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def hypotheses_gather(
        self,
        since: Annotated[
            str | None, Field(description="Start of the history window (a git revision).")
        ] = None,
        paths: Annotated[
            list[str] | None, Field(description="Only commits touching these paths.")
        ] = None,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 5, first: read the git history of the window (rule 8: before hypotheses)."""
        args = Args("hypotheses", "gather").opt("--since", since).many("--paths", paths)
        args.phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def hypotheses_add(
        self,
        statement: Annotated[str | None, Field(description="The hypothesis, one sentence.")] = None,
        evidence: Annotated[
            list[str] | None, Field(description="Evidence for it (commits, hotspots...).")
        ] = None,
        confidence: Annotated[
            Literal["low", "medium", "high"] | None, Field(description="Default: medium.")
        ] = None,
        from_file: Annotated[
            str | None,
            Field(
                description="Add several from a JSON file: a list of {statement, evidence, "
                "confidence}."
            ),
        ] = None,
        quote: Quote = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 5: add a hypothesis with its evidence (refused until history is gathered)."""
        args = Args("hypotheses", "add").many("--evidence", evidence)
        args.opt("--confidence", confidence).opt("--from-file", from_file)
        args.phase(quote, None, no_checkpoint, extra_args)
        return await self.runner.run(args.arg(statement).argv(), cwd)

    async def hypotheses_list(self, cwd: Cwd = None) -> PerfAnswer:
        """The investigation's hypotheses and their status (untested, confirmed, refuted)."""
        return await self.runner.run(Args("hypotheses", "list").argv(), cwd)

    async def code_paths(
        self,
        top: Annotated[int | None, Field(description="Entries to keep (default 20).")] = None,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 6: rank the files and functions (file:line) on the scenario's path.

        Uses the latest profile's hotspots when profiling has run (re-run it after profile),
        the scenario's words and the gathered git history; each entry says why it ranks.
        """
        args = Args("code-paths").opt("--top", top)
        args.phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def profile(
        self,
        profiler: Annotated[
            str | None,
            Field(
                description="auto (default: chosen from the command, reason recorded), "
                "py-spy, perf, cprofile, node, go or java."
            ),
        ] = None,
        rate: Annotated[
            float | None, Field(description="Sampling rate in Hz (default per profiler).")
        ] = None,
        top: Annotated[int | None, Field(description="Hotspots to keep (default 20).")] = None,
        duration: Duration = None,
        strict: Strict = False,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 7: profile the benchmark and name the hotspots (file:line, self %, total %)."""
        args = Args("profile").opt("--profiler", profiler).opt("--rate", rate)
        args.opt("--top", top).opt("--duration", duration).flag("--strict", strict)
        args.phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def profile_diff(
        self,
        a: Annotated[str, Field(description="The first profile (e.g. the baseline's).")],
        b: Annotated[str, Field(description="The second profile (e.g. an experiment's).")],
        top: Annotated[int | None, Field(description="Frames to show (default 20).")] = None,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Rank the frames whose share of samples changed most between two profiles."""
        args = Args("profile", "diff").opt("--top", top).extra(extra_args)
        return await self.runner.run(args.arg(a).arg(b).argv(), cwd)

    async def experiment(
        self,
        action: Annotated[
            Literal["start", "run", "abort", "list", "show", "apply", "ab"] | None,
            Field(
                description="start: record the tree exactly and open an experiment (then "
                "edit the code); run: measure the change against the recorded tree, interleaved, "
                "then restore and verify the tree; abort: restore without measuring; list; show "
                "N; apply N: re-apply a kept change; ab: flag-style A/B, PERF_EXPERIMENT=0 "
                "against =1, without touching the tree. Omit it only to skip the phase "
                "with skip_reason."
            ),
        ] = None,
        hypothesis: Annotated[
            str | None, Field(description="start / ab: the hypothesis tested (e.g. H1).")
        ] = None,
        change: Annotated[
            str | None,
            Field(
                description="start / ab: the one change (ab: what PERF_EXPERIMENT=1 switches on)."
            ),
        ] = None,
        files: Annotated[
            list[str] | None,
            Field(
                description="start: the files or folders the change may touch; run refuses "
                "changes elsewhere."
            ),
        ] = None,
        number: Annotated[
            int | None, Field(description="show / apply: the experiment's number.")
        ] = None,
        runs: Annotated[
            int | None, Field(description="run / ab: runs per side (at least 2).")
        ] = None,
        duration: Duration = None,
        strict: Strict = False,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 8: one change at a time, measured against the baseline, tree restored.

        Flow: experiment(action="start", hypothesis=..., change=..., files=[...]); edit the
        code; experiment(action="run"). The answer gives the verdict (improved, regressed,
        unchanged, inconclusive) and the verification that the tree was restored.
        """
        args = Args("experiment", *([action] if action else []))
        args.opt("--hypothesis", hypothesis).opt("--change", change).many("--files", files)
        args.opt("--runs", runs).opt("--duration", duration).flag("--strict", strict)
        args.phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.arg(number).argv(), cwd)

    async def decide(
        self,
        verdict: Annotated[
            Literal["continue", "stop", "abandon"] | None,
            Field(
                description="The decision; without it perfinvest answers its computed "
                "recommendation and asks for one."
            ),
        ] = None,
        rationale: Annotated[
            str | None, Field(description="Why, a sentence or two, logged.")
        ] = None,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 9: continue, stop or abandon, with the rationale, next to perfinvest's
        recommendation computed from the experiments and the success criteria."""
        args = Args("decide").opt("--verdict", verdict).opt("--rationale", rationale)
        args.phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def consolidate(
        self,
        quote: Quote = None,
        skip_reason: SkipReason = None,
        no_checkpoint: NoCheckpoint = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Phase 10: one baseline per version; marks the investigation complete."""
        args = Args("consolidate").phase(quote, skip_reason, no_checkpoint, extra_args)
        return await self.runner.run(args.argv(), cwd)

    async def recover(
        self,
        release: Annotated[
            bool,
            Field(
                description="Drop the journal even when the restore cannot be verified (the "
                "recorded tree stays under refs/perfinvest/snapshots/)."
            ),
        ] = False,
        extra_args: ExtraArgs = None,
        cwd: Cwd = None,
    ) -> PerfAnswer:
        """Restore the tree after a crashed experiment; clean up what a killed run left.

        Worktrees, cgroups and locks a killed run left are removed; the answer reports
        exactly what was done. Other commands refuse to run until this has been done.
        """
        args = Args("recover").flag("--release", release).extra(extra_args)
        return await self.runner.run(args.argv(), cwd)
