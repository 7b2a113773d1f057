"""`perfinvest code-paths`: ranked files and functions with the reasons."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS, git


def start(cli: Any, scenario: str) -> None:
    args = list(START_ARGS)
    args[args.index("--scenario") + 1] = scenario
    assert cli(*args, "--json").code == 0
    for phase in ("baseline", "breaking-point", "constraints", "hypotheses"):
        assert cli(phase, "--skip-reason", "code paths test", "--json").code == 0


def test_keywords_and_history_rank_python_functions(repo: Path, cli: Any) -> None:
    (repo / "shop").mkdir()
    (repo / "shop" / "checkout.py").write_text(
        "def compute_checkout_total(cart):\n    return sum(cart)\n\n\ndef unrelated():\n    return 1\n"
    )
    (repo / "shop" / "ui.py").write_text(
        "def render():\n    # called on checkout\n    return 'checkout'\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "shop")
    start(cli, "checkout p95 under load")
    answer = cli("code-paths", "--json")
    assert answer.code == 0, answer.out
    paths = answer.json["data"]["code_paths"]
    top = paths[0]
    assert (top["file"], top["line"], top["function"]) == (
        "shop/checkout.py",
        1,
        "compute_checkout_total",
    )
    assert "scenario word 'checkout'" in top["reason"]
    assert all(p["reason"] for p in paths)
    unrelated = next(p for p in paths if p["function"] == "unrelated")
    assert unrelated["reason"].startswith("path matches scenario word 'checkout'")
    assert unrelated["score"] < top["score"]
    render = next(p for p in paths if p["function"] == "render")
    assert "body mentions 'checkout'" in render["reason"]
    assert answer.json["data"]["symbol_sources"]["ast"] >= 2
    saved = json.loads((repo / ".claude/perf/investigation.json").read_text())["code_paths"]
    assert saved[0]["function"] == "compute_checkout_total"


def test_hotspots_from_a_later_profile_lead_when_code_paths_is_re_run(repo: Path, cli: Any) -> None:
    (repo / "engine.py").write_text(
        "def crunch(n):\n    return sum(i * i for i in range(n))\n\n\ndef checkout():\n    return crunch(10)\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "engine")
    start(cli, "checkout p95 under load")
    state = repo / ".claude/perf/investigation.json"
    doc = json.loads(state.read_text())
    doc["profiling"] = [
        {
            "number": 1,
            "profiler": "py-spy",
            "hotspots": [
                {
                    "function": "crunch",
                    "file": "engine.py",
                    "line": 1,
                    "self_pct": 85.0,
                    "total_pct": 85.0,
                }
            ],
        }
    ]
    state.write_text(json.dumps(doc))
    paths = cli("code-paths", "--json").json["data"]["code_paths"]
    assert paths[0]["function"] == "crunch"
    assert "hotspot in profile-1" in paths[0]["reason"]
    assert paths[1]["function"] == "checkout"


@pytest.mark.skipif(shutil.which("ctags") is None, reason="Universal Ctags is not installed")
def test_other_languages_through_ctags(repo: Path, cli: Any) -> None:
    (repo / "cart.go").write_text(
        "package main\n\nfunc checkoutTotal(xs []int) int {\n\treturn len(xs)\n}\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "go")
    start(cli, "checkout p95 under load")
    answer = cli("code-paths", "--json")
    paths = answer.json["data"]["code_paths"]
    assert ("cart.go", 3, "checkoutTotal") in [(p["file"], p["line"], p["function"]) for p in paths]
    assert answer.json["data"]["symbol_sources"]["ctags"] >= 1
    assert sys.executable
