"""Large-artifact .gitignore lines match exactly their file, whatever its name (issue 23)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from perfinvest.app.checkpoint import gitignore_entry

NAMES = ["*", "#x", "!y", "a[1].txt", "q?", "back\\slash", "trail ", "plain.bin"]


@pytest.mark.parametrize("name", NAMES)
def test_an_entry_ignores_that_file_and_no_other(tmp_path: Path, name: str) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / name).write_text("big\n")
    (tmp_path / "other.bin").write_text("keep\n")
    entry = gitignore_entry(Path(name))
    assert entry is not None
    (tmp_path / ".gitignore").write_text(f"{entry}\n")
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "-uall", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    listed = {line[3:] for line in status if line}
    assert name not in listed
    assert "other.bin" in listed


def test_a_newline_in_a_name_gives_no_entry() -> None:
    assert gitignore_entry(Path("a\nb")) is None
