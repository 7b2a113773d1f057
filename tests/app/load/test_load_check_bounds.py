"""``load check`` refuses what a run cannot survive or an SLO that judges nothing (issue 22.3):
each with the line and field of the problem, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HEAD = "base_url: http://127.0.0.1:8000\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEAD + "routes:\n  - name: a\n    path: /\n    weight: 1.0e+23\n",
            "t.yaml:5: routes.0.weight: weight 1e+23 is above the limit of 10,000",
        ),
        (
            HEAD + "routes:\n  - {name: a, path: /, weight: 10001}\n",
            "t.yaml:3: routes.0.weight: weight 10001 is above the limit of 10,000",
        ),
        (
            HEAD + "routes:\n  - {name: a, path: /}\nprofiles:\n  smoke: {users: 1000000}\n",
            "t.yaml:5: profiles.smoke.users: Input should be less than or equal to 10000",
        ),
        (
            HEAD + "routes:\n  - {name: a, path: /}\nprofiles:\n  soak:\n    duration_s: 1e9\n",
            "t.yaml:6: profiles.soak.duration_s: Input should be less than or equal to 604800",
        ),
        (
            HEAD + "routes:\n  - {name: a, path: /}\nprofiles:\n  burst: {rate_rps: 1.0e+7}\n",
            "t.yaml:5: profiles.burst.rate_rps: Input should be less than or equal to 100000",
        ),
        (
            HEAD + "slo_defaults: ['error_rate < 150%']\nroutes:\n  - {name: a, path: /}\n",
            "t.yaml:2: slo_defaults: SLO 'error_rate < 150%': error_rate is a fraction",
        ),
        (
            HEAD + "routes:\n  - name: a\n    path: /\n    slo: ['p99_ms <= -5']\n",
            "t.yaml:5: routes.0.slo: SLO 'p99_ms <= -5': p99_ms is never negative",
        ),
        (
            HEAD + "routes:\n  - name: a\n    path: /\n    slo:\n      - 'rps == 0'\n",
            "t.yaml:5: routes.0.slo: SLO 'rps == 0': rps is measured, never exactly",
        ),
        (
            HEAD + "routes:\n  - name: a\n    path: /\n    slo: ['p95_ms <= 0']\n",
            "no run can meet p95_ms <= 0",
        ),
        (
            HEAD + "routes:\n  - {name: a, path: /}\n  - {name: b, path: /b}\n"
            "  - {name: a, path: /c}\n",
            "t.yaml:5: routes.2.name: route name 'a' is used already (line 3)",
        ),
    ],
)
def test_load_check_refuses_with_line_and_field(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(text)
    result = cli("load", "check", "--targets", "t.yaml", "--json")
    assert result.code == 2, result.out
    assert expected in result.json["error"]["message"], result.json["error"]["message"]
    assert "\n" not in result.json["error"]["message"]


@pytest.mark.parametrize(
    "slo",
    [
        "error_rate < 1%",
        "error_rate == 0",
        "error_rate <= 0",
        "p95_ms <= 150",
        "rps >= 50",
        "requests >= 1",
        "error_rate < 100%",
    ],
)
def test_sensible_slos_still_pass(
    slo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(
        HEAD + f"slo_defaults: ['{slo}']\nroutes:\n  - {{name: a, path: /}}\n"
    )
    result = cli("load", "check", "--targets", "t.yaml", "--json")
    assert result.code == 0, result.out


def test_the_bounds_themselves_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(
        HEAD + "routes:\n  - {name: a, path: /, weight: 10000}\n"
        "profiles:\n  smoke: {users: 10000, duration_s: 604800}\n  burst: {rate_rps: 100000}\n"
    )
    result = cli("load", "check", "--targets", "t.yaml", "--json")
    assert result.code == 0, result.out
