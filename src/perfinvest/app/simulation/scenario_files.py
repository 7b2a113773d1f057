"""Scenario files for ``perfinvest simulate``: YAML, bundled names, ``--set``, ``from:`` samples.

Validation is the core's (:func:`perfinvest.core.simulation.scenario.parse_scenario`); this
module reads files: the scenario, the bundled ones shipped as package data, and the result files an
empirical distribution takes its samples from.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from perfinvest.core.errors import usage_error
from perfinvest.core.simulation.scenario import (
    TIME_UNITS_MS,
    Distribution,
    Empirical,
    Scenario,
    parse_scenario,
)

#: Bundled scenarios: the name users type and the package file it reads.
BUNDLED = {"api-route": "api_route.yaml", "ingestion-pipeline": "ingestion_pipeline.yaml"}


def bundled_scenarios() -> list[dict[str, str]]:
    """Name, file and description of every bundled scenario, in name order."""
    out = []
    for name in sorted(BUNDLED):
        text = _bundled_text(name)
        data = _yaml(text, BUNDLED[name])
        out.append(
            {"name": name, "file": BUNDLED[name], "description": data.get("description", "")}
        )
    return out


def _bundled_text(name: str) -> str:
    return (resources.files("perfinvest") / "scenarios" / BUNDLED[name]).read_text("utf-8")


def _yaml(text: str, source: str) -> Any:
    import yaml

    from perfinvest.store.safe_yaml import load_yaml

    try:
        return load_yaml(text, source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise usage_error(f"{source} is not valid YAML{where}: {problem} (fix the file)") from None


def apply_overrides(data: Any, overrides: Sequence[str]) -> Any:
    """``PATH=VALUE`` settings applied to the loaded YAML before it is validated.

    ``PATH`` is dotted; a list is indexed by position or by an item's ``name``
    (``routes.checkout.stages.app.workers=6``); ``VALUE`` is YAML (``6``, ``null``,
    ``{kind: fixed, value_ms: 3}``). A what-if without editing the file, and a way to
    put ``$PERF_PARAM_VALUE`` into a scenario for ``breaking-point``.
    """
    import copy

    data = copy.deepcopy(data)
    for item in overrides:
        path, sep, raw = item.partition("=")
        if not sep or not path:
            raise usage_error(f"--set {item!r}: expected PATH=VALUE (e.g. arrival.rate_per_s=200)")
        value = _yaml(raw, f"--set {path}")
        parts = path.split(".")
        node = data
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            where = ".".join(parts[: depth + 1])
            if isinstance(node, dict):
                if last:
                    node[part] = value
                elif part not in node:
                    raise usage_error(f"--set {path}: the scenario has no {where}")
                else:
                    node = node[part]
            elif isinstance(node, list):
                index = _index(node, part, path, where)
                if last:
                    node[index] = value
                else:
                    node = node[index]
            else:
                raise usage_error(f"--set {path}: {'.'.join(parts[:depth])} is not a mapping")
    return data


def _index(items: list[Any], part: str, path: str, where: str) -> int:
    if part.isdigit():
        if int(part) >= len(items):
            raise usage_error(f"--set {path}: no {where} (the list has {len(items)} items)")
        return int(part)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    names = ", ".join(str(i.get("name")) for i in items if isinstance(i, dict))
    raise usage_error(f"--set {path}: no item named {part!r} at {where} (names: {names})")


def load_scenario(spec: str | Path | Scenario, overrides: Sequence[str] = ()) -> Scenario:
    """A scenario from a file path, a bundled name (``api-route``) or as given.

    An existing file wins over a bundled name of the same spelling. ``overrides`` are
    ``PATH=VALUE`` settings (:func:`apply_overrides`). Empirical distributions that name a
    result file (``from:``) get that file's samples, read relative to the scenario file's
    folder.
    """
    if isinstance(spec, Scenario):
        if overrides:
            spec = parse_scenario(
                apply_overrides(spec.model_dump(by_alias=True, exclude_none=True), overrides),
                "scenario",
            )
        return _fill_empirical(spec, Path.cwd(), "scenario")
    path = Path(spec)
    if not path.exists() and str(spec) in BUNDLED:
        text, source, base = _bundled_text(str(spec)), str(spec), Path.cwd()
    else:
        from perfinvest.store.safe_yaml import read_yaml_text

        try:
            text = read_yaml_text(path)
        except OSError as exc:
            names = ", ".join(sorted(BUNDLED))
            raise usage_error(
                f"cannot read scenario {path}: {exc.strerror or exc} (give a scenario file "
                f"or a bundled name: {names}; see `perfinvest simulate --list`)"
            ) from None
        source, base = str(path), path.parent
    data = _yaml(text, source)
    if overrides and isinstance(data, dict):
        data = apply_overrides(data, overrides)
    scenario = parse_scenario(data, source)
    return _fill_empirical(scenario, base, source)


def _fill_empirical(scenario: Scenario, base: Path, source: str) -> Scenario:
    def fill(where: str, dist: Distribution) -> Distribution:
        if not isinstance(dist, Empirical) or dist.source is None:
            return dist
        assert dist.metric is not None  # the model requires metric with from
        samples, unit = _samples_from(base / dist.source, dist, f"{source}: {where}")
        return dist.model_copy(update={"samples": samples, "unit": unit})

    return scenario.map_distributions(fill)


def _samples_from(path: Path, dist: Empirical, where: str) -> tuple[list[float], str]:
    """The samples of ``dist.metric`` (in ``dist.scenario``) from a result file, and unit."""
    from perfinvest.app.measuring.compare import load_runs
    from perfinvest.core.errors import PerfError
    from perfinvest.core.stats.baselines import run_samples

    try:
        runs, _ = load_runs(path)
    except PerfError as error:
        raise usage_error(f"{where}.from: {error.message}") from None
    key = f"{dist.scenario}:{dist.metric}" if dist.scenario else str(dist.metric)
    pooled = run_samples(runs)
    units = {m.key: m.unit for r in runs for m in r.metrics}
    if key not in units:
        known = ", ".join(sorted(units)) or "none"
        raise usage_error(
            f"{where}.metric: {path} has no metric {key!r} (it has: {known}; "
            "set metric: and scenario: to one of them)"
        )
    if not pooled.get(key):
        with_samples = ", ".join(sorted(pooled)) or "none"
        raise usage_error(
            f"{where}.metric: {path} keeps no raw samples of {key!r} (metrics with samples: "
            f"{with_samples}); use samples: [...] or another metric"
        )
    unit = units[key]
    if unit not in TIME_UNITS_MS:
        raise usage_error(
            f"{where}.metric: {key!r} is in {unit or 'no unit'!r}, not a time unit "
            f"({', '.join(TIME_UNITS_MS)}); pick a time metric"
        )
    return [float(x) for x in pooled[key]], unit
