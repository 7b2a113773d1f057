"""The instruction meter: run the command once under ``valgrind --tool=cachegrind``.

Wall time on a shared CI runner is noise; the number of instructions a deterministic
program executes is not (CodSpeed and iai gate on it). Cachegrind with ``--cache-sim=no``
counts instruction reads (``Ir``) only, which keeps the slowdown near 20-50x. Every process
of the tree is followed (``--trace-children=yes``, one out file per pid) and their counts
are summed, so a ``sh -c`` wrapper or a script launching the real program is counted with
it. Valgrind's own log goes to a file, so the program's stderr is its own.

The command runs once per run with ``PERF_RUN_MODE=oneshot`` (a duration-mode benchmark
would loop for its duration, 20-50x slower, and count a number of loops that depends on
the machine's speed), in the cleared, fixed environment of
:mod:`perfinvest.adapters.meters.environment` (``PYTHONHASHSEED=0`` among it: a Python
program's string hashing is randomised per process, which moves its count by ~2 %), so
``run``, ``baseline`` and CI count the same unchanged code alike.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfinvest.adapters.meters.environment import (
    claim_artifact_dir,
    metered_env,
    release_artifact_dir,
)
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
    "--tool=cachegrind in a cleared, fixed environment; counts instructions, not time"
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


@dataclass
class InstructionMeter:
    """Wraps one run's spec in cachegrind and reads the counts it left in ``out_dir``.

    ``run_dir`` receives what the command wrote to ``PERF_ARTIFACT_DIR`` (a fixed-length
    folder claimed by :meth:`environment`, released by :meth:`release` or :meth:`metrics`).
    """

    out_dir: Path
    run_dir: Path
    artifact_dir: Path | None = field(default=None, init=False)

    def environment(self, contract_env: Mapping[str, str]) -> dict[str, str]:
        """The command's whole environment (recorded in the run's fingerprint as it is)."""
        require_meter(INSTRUCTIONS)
        if self.artifact_dir is None:
            try:
                self.artifact_dir = claim_artifact_dir()
            except OSError as exc:
                raise environment_error(
                    f"the instruction meter cannot create its artifact folder: "
                    f"{exc.strerror or exc}; free /tmp or remove stale /tmp/perfinvest-meter-*"
                ) from None
        return metered_env(contract_env, str(self.artifact_dir))

    def release(self) -> None:
        """Move the command's artifacts into ``run_dir``; remove the fixed folder."""
        if self.artifact_dir is not None:
            release_artifact_dir(self.artifact_dir, self.run_dir)
            self.artifact_dir = None

    def wrap(self, spec: RunSpec) -> RunSpec:
        """The same command, once, under cachegrind, with only :meth:`environment`'s
        variables; the user's command is resolved first, so a missing program is the
        usual clear error, not valgrind's."""
        require_meter(INSTRUCTIONS)
        env = spec.env if spec.env.get("PERF_RUN_LABEL") == "meter" else self.environment(spec.env)
        target = prepare(replace(spec, env=env, inherit_env=False))
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
            spec,
            argv=argv,
            shell=False,
            env=env,
            inherit_env=False,
            mode="duration",
            min_duration_s=0.0,
            sample_hz=0,
        )

    def metrics(self) -> tuple[list[Metric], str | None]:
        """``instructions`` (summed over the tree) and ``instructions_processes``, or why not."""
        self.release()
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
