"""The user's tree, recorded, restored and verified exactly; worktrees and patches.

Protection mechanism (rule 3, "never lose a byte of the user's work"):

* **Files.** Every non-ignored file of the working tree (tracked, modified, staged,
  untracked; the perf state folder excluded) is hashed *raw* into git's object store with
  ``git hash-object -w --no-filters``: no clean/smudge filter, no end-of-line conversion,
  so a blob is exactly the bytes on disk. The result is a *manifest* (path → git mode,
  blob id, permission bits) kept as JSON next to the experiment's artifacts, and a tree
  built from it with a temporary index. Restoring writes the blobs back raw
  (``git cat-file --batch``) for the paths that differ and deletes the files the change
  added. :func:`undo_change` (``undo``) goes further: it compares with the change as
  captured and puts back only what still holds it; the user's other edits are kept.
* **Index.** The raw ``.git/index`` file is copied byte for byte and put back with git's
  own lock protocol (``index.lock``, rename). The perf state's entries, which checkpoint
  commits update while the experiment is open, keep their current values.
* **HEAD.** Never moved. It is recorded (branch and commit); checkpoint commits that hold
  only perf state files may advance it, anything else is reported.
* **Kept alive.** A snapshot commit (tree of the working tree; parents HEAD and a commit of
  the index tree) is referenced by ``refs/perfinvest/snapshots/<id>-<n>``: never the
  user's stash list or branches, and ``git gc`` cannot prune the objects. The ref is
  deleted once the restore is verified.

Git is read through plumbing only; the user's working tree is written only by
:func:`restore` and :func:`apply_patch`.

Modules: ``plumbing`` (git calls), ``repo`` (the checks), ``manifest`` (raw files),
``snapshot``, ``change``, ``restoring``, ``undo`` (only the experiment's change),
``verifying`` and ``checkouts`` (worktrees, patches).
"""

from __future__ import annotations

from perfinvest.adapters.worktree.change import (
    CHANGE_MANIFEST,
    Change,
    change_ref,
    current_change,
    keep_change,
    kept_change,
    perf_state_digest,
)
from perfinvest.adapters.worktree.checkouts import (
    add_commit_worktree,
    add_worktree,
    apply_patch,
    remove_worktree,
    stale_worktrees,
)
from perfinvest.adapters.worktree.manifest import (
    Manifest,
    manifest_from_json,
    manifest_to_json,
    materialize,
    scan,
    tree_of,
)
from perfinvest.adapters.worktree.plumbing import SNAPSHOT_REF_PREFIX, WORKTREE_PREFIX
from perfinvest.adapters.worktree.repo import RepoInfo, inspect_repo
from perfinvest.adapters.worktree.restoring import restore
from perfinvest.adapters.worktree.snapshot import Snapshot, drop_ref, index_listing, take_snapshot
from perfinvest.adapters.worktree.undo import Undone, undo_change
from perfinvest.adapters.worktree.verifying import Verification, head_moved, verify

__all__ = [
    "CHANGE_MANIFEST",
    "SNAPSHOT_REF_PREFIX",
    "WORKTREE_PREFIX",
    "Change",
    "Manifest",
    "RepoInfo",
    "Snapshot",
    "Undone",
    "Verification",
    "add_commit_worktree",
    "add_worktree",
    "apply_patch",
    "change_ref",
    "current_change",
    "drop_ref",
    "head_moved",
    "index_listing",
    "inspect_repo",
    "keep_change",
    "kept_change",
    "manifest_from_json",
    "manifest_to_json",
    "materialize",
    "perf_state_digest",
    "remove_worktree",
    "restore",
    "scan",
    "stale_worktrees",
    "take_snapshot",
    "tree_of",
    "undo_change",
    "verify",
]
