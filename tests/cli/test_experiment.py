"""Phase 8 with real git repositories: the tree recorded, measured, restored byte for byte."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHORT, START_ARGS, git

SKIPPED = ("breaking-point", "constraints", "hypotheses", "code-paths", "profile")

#: A benchmark whose metric follows the code in work.py: mean milliseconds per compute().
WORK_BENCH = """\
import os, time
from work import compute
duration = float(os.environ["PERF_RUN_DURATION"])
start = time.perf_counter()
n = 0
total = 0.0
while time.perf_counter() - start < duration:
    t = time.perf_counter()
    compute()
    total += time.perf_counter() - t
    n += 1
print(f"PERF_METRICS op_ms={total / n * 1000}")
"""
WORK = "def compute():\n    return sum(range(20000))\n"
QUADRATIC = (
    "def compute():\n"
    "    s = 0\n"
    "    for i in range(300):\n"
    "        for j in range(300):\n"
    "            s += i ^ j\n"
    "    return s + sum(range(20000))\n"
)
CLOSED_FORM = "def compute():\n    n = 20000\n    return n * (n - 1) // 2\n"


def perf(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def to_phase_8(cli: Any, *start_args: str) -> str:
    inv = cli(*(start_args or START_ARGS), "--json").json["investigation"]
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    for phase in SKIPPED:
        assert cli(phase, "--skip-reason", "not needed here", "--json").code == 0, phase
    return str(inv)


def tree_state(repo: Path) -> dict[str, Any]:
    """Every file's bytes and mode (perf state and .git aside), the index, HEAD's branch."""
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if rel.startswith((".git/", ".claude/perf")) or rel == ".git" or path.is_dir():
            continue
        st = path.lstat()
        files[rel] = (
            os.readlink(path) if path.is_symlink() else path.read_bytes(),
            stat.S_IMODE(st.st_mode),
        )
    index = [
        line
        for line in git(repo, "ls-files", "-s").splitlines()
        if not line.split("\t", 1)[1].startswith(".claude/perf")
    ]
    return {
        "files": files,
        "index": index,
        "staged": git(repo, "diff", "--cached", "--", ".", ":(exclude).claude/perf"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
    }


def state(repo: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((perf(repo) / "investigation.json").read_text())
    return loaded


def test_dirty_staged_and_untracked_work_survives_a_run_exactly(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    # the user's work in progress: a dirty tracked file, a staged change, an untracked file
    (repo / "app.py").write_text("print('hello')\nprint('dirty, not staged')\n")
    (repo / "staged.txt").write_bytes(b"staged\r\nwith CRLF\r\n")
    git(repo, "add", "staged.txt")
    (repo / "notes.txt").write_text("untracked notes\n")
    (repo / "tool.sh").write_text("#!/bin/sh\n")
    (repo / "tool.sh").chmod(0o750)
    head = git(repo, "rev-parse", "HEAD")
    before = tree_state(repo)
    started = cli(
        "experiment", "start", "--change", "tweak app", "--files", "app.py", "--files", "lib",
        "--no-checkpoint", "--json",
    )  # fmt: skip
    assert started.code == 0, started.out
    recorded = started.json["data"]["experiment"]["recorded"]
    assert recorded["staged"] == ["staged.txt"] and recorded["modified"] == ["app.py"]
    assert sorted(recorded["untracked"]) == ["notes.txt", "tool.sh"]

    # the one change: edit the dirty file, add a new file in a declared folder
    (repo / "app.py").write_text("print('changed by the experiment')\n")
    (repo / "lib").mkdir()
    (repo / "lib" / "fast.py").write_text("X = 1\n")
    changed = tree_state(repo)["files"]
    done = cli("experiment", "run", "--runs", "2", *SHORT, "--no-checkpoint", "--json")
    assert done.code == 0, done.out
    exp = done.json["data"]["experiment"]
    assert exp["state"] == "measured" and exp["verdict"] in (
        "improved", "regressed", "unchanged", "inconclusive",
    )  # fmt: skip
    assert exp["restore_verified"] is True and exp["restore"]["files_identical"]
    assert sorted(exp["changed_files"]) == ["A lib/fast.py", "M app.py"]
    assert "app.py" in done.json["data"]["diffstat"]

    after = tree_state(repo)
    assert after == before  # contents, modes, staged state, index
    assert git(repo, "rev-parse", "HEAD") == head
    assert not (repo / "lib").exists()
    assert not (perf(repo) / "experiment-journal.json").exists()
    assert git(repo, "for-each-ref", "refs/perfinvest") == ""  # snapshot ref dropped
    assert "perfinvest-baseline-" not in git(repo, "worktree", "list")

    # the patch reproduces the change on top of the user's work
    applied = cli("experiment", "apply", "1", "--json")
    assert applied.code == 0, applied.out
    now = tree_state(repo)["files"]
    assert now["app.py"] == changed["app.py"] and now["lib/fast.py"] == changed["lib/fast.py"]
    assert now["notes.txt"] == before["files"]["notes.txt"]
    # a second apply does not apply cleanly any more: refused with git's reason
    again = cli("experiment", "apply", "1", "--json")
    assert again.code == 4 and "does not apply cleanly" in again.json["error"]["message"]


def test_checkpoints_during_the_experiment_do_not_fail_verification(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    (repo / "app.py").write_text("print('dirty')\n")
    head = git(repo, "rev-parse", "HEAD")
    assert cli("experiment", "start", "--change", "c", "--json").code == 0
    (repo / "app.py").write_text("print('changed')\n")
    done = cli("experiment", "run", "--runs", "2", *SHORT, "--json")
    assert done.code == 0, done.out
    check = done.json["data"]["experiment"]["restore"]
    assert check["verified"] and check["checkpoint_commits"] >= 1
    assert (repo / "app.py").read_text() == "print('dirty')\n"
    # HEAD moved only by checkpoint commits that hold perf files
    touched = git(repo, "diff", "--name-only", head.strip(), "HEAD").split()
    assert touched and all(p.startswith(".claude/perf/") for p in touched)


def _perf_status(repo: Path) -> str:
    """``git status`` of the perf state only: empty when every state change is committed."""
    return git(repo, "status", "--porcelain", "--untracked-files=all", "--", ".claude/perf")


def test_every_experiment_state_change_ends_in_a_checkpoint(repo: Path, cli: Any) -> None:
    """Issue 10: after start, run, apply and abort no perf state file is left dirty."""
    to_phase_8(cli)
    assert _perf_status(repo) == ""
    assert cli("experiment", "start", "--change", "c", "--json").code == 0
    (repo / "app.py").write_text("print('changed')\n")
    done = cli("experiment", "run", "--runs", "2", *SHORT, "--json")
    assert done.code == 0, done.out
    assert _perf_status(repo) == ""
    head = git(repo, "rev-parse", "HEAD")
    applied = cli("experiment", "apply", "1", "--json")
    assert applied.code == 0, applied.out
    assert applied.json["data"]["checkpoint"]["committed"] is True
    assert _perf_status(repo) == "", "experiment apply left perf state uncommitted"
    assert git(repo, "rev-parse", "HEAD") != head
    # the applied code itself is the user's to commit: not in the checkpoint
    assert git(repo, "status", "--porcelain", "--", "app.py").startswith(" M")
    assert "app.py" not in git(repo, "show", "--name-only", "--format=", "HEAD")
    assert cli("experiment", "start", "--change", "d", "--json").code == 0
    (repo / "app.py").write_text("print('other')\n")
    assert cli("experiment", "abort", "--json").code == 0
    assert _perf_status(repo) == ""


def test_two_experiments_can_never_be_open_at_once(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    assert cli("experiment", "start", "--change", "first", "--json").code == 0
    second = cli("experiment", "start", "--change", "second", "--json")
    assert second.code == 4
    assert "experiment 1" in second.json["error"]["message"]
    assert "still open" in second.json["error"]["message"]
    # flag-style A/B is refused too while a change is in the tree
    assert cli("experiment", "ab", "--change", "flag", *SHORT, "--json").code == 4
    aborted = cli("experiment", "abort", "--json")
    assert aborted.code == 0 and state(repo)["experiments"][0]["state"] == "aborted"
    assert cli("experiment", "start", "--change", "second", "--json").code == 0


def test_experiment_needs_a_baseline_for_the_current_version(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    refused = cli("experiment", "start", "--change", "x", "--json")
    assert refused.code == 4 and "baseline" in refused.json["error"]["message"]
    assert not (perf(repo) / "experiment-journal.json").exists()


def test_run_without_a_change_is_refused_and_touches_nothing(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    (repo / "notes.txt").write_text("mine\n")
    assert cli("experiment", "start", "--change", "x", "--json").code == 0
    before = tree_state(repo)
    answer = cli("experiment", "run", *SHORT, "--json")
    assert answer.code == 4 and "no change to measure" in answer.json["error"]["message"]
    assert tree_state(repo) == before
    journal = json.loads((perf(repo) / "experiment-journal.json").read_text())
    assert journal["stage"] == "open"  # still open: make the change and run again


def test_a_change_to_the_perf_state_is_refused(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    assert cli("experiment", "start", "--change", "x", "--json").code == 0
    baseline = perf(repo) / "baselines" / "v1.json"
    doc = json.loads(baseline.read_text())
    doc["runs"][0]["metrics"][0]["value"] = 99999.0
    baseline.write_text(json.dumps(doc))
    answer = cli("experiment", "run", *SHORT, "--json")
    assert answer.code == 4
    assert "touches the perf state" in answer.json["error"]["message"]
    assert "baselines/v1.json" in answer.json["error"]["message"]


def test_declaring_perf_state_files_is_refused(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    answer = cli("experiment", "start", "--change", "x", "--files", ".claude/perf/x", "--json")
    assert answer.code == 2 and "perf state" in answer.json["error"]["message"]


def test_a_change_outside_the_declared_files_is_refused(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    assert cli("experiment", "start", "--change", "x", "--files", "app.py", "--json").code == 0
    (repo / "app.py").write_text("print('changed')\n")
    (repo / "other.py").write_text("print('sneaky second change')\n")
    answer = cli("experiment", "run", *SHORT, "--json")
    assert answer.code == 4
    message = answer.json["error"]["message"]
    assert "beyond the declared --files" in message and "other.py" in message
    assert (repo / "other.py").exists()  # nothing touched: the user decides


def _conflict(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "app.py").write_text("print('side')\n")
    git(repo, "commit", "-qam", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "app.py").write_text("print('main')\n")
    git(repo, "commit", "-qam", "main")


def test_a_merge_in_progress_is_refused(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    _conflict(repo)
    merge = subprocess.run(["git", "merge", "side"], cwd=repo, capture_output=True, check=False)
    assert merge.returncode != 0
    answer = cli("experiment", "start", "--change", "x", "--json")
    assert answer.code == 4 and "merge is in progress" in answer.json["error"]["message"]
    assert (repo / ".git" / "MERGE_HEAD").exists()  # left exactly as it was


def test_a_rebase_in_progress_is_refused(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    _conflict(repo)
    git(repo, "checkout", "-q", "side")
    rebase = subprocess.run(["git", "rebase", "main"], cwd=repo, capture_output=True, check=False)
    assert rebase.returncode != 0
    answer = cli("experiment", "start", "--change", "x", "--json")
    assert answer.code == 4 and "rebase" in answer.json["error"]["message"]


def test_a_detached_head_is_refused(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    git(repo, "checkout", "-q", "--detach")
    answer = cli("experiment", "start", "--change", "x", "--json")
    assert answer.code == 4 and "detached" in answer.json["error"]["message"]


def test_a_submodule_is_refused(repo: Path, cli: Any, tmp_path: Path) -> None:
    to_phase_8(cli)
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q", "-b", "main")
    (sub / "x.txt").write_text("x\n")
    git(sub, "add", "x.txt")
    git(sub, "commit", "-qm", "sub")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendored")
    answer = cli("experiment", "start", "--change", "x", "--json")
    assert answer.code == 4 and "submodule" in answer.json["error"]["message"]


def test_deleted_renamed_and_binary_files_come_back(repo: Path, cli: Any) -> None:
    (repo / "helper.py").write_text("HELP = 1\n")
    blob = bytes(range(256)) * 8 + b"\x00\xff\x00"
    (repo / "data.bin").write_bytes(blob)
    git(repo, "add", "helper.py", "data.bin")
    git(repo, "commit", "-qm", "helper and data")
    to_phase_8(cli)
    before = tree_state(repo)
    assert cli("experiment", "start", "--change", "reshuffle", "--json").code == 0
    (repo / "app.py").unlink()
    (repo / "helper.py").rename(repo / "helpers.py")
    (repo / "data.bin").write_bytes(blob[::-1] + b"\x00new")
    done = cli("experiment", "run", "--runs", "2", *SHORT, "--json")
    assert done.code == 0, done.out
    exp = done.json["data"]["experiment"]
    assert sorted(exp["changed_files"]) == [
        "A helpers.py", "D app.py", "D helper.py", "M data.bin",
    ]  # fmt: skip
    assert exp["restore_verified"] is True
    assert tree_state(repo) == before
    patch = (perf(repo) / exp["patch"]["path"]).read_bytes()
    assert b"GIT binary patch" in patch
    assert cli("experiment", "apply", "1", "--json").code == 0
    assert not (repo / "app.py").exists() and (repo / "helpers.py").read_text() == "HELP = 1\n"
    assert (repo / "data.bin").read_bytes() == blob[::-1] + b"\x00new"


def test_the_baseline_side_failing_to_run_is_a_clear_failure(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    # the recorded (uncommitted) bench needs a module only the change adds
    (repo / "bench.py").write_text("import helper\n" + (repo / "bench.py").read_text())
    before = tree_state(repo)
    assert cli("experiment", "start", "--change", "add helper", "--json").code == 0
    (repo / "helper.py").write_text("VALUE = 1\n")
    answer = cli("experiment", "run", "--runs", "2", *SHORT, "--json")
    assert answer.code == 5, answer.out
    message = answer.json["error"]["message"]
    assert "baseline side" in message and "failed to build or run" in message
    exp = state(repo)["experiments"][0]
    assert exp["state"] == "failed" and exp["restore_verified"] is True
    assert tree_state(repo) == before
    assert not (perf(repo) / "experiment-journal.json").exists()


def test_abort_restores_and_keeps_the_change(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    (repo / "notes.txt").write_text("mine\n")
    before = tree_state(repo)
    assert cli("experiment", "start", "--change", "x", "--json").code == 0
    (repo / "app.py").write_text("print('experiment')\n")
    (repo / "notes.txt").unlink()
    answer = cli("experiment", "abort", "--json")
    assert answer.code == 0, answer.out
    assert tree_state(repo) == before
    exp = answer.json["data"]["experiment"]
    assert exp["state"] == "aborted" and exp["patch"] is not None and exp["restore_verified"]


@pytest.mark.slow
@pytest.mark.serial  # planted effects in real runs: judged alone
def test_a_real_slowdown_regresses_and_a_real_speedup_improves(repo: Path, cli: Any) -> None:
    (repo / "bench.py").write_text(WORK_BENCH)
    (repo / "work.py").write_text(WORK)
    git(repo, "add", "bench.py", "work.py")
    git(repo, "commit", "-qm", "work")
    args = list(START_ARGS)
    args[args.index("--metric") + 1] = "op_ms"
    args[args.index("--success") + 1] = "op_ms < 0.0000001"
    inv = cli(*args, "--json").json["investigation"]
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    for phase in ("breaking-point", "constraints"):
        assert cli(phase, "--skip-reason", "n/a", "--json").code == 0
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    assert cli("hypotheses", "gather", "--since", root, "--json").code == 0, "gather"
    assert cli("hypotheses", "add", "the loop is quadratic-prone", "--json").code == 0
    assert cli("hypotheses", "add", "a closed form is faster", "--json").code == 0
    for phase in ("code-paths", "profile"):
        assert cli(phase, "--skip-reason", "n/a", "--json").code == 0

    assert cli("experiment", "start", "--hypothesis", "H1", "--change", "quadratic loop",
               "--files", "work.py", "--json").code == 0  # fmt: skip
    (repo / "work.py").write_text(QUADRATIC)
    slow = cli("experiment", "run", "--runs", "3", "--duration", "0.5", "--json")
    assert slow.code == 0, slow.out
    exp = slow.json["data"]["experiment"]
    assert exp["verdict"] == "regressed" and exp["p_value"] < 0.05, exp
    assert exp["relative_change"] > 0.5
    assert (repo / "work.py").read_text() == WORK

    assert cli("experiment", "start", "--hypothesis", "H2", "--change", "closed form",
               "--files", "work.py", "--json").code == 0  # fmt: skip
    (repo / "work.py").write_text(CLOSED_FORM)
    fast = cli("experiment", "run", "--runs", "3", "--duration", "0.5", "--json")
    assert fast.code == 0, fast.out
    exp = fast.json["data"]["experiment"]
    assert exp["verdict"] == "improved" and exp["p_value"] < 0.05, exp
    assert (repo / "work.py").read_text() == WORK

    hypotheses = {h["id"]: h["status"] for h in state(repo)["hypotheses"]}
    assert hypotheses == {"H1": "refuted", "H2": "confirmed"}
    table = cli("experiment", "list", "--json").json["findings"]
    assert table[0].startswith("#1 [tree] quadratic loop") and "regressed" in table[0]
    assert table[1].startswith("#2 [tree] closed form") and "improved" in table[1]
    log = (perf(repo) / "investigations" / f"{inv}.md").read_text()
    assert "#1 \\[tree\\] quadratic loop" in log or "#1 [tree] quadratic loop" in log
    # decide: gains but the goal (op_ms < 0.001) not met -> continue
    rec = cli("decide", "--json")
    assert rec.code == 3 and rec.json["data"]["recommendation"] == "continue"


@pytest.mark.slow
def test_flag_style_ab_measures_perf_experiment_without_touching_the_tree(
    repo: Path, cli: Any
) -> None:
    flagged = WORK_BENCH.replace(
        "from work import compute",
        "from work import compute as slow\n"
        "def compute():\n"
        "    return 1 if os.environ.get('PERF_EXPERIMENT') == '1' else slow()",
    )
    (repo / "bench.py").write_text(flagged)
    (repo / "work.py").write_text(WORK)
    git(repo, "add", "bench.py", "work.py")
    git(repo, "commit", "-qm", "flagged")
    args = list(START_ARGS)
    args[args.index("--metric") + 1] = "op_ms"
    to_phase_8(cli, *args)
    before = tree_state(repo)
    answer = cli("experiment", "ab", "--change", "skip the work", "--runs", "2", *SHORT, "--json")
    assert answer.code == 0, answer.out
    exp = answer.json["data"]["experiment"]
    assert exp["kind"] == "flag" and exp["verdict"] == "improved"
    assert tree_state(repo) == before


def test_experiment_skip_reason_still_skips_the_phase(repo: Path, cli: Any) -> None:
    to_phase_8(cli)
    answer = cli("experiment", "--skip-reason", "nothing to try", "--json")
    assert answer.code == 0 and answer.json["data"]["outcome"] == "skipped"
    bare = cli("experiment")
    assert bare.code == 2


def test_experiment_help_is_actionable(cli: Any) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "perfinvest", "experiment", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for word in ("start", "run", "abort", "apply", "recover", "--files"):
        assert word in out
