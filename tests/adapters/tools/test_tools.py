"""go test -json parsing and the measured-time readers, on real tool output.

The go fixtures are real output of the same benchmarks with and without ``-json`` (see
tests/fixtures/formats/README.md); the other exports are produced here by running the real
tool briefly (marked slow).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfinvest.adapters.formats import gobench, gotest_json
from perfinvest.adapters.formats.base import FormatError
from perfinvest.adapters.formats.registry import detect, parse
from perfinvest.adapters.tools import measured
from perfinvest.adapters.tools.run import detect as detect_tool

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"
JSON_EVENTS = FIXTURES / "gotest_json.jsonl"
TEXT = FIXTURES / "gobench.txt"
RESULT = re.compile(r"^(Benchmark\S*?)-\d+\s+(\d+)\s+(\S+) ns/op", re.MULTILINE)


def test_go_test_json_is_detected_and_carries_the_bench_lines() -> None:
    text = JSON_EVENTS.read_text()
    assert detect(text) == gotest_json.NAME
    result = parse(text)
    assert result.format == gotest_json.NAME
    plain = gotest_json.output_text(text)
    assert "pkg: example.com/fixturebench" in plain and "PASS" in plain
    assert len(RESULT.findall(plain)) == len(RESULT.findall(TEXT.read_text()))
    # exactly what the go-bench parser reads from the same text
    assert result.metrics == gobench.parse(plain).metrics
    allocs = [m for m in result.metrics if m.name == "allocs_per_op"]
    assert allocs and all(len(m.samples) == 3 for m in allocs)  # -count 3


def test_go_json_and_text_give_the_same_metric_shape() -> None:
    from_json = parse(JSON_EVENTS.read_text(), "go-json")
    from_text = parse(TEXT.read_text(), "go")
    shape = [(m.name, m.scenario, len(m.samples)) for m in from_json.metrics]
    assert shape == [(m.name, m.scenario, len(m.samples)) for m in from_text.metrics]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no test2json events"),
        ('{"Action": "output"\n', "expected a test2json event"),
        ('{"Time": "t", "Action": "fail", "Package": "example.com/x"}\n', "example.com/x failed"),
        ('{"Action": "output", "Package": "p", "Output": "PASS\\n"}\n', "no benchmark results"),
    ],
)
def test_go_test_json_bad_input_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        gotest_json.parse(text)


def test_go_measured_time_sums_iterations_times_ns_per_op() -> None:
    text = TEXT.read_text()
    expected: dict[str, float] = {}
    for name, iterations, ns_per_op in RESULT.findall(text):
        expected[name] = expected.get(name, 0.0) + int(iterations) * float(ns_per_op) * 1e-9
    assert expected and measured.go_test(text) == pytest.approx(expected)
    assert set(measured.go_test(JSON_EVENTS.read_text())) == set(expected)


def test_detect_peeks_at_files_in_the_working_folder(tmp_path: Path) -> None:
    (tmp_path / "test_fast.py").write_text("def test_x(benchmark):\n    benchmark(int)\n")
    assert detect_tool(["pytest", "test_fast.py"], False, tmp_path) == "pytest-benchmark"
    assert detect_tool(["pytest", "missing.py"], False, tmp_path) is None
    assert detect_tool(["hyperfine 'sleep 0.1'"], True, tmp_path) == "hyperfine"
    assert detect_tool(["hyperfine 'sleep 0.1' && echo done"], True, tmp_path) is None


@pytest.mark.slow
def test_measured_readers_on_real_exports(tmp_path: Path) -> None:
    if shutil.which("hyperfine") is None:
        pytest.skip("hyperfine is not installed (scripts/bootstrap.sh installs it)")
    hf = tmp_path / "hf.json"
    subprocess.run(
        ["hyperfine", "-N", "--runs", "4", "--export-json", str(hf), "sleep 0.01"],
        check=True,
        capture_output=True,
    )
    times = json.loads(hf.read_text())["results"][0]["times"]
    assert measured.hyperfine(hf.read_text()) == {"sleep 0.01": pytest.approx(sum(times))}
    assert measured.hyperfine_means(hf.read_text())[0] == pytest.approx(sum(times) / 4)
    pp = tmp_path / "pp.json"
    subprocess.run(
        [sys.executable, "-m", "pyperf", "timeit", "-q", "-p", "2", "-n", "2", "-l", "1000"]
        + ["-o", str(pp), "sum(range(10))"],
        check=True,
        capture_output=True,
    )
    doc = json.loads(pp.read_text())
    values = [v for run in doc["benchmarks"][0]["runs"] for v in run.get("values", [])]
    assert len(values) == 4
    assert measured.pyperf(pp.read_text()) == {"timeit": pytest.approx(sum(values) * 1000)}
