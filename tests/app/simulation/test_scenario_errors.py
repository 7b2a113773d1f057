"""An invalid scenario: exit 2 and one line naming the field and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

GOOD = """\
name: tiny
arrival: {kind: open, rate_per_s: 10}
duration_s: 5
routes:
  - name: r
    stages:
      - name: s
        service: {kind: exponential, mean_ms: 5}
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("rate_per_s: 10", "rate_per_s: 10, burst: 3"), "arrival.burst: unknown field"),
        (
            ("rate_per_s: 10", "rate_per_s: -1"),
            "arrival.rate_per_s: input should be greater than 0",
        ),
        (("routes:", "paths:"), "paths: unknown field (did you mean routes?"),
        (("kind: open, ", ""), "arrival.kind: expected one of 'open', 'closed' (it is missing)"),
        (
            ("kind: exponential, mean_ms: 5", "kind: gamma, mean_ms: 5"),
            "routes.0.stages.0.service.kind: expected one of 'fixed', 'exponential', "
            "'lognormal', 'empirical', got 'gamma'",
        ),
        (
            ("mean_ms: 5", "mean: 5"),
            "routes.0.stages.0.service.mean: unknown field (did you mean mean_ms?",
        ),
        (("duration_s: 5", "duration_s: 5\nwarmup_s: 9"), "warmup_s (9) must be less than"),
        (("name: s", "name: s\n        workers: 0"), "routes.0.stages.0.workers: input should be"),
        (("name: r", "name: all"), "route name 'all' is reserved"),
        (
            ("{kind: exponential, mean_ms: 5}", "{kind: empirical}"),
            "routes.0.stages.0.service: give samples: [...] or from: FILE",
        ),
        (
            ("{kind: exponential, mean_ms: 5}", "{kind: empirical, from: nowhere.json}"),
            "needs metric: NAME",
        ),
        (
            ("{kind: exponential, mean_ms: 5}", "{kind: empirical, from: nowhere.json, metric: x}"),
            "routes.0.stages.0.service.from: cannot read",
        ),
        (("kind: open, rate_per_s: 10", "kind: closed, users: 3"), "arrival.think_time: missing"),
    ],
)
def test_invalid_field_is_one_line(
    cli: Any, tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(*change, 1))
    answer = cli("simulate", str(path), "--json")
    assert answer.code == 2, answer.out
    message = answer.json["error"]["message"]
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message, message
    text = cli("simulate", str(path))
    assert text.code == 2
    assert text.err.count("\n") == 1 and expected in text.err


def test_missing_routes(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.split("routes:", maxsplit=1)[0])
    answer = cli("simulate", str(path), "--json")
    assert answer.code == 2
    assert (
        answer.json["error"]["message"]
        == f"{path}: routes: missing (required; docs/simulate.md describes it)"
    )


def test_empty_routes(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.split("routes:", maxsplit=1)[0] + "routes: []\n")
    answer = cli("simulate", str(path), "--json")
    assert (
        answer.code == 2
        and "routes: list should have at least 1 item" in answer.json["error"]["message"]
    )


def test_bad_yaml_names_the_line(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\narrival: {kind: open\n")
    answer = cli("simulate", str(path), "--json")
    assert answer.code == 2
    message = answer.json["error"]["message"]
    assert message.startswith(f"{path} is not valid YAML line ") and "\n" not in message


def test_not_a_mapping(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- just\n- a list\n")
    answer = cli("simulate", str(path), "--json")
    assert answer.code == 2 and "expected a mapping" in answer.json["error"]["message"]


def test_missing_file_names_the_bundled_ones(cli: Any, tmp_path: Path) -> None:
    answer = cli("simulate", str(tmp_path / "nope.yaml"), "--json")
    assert answer.code == 2
    message = answer.json["error"]["message"]
    assert "cannot read scenario" in message and "api-route, ingestion-pipeline" in message


def test_bad_options(cli: Any, tmp_path: Path) -> None:
    assert cli("simulate", "api-route", "--seed", "-1", "--json").code == 2
    assert cli("simulate", "--json").code == 2
    answer = cli(
        "simulate", "api-route", "--batches", "1", "--export", str(tmp_path / "x"), "--json"
    )
    assert answer.code == 2 and "--batches" in answer.json["error"]["message"]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("noequals", "--set 'noequals': expected PATH=VALUE"),
        ("routes.nope.weight=2", "--set routes.nope.weight: no item named 'nope' at routes.nope"),
        ("routes.5.weight=2", "--set routes.5.weight: no routes.5 (the list has 1 items)"),
        ("arrival.rate=5", "tiny.yaml: arrival.rate: unknown field"),
        (
            "arrival.rate_per_s=-3",
            "tiny.yaml: arrival.rate_per_s: input should be greater than 0, got -3",
        ),
        ("duration_s=[1", "--set duration_s is not valid YAML"),
    ],
)
def test_bad_set_is_one_line(cli: Any, tmp_path: Path, setting: str, expected: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD)
    answer = cli("simulate", str(path), "--set", setting, "--json")
    assert answer.code == 2
    message = answer.json["error"]["message"]
    assert expected in message and "\n" not in message, message


def test_bundled_scenarios_match_the_published_schema() -> None:
    """schemas/scenario.schema.json (for editors) accepts the bundled files, rejects typos."""
    import json

    import jsonschema
    import yaml

    root = Path(__file__).resolve().parents[3]
    schema = json.loads((root / "schemas" / "scenario.schema.json").read_text())
    for path in sorted((root / "src" / "perfinvest" / "scenarios").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    data = yaml.safe_load(GOOD)
    data["routes"][0]["stages"][0]["wrokers"] = 2
    with pytest.raises(jsonschema.ValidationError, match="wrokers"):
        jsonschema.validate(data, schema)


def test_too_big_or_timeless_runs_are_refused(cli: Any, tmp_path: Path) -> None:
    big = cli("simulate", "api-route", "--set", "duration_s=100000", "--json")
    assert big.code == 2
    assert "about 15,000,000 requests" in big.json["error"]["message"]
    assert cli("simulate", "api-route", "--max-requests", "20000000", "--set",
               "duration_s=200", "--json").code == 0  # fmt: skip
    zero = "{kind: fixed, value_ms: 0}"
    timeless = cli(
        "simulate", "ingestion-pipeline", "--set", f"arrival.think_time={zero}",
        *[f"--set=routes.0.stages.{i}.service={zero}" for i in range(3)], "--json",
    )  # fmt: skip
    assert timeless.code == 2
    assert "never advances the clock" in timeless.json["error"]["message"]


def test_zero_think_time_with_rejections_is_refused(cli: Any) -> None:
    """A rejected user with no think time would retry at the same instant forever."""
    answer = cli(
        "simulate", "ingestion-pipeline", "--set", "arrival.think_time={kind: fixed, value_ms: 0}",
        "--set", "routes.0.stages.enrich.queue_limit=0", "--json",
    )  # fmt: skip
    assert answer.code == 2
    assert "retries at the same instant forever" in answer.json["error"]["message"]
    fine = cli(
        "simulate", "ingestion-pipeline", "--set", "arrival.think_time={kind: fixed, value_ms: 0}",
        "--set", "routes.0.stages.enrich.queue_limit=null", "--set", "duration_s=5",
        "--set", "warmup_s=1", "--json",
    )  # fmt: skip
    assert fine.code == 0, fine.out
