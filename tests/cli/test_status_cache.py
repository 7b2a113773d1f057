"""The status fast path answers exactly what the validated path answers, never stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import START_ARGS


def perf(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def test_cached_answer_equals_the_validated_answer(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    assert (perf(repo) / ".status-cache.json").is_file()
    cached = cli("status", "--json").json
    (perf(repo) / ".status-cache.json").unlink()
    validated = cli("status", "--json").json
    assert cached == validated
    assert (perf(repo) / ".status-cache.json").is_file()  # the slow path remembers it


def test_a_hand_edit_is_seen_and_a_corrupt_file_is_reported(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    state = perf(repo) / "investigation.json"
    doc = json.loads(state.read_text())
    doc["setup"]["scenario"] = "edited by hand"
    state.write_text(json.dumps(doc))
    assert cli("status", "--json").json["data"]["scenario"] == "edited by hand"
    state.write_text(state.read_text()[:50])
    assert cli("status", "--json").code == 6


def test_cache_is_ignored_by_git_and_never_committed(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    cli("status", "--json")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".status-cache.json" in status and status.startswith("!!")
    committed = subprocess.run(
        ["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert ".status-cache.json" not in committed


def test_fast_path_does_not_import_pydantic(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    code = (
        "import sys; from perfinvest.cli.main import main; rc = main(['status', '--json']); "
        "sys.stderr.write(str(sorted(m for m in sys.modules if m.startswith(('pydantic', 'rich', 'numpy')))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout)["ok"] is True
    loaded = done.stderr.strip()
    assert (
        "pydantic_core" not in loaded and "'pydantic.main'" not in loaded and "rich" not in loaded
    )
