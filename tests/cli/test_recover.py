"""Crash safety: signals restore the tree; after SIGKILL, `perfinvest recover` does."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from tests.cli.test_experiment import perf, state, to_phase_8, tree_state
from tests.conftest import git

SLOW_BENCH = """\
import os, time
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print("PERF_METRICS p95_ms=12.0")
"""


def _prepare(repo: Path, cli: Any) -> dict[str, Any]:
    to_phase_8(cli)
    (repo / "app.py").write_text("print('dirty work')\n")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    (repo / "notes.txt").write_text("untracked\n")
    return tree_state(repo)


def _start_and_change(repo: Path, cli: Any) -> None:
    answer = cli("experiment", "start", "--change", "edit app", "--json")
    assert answer.code == 0, answer.out
    (repo / "app.py").write_text("print('the experiment')\n")
    (repo / "added.py").write_text("NEW = 1\n")
    (repo / "notes.txt").unlink()


def _spawn_run(repo: Path, duration: str = "0.4") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "perfinvest", "experiment", "run", "--runs", "2",
         "--duration", duration, "--json"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for_claim(repo: Path, proc: subprocess.Popen[str]) -> None:
    """Until the run process owns the journal (it has begun touching things)."""
    journal = perf(repo) / "experiment-journal.json"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if json.loads(journal.read_text())["pid"] == proc.pid:
                return
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("the run never claimed the journal")


#: Kill delays after the run claims the journal, seconds: from the first git calls through
#: the worktree, every run of both sides, the restore and the record.
KILL_DELAYS = (0.0, 0.03, 0.08, 0.15, 0.25, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5)
#: Kills aimed at a journal stage (the moment it shows), for the short restore windows.
KILL_STAGES = ("restoring", "restored")


def _kill_once(repo: Path, where: float | str) -> tuple[bool, str | None]:
    """SIGKILL one `experiment run` at a delay or a stage: (killed alive, journal stage)."""
    proc = _spawn_run(repo)
    _wait_for_claim(repo, proc)
    if isinstance(where, str):
        journal = perf(repo) / "experiment-journal.json"
        while proc.poll() is None:
            try:
                if json.loads(journal.read_text())["stage"] == where:
                    break
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                continue
    else:
        time.sleep(where)
    alive = proc.poll() is None
    proc.kill()
    proc.wait(timeout=10)
    journal_file = perf(repo) / "experiment-journal.json"
    stage = json.loads(journal_file.read_text())["stage"] if journal_file.exists() else None
    return alive and proc.returncode == -signal.SIGKILL, stage


@pytest.mark.slow
@pytest.mark.serial  # kills at time offsets into a run: alone (under four workers one landed as the run ended)
def test_kill_point_sweep_recover_restores_the_tree_and_keeps_later_edits(
    repo: Path, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: SIGKILL `experiment run` at a series of points, edit, recover, compare.

    After every kill the user goes on working (edits a file of theirs, adds one); after
    `recover` the tree must be the recorded one plus exactly those edits. Failures are
    counted, not stopped at, so a regression shows as a number in the output.
    """
    _prepare(repo, cli)
    (repo / "mine.txt").write_text("version 0\n")
    expected = tree_state(repo)
    tried = survived = 0
    stages_hit: set[str] = set()
    failures: list[str] = []
    points: list[float | str] = [*KILL_DELAYS, *KILL_STAGES]
    for n, where in enumerate(points):
        _start_and_change(repo, cli)
        killed, stage = _kill_once(repo, where)
        if not killed:
            failures.append(f"{where}: the run ended before the kill (not counted)")
            cli("recover", "--json")
            continue
        tried += 1
        # the user's work after the crash: one of their files edited, one added
        (repo / "mine.txt").write_text(f"version {n + 1}\n")
        (repo / f"after-kill-{n}.txt").write_text(f"written after kill {n}\n")
        for rel in ("mine.txt", f"after-kill-{n}.txt"):  # what the tree must keep of theirs
            expected["files"][rel] = (
                (repo / rel).read_bytes(),
                (repo / rel).stat().st_mode & 0o7777,
            )
        problems = []
        if stage is not None:
            stages_hit.add(stage)
            blocked = cli("hypotheses", "list", "--json")
            if blocked.code != 4 or "perfinvest recover" not in blocked.out:
                problems.append(f"not refused before recover: {blocked.out[:200]}")
            if cli("status", "--json").code != 0:
                problems.append("status unavailable")
        recovered = cli("recover", "--json")
        if recovered.code != 0:
            problems.append(f"recover exit {recovered.code}: {recovered.out[:300]}")
        now = tree_state(repo)
        if now != expected:
            diff = sorted(
                p
                for p in {*now["files"], *expected["files"]}
                if now["files"].get(p) != expected["files"].get(p)
            )
            problems.append(
                f"tree differs: files {diff}, index same {now['index'] == expected['index']}"
            )
        if (perf(repo) / "experiment-journal.json").exists():
            problems.append("journal left")
        if "perfinvest-baseline-" in git(repo, "worktree", "list"):
            problems.append("worktree left")
        if git(repo, "for-each-ref", "refs/perfinvest") != "":
            problems.append("snapshot refs left")
        if problems:
            failures.append(f"kill at {where} (journal {stage}): {'; '.join(problems)}")
            expected = now  # go on from what is there, so later kills are judged alone
        else:
            survived += 1
    experiments = state(repo)["experiments"]
    interrupted = [e for e in experiments if e["state"] == "interrupted"]
    with capsys.disabled():
        print(
            f"\nexperiment kill-point sweep: {tried} kills tried, {survived} survived "
            f"(stages hit: {', '.join(sorted(stages_hit)) or 'none'}; "
            f"{len(interrupted)} experiment(s) recovered as interrupted)"
        )
    real = [f for f in failures if "not counted" not in f]
    assert not real, f"{survived}/{tried} kills survived: " + " | ".join(real)
    assert tried >= len(points) - 3, failures  # nearly every kill hit a live run
    assert "measuring" in stages_hit, stages_hit  # kills landed mid-measurement
    assert interrupted and all(e["restore_verified"] for e in interrupted)
    assert all(e["patch"] is not None for e in interrupted)  # the change is never lost


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_run_restores_the_tree_before_exit(
    repo: Path, cli: Any, signum: int
) -> None:
    (repo / "bench.py").write_text(SLOW_BENCH)
    git(repo, "commit", "-qam", "slow bench")
    before = _prepare(repo, cli)
    _start_and_change(repo, cli)
    proc = _spawn_run(repo, duration="5")
    _wait_for_claim(repo, proc)
    deadline = time.monotonic() + 20
    while "perfinvest-baseline-" not in git(repo, "worktree", "list"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # inside the first baseline-side run
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    answer = json.loads(out)
    assert answer["error"]["kind"] == "interrupted"
    assert tree_state(repo) == before
    assert not (perf(repo) / "experiment-journal.json").exists()
    exp = answer["data"]["experiment"]
    assert exp["state"] == "interrupted" and exp["restore_verified"] is True


def test_recover_with_nothing_to_do_says_so(
    repo: Path, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a temp folder of its own: tests running beside it leave (and kill) perfinvests
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own_tmp))
    answer = cli("recover", "--json")
    assert answer.code == 0 and "nothing to recover" in answer.json["findings"][0]


