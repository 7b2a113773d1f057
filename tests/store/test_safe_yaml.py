"""One safe YAML loader (issue 23 item 5): a billion-laughs file is refused quickly and
cheaply wherever perfinvest reads YAML."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from perfinvest.core.errors import PerfError
from perfinvest.store.safe_yaml import MAX_NODES, load_yaml


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


TARGETS_BOMB = (
    "version: 1\nbase_url: http://127.0.0.1:9\n"
    + billion_laughs()
    + "routes:\n  - name: r\n    path: /\n    headers: *a8\n"
)


def test_the_bomb_is_refused_naming_the_limit() -> None:
    with pytest.raises(PerfError) as caught:
        load_yaml(billion_laughs(), "bomb.yaml")
    assert caught.value.code == 2
    assert f"{MAX_NODES:,} nodes" in caught.value.message


def test_ordinary_aliases_and_documents_still_load() -> None:
    text = "base: &b {x: 1, y: [1, 2]}\nfirst: *b\nsecond: *b\n"
    assert load_yaml(text, "ok.yaml") == {
        "base": {"x": 1, "y": [1, 2]},
        "first": {"x": 1, "y": [1, 2]},
        "second": {"x": 1, "y": [1, 2]},
    }
    assert load_yaml("", "empty.yaml") is None
    assert load_yaml(billion_laughs(4), "small.yaml")["a3"][0][0][0] == ["lol"] * 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x [*x]\n", "recursive alias"),
        ("[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    ],
)
def test_recursion_and_depth_are_refused(text: str, expected: str) -> None:
    with pytest.raises(PerfError) as caught:
        load_yaml(text, "bad.yaml")
    assert expected in caught.value.message


#: Forks, execs argv[2:] and writes the child's peak RSS (KiB) to argv[1]. The child must be
#: forked from this small process: a child forked (or vforked) from pytest itself counts
#: pytest's resident pages in its ru_maxrss (the kernel records the pre-exec peak at exec),
#: which measured 698 MB for a 30 MB child late in the full run.
PEAK_RSS = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.serial  # within a second of the interpreter's own start: timed alone
def test_load_check_refuses_a_bomb_within_a_second_and_200_mb(tmp_path: Path) -> None:
    (tmp_path / "targets.yaml").write_text(TARGETS_BOMB)
    peak = tmp_path / "peak-kib"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(peak), "-m", "perfinvest", "load", "check",
         "--targets", "targets.yaml", "--json"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    assert "YAML bomb" in done.stdout
    assert done.stderr == ""
    peak_kib = int(peak.read_text())
    assert 10 * 1024 < peak_kib < 200 * 1024, peak_kib  # an interpreter, not a bomb
    assert elapsed < 5.0  # the interpreter's start included; the refusal itself is below
    check = [sys.executable, "-c", "import time, perfinvest.cli"]
    assert elapsed - _cost(check) < 1.0


def _cost(argv: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    return time.monotonic() - started


@pytest.mark.parametrize("command", ["budget", "simulate"])
def test_budgets_and_scenarios_use_the_same_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs())
    if command == "budget":
        answer = cli("budget", "check", str(tmp_path / "x.json"), "--budgets", str(path), "--json")
    else:
        answer = cli("simulate", str(path), "--json")
    assert answer.code == 2, answer.out
    assert "YAML bomb" in answer.json["error"]["message"]


def test_an_oversized_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    big = tmp_path / "targets.yaml"
    with big.open("wb") as handle:
        handle.truncate(5 * 2**20)  # sparse: costs no disk
    answer = cli("load", "check", "--targets", str(big), "--json")
    assert answer.code == 2, answer.out
    assert "over 4 MiB" in answer.json["error"]["message"]
