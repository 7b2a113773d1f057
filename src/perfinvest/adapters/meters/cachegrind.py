"""The instruction meter: run the command once under ``valgrind --tool=cachegrind``.

Wall time on a shared CI runner is noise; the number of instructions a deterministic
program executes is not (CodSpeed and iai gate on it). Cachegrind with ``--cache-sim=no``
counts instruction reads (``Ir``) only, which keeps the slowdown near 20-50x. Every process
of the tree is followed (``--trace-children=yes``, one out file per pid) and their counts
are summed, so a ``sh -c`` wrapper or a script launching the real program is counted with
it. Valgrind's own log goes to a file, so the program's stderr is its own.

The command runs once per run with ``PERF_RUN_MODE=oneshot`` (a duration-mode benchmark
would loop for its duration, 20-50x slower, and count a number of loops that depends on
the machine's speed). ``PYTHONHASHSEED=0`` is set unless the environment gives one: a
Python program's string hashing is randomised per process, which moves its instruction
count by ~2 % from run to run; with a fixed seed the count is exact.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from perfinvest.adapters.runner.launch import prepare
from perfinvest.adapters.runner.spec import RunSpec
from perfinvest.core.errors import environment_error, usage_error
from perfinvest.core.models import Metric

INSTRUCTIONS = "instructions"
METERS = (INSTRUCTIONS,)
OUT_PREFIX = "cachegrind.out."
LOG_PREFIX = "valgrind."
#: The compliance note of a metered run: what it did instead of timing the command.
NOTE = (
    "instruction meter: the command ran once (PERF_RUN_MODE=oneshot) under valgrind "
    "--tool=cachegrind; counts instructions, not time"
)


def require_meter(meter: str | None) -> None:
    """Refuse an unknown meter (exit 2) or a missing valgrind (exit 7) before any run."""
    if meter is None:
        return
    if meter not in METERS:
        raise usage_error(f"unknown meter {meter!r}: use {', '.join(METERS)}")
    if shutil.which("valgrind") is None:
        raise environment_error(
            "--meter instructions needs valgrind, which is not on PATH; install it "
            "(apt-get install valgrind; scripts/bootstrap.sh does)"
        )


def parse_out_file(text: str) -> int:
    """The ``Ir`` total of one cachegrind out file (its ``events:`` and ``summary:`` lines)."""
    events: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("events:"):
            events = line.split(":", 1)[1].split()
        elif line.startswith("summary:"):
            if events is None or "Ir" not in events:
                raise ValueError("the file names no Ir event before its summary")
            values = line.split(":", 1)[1].split()
            return int(values[events.index("Ir")])
    raise ValueError("the file has no summary line (valgrind was killed?)")


@dataclass(frozen=True)
class InstructionMeter:
    """Wraps one run's spec in cachegrind and reads the counts it left in ``out_dir``."""

    out_dir: Path

    def wrap(self, spec: RunSpec) -> RunSpec:
        """The same command, once, under cachegrind; the user's command is resolved first,
        so a missing program is the usual clear error, not valgrind's."""
        require_meter(INSTRUCTIONS)
        env = {**spec.env, "PERF_RUN_MODE": "oneshot"}
        if "PYTHONHASHSEED" not in spec.env and "PYTHONHASHSEED" not in os.environ:
            env["PYTHONHASHSEED"] = "0"
        target = prepare(replace(spec, env=env))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--trace-children=yes",
            f"--cachegrind-out-file={self.out_dir / OUT_PREFIX}%p",
            f"--log-file={self.out_dir / LOG_PREFIX}%p.log",
            "--",
            target.executable,
            *target.argv[1:],
        ]
        return replace(
            spec, argv=argv, shell=False, env=env, mode="duration", min_duration_s=0.0, sample_hz=0
        )

    def metrics(self) -> tuple[list[Metric], str | None]:
        """``instructions`` (summed over the tree) and ``instructions_processes``, or why not."""
        files = sorted(self.out_dir.glob(f"{OUT_PREFIX}*"))
        if not files:
            return [], f"valgrind wrote no cachegrind output in {self.out_dir}"
        counts: list[int] = []
        for path in files:
            try:
                counts.append(parse_out_file(path.read_text(encoding="utf-8", errors="replace")))
            except (OSError, ValueError) as exc:
                return [], f"unreadable cachegrind output {path.name}: {exc}"
        return [
            Metric(name=INSTRUCTIONS, value=float(sum(counts)), unit="count", direction="lower"),
            Metric(
                name="instructions_processes", value=float(len(counts)), unit="", direction=None
            ),
        ], None
