"""`diff` across two checkouts of one repository (issue 24): the configuration hash holds
the working folder relative to its checkout, not the absolute path CI folders differ in;
another command or another machine is still refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import git

from perfinvest.adapters.fingerprint import checkout_workdir

RUN = ("run", "--runs", "2", "--duration", "0.2", "--allow-short", "test")


def _measure(cli: Any, where: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *cmd: str) -> None:
    monkeypatch.chdir(where)
    answer = cli(*RUN, "--export", str(out), "--json", "--", *cmd)
    assert answer.code == 0, answer.out


def test_checkout_workdir_is_relative_to_the_checkout(repo: Path, tmp_path: Path) -> None:
    (repo / "sub").mkdir()
    assert checkout_workdir(repo) == "."
    assert checkout_workdir(repo / "sub") == "sub"
    git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "wt"))
    assert checkout_workdir(tmp_path / "wt") == "."  # a worktree's .git is a file
    (tmp_path / "loose").mkdir()
    assert checkout_workdir(tmp_path / "loose") == "."


def test_diff_compares_two_checkouts_and_refuses_another_command_or_machine(
    cli: Any, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere" / "checkout-2"
    git(tmp_path, "clone", "-q", str(repo), str(other))
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    _measure(cli, repo, a, monkeypatch, "python3", "app.py")
    _measure(cli, other, b, monkeypatch, "python3", "app.py")
    runs_a, runs_b = json.loads(a.read_text()), json.loads(b.read_text())
    assert runs_a[0]["environment"]["config_hash"] == runs_b[0]["environment"]["config_hash"]
    same = cli("diff", str(a), str(b), "--json")
    assert same.code == 0, same.out
    assert same.json["data"]["comparison"]["metrics"]

    _measure(cli, other, c, monkeypatch, "python3", "-c", "print(1)")
    command = cli("diff", str(a), str(c), "--json")
    assert command.code == 4 and "config_hash" in command.json["error"]["message"]

    for run in runs_b:
        run["environment"]["host"] = "another-machine"
    b.write_text(json.dumps(runs_b))
    machine = cli("diff", str(a), str(b), "--json")
    assert machine.code == 4 and "host" in machine.json["error"]["message"]


def test_old_result_files_with_a_path_hash_stay_readable(
    cli: Any, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = tmp_path / "a.json"
    _measure(cli, repo, a, monkeypatch, "python3", "app.py")
    runs = json.loads(a.read_text())
    for run in runs:  # what an earlier perfinvest wrote: a hash over the absolute folder
        run["environment"]["config_hash"] = "0123456789abcdef"
    old = tmp_path / "old.json"
    old.write_text(json.dumps(runs))
    assert cli("diff", str(old), str(old), "--json").code == 0
    assert cli("metrics", "export", str(old), "-o", str(tmp_path / "pm.json")).code == 0
