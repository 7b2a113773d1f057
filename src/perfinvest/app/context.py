"""What every use case needs: where the repo and state are, a clock, entropy, options."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from perfinvest.adapters.repo_root import find_repo_root
from perfinvest.store.paths import StatePaths, resolve_state_dir

if TYPE_CHECKING:
    from perfinvest.store.state import StateStore


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    """The composition root for one command: adapters and the store, injected for tests."""

    repo_root: Path
    in_git_repo: bool
    paths: StatePaths
    clock: Callable[[], datetime] = _utc_now
    entropy: Callable[[int], bytes] = os.urandom
    checkpoint: bool = True
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def store(self) -> StateStore:
        from perfinvest.store.state import StateStore  # pydantic: only when state is touched

        return StateStore(self.paths)

    def now(self) -> datetime:
        return self.clock()

    @classmethod
    def discover(
        cls,
        cwd: Path | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        checkpoint: bool = True,
    ) -> AppContext:
        """The repository around ``cwd`` (or ``cwd`` itself outside git) and its state dir."""
        start = (cwd or Path.cwd()).resolve()
        env = dict(os.environ if environ is None else environ)
        root = find_repo_root(start)
        repo_root = root if root is not None else start
        state_dir = resolve_state_dir(repo_root, env)
        return cls(
            repo_root=repo_root,
            in_git_repo=root is not None,
            paths=StatePaths(state_dir),
            checkpoint=checkpoint,
            environ=env,
        )
