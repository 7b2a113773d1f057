"""Proof the tree is back: same HEAD (modulo perf checkpoints), index, files."""

from __future__ import annotations

from dataclasses import dataclass, field

from perfinvest.adapters.worktree.manifest import Manifest, scan
from perfinvest.adapters.worktree.plumbing import _few, _git, _run, _text, _zsplit
from perfinvest.adapters.worktree.repo import RepoInfo
from perfinvest.adapters.worktree.snapshot import Snapshot, _paths_of_listing, index_listing


@dataclass
class Verification:
    head_same: bool = True
    index_same: bool = True
    files_identical: bool = True
    untracked_back: bool = True
    checkpoint_commits: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.head_same and self.index_same and self.files_identical and self.untracked_back


def head_moved(info: RepoInfo, snapshot: Snapshot) -> tuple[int, str | None]:
    """How many commits HEAD advanced by, and the problem when they are not perf-only."""
    if info.branch != snapshot.branch:
        return 0, f"HEAD is on {info.branch}, the experiment started on {snapshot.branch}"
    if info.head == snapshot.head:
        return 0, None
    if _run(info.top, "merge-base", "--is-ancestor", snapshot.head, info.head).returncode != 0:
        return 0, f"HEAD moved from {snapshot.head[:12]} to {info.head[:12]} (not a descendant)"
    count = int(_text(info.top, "rev-list", "--count", f"{snapshot.head}..{info.head}"))
    touched = _zsplit(
        _git(info.top, "diff", "--name-only", "-z", snapshot.head, info.head, *info.pathspec())
    )
    if touched:
        return count, (
            f"HEAD advanced by {count} commit(s) that change {_few(touched)}: commit nothing "
            f"during an experiment (`git reset --soft {snapshot.head[:12]}` undoes them)"
        )
    return count, None


def verify(
    info: RepoInfo,
    snapshot: Snapshot,
    expected: Manifest | None = None,
    expected_index: bytes | None = None,
) -> Verification:
    """Same HEAD (modulo perf checkpoints), same index, every file identical, untracked back.

    ``expected`` (from :func:`undo_change`) is what the files must be when the user's own
    edits were kept; by default, exactly the snapshot.
    """
    result = Verification()
    count, problem = head_moved(info, snapshot)
    result.checkpoint_commits = count
    if problem:
        result.head_same = False
        result.problems.append(problem)
    listing = index_listing(info)
    wanted = snapshot.index_listing() if expected_index is None else expected_index
    if listing != wanted:
        result.index_same = False
        before, after = set(_zsplit(wanted)), set(_zsplit(listing))
        changed = sorted({e.partition("\t")[2] for e in before ^ after})
        result.problems.append(f"index differs for {_few(changed)}")
    recorded = snapshot.manifest() if expected is None else expected
    current = scan(info)
    different = sorted(
        {p for p in recorded if current.get(p) != recorded[p]}
        | {p for p in current if p not in recorded}
    )
    if different:
        result.files_identical = False
        result.problems.append(f"files differ: {_few(different)}")
    indexed = _paths_of_listing(listing)
    wanted_indexed = _paths_of_listing(wanted)
    missing = [
        p
        for p in snapshot.untracked
        if p in recorded and (p not in current or (p in indexed and p not in wanted_indexed))
    ]
    if missing:
        result.untracked_back = False
        result.problems.append(f"untracked files not back: {_few(missing)}")
    return result