def test_recover_finishes_a_restore_a_dead_process_left(repo: Path, cli: Any) -> None:
    """A journal at `restoring` whose owner is dead, made without timing luck."""
    before = _prepare(repo, cli)
    _start_and_change(repo, cli)
    journal_file = perf(repo) / "experiment-journal.json"
    journal = json.loads(journal_file.read_text())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    journal.update(stage="restoring", pid=dead.pid, pid_start="0")
    journal_file.write_text(json.dumps(journal))
    blocked = cli("baseline", "--json")
    assert blocked.code == 4 and blocked.json["error"]["needs"] == ["perfinvest recover"]
    assert cli("experiment", "start", "--change", "y", "--json").code == 4
    recovered = cli("recover", "--json")
    assert recovered.code == 0, recovered.out
    data = recovered.json["data"]
    assert data["journal"] == "restoring" and data["restore"]["verified"] is True
    assert any("kept the change" in a for a in data["actions"])
    assert tree_state(repo) == before
    exp = json.loads((perf(repo) / "investigation.json").read_text())["experiments"][0]
    assert exp["state"] == "interrupted" and exp["patch"] is not None
    log = next((perf(repo) / "investigations").glob("*.md")).read_text()
    assert "recover" in log
    # the kept change can be applied again
    assert cli("experiment", "apply", "1", "--json").code == 0
    assert (repo / "added.py").read_text() == "NEW = 1\n"


