"""py-spy: a sampling profiler for Python that reads the target's memory (needs ptrace).

``py-spy record --format raw --full-filenames --subprocesses -- <command>`` writes collapsed
stacks whose frames read ``function (/abs/file.py:line)``, the line each frame was executing
(the leaf's hot line, a caller's call site). Not ``--function``: it would fold every sample
onto the function's ``def`` line and lose the hot line; the definition line is read from the
source instead (``adapters/symbols.Definitions``). Speedscope JSON and a flamegraph SVG are
rendered from the same stacks (py-spy writes one format per run; running it twice would
profile two different runs).
"""

from __future__ import annotations

import re

from perfinvest.adapters.profilers.base import (
    Collected,
    ProfilePlan,
    ProfileRequest,
    RunFacts,
    read_stacks,
    require_tool,
    stderr_hint,
)
from perfinvest.adapters.profilers.launchers import detect, resolve_python
from perfinvest.core.errors import PerfError, benchmark_failed, environment_error

NAME = "py-spy"
DEFAULT_RATE = 100.0
INSTALL_HINT = "pip install py-spy (it is a perfinvest dependency: reinstall perfinvest)"
RAW_NAME = "pyspy.collapsed.txt"
_DENIED = re.compile(r"permission denied|operation not permitted|ptrace|EPERM", re.IGNORECASE)
#: Fewer samples than this share of the expected count means py-spy lost the target.
_LOST_SHARE = 0.2


def ptrace_denied(facts: RunFacts) -> PerfError:
    return environment_error(
        "py-spy cannot read the target's memory: ptrace is not permitted here"
        f"{stderr_hint(facts)}; allow it (run as root or with CAP_SYS_PTRACE, "
        "kernel.yama.ptrace_scope=0/1, docker --cap-add SYS_PTRACE) or use --profiler cprofile"
    )


def plan(request: ProfileRequest) -> ProfilePlan:
    tool = require_tool(NAME, INSTALL_HINT)
    launcher = detect(request.command, request.shell)
    argv = list(launcher.argv)
    if launcher.kind == "python" and launcher.shell_line is None:
        argv[0] = resolve_python(argv[0])
    rate = request.rate_hz or DEFAULT_RATE
    output = request.out_dir / RAW_NAME
    wrapped = [
        tool,
        "record",
        # rule 7: do not stop the target for every sample (blocking reads measured ~7-18 %
        # slower on this 2-core machine, over the 5 % budget); a rare torn stack is the cost
        "--nonblocking",
        "--rate",
        f"{rate:g}",
        "--format",
        "raw",
        "--full-filenames",
        "--subprocesses",
        "--output",
        str(output),
        "--",
        *argv,
    ]

    def collect(facts: RunFacts) -> Collected:
        tail = facts.stderr_tail
        empty = not output.is_file() or output.stat().st_size == 0 or "Samples: 0 " in tail
        if facts.survivors and launcher.kind == "python":
            # py-spy record waits for the program it starts: stopping while the Python
            # target still ran means it could no longer read the target's memory
            raise ptrace_denied(facts)
        if empty and _DENIED.search(tail):
            raise ptrace_denied(facts)
        lost = "No python processes found" in tail or "Failed to get process executable" in tail
        if lost or (empty and launcher.kind == "python"):
            if launcher.kind != "python":
                # py-spy says the same when it may not read a Python process (another
                # user's, without CAP_SYS_PTRACE) as when there is none: name both ways out
                raise benchmark_failed(
                    "py-spy found no Python process it could read in the command: either it "
                    "starts no Python (use --profiler perf for native code) or reading its "
                    "memory was refused (ptrace not permitted, another user's process: use "
                    "--profiler cprofile)"
                )
            raise benchmark_failed(
                f"py-spy recorded no samples: the Python target exited after "
                f"{facts.wall_s:.2f} s before the first sample (too short a run), or "
                "reading its memory was refused (ptrace not permitted, a non-dumpable "
                "process): run longer, or use --profiler cprofile"
            )
        stacks = read_stacks(output, NAME, facts)
        samples = sum(s.count for s in stacks)
        expected = rate * facts.wall_s
        if facts.wall_s >= 1.0 and samples < _LOST_SHARE * expected:
            # py-spy stops sampling quietly when reads start failing (a process that made
            # itself non-dumpable, a missing CAP_SYS_PTRACE): say so instead of a thin profile
            raise environment_error(
                f"py-spy lost the target after {samples} of ~{expected:.0f} expected samples "
                f"in {facts.wall_s:.1f} s: reading its memory was refused (ptrace not "
                "permitted, or the process is not dumpable); use --profiler cprofile"
            )
        return Collected(
            stacks=stacks,
            files=[(output, "py-spy raw collapsed stacks")],
            total_samples=samples,
        )

    return ProfilePlan(NAME, wrapped, {}, rate, collect)


def is_available() -> bool:
    from perfinvest.adapters.profilers.base import find_tool

    return find_tool(NAME) is not None
