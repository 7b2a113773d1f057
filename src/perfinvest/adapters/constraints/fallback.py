"""The approximate backend: ``taskset`` and ``prlimit``, for machines without cgroups.

It is labelled approximate in every output, because it is: ``taskset`` pins the command to
``ceil(cpu)`` CPUs (it cannot give half a CPU), ``prlimit --as`` caps each process's
address space (not the resident memory of the tree), ``prlimit --nproc`` caps the *user's*
process count. There is no throttling counter and no OOM counter: a process over its
address-space limit sees allocations fail instead of being killed.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

from perfinvest.adapters.constraints.base import Limits, Placement, Usage
from perfinvest.core.errors import environment_error

NOTE = (
    "approximate: taskset pins to whole CPUs, prlimit caps address space per process; "
    "no throttling or OOM counters"
)


@dataclass
class _Slot:
    placement: Placement
    notes: list[str] = field(default_factory=list)

    def usage(self) -> Usage:
        return Usage(notes=list(self.notes))


class FallbackBackend:
    name = "fallback"
    approximate = True

    def __init__(self) -> None:
        for tool in ("taskset", "prlimit"):
            if shutil.which(tool) is None:
                raise environment_error(
                    f"the fallback backend needs {tool} (util-linux): install it "
                    "(apt-get install util-linux)"
                )

    @contextlib.contextmanager
    def slot(self, limits: Limits, tag: str) -> Iterator[_Slot]:
        prefix: list[str] = []
        notes = [NOTE]
        if limits.cpu is not None:
            allowed = sorted(os.sched_getaffinity(0))
            count = max(1, math.ceil(limits.cpu))
            prefix += ["taskset", "-c", ",".join(str(c) for c in allowed[:count])]
            if count != limits.cpu:
                notes.append(f"cpu={limits.cpu:g} rounded up to {count} whole CPU(s)")
        rlimits = []
        if limits.memory_bytes is not None:
            rlimits.append(f"--as={limits.memory_bytes}")
        if limits.pids is not None:
            rlimits.append(f"--nproc={limits.pids}")
        if rlimits:
            prefix += ["prlimit", *rlimits, "--"]
        yield _Slot(Placement(argv_prefix=tuple(prefix)), notes)
