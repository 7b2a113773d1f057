"""Every text Plotly draws is escaped: user words (a unit, a host, a run id, a label) show
as written, never as Plotly markup (``<a href>``, ``<b>``, ``<br>``) or a ``%{variable}``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.synthetic import write_state

from perfinvest.app.context import AppContext
from perfinvest.app.report import gather, load_investigation
from perfinvest.core.report.model import build_report

HOSTILE = '<a href="http://x.invalid">ms</a> <b>%{x}</b>'
#: The markup the figures write themselves (line breaks, bold flags, the hover's <extra>).
OURS = re.compile(r"<br>|</?b>|<extra></extra>")
#: Template variables the figures use themselves.
VARIABLES = re.compile(r"%\{(x|y|text|label|value|percentRoot|customdata\[\d\])(:[^}]*)?\}")


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, where)


def test_hostile_words_from_the_state_reach_plotly_escaped(tmp_path: Path) -> None:
    write_state(tmp_path / ".claude" / "perf")
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    inputs = gather(ctx, inv)
    inv.setup.metric.unit = HOSTILE
    assert inv.breaking_point is not None
    inv.breaking_point.parameter = HOSTILE
    inv.breaking_point.probes[0].stage = HOSTILE
    inv.constraints[0].label = HOSTILE
    inv.profiling[0].hotspots[0].function = HOSTILE
    runs = [r for k in inputs.baselines for r in k.baseline.runs]
    runs += [r for a, b in inputs.experiment_runs.values() for r in a + b]
    for run in runs:
        run.run_id = HOSTILE
        run.environment.host = HOSTILE
        run.environment.config_hash = HOSTILE
    for row in inputs.history_rows:
        row.update(label=HOSTILE, host=HOSTILE, source=HOSTILE, config_hash=HOSTILE)
    inputs.load_runs[0].result["profile"] = HOSTILE
    for verdict in inputs.load_runs[0].result["verdicts"]:
        verdict["slo"] = verdict["slo"].replace("p95_ms", "p95_ms" + HOSTILE.replace(" ", ""))
    report = build_report(inputs)
    seen = 0
    for plot in report.plots():
        for where, text in _strings(plot.figure):
            if where.endswith(".ids") or where.endswith(".parents"):
                continue  # icicle node keys: never drawn
            left = OURS.sub("", text)
            assert "<" not in left and ">" not in left, (plot.key, where, text)
            templated = where.endswith("hovertemplate") or where.endswith("texttemplate")
            left = VARIABLES.sub("", text) if templated else text
            assert "%{" not in left, (plot.key, where, text)
            seen += "&lt;a href=" in text
    assert seen >= 10  # the hostile words did reach the figures, escaped
    axes = {
        p.key: p.figure["layout"]["yaxis"]["title"]["text"]
        for p in report.plots()
        if p.key.startswith(("baseline-", "experiment-", "history", "constraints", "breaking"))
    }
    escaped = '&lt;a href="http://x.invalid"&gt;ms&lt;/a&gt; &lt;b&gt;&#37;{x}&lt;/b&gt;'
    assert all(title.endswith(f"({escaped})") for title in axes.values()), axes
    assert len(axes) == 6
