"""The repository checked before an experiment: one branch, no submodules, no conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters.git.markers import index_locked, operation_in_progress
from perfinvest.adapters.worktree.plumbing import _git, _run, _zsplit
from perfinvest.core.errors import refused

# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class RepoInfo:
    top: Path
    git_dir: Path
    head: str
    branch: str
    exclude: str | None  # the perf state folder, relative to top (None: outside the repo)

    def pathspec(self) -> list[str]:
        spec = ["--", "."]
        if self.exclude:
            spec.append(f":(exclude){self.exclude}")
        return spec

    def excluded(self, path: str) -> bool:
        return bool(self.exclude) and (path == self.exclude or path.startswith(f"{self.exclude}/"))


def _exclude(top: Path, perf_dir: Path) -> str | None:
    try:
        rel = perf_dir.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None
    return rel if rel != "." else None


def inspect_repo(repo: Path, perf_dir: Path, *, strict: bool = True) -> RepoInfo:
    """The repository's state, or a refusal naming why an experiment cannot run on it.

    ``strict=False`` (restoring, recovering) reports what is there without refusing: the
    user's files must come back whatever else happened.
    """
    probe = _run(repo, "rev-parse", "--show-toplevel", "--absolute-git-dir")
    lines = probe.stdout.decode("utf-8", "surrogateescape").splitlines()
    if probe.returncode != 0 or len(lines) != 2:
        raise refused(
            f"{repo} is not a git work tree: experiments record and restore the tree with git; "
            "run `git init` and commit first"
        )
    top, git_dir = Path(lines[0]), Path(lines[1])
    if not strict:
        head = _run(top, "rev-parse", "-q", "--verify", "HEAD^{commit}").stdout.decode().strip()
        branch = _run(top, "symbolic-ref", "-q", "HEAD").stdout.decode().strip()
        return RepoInfo(top, git_dir, head, branch or "HEAD (detached)", _exclude(top, perf_dir))
    operation = operation_in_progress(git_dir)
    if operation is not None:
        raise refused(
            f"{operation} is in progress in {top}: finish or abort it first "
            "(an experiment must own HEAD and the index)"
        )
    if index_locked(git_dir):
        raise refused(
            f"the index is locked by another git process ({git_dir / 'index.lock'} exists); "
            "wait for it, or remove the file if no git command is running"
        )
    head_proc = _run(top, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    if head_proc.returncode != 0:
        raise refused("the repository has no commits yet: commit first, then start an experiment")
    branch_proc = _run(top, "symbolic-ref", "-q", "HEAD")
    if branch_proc.returncode != 0:
        raise refused(
            "HEAD is detached: check out a branch first (e.g. `git switch -c perf-work`) so the "
            "experiment's recorded commit cannot be lost"
        )
    if (top / ".gitmodules").exists():
        raise refused(
            f"{top} has submodules (.gitmodules): perfinvest cannot record and restore a "
            "submodule's own tree exactly; run the experiment inside the submodule instead"
        )
    info = RepoInfo(
        top=top,
        git_dir=git_dir,
        head=head_proc.stdout.decode().strip(),
        branch=branch_proc.stdout.decode().strip(),
        exclude=_exclude(top, perf_dir),
    )
    staged = _zsplit(_git(top, "ls-files", "-s", "-z"))
    for entry in staged:
        meta, _, path = entry.partition("\t")
        mode, _, rest = meta.partition(" ")
        if mode == "160000":
            raise refused(
                f"{path} is a submodule (gitlink): perfinvest cannot record and restore a "
                "submodule's tree exactly; run the experiment inside it instead"
            )
        if rest.split(" ")[-1] != "0":
            raise refused(f"{path} has merge conflicts in the index: resolve them first")
    return info
