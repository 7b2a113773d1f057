"""The MCP tools of phases 2-10, one method per phase command.

Each method builds only its command's own options; ``command_tool`` adds the parameters the
phases share (duration, strict, quote, skip_reason, no_checkpoint, extra_args, cwd) and runs it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from perfinvest.mcp.params import MEASURING, PHASE, ToolSet, command_tool
from perfinvest.mcp.runner import Args


class PhaseTools(ToolSet):
    """The measuring and reasoning phases, in order."""

    @command_tool(*MEASURING, *PHASE)
    def baseline(
        self,
        runs: Annotated[int | None, Field(description="Sequential runs (at least 2).")] = None,
    ) -> Args:
        """Phase 2: measure the current version's baseline (sequential runs, statistics)."""
        return Args("baseline").opt("--runs", runs)

    @command_tool(*MEASURING, *PHASE)
    def breaking_point(
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
                "close (default: 1 % of the range; the search also stops when neighbouring "
                "probes are within the baseline's noise)."
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
    ) -> Args:
        """Phase 3: binary search for the parameter value where the scenario breaks."""
        args = Args("breaking-point").opt("--min", min).opt("--max", max)
        args.many("--fail-when", fail_when).opt("--resolution", resolution)
        args.opt("--param-env", param_env).opt("--approve-expansion", approve_expansion)
        return args.opt("--allow-no-metrics", allow_no_metrics)

    @command_tool(*MEASURING, *PHASE)
    def constraints(
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
    ) -> Args:
        """Phase 4: the benchmark under real CPU / memory limits against the unconstrained."""
        args = Args("constraints").many("--cpu", cpu).many("--memory", memory)
        args.opt("--pids", pids).opt("--runs", runs).opt("--backend", backend)
        return args.opt("--image", image)

    @command_tool(*PHASE)
    def hypotheses_gather(
        self,
        since: Annotated[
            str | None,
            Field(
                description="Start of the history window (a git revision; REV~N counts your "
                "commits, never checkpoints). Default: since the previous version tag, "
                "else your last 50 commits."
            ),
        ] = None,
        paths: Annotated[
            list[str] | None, Field(description="Only commits touching these paths.")
        ] = None,
    ) -> Args:
        """Phase 5, first: read the git history of the window (rule 8: before hypotheses)."""
        return Args("hypotheses", "gather").opt("--since", since).many("--paths", paths)

    @command_tool("quote", "no_checkpoint", "extra_args")
    def hypotheses_add(
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
    ) -> Args:
        """Phase 5: add a hypothesis with its evidence (refused until history is gathered)."""
        args = Args("hypotheses", "add").many("--evidence", evidence)
        return args.opt("--confidence", confidence).opt("--from-file", from_file).arg(statement)

    @command_tool()
    def hypotheses_list(self) -> Args:
        """The investigation's hypotheses and their status (untested, confirmed, refuted)."""
        return Args("hypotheses", "list")

    @command_tool(*PHASE)
    def code_paths(
        self,
        top: Annotated[int | None, Field(description="Entries to keep (default 20).")] = None,
    ) -> Args:
        """Phase 6: rank the files and functions (file:line) on the scenario's path.

        Uses the latest profile's hotspots when profiling has run (re-run it after profile),
        the scenario's words and the gathered git history; each entry says why it ranks.
        """
        return Args("code-paths").opt("--top", top)

    @command_tool(*MEASURING, *PHASE)
    def profile(
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
    ) -> Args:
        """Phase 7: profile the benchmark and name the hotspots (file:line, self %, total %)."""
        args = Args("profile").opt("--profiler", profiler).opt("--rate", rate)
        return args.opt("--top", top)

    @command_tool("extra_args")
    def profile_diff(
        self,
        a: Annotated[str, Field(description="The first profile (e.g. the baseline's).")],
        b: Annotated[str, Field(description="The second profile (e.g. an experiment's).")],
        top: Annotated[int | None, Field(description="Frames to show (default 20).")] = None,
    ) -> Args:
        """Rank the frames whose share of samples changed most between two profiles."""
        return Args("profile", "diff").opt("--top", top).arg(a).arg(b)

    @command_tool(*MEASURING, *PHASE)
    def experiment(
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
    ) -> Args:
        """Phase 8: one change at a time, measured against the baseline, tree restored.

        Flow: experiment(action="start", hypothesis=..., change=..., files=[...]); edit the
        code; experiment(action="run"). The answer gives the verdict (improved, regressed,
        unchanged, inconclusive) and the verification that the tree was restored.
        """
        args = Args("experiment", *([action] if action else []))
        args.opt("--hypothesis", hypothesis).opt("--change", change).many("--files", files)
        return args.opt("--runs", runs).arg(number)

    @command_tool(*PHASE)
    def decide(
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
    ) -> Args:
        """Phase 9: continue, stop or abandon, with the rationale, next to perfinvest's
        recommendation computed from the experiments and the success criteria."""
        return Args("decide").opt("--verdict", verdict).opt("--rationale", rationale)

    @command_tool(*PHASE)
    def consolidate(
        self,
    ) -> Args:
        """Phase 10: one baseline per version; marks the investigation complete."""
        return Args("consolidate")
