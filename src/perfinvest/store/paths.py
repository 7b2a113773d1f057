"""Where the state lives: ``$AI_STATE_DIR`` or ``<repo>/.claude``, then ``perf/`` inside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from perfinvest.core.ids import check_investigation_id, check_version

STATE_DIR_ENV = "AI_STATE_DIR"


def resolve_state_dir(repo_root: Path, environ: Mapping[str, str]) -> Path:
    """``$AI_STATE_DIR`` (absolute as given, else relative to the repo root) or ``.claude``."""
    configured = environ.get(STATE_DIR_ENV, "").strip()
    if not configured:
        return repo_root / ".claude"
    path = Path(configured).expanduser()
    return path if path.is_absolute() else repo_root / path


@dataclass(frozen=True)
class StatePaths:
    """Every path of the layout in docs/state-layout.md, computed from validated names only."""

    state_dir: Path

    @property
    def perf_dir(self) -> Path:
        return self.state_dir / "perf"

    @property
    def active(self) -> Path:
        return self.perf_dir / "investigation.json"

    @property
    def investigations_dir(self) -> Path:
        return self.perf_dir / "investigations"

    @property
    def baselines_dir(self) -> Path:
        return self.perf_dir / "baselines"

    @property
    def baseline_archive_dir(self) -> Path:
        return self.baselines_dir / "archive"

    @property
    def lock(self) -> Path:
        return self.perf_dir / ".state.lock"

    @property
    def status_cache(self) -> Path:
        return self.perf_dir / ".status-cache.json"

    @property
    def gitignore(self) -> Path:
        return self.perf_dir / ".gitignore"

    def inactive(self, investigation_id: str) -> Path:
        return self.investigations_dir / f"{check_investigation_id(investigation_id)}.json"

    def log(self, investigation_id: str) -> Path:
        return self.investigations_dir / f"{check_investigation_id(investigation_id)}.md"

    def baseline(self, version: str) -> Path:
        return self.baselines_dir / f"{check_version(version)}.json"

    def artifacts(self, investigation_id: str) -> Path:
        return self.perf_dir / "artifacts" / check_investigation_id(investigation_id)

    def relative(self, path: Path) -> str:
        """A path as stored in state: relative to the perf folder."""
        return path.relative_to(self.perf_dir).as_posix()
