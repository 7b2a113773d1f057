"""The investigation lifecycle through the real CLI, in real git repositories."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import SHORT, START_ARGS, git

CONTRACT_KEYS = {
    "ok",
    "command",
    "investigation",
    "phase",
    "status",
    "baseline",
    "findings",
    "next",
    "data",
}


def perf_dir(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def test_start_with_missing_items_answers_needs_and_writes_nothing(repo: Path, cli: Any) -> None:
    result = cli("start", "--scenario", "slow checkout", "--metric", "p95_ms", "--json")
    assert result.code == 3
    answer = result.json
    assert set(answer) == CONTRACT_KEYS | {"error"}
    assert answer["ok"] is False and answer["status"] == "blocked"
    needs = answer["error"]["needs"]
    assert [n.split(":")[0] for n in needs] == [
        "--command",
        "--direction",
        "--success",
        "--version",
    ]
    assert not (repo / ".claude").exists()
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_start_refuses_a_unit_with_markup_and_writes_nothing(repo: Path, cli: Any) -> None:
    for unit in ('<a href="https://x.invalid">ms</a>', "ms\x1b[2J"):
        result = cli(*START_ARGS, "--unit", unit, "--json")
        assert result.code == 2, result.out
        message = result.json["error"]["message"]
        assert message.startswith("invalid --unit ") and "\n" not in message
        assert "plain unit such as ms" in message
    # refused before the missing items are asked for: bad input is never stored
    partial = cli("start", "--metric", "p95_ms", "--unit", "<b>ms</b>", "--json")
    assert partial.code == 2 and "markup character(s) < >" in partial.json["error"]["message"]
    text = cli(*START_ARGS, "--unit", "<i>ms</i>")
    assert text.code == 2 and "Traceback" not in text.out + text.err
    assert not (repo / ".claude").exists()
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"
    ok = cli(*START_ARGS, "--unit", "µs", "--json")
    assert ok.code == 0, ok.out
    state = json.loads((perf_dir(repo) / "investigation.json").read_text())
    assert state["setup"]["metric"]["unit"] == "µs"


def test_start_creates_state_log_and_checkpoint(repo: Path, cli: Any) -> None:
    result = cli(*START_ARGS, "--quote", "make checkout fast again", "--json")
    assert result.code == 0, result.out
    answer = result.json
    assert set(answer) >= CONTRACT_KEYS and "error" not in answer
    assert answer["phase"] == "setup" and answer["next"] == "baseline"
    assert answer["data"]["command"][1:] == ["bench.py"]
    inv_id = answer["investigation"]
    state = json.loads((perf_dir(repo) / "investigation.json").read_text())
    assert state["id"] == inv_id and state["format_version"] == 1
    assert state["setup"]["short_run_policy"]["reason"] == "tests use short runs"
    log = (perf_dir(repo) / "investigations" / f"{inv_id}.md").read_text()
    assert "> make checkout fast again" in log and "## Phase 1: setup" in log
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert files == [
        ".claude/perf/.gitignore",
        ".claude/perf/investigation.json",
        f".claude/perf/investigations/{inv_id}.md",
    ]
    assert git(repo, "log", "-1", "--format=%s").strip() == f"perf({inv_id}): setup"
    assert git(repo, "status", "--porcelain").strip() == ""


def test_shell_command_is_kept_verbatim(repo: Path, cli: Any) -> None:
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "python3 bench.py | tee out.txt"
    answer = cli(*args, "--shell", "--json", "--no-checkpoint").json
    assert answer["data"]["command"] == ["python3 bench.py | tee out.txt"]
    assert answer["data"]["shell"] is True
    assert answer["data"]["checkpoint"]["reason"] == "disabled with --no-checkpoint"


def test_status_start_resume_restores_the_first_exactly(repo: Path, cli: Any) -> None:
    first = cli(*START_ARGS, "--json").json["investigation"]
    active = perf_dir(repo) / "investigation.json"
    first_bytes = active.read_bytes()
    status = cli("status", "--json").json
    assert status["investigation"] == first and status["next"] == "baseline"
    assert status["data"]["short_run_policy"] == "tests use short runs"

    second = cli(*START_ARGS, "--json").json
    assert second["investigation"] != first
    assert second["data"]["archived"] == first
    assert any(first in finding for finding in second["findings"])
    assert (perf_dir(repo) / "investigations" / f"{first}.json").read_bytes() == first_bytes

    resumed = cli("resume", first, "--json")
    assert resumed.code == 0
    assert resumed.json["investigation"] == first
    assert active.read_bytes() == first_bytes
    assert (perf_dir(repo) / "investigations" / f"{second['investigation']}.json").exists()
    listed = cli("list", "--json").json["data"]["investigations"]
    assert [(row["id"], row["active"]) for row in listed] == [
        (first, True),
        (second["investigation"], False),
    ]
    # issue 10: the swap is a state change, so it ends in a checkpoint: nothing left pending
    assert resumed.json["data"]["checkpoint"]["committed"] is True
    assert f"perf({first}): resume" in git(repo, "log", "-1", "--format=%s")
    assert git(repo, "status", "--porcelain", "--", ".claude") == ""


def test_phase_out_of_order_is_refused_naming_what_is_missing(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    before = (perf_dir(repo) / "investigation.json").read_bytes()
    result = cli("profile", "--json")
    assert result.code == 4
    error = result.json["error"]
    assert error["kind"] == "refused"
    assert "phase 2 baseline" in error["message"] and "phase 6 code-paths" in error["message"]
    assert result.json["investigation"] is not None and result.json["phase"] == "profiling"
    assert (perf_dir(repo) / "investigation.json").read_bytes() == before


def test_text_mode_ends_with_the_summary_block(repo: Path, cli: Any) -> None:
    cli(*START_ARGS)
    result = cli("status")
    lines = result.out.rstrip("\n").splitlines()
    assert lines[-2].startswith("phase: setup   status: in_progress   baseline: n/a")
    assert lines[-1].startswith("findings: [") and lines[-1].endswith("next: baseline")


def test_skip_is_logged_and_preconditions_still_hold(repo: Path, cli: Any) -> None:
    inv_id = cli(*START_ARGS, "--json").json["investigation"]
    skipped = cli("baseline", "--skip-reason", "no benchmark hardware today", "--json")
    assert skipped.code == 0 and skipped.json["data"]["outcome"] == "skipped"
    # breaking-point needs a real baseline, not a skipped one
    refused = cli(
        "breaking-point", "--min", "1", "--max", "10", "--fail-when", "p95_ms>1", "--json"
    )
    assert refused.code == 4 and "a baseline" in refused.json["error"]["message"]
    log = (perf_dir(repo) / "investigations" / f"{inv_id}.md").read_text()
    assert "**Skipped:** no benchmark hardware today" in log
    assert cli("baseline", "--skip-reason", "   ", "--json").code == 2


def test_hypotheses_need_history_first(repo: Path, cli: Any, tmp_path: Path) -> None:
    cli(*START_ARGS, "--json")
    for phase in ("baseline", "breaking-point", "constraints"):
        assert cli(phase, "--skip-reason", "not relevant here", "--json").code == 0
    early = cli("hypotheses", "add", "the cache is cold", "--json")
    assert early.code == 4 and "rule 8" in early.json["error"]["message"]
    gathered = cli("hypotheses", "gather", "--json")
    assert gathered.code == 0 and gathered.json["data"]["outcome"] == "progress"
    assert gathered.json["next"] == "hypotheses"
    added = cli("hypotheses", "add", "the cache is cold", "--evidence", "a1b2", "--json")
    assert added.code == 0 and added.json["next"] == "code-paths"
    listed = cli("hypotheses", "list", "--json").json["data"]["hypotheses"]
    assert [h["id"] for h in listed] == ["H1"] and listed[0]["status"] == "untested"


def test_all_ten_phases_complete_the_investigation(repo: Path, cli: Any, tmp_path: Path) -> None:
    inv_id = cli(*START_ARGS, "--json").json["investigation"]
    assert cli("baseline", "--runs", "2", *SHORT, "--json").json["baseline"] == "v1"
    # the measuring phases have their own tests; here they are skipped with a logged reason
    for phase in ("breaking-point", "constraints"):
        assert cli(phase, "--skip-reason", f"{phase} covered elsewhere", "--json").code == 0
    (repo / "app.py").write_text("print('hello, slowly')\n")
    git(repo, "commit", "-qam", "greet more slowly")  # history in the window since the baseline
    assert cli("hypotheses", "gather", "--json").code == 0
    assert cli("hypotheses", "add", "N+1 queries", "--json").code == 0
    assert cli("code-paths", "--json").code == 0
    # the fixture's bench sleeps: no CPU hotspot to sample (real profiles: tests/cli/test_profile.py)
    for phase in ("profile", "experiment"):
        assert cli(phase, "--skip-reason", "covered elsewhere", "--json").code == 0
    assert cli("decide", "--verdict", "stop", "--rationale", "goal met", "--json").code == 0
    done = cli("consolidate", "--json").json
    assert done["status"] == "complete" and done["next"] is None

    state = json.loads((perf_dir(repo) / "investigation.json").read_text())
    assert state["status"] == "complete"
    log = (perf_dir(repo) / "investigations" / f"{inv_id}.md").read_text()
    assert log.count("\n## Phase ") + log.startswith("## Phase ") == 11  # hypotheses: 2 steps
    commits = [line.split(" ", 1) for line in git(repo, "log", "--format=%H %s").splitlines()]
    checkpoints = [sha for sha, subject in commits if subject.startswith(f"perf({inv_id})")]
    assert len(checkpoints) == 11
    for sha in checkpoints:
        files = git(repo, "show", "--name-only", "--format=", sha).split()
        assert files and all(f.startswith(".claude/perf/") for f in files)
    baseline = json.loads((perf_dir(repo) / "baselines" / "v1.json").read_text())
    assert baseline["consolidated"] is True and len(baseline["runs"]) == 2
    again = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert again.code == 4 and "complete" in again.json["error"]["message"]


def test_rerun_records_attempts_and_archives_the_old_baseline(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    inv_id = cli(*START_ARGS, "--json").json["investigation"]
    assert cli("baseline", "--runs", "2", *SHORT, "--json").json["data"]["attempt"] == 1
    second = cli("baseline", "--runs", "2", *SHORT, "--quote", "run it again", "--json").json
    assert second["data"]["attempt"] == 2
    archived = list((perf_dir(repo) / "baselines" / "archive").glob("v1.*.json"))
    assert len(archived) == 1
    current = json.loads((perf_dir(repo) / "baselines" / "v1.json").read_text())
    assert current["supersedes"] == f"baselines/archive/{archived[0].name}"
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert f".claude/perf/baselines/archive/{archived[0].name}" in committed
    log = (perf_dir(repo) / "investigations" / f"{inv_id}.md").read_text()
    assert "## Phase 2: baseline (attempt 2, completed)" in log
    assert "**Non-compliant:**" in log


def test_baseline_without_the_primary_metric_fails_and_is_recorded(repo: Path, cli: Any) -> None:
    args = list(START_ARGS)
    args[args.index("--metric") + 1] = "p99_ms"
    inv_id = cli(*args, "--json").json["investigation"]
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 5, result.out
    answer = result.json
    assert answer["error"]["kind"] == "benchmark_failed" and "p99_ms" in answer["error"]["message"]
    assert answer["data"]["outcome"] == "failed"
    assert not (perf_dir(repo) / "baselines").exists()
    state = json.loads((perf_dir(repo) / "investigation.json").read_text())
    assert [a["outcome"] for a in state["attempts"]] == ["completed", "failed"]
    log = (perf_dir(repo) / "investigations" / f"{inv_id}.md").read_text()
    assert "## Phase 2: baseline (attempt 1, failed)" in log


def test_checkpoint_skipped_outside_git_and_on_detached_head(
    tmp_path: Path, cli: Any, monkeypatch: Any, repo: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    answer = cli(*START_ARGS, "--json").json
    assert answer["ok"] and "not a git repository" in answer["data"]["checkpoint"]["reason"]

    monkeypatch.chdir(repo)
    git(repo, "checkout", "-q", "--detach")
    answer = cli(*START_ARGS, "--json").json
    assert answer["ok"] and "detached" in answer["data"]["checkpoint"]["reason"]


def test_repository_without_commits(tmp_path: Path, cli: Any, monkeypatch: Any) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    monkeypatch.chdir(empty)
    answer = cli(*START_ARGS, "--json").json
    assert answer["ok"] and "no commits" in answer["data"]["checkpoint"]["reason"]


def test_state_dir_from_environment(repo: Path, cli: Any, monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("AI_STATE_DIR", "state/here")
    cli(*START_ARGS, "--json")
    assert (repo / "state" / "here" / "perf" / "investigation.json").is_file()
    outside = tmp_path / "outside"
    monkeypatch.setenv("AI_STATE_DIR", str(outside))
    answer = cli(*START_ARGS, "--json").json
    assert (outside / "perf" / "investigation.json").is_file()
    assert "outside the repository" in answer["data"]["checkpoint"]["reason"]


def test_large_artifacts_stay_out_of_commits_and_of_git_status(repo: Path, cli: Any) -> None:
    inv_id = cli(*START_ARGS, "--json").json["investigation"]
    artifacts = perf_dir(repo) / "artifacts" / inv_id / "profile-1"
    artifacts.mkdir(parents=True)
    (artifacts / "big.data").write_bytes(b"x" * (2 * 1024 * 1024))
    (artifacts / "small.txt").write_text("hotspots\n")
    assert cli("baseline", "--skip-reason", "artifacts only", "--json").code == 0
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    prefix = f".claude/perf/artifacts/{inv_id}/"
    assert f"{prefix}profile-1/small.txt" in files and f"{prefix}.gitignore" in files
    assert f"{prefix}profile-1/big.data" not in files
    assert git(repo, "status", "--porcelain").strip() == ""


def test_second_start_leaves_no_state_file_modified_or_untracked(repo: Path, cli: Any) -> None:
    """Issue 10 / F9: the archived investigation is committed with the new one's setup."""
    first = cli(*START_ARGS, "--json").json["investigation"]
    assert cli("baseline", "--skip-reason", "t", "--json").code == 0
    second = cli(*START_ARGS, "--json").json

    assert second["data"]["checkpoint"]["committed"], second["data"]["checkpoint"]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert f".claude/perf/investigations/{first}.json" in committed
    assert f".claude/perf/investigations/{second['investigation']}.md" in committed
    archived = perf_dir(repo) / "investigations" / f"{first}.json"
    assert git(repo, "show", f"HEAD:.claude/perf/investigations/{first}.json") == (
        archived.read_text()
    )


