"""The output guard (issue 23 item 1): `-o` never lands in the state folder, never replaces a
file perfinvest did not write unless --force, and then keeps a backup."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from tests.support.synthetic import write_state


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    perf = tmp_path / ".claude" / "perf"
    write_state(perf)
    return perf


def _baseline_file(perf: Path) -> Path:
    return sorted((perf / "baselines").glob("*.json"))[0]


def test_report_onto_the_state_file_is_refused_and_the_state_unchanged(
    state: Path, cli: Any
) -> None:
    before = _sha(state / "investigation.json")
    for flags in ((), ("--force",)):
        answer = cli("report", "-o", str(state / "investigation.json"), *flags, "--json")
        assert answer.code == 2, answer.out
        assert "inside the state folder" in answer.json["error"]["message"]
        assert _sha(state / "investigation.json") == before
    assert cli("status", "--json").code == 0  # the state still reads


def test_a_relative_path_and_a_symlink_into_the_state_are_refused(
    state: Path, cli: Any, tmp_path: Path
) -> None:
    baseline = _baseline_file(state)
    before = _sha(baseline)
    rel = baseline.relative_to(tmp_path)
    assert cli("report", "-o", str(rel), "--json").code == 2
    link = tmp_path / "innocent.json"
    link.symlink_to(baseline)
    answer = cli("report", "-o", str(link), "--force", "--json")
    assert answer.code == 2, answer.out
    assert _sha(baseline) == before


def test_report_over_a_user_file_is_refused_then_forced_with_a_backup(
    state: Path, cli: Any, tmp_path: Path
) -> None:
    user = tmp_path / "src" / "x.py"
    user.parent.mkdir()
    user.write_text("print('uncommitted work')\n")
    answer = cli("report", "-o", str(user), "--json")
    assert answer.code == 2, answer.out
    assert "perfinvest did not write it" in answer.json["error"]["message"]
    assert user.read_text() == "print('uncommitted work')\n"
    forced = cli("report", "-o", str(user), "--force", "--json")
    assert forced.code == 0, forced.out
    backup = Path(forced.json["data"]["backup"])
    assert backup.read_text() == "print('uncommitted work')\n"
    assert state / "artifacts" / "backups" in backup.parents
    assert (state / "artifacts" / "backups" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert user.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_perfinvest_may_overwrite_its_own_output_but_not_once_edited(
    state: Path, cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    assert cli("report", "-o", str(out), "--json").code == 0
    again = cli("report", "-o", str(out), "--json")
    assert again.code == 0, again.out
    assert "backup" not in again.json["data"]
    out.write_text("my notes\n")  # the user edits it: it is theirs now
    assert cli("report", "-o", str(out), "--json").code == 2
    assert out.read_text() == "my notes\n"


def test_metrics_export_onto_a_baseline_is_refused(state: Path, cli: Any) -> None:
    baseline = _baseline_file(state)
    before = _sha(baseline)
    version = json.loads(baseline.read_text())["version"]
    answer = cli("metrics", "export", "--version", version, "-o", str(baseline), "--json")
    assert answer.code == 2, answer.out
    assert _sha(baseline) == before


def test_export_commands_are_guarded(state: Path, cli: Any, tmp_path: Path) -> None:
    user = tmp_path / "dash.json"
    user.write_text("{}\n")
    assert cli("export", "grafana", "-o", str(user), "--json").code == 2
    assert user.read_text() == "{}\n"
    assert cli("export", "openmetrics", "-o", str(user), "--json").code == 2
    assert user.read_text() == "{}\n"
    inside = state / "exports" / "mine"
    assert cli("export", "csv", "-o", str(inside), "--json").code == 2
    assert not inside.exists()
    mine = tmp_path / "csv"
    mine.mkdir()
    (mine / "runs.csv").write_text("mine\n")
    assert cli("export", "csv", "-o", str(mine), "--json").code == 2
    assert (mine / "runs.csv").read_text() == "mine\n"
    assert sorted(p.name for p in mine.iterdir()) == ["runs.csv"]  # none half-written


def test_diff_report_dir_simulate_and_load_init_are_guarded(
    state: Path, cli: Any, tmp_path: Path
) -> None:
    baseline = _baseline_file(state)
    answer = cli("diff", str(baseline), str(baseline), "--report-dir", str(state), "--json")
    assert answer.code == 2, answer.out
    assert not (state / "diff.json").exists()
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "diff.md").write_text("mine\n")
    assert cli("diff", str(baseline), str(baseline), "--report-dir", str(folder)).code == 2
    assert not (folder / "diff.json").exists()
    ok = cli("diff", str(baseline), str(baseline), "--report-dir", str(folder), "--overwrite")
    assert ok.code == 0, ok.out
    assert (folder / "diff.md").read_text() != "mine\n"
    sim = cli("simulate", "api-route", "-o", str(state / "investigation.json"), "--json")
    assert sim.code == 2, sim.out
    assert cli("load", "init", "--targets", str(state / "targets.yaml"), "--json").code == 2
    assert not (state / "targets.yaml").exists()
