"""The store keeps its own folder tidy without touching anything it did not write."""

from __future__ import annotations

import os
import time
from pathlib import Path

from perfinvest.store.paths import StatePaths
from perfinvest.store.state import GITIGNORE, StateStore


def test_stale_temp_files_are_swept_and_fresh_ones_kept(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    paths.investigations_dir.mkdir(parents=True)
    stale = paths.perf_dir / ".investigation.json.abc123.tmp"
    fresh = paths.investigations_dir / ".perf-x.json.def456.tmp"
    mine = paths.perf_dir / "notes.tmp"  # not a name perfinvest writes
    for path in (stale, fresh, mine):
        path.write_text("partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(mine, (old, old))
    with StateStore(paths).locked():
        pass
    assert not stale.exists() and fresh.exists() and mine.exists()


def test_gitignore_is_ours_to_update_but_a_users_is_left_alone(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    paths.perf_dir.mkdir(parents=True)
    paths.gitignore.write_text("# written by perfinvest: old\n.*.lock\n")
    with StateStore(paths).locked():
        pass
    assert paths.gitignore.read_text() == GITIGNORE
    paths.gitignore.write_text("# the user's own rules\n*.json\n")
    with StateStore(paths).locked():
        pass
    assert paths.gitignore.read_text() == "# the user's own rules\n*.json\n"
