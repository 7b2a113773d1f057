"""JSON Schemas of the persisted documents, generated from the models (``schemas/``)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from perfinvest.core.export import perfmetrics
from perfinvest.core.models import SCHEMA_MODELS
from perfinvest.store.atomic import atomic_write_text


def render_schemas() -> dict[str, str]:
    """File name (relative to ``schemas/``) → schema text, deterministic so a test can
    detect drift byte for byte."""
    from perfinvest.core.load.targets import Targets  # the targets file of `perfinvest load`
    from perfinvest.core.simulation.scenario import (
        Scenario,  # the scenario file of `perfinvest simulate`
    )

    models: dict[str, type[BaseModel]] = {
        **SCHEMA_MODELS,
        "targets": Targets,
        "scenario": Scenario,
    }
    rendered = {}
    for name, model in models.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://perfinvest.dev/schemas/{name}.schema.json"
        rendered[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    # PerfMetrics (docs/guardrails.md): one document, and the list `metrics export --history` writes
    for path, perf_schema in (
        ("perf/PerfMetrics.v0.1.json", perfmetrics.SCHEMA),
        ("perf/PerfMetricsList.v0.1.json", perfmetrics.LIST_SCHEMA),
    ):
        rendered[path] = json.dumps(perf_schema, indent=2, sort_keys=True) + "\n"
    return rendered


def stale_schemas(directory: Path) -> list[str]:
    """Schema files in ``directory`` that are missing or differ from the models."""
    return [
        name
        for name, text in render_schemas().items()
        if not (directory / name).is_file()
        or (directory / name).read_text(encoding="utf-8") != text
    ]


def write_schemas(directory: Path) -> list[str]:
    written = []
    for name, text in render_schemas().items():
        atomic_write_text(directory / name, text)
        written.append(name)
    return written
