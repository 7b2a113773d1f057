"""The fixed, recorded environment a metered command runs in (``--meter instructions``).

An instruction count depends on the environment's size: the kernel copies every variable
onto the new process's stack and the C runtime and the interpreter walk them, so a 62-byte
variable moved a Python program's count by ~3,700 instructions, and ``baseline`` and
``run`` (whose artifact folders, labels and investigation ids differ in length) disagreed.
As iai-callgrind and cachegrind users do, the command gets a cleared environment:

* ``PATH`` and ``HOME`` from perfinvest's own environment (to find programs and a user's
  packages), ``LANG=C``, ``LC_ALL=C``, ``PYTHONHASHSEED=0`` (string hashing fixed; a seed in
  perfinvest's environment is kept);
* the benchmark contract with fixed values: ``PERF_RUN_MODE=oneshot``,
  ``PERF_RUN_DURATION=0``, ``PERF_RUN_LABEL=meter``, and ``PERF_ARTIFACT_DIR`` a folder of
  one fixed length (``/tmp/perfinvest-meter-00000000``; its files are moved into the run's
  artifact folder afterwards); ``PERF_INVESTIGATION_ID`` is not passed;
* then the benchmark's own ``--env`` variables (setup), which win.

Nothing else is inherited: a variable the command needs is given with ``--env``.
The environment is recorded in the run's fingerprint exactly as the command got it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

#: the contract's variables perfinvest sets itself (replaced by fixed values, or dropped)
CONTRACT = (
    "PERF_RUN_MODE",
    "PERF_RUN_DURATION",
    "PERF_RUN_LABEL",
    "PERF_ARTIFACT_DIR",
    "PERF_INVESTIGATION_ID",
)
PASSED = ("PATH", "HOME")
FIXED = {
    "LANG": "C",
    "LC_ALL": "C",
    "PYTHONHASHSEED": "0",
    "PERF_RUN_MODE": "oneshot",
    "PERF_RUN_DURATION": "0",
    "PERF_RUN_LABEL": "meter",
}
ARTIFACT_BASE = "/tmp/perfinvest-meter-"  # not $TMPDIR: its length would vary
_SLOTS = 10_000


def metered_env(
    contract_env: Mapping[str, str], artifact_dir: str, inherited: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The whole environment of a metered command (see the module docstring).

    ``contract_env`` is what a timed run would get on top of perfinvest's environment:
    the contract's variables (replaced) and the benchmark's own ``--env`` (kept).
    """
    source = os.environ if inherited is None else inherited
    env = {name: source[name] for name in PASSED if name in source}
    env.update(FIXED)
    if "PYTHONHASHSEED" in source:  # a seed the user chose is kept (the same every run)
        env["PYTHONHASHSEED"] = source["PYTHONHASHSEED"]
    env["PERF_ARTIFACT_DIR"] = artifact_dir
    env.update({k: v for k, v in contract_env.items() if k not in CONTRACT})
    return env


def claim_artifact_dir() -> Path:
    """A new empty folder ``/tmp/perfinvest-meter-NNNNNNNN`` (the first free slot): its
    path has one length whatever the slot, and is the same path while runs are sequential."""
    for slot in range(_SLOTS):
        path = Path(f"{ARTIFACT_BASE}{slot:08d}")
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return path
    raise OSError(f"no free {ARTIFACT_BASE}NNNNNNNN folder: remove the stale ones")


def release_artifact_dir(path: Path, into: Path) -> None:
    """Move what the command wrote into the run's artifact folder, then remove ``path``."""
    if not path.is_dir():
        return
    into.mkdir(parents=True, exist_ok=True)
    for item in path.iterdir():
        target = into / item.name
        if not target.exists():
            with contextlib.suppress(OSError):
                shutil.move(str(item), str(target))
    shutil.rmtree(path, ignore_errors=True)