def test_an_open_experiment_is_not_a_crash(repo: Path, cli: Any) -> None:
    _prepare(repo, cli)
    _start_and_change(repo, cli)
    assert cli("hypotheses", "list", "--json").code == 0  # other work goes on
    answer = cli("recover", "--json")
    assert answer.code == 0 and "is open" in answer.json["findings"][0]
    assert (repo / "added.py").exists()  # the agent's change is left alone


def test_recover_removes_stale_worktrees(repo: Path, cli: Any, tmp_path: Path) -> None:
    stale = tmp_path / "perfinvest-baseline-old-1-123"
    git(repo, "worktree", "add", "--detach", str(stale), "HEAD")
    answer = cli("recover", "--json")
    assert answer.code == 0
    assert any("stale baseline-side worktree" in f for f in answer.json["findings"])
    assert not stale.exists() and str(stale) not in git(repo, "worktree", "list")


X_PY = "".join(f"line_{i} = {i}\n" for i in range(1, 11))


def _kill_mid_measurement(repo: Path, cli: Any) -> tuple[str, dict[str, Any]]:
    """Issue 15's sequence up to the crash: start, edit src/x.py (and more), run, SIGKILL."""
    (repo / "bench.py").write_text(SLOW_BENCH)
    (repo / "src").mkdir()
    (repo / "src" / "x.py").write_text(X_PY)
    (repo / "src" / "y.py").write_text("Y = 'before'\n")
    (repo / "src" / "z.py").write_text("Z = 'before'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "sources")
    inv = to_phase_8(cli)
    before = tree_state(repo)
    assert cli("experiment", "start", "--change", "edit x", "--json").code == 0
    # the experiment's change: x.py line 2, z.py, a new file
    (repo / "src" / "x.py").write_text(X_PY.replace("line_2 = 2", "line_2 = 'experiment'"))
    (repo / "src" / "z.py").write_text("Z = 'experiment'\n")
    (repo / "src" / "new.py").write_text("NEW = 1\n")
    proc = _spawn_run(repo, duration="5")
    _wait_for_claim(repo, proc)
    deadline = time.monotonic() + 20
    while "perfinvest-baseline-" not in git(repo, "worktree", "list"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.kill()  # a real SIGKILL mid-measurement
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return inv, before


@pytest.mark.slow
def test_recover_keeps_every_edit_made_after_the_crash(repo: Path, cli: Any) -> None:
    """Issue 15 F1: recover restores only what the experiment changed; the rest is the user's."""
    inv, before = _kill_mid_measurement(repo, cli)
    # after the crash, the user works on: a file the experiment never touched, a new file,
    # a non-overlapping edit to a file the experiment changed, and a clashing one
    (repo / "src" / "y.py").write_text("Y = 'after the crash'\n")
    (repo / "notes-after-crash.txt").write_text("my notes\n")
    x_user = X_PY.replace("line_2 = 2", "line_2 = 'experiment'").replace(
        "line_9 = 9", "line_9 = 'mine'"
    )
    (repo / "src" / "x.py").write_text(x_user)
    (repo / "src" / "z.py").write_text("Z = 'mine, over the experiment'\n")

    blocked = cli("hypotheses", "list", "--json")
    assert blocked.code == 4
    message = blocked.json["error"]["message"]
    # the refusal says what recover will do, from the journal alone
    assert "only the file(s) the experiment changed" in message
    assert "src/x.py" in message and "src/z.py" in message and "src/y.py" not in message
    assert "leaves every other file as it is" in message
    assert f"artifacts/{inv}/recover-" in message

    recovered = cli("recover", "--json")
    assert recovered.code == 0, recovered.out
    files = {p: data for p, (data, _) in tree_state(repo)["files"].items()}
    # never touched by the experiment: kept exactly as the user left them
    assert files["src/y.py"] == b"Y = 'after the crash'\n"
    assert files["notes-after-crash.txt"] == b"my notes\n"
    # the experiment's change taken out of x.py, the user's later edit kept
    assert files["src/x.py"] == X_PY.replace("line_9 = 9", "line_9 = 'mine'").encode()
    # z.py cannot merge: the recorded version is back, the user's saved and said so
    assert files["src/z.py"] == b"Z = 'before'\n"
    assert "src/new.py" not in files  # the experiment's own addition is gone
    restore = recovered.json["data"]["restore"]
    assert restore["verified"] is True, restore
    assert sorted(restore["kept"]) == ["notes-after-crash.txt", "src/y.py"]
    assert restore["merged"] == ["src/x.py"]
    saved_dir = Path(restore["saved_dir"])
    assert saved_dir.parent == perf(repo) / "artifacts" / inv
    assert saved_dir.name.startswith("recover-")
    assert (saved_dir / "src" / "z.py").read_text() == "Z = 'mine, over the experiment'\n"
    assert (saved_dir / "src" / "x.py").read_text() == x_user  # as found, before the merge
    actions = " | ".join(recovered.json["data"]["actions"])
    assert "src/y.py" not in actions.split("kept")[0]  # never rewritten
    assert "notes-after-crash.txt" in actions and str(saved_dir) in actions
    # everything else is exactly as before the experiment
    now = tree_state(repo)
    for path, entry in before["files"].items():
        if path not in ("src/x.py", "src/y.py", "src/z.py"):
            assert now["files"][path] == entry, path
    assert now["index"] == before["index"]
    assert git(repo, "for-each-ref", "refs/perfinvest") == ""
    assert not (perf(repo) / "experiment-journal.json").exists()
    # the state change ends in a checkpoint: nothing of the perf state left dirty
    assert recovered.json["data"]["checkpoint"]["committed"] is True
    assert git(repo, "status", "--porcelain", "--", ".claude/perf") == ""
    # the experiment's change is still kept as a patch, without the user's edits
    patch = (perf(repo) / recovered.json["data"]["patch"]).read_text()
    assert "line_2 = 'experiment'" in patch and "after the crash" not in patch


@pytest.mark.slow
def test_edits_made_while_a_run_measures_are_kept_by_its_restore(repo: Path, cli: Any) -> None:
    """The in-process restore follows the same rule: only the experiment's change goes back."""
    (repo / "bench.py").write_text(SLOW_BENCH)
    git(repo, "commit", "-qam", "slow bench")
    before = _prepare(repo, cli)
    _start_and_change(repo, cli)
    proc = _spawn_run(repo, duration="1")
    _wait_for_claim(repo, proc)
    (repo / "written-during-the-run.txt").write_text("mine\n")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (out, err)
    exp = json.loads(out)["data"]["experiment"]
    assert exp["state"] == "measured" and exp["restore_verified"] is True
    assert exp["restore"]["kept"] == ["written-during-the-run.txt"]
    after = tree_state(repo)
    assert after["files"].pop("written-during-the-run.txt")[0] == b"mine\n"
    assert after == before


def _signal_at_stage(
    repo: Path, proc: subprocess.Popen[str], stages: tuple[str, ...], signum: int
) -> str | None:
    """Send ``signum`` the moment the journal shows one of ``stages``; the stage hit."""
    journal = perf(repo) / "experiment-journal.json"
    while proc.poll() is None:
        try:
            stage = json.loads(journal.read_text())["stage"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            continue
        if stage in stages:
            proc.send_signal(signum)
            return str(stage)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_once_restored_lets_the_run_finish_recording(
    repo: Path, cli: Any, signum: int
) -> None:
    """Issue 15 F3: from `restored` on, a signal no longer discards the finished A/B."""
    before = _prepare(repo, cli)
    held = 0
    for attempt in range(6):
        _start_and_change(repo, cli)
        proc = _spawn_run(repo, duration="0.3")
        _wait_for_claim(repo, proc)
        stage = _signal_at_stage(repo, proc, ("restoring", "restored"), signum)
        out, err = proc.communicate(timeout=60)
        assert tree_state(repo) == before, (attempt, stage)
        assert not (perf(repo) / "experiment-journal.json").exists(), (attempt, out, err)
        answer = json.loads(out)  # one JSON object on stdout, whatever the timing
        if stage is None:
            continue  # the run was done before the stage was seen: nothing was tested
        names = answer["data"].get("signals_held")
        if names is None:
            # delivered after the record was written (while printing): still recorded
            assert answer["data"]["experiment"]["state"] == "measured", (attempt, out)
            continue
        held += 1
        assert proc.returncode == 0, (attempt, stage, out, err)
        assert names == [signal.Signals(signum).name]
        exp = answer["data"]["experiment"]
        assert exp["state"] == "measured" and exp["verdict"] and exp["restore_verified"]
        assert any("finished recording" in f for f in answer["findings"])
        if held >= 2:
            break
    assert held >= 1, "no signal landed between the restore and the end of the record"
    experiments = state(repo)["experiments"]
    assert sum(e["state"] == "measured" for e in experiments) >= held
