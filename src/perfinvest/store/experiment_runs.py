"""``experiment-<n>/runs.json``: every run of both sides of one experiment.

One reader and one writer, so the experiment that measures, the report that draws and the
exports that label these runs agree on the file's shape."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from perfinvest.core.models import Run
from perfinvest.store.atomic import atomic_write_text

#: The sides, in the order they are written and read.
SIDES = ("baseline", "candidate")


def write_experiment_runs(path: Path, baseline: Sequence[Run], candidate: Sequence[Run]) -> None:
    """Both sides' runs, atomically (a reader never sees half of one)."""
    document = {
        side: [r.model_dump(mode="json") for r in runs]
        for side, runs in zip(SIDES, (baseline, candidate), strict=True)
    }
    atomic_write_text(path, json.dumps(document, indent=1) + "\n")


def read_experiment_runs(path: Path) -> tuple[list[Run], list[Run]]:
    """(baseline, candidate). Raises OSError, ValueError (bad JSON or a run that does not
    validate), KeyError (a side missing) or TypeError (not a mapping of lists)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    baseline, candidate = ([Run.model_validate(r) for r in raw[side]] for side in SIDES)
    return baseline, candidate
