"""A near-zero baseline (issue 23 item 7): strict JSON everywhere (null with a reason), a
finding that says the change has no percentage, and no numpy warning on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def _run(n: int, value: float) -> dict[str, Any]:
    return {
        "kind": "perfinvest.run",
        "format_version": 1,
        "run_id": f"run-{n}",
        "started_at": "2026-11-23T10:00:00Z",
        "duration_s": 1.0,
        "requested_duration_s": 1.0,
        "compliant": False,
        "metrics": [{"name": "err", "value": value, "unit": "", "direction": "lower"}],
        "environment": {"config_hash": "same"},
    }


def _files(tmp_path: Path, base: list[float], current: list[float]) -> tuple[Path, Path]:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([_run(i, v) for i, v in enumerate(base)]))
    b.write_text(json.dumps([_run(i, v) for i, v in enumerate(current)]))
    return a, b


def _strict(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    "base",
    [[5e-324, 1e-323, 5e-324], [1e-300, 2e-300, 1.5e-300], [-1e-308, 1e-308, 2e-308]],
)
def test_diff_json_and_diff_json_file_are_strict(tmp_path: Path, base: list[float]) -> None:
    a, b = _files(tmp_path, base, [1.0, 1.2, 1.1])
    done = subprocess.run(
        [sys.executable, "-m", "perfinvest", "diff", str(a), str(b), "--json",
         "--report-dir", str(tmp_path / "out")],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stderr and "RuntimeWarning" not in done.stderr
    answer = _strict(done.stdout)
    row = next(m for m in answer["data"]["comparison"]["metrics"] if m["metric"] == "err")
    assert row["relative_change"] is None and row["ci_low"] is None and row["ci_high"] is None
    assert "percentage" in row["reason"] or "relative change is undefined" in row["reason"]
    finding = next(f for f in answer["findings"] if f.startswith("err:"))
    assert "nan" not in finding.lower() and "inf" not in finding.lower()
    report = _strict((tmp_path / "out" / "diff.json").read_text())
    err = next(m for m in report["metrics"] if m["metric"] == "err")
    assert err["change"] is None and err["verdict"] == "inconclusive"
    assert "nan" not in (tmp_path / "out" / "diff.md").read_text().lower()


def test_an_ordinary_change_keeps_its_percentage(tmp_path: Path, cli: Any) -> None:
    a, b = _files(tmp_path, [1.0, 1.01, 0.99], [2.0, 2.02, 1.98])
    answer = cli("diff", str(a), str(b), "--json")
    row = answer.json["data"]["comparison"]["metrics"][0]
    assert row["relative_change"] == pytest.approx(1.0)
    assert row["verdict"] == "regressed"


def test_strict_dumps_turns_non_finite_floats_into_null() -> None:
    from perfinvest.core.strict_json import dumps

    text = dumps({"a": float("nan"), "b": [float("inf"), 1.5], "c": (float("-inf"),)})
    assert _strict(text) == {"a": None, "b": [None, 1.5], "c": [None]}
