"""Phase 8, optimization experiments: one change, measured A/B, the tree restored and verified.

The life of an experiment (rule 3; the mechanism is in ``adapters/worktree/``):

1. ``start`` writes the journal, then records the tree (HEAD, index, every file).
2. The agent or engineer makes exactly one change in the working tree.
3. ``run`` captures the change as a patch, measures the recorded tree (a separate git
   worktree, the *baseline side*) against the working tree (the *candidate*) interleaved
   A B A B under one host lock, compares, restores the tree, verifies it, records it all.
4. ``abort`` restores without measuring (the change is still kept as a patch).

``ab`` is the flag-style variant: the working tree with ``PERF_EXPERIMENT=0`` against the
same tree with ``PERF_EXPERIMENT=1``; nothing is touched, so nothing is restored.

Modules: ``common`` (lookups, the table), ``starting``, ``measuring`` (the A/B
interleave and its record), ``running``, ``restoring`` (restore and verify),
``aborting``, ``flag`` (``ab``) and ``listing`` (``list``, ``show``, ``apply``).
"""

from __future__ import annotations

from perfinvest.app.experiments.aborting import abort
from perfinvest.app.experiments.common import (
    DEFAULT_RUNS,
    HYPOTHESIS_FOR,
    MAX_EXTRA_PAIRS,
    MIN_RUNS,
    VOLATILE_PERF,
    _artifact,
    experiment_dir,
    experiments_table,
    find_experiment,
    repo_info,
    snapshot_ref,
)
from perfinvest.app.experiments.flag import ab
from perfinvest.app.experiments.listing import apply_change, list_experiments, show_experiment
from perfinvest.app.experiments.restoring import (
    capture_change,
    check_of,
    deferred_signals,
    describe_check,
    put_back,
)
from perfinvest.app.experiments.running import run
from perfinvest.app.experiments.starting import start

__all__ = [
    "DEFAULT_RUNS",
    "HYPOTHESIS_FOR",
    "MAX_EXTRA_PAIRS",
    "MIN_RUNS",
    "VOLATILE_PERF",
    "_artifact",
    "ab",
    "abort",
    "apply_change",
    "capture_change",
    "check_of",
    "deferred_signals",
    "describe_check",
    "experiment_dir",
    "experiments_table",
    "find_experiment",
    "list_experiments",
    "put_back",
    "repo_info",
    "run",
    "show_experiment",
    "snapshot_ref",
    "start",
]
