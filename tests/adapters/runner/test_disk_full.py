"""A full disk while capturing output: exit 7 naming the file, the run stopped, no traceback.

On a real, small tmpfs (mounting needs root; skipped with the reason otherwise).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

from perfinvest.adapters.runner import RunSpec, run_command
from perfinvest.core.errors import ExitCode, PerfError

#: Prints 64 KiB per line until killed: far more than the tmpfs holds.
FLOOD = "import sys\nline = 'x' * 65535 + '\\n'\nwhile True:\n    sys.stdout.write(line)\n"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_runner_stops_the_command_and_names_the_file(small_disk: Path, tmp_path: Path) -> None:
    spec = RunSpec(
        [sys.executable, "-c", FLOOD],
        cwd=tmp_path,
        duration_s=30,
        artifact_dir=small_disk / "run-1",
    )
    started = time.monotonic()
    with pytest.raises(PerfError) as info:
        run_command(spec)
    assert time.monotonic() - started < 10  # stopped at once, not after the 30 s
    error = info.value
    assert error.code == ExitCode.ENVIRONMENT
    assert str(small_disk / "run-1" / "stdout.log") in error.message
    assert "No space left on device" in error.message and "\n" not in error.message
    assert not (small_disk / "run-1" / "stdout.log").exists()  # the space is given back


def test_baseline_on_a_full_state_disk_exits_7(
    repo: Path, cli: Any, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_STATE_DIR", str(small_disk))
    (repo / "flood.py").write_text(FLOOD)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} flood.py"
    assert cli(*args, "--json").code == 0
    result = cli("baseline", "--duration", "5", "--json")
    assert result.code == 7, result.out
    message = result.json["error"]["message"]
    assert str(small_disk / "perf" / "artifacts") in message and "stdout.log" in message
    state = json.loads((small_disk / "perf" / "investigation.json").read_text())
    assert state["baseline"] is None  # nothing half-recorded
