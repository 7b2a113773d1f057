"""How long a tool really measured each scenario, read from its own export.

This is the duration check of a tool-driven run: rule 2 asks for >= 60 s of measurement,
and only the tool knows how much of its wall time was measurement (calibration, warmups,
process start-up and collection are not). Scenario names follow the metric parsers'
(hyperfine's command, the pytest node id, the pyperf benchmark name, the go benchmark).
Bad exports raise :class:`FormatError`, like the parsers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

from perfinvest.adapters.formats import gotest_json
from perfinvest.adapters.formats.base import FormatError
from perfinvest.core.tools import recognise as tools

_GO_RESULT = re.compile(
    r"^(Benchmark\S*?)(?:-\d+)?\s+(\d+)\s+([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?) ns/op\b",
    re.MULTILINE,
)


def _json(text: str, tool: str) -> dict[str, object]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise FormatError(tool, "the export is not JSON") from None
    if not isinstance(doc, dict):
        raise FormatError(tool, "the export is not a JSON object")
    return doc


def _number(value: object, default: float = 0.0) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def hyperfine(text: str) -> dict[str, float]:
    """Sum of each command's run times (``times``), the same samples the parser keeps."""
    measured: dict[str, float] = {}
    for index, raw in enumerate(_list(_json(text, "hyperfine").get("results"))):
        result = _dict(raw)
        name = str(result.get("command", f"command {index + 1}"))
        if name in measured:
            name = f"{name} #{index + 1}"
        measured[name] = math.fsum(_number(t) for t in _list(result.get("times")))
    return measured


def hyperfine_means(text: str) -> list[float]:
    """Each command's mean run time in a (calibration) export."""
    results = _list(_json(text, "hyperfine").get("results"))
    return [_number(_dict(raw).get("mean"), math.nan) for raw in results]


def pytest_benchmark(text: str) -> dict[str, float]:
    """Per benchmark: ``total`` (sum of the per-iteration round times) x ``iterations``."""
    measured: dict[str, float] = {}
    for index, raw in enumerate(_list(_json(text, "pytest-benchmark").get("benchmarks"))):
        bench = _dict(raw)
        name = str(bench.get("fullname") or bench.get("name") or f"benchmark {index + 1}")
        if name in measured:
            name = f"{name} #{index + 1}"
        stats = _dict(bench.get("stats"))
        measured[name] = _number(stats.get("total")) * _number(stats.get("iterations"), 1.0)
    return measured


def pyperf(text: str) -> dict[str, float]:
    """Per benchmark: each value x its loops x inner loops (calibration runs have none)."""
    doc = _json(text, "pyperf")
    common = _dict(doc.get("metadata"))
    measured: dict[str, float] = {}
    for index, raw in enumerate(_list(doc.get("benchmarks"))):
        bench = _dict(raw)
        meta = {**common, **_dict(bench.get("metadata"))}
        name = meta.get("name")
        scenario = name if isinstance(name, str) and name else f"benchmark {index + 1}"
        if scenario in measured:
            scenario = f"{scenario} #{index + 1}"
        total = 0.0
        for run_raw in _list(bench.get("runs")):
            run = _dict(run_raw)
            run_meta = {**meta, **_dict(run.get("metadata"))}
            loops = _number(run_meta.get("loops"), 1.0) * _number(run_meta.get("inner_loops"), 1.0)
            total += math.fsum(_number(v) for v in _list(run.get("values"))) * loops
        measured[scenario] = total
    return measured


def go_test(text: str) -> dict[str, float]:
    """Per benchmark: iterations x ns/op of every result line (``-count`` repeats summed)."""
    plain = gotest_json.output_text(text) if text.lstrip().startswith("{") else text
    measured: dict[str, float] = {}
    for match in _GO_RESULT.finditer(plain):
        seconds = int(match.group(2)) * float(match.group(3)) * 1e-9
        measured[match.group(1)] = measured.get(match.group(1), 0.0) + seconds
    return measured


READERS: dict[str, Callable[[str], dict[str, float]]] = {
    tools.HYPERFINE: hyperfine,
    tools.PYTEST_BENCHMARK: pytest_benchmark,
    tools.PYPERF: pyperf,
    tools.GO_TEST: go_test,
}