# --- F9: a start killed half-way is repaired by the next command ------------------------

_KILL_AT = """
import os, signal, sys
from perfinvest.store.state import StateStore
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
setattr(StateStore, sys.argv[1], killed)
from perfinvest.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _killed_start(repo: Path, point: str) -> None:
    """``perfinvest start`` in a real process, SIGKILLed when it reaches ``StateStore.<point>``."""
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", _KILL_AT, point, *START_ARGS, "--json"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


def test_start_killed_before_activation_leaves_nothing_stale(repo: Path, cli: Any) -> None:
    first = cli(*START_ARGS, "--json").json["investigation"]
    _killed_start(repo, "activate")  # after the archive copy was written
    copy = perf_dir(repo) / "investigations" / f"{first}.json"
    assert copy.is_file()  # the stale copy the kill left
    assert cli("status", "--json").json["investigation"] == first  # still the active one

    answer = cli("baseline", "--skip-reason", "next command", "--json")

    assert answer.code == 0
    assert (
        f"removed a stale copy of the active investigation: {first}.json"
        in (answer.json["findings"])
    )
    assert not copy.exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    listed = cli("list", "--json").json["data"]["investigations"]
    assert [(row["id"], row["active"]) for row in listed] == [(first, True)]


def test_start_killed_before_its_log_gets_the_log_and_the_checkpoint(repo: Path, cli: Any) -> None:
    first = cli(*START_ARGS, "--json").json["investigation"]
    _killed_start(repo, "append_log")  # after the new investigation became active
    new = json.loads((perf_dir(repo) / "investigation.json").read_text())["id"]
    assert new != first
    assert not (perf_dir(repo) / "investigations" / f"{new}.md").exists()

    answer = cli("baseline", "--skip-reason", "next command", "--json")

    assert answer.code == 0 and answer.json["investigation"] == new
    said = f"wrote the missing log sections of {new} from its recorded attempts"
    assert said in answer.json["findings"]
    log = (perf_dir(repo) / "investigations" / f"{new}.md").read_text()
    assert log.startswith(f"# Performance investigation {new}")
    assert "## Phase 1: setup (attempt 1, completed)" in log
    assert "## Phase 2: baseline (attempt 1, skipped)" in log
    assert log.index("Phase 1: setup") < log.index("Phase 2: baseline")
    # The archived first investigation and the new one's files: all committed.
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    tracked = git(repo, "ls-files", ".claude/perf/investigations").split()
    assert f".claude/perf/investigations/{first}.json" in tracked
    assert f".claude/perf/investigations/{first}.md" in tracked


def test_start_killed_before_its_checkpoint_is_committed_by_the_next_start(
    repo: Path, cli: Any
) -> None:
    first = cli(*START_ARGS, "--json").json["investigation"]
    # A real git that SIGKILLs perfinvest as its checkpoint writes the commit object.
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True)
    wrapper = repo.parent / "killing-git" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(
        '#!/bin/sh\nfor a in "$@"; do [ "$a" = commit-tree ] && kill -9 $PPID && exit 9; done\n'
        f'exec {real.stdout.strip()} "$@"\n'
    )
    wrapper.chmod(0o755)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src, "PATH": f"{wrapper.parent}:{os.environ['PATH']}"}
    killed = subprocess.run(
        [sys.executable, "-m", "perfinvest", *START_ARGS, "--json"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert killed.returncode < 0
    second = json.loads((perf_dir(repo) / "investigation.json").read_text())["id"]
    assert git(repo, "status", "--porcelain")  # the kill left state files uncommitted

    third = cli(*START_ARGS, "--json").json

    assert third["data"]["checkpoint"]["committed"]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    tracked = git(repo, "ls-files", ".claude/perf/investigations").split()
    for inv_id in (first, second):
        assert f".claude/perf/investigations/{inv_id}.json" in tracked
        assert f".claude/perf/investigations/{inv_id}.md" in tracked


def test_pending_state_files_lists_what_no_checkpoint_has_committed(repo: Path, cli: Any) -> None:
    from perfinvest.app.checkpoint import pending_state_files
    from perfinvest.app.context import AppContext

    inv_id = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    pending = pending_state_files(AppContext.discover())
    assert sorted(pending) == [
        "?? .claude/perf/.gitignore",
        "?? .claude/perf/investigation.json",
        f"?? .claude/perf/investigations/{inv_id}.md",
    ]
    assert cli("baseline", "--skip-reason", "commit it", "--json").code == 0
    assert pending_state_files(AppContext.discover()) == []
    (perf_dir(repo) / ".status-cache.json").write_text("{}")  # git-ignored: not pending
    assert pending_state_files(AppContext.discover()) == []


def test_checkpoint_policy_is_said_in_the_answer(repo: Path, cli: Any) -> None:
    """F8 through the CLI: hooks are not run and the answer says so; .gitignore is honoured."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho refusing >&2\nexit 1\n")
    hook.chmod(0o755)
    answer = cli(*START_ARGS, "--json").json
    assert answer["data"]["checkpoint"]["committed"] is True
    assert answer["data"]["checkpoint"]["signed"] is False
    note = answer["data"]["checkpoint"]["notes"][0]
    assert note.startswith("commit hooks not run (pre-commit)")
    assert f"checkpoint: {note}" in answer["findings"]

    (repo / ".gitignore").write_text(".claude/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "--no-verify", "-m", "ignore the agent's folder")
    before = git(repo, "rev-parse", "HEAD")
    text = cli(*START_ARGS)  # a new investigation: its log is new, untracked and ignored
    assert text.code == 0
    assert "checkpoint skipped: .claude/perf/investigations/perf-" in text.out
    assert "is git-ignored (.gitignore:1: .claude/)" in text.out
    assert git(repo, "rev-parse", "HEAD") == before
