"""Atomic writes keep file modes as a plain write would."""

from __future__ import annotations

import os
from pathlib import Path

from perfinvest.store.atomic import atomic_write_text


def test_new_file_gets_umask_mode_and_existing_mode_is_kept(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "state.json"
        atomic_write_text(target, "{}")
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o600)
        atomic_write_text(target, "{}\n")
        assert target.stat().st_mode & 0o777 == 0o600
        assert target.read_text() == "{}\n"
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    finally:
        os.umask(old)
