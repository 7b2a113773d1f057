"""Several timed rounds of one benchmark merged into one result (private module).

The pytest plugin times ``rounds`` rounds per test, each a fresh :class:`Benchmark` (a
``gc.collect()``, its own timer calibration); each round's mean is one sample of the
comparison. Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfinvest.harness._result import Result


def merge_rounds(name: str, parts: Sequence[Result]) -> Result:
    """One result holding every round's samples in order, its GC counts and time summed."""
    if not parts:
        raise ValueError(f"result {name!r}: no rounds")
    first = parts[0]
    samples = [x for part in parts for x in part.samples_ms]
    return Result(
        name=name,
        samples_ms=samples,
        warmup=first.warmup,
        loops=first.loops,
        timer_overhead_ns=sum(p.timer_overhead_ns for p in parts) / len(parts),
        gc_mode=first.gc_mode,
        gc_collections=sum(p.gc_collections for p in parts),
        gc_iterations=sum(p.gc_iterations for p in parts),
        gc_ms=sum(p.gc_ms for p in parts),
        elapsed_s=sum(p.elapsed_s for p in parts),
        round_lengths=[length for p in parts for length in p.round_lengths],
    )
