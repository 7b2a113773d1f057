"""Query budgets (pure): ``perf/query-budgets.yaml`` against a query stats file.

Budgets: ``queries: [{query_name, p95_ms_budget, max_rows, notes}]``. Stats (documented in
docs/guardrails.md, producible from ``pg_stat_statements`` or a timed SQLite run):
``{"source": "...", "queries": [{"query_name", "calls", "p95_ms", "rows"}]}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from perfinvest.core.errors import usage_error
from perfinvest.core.guardrails.budgets import BudgetVerdict


def _num(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise usage_error(f"{where} must be a number, got {value!r}")
    return float(value)


def parse_stats(raw: Any, source: str) -> dict[str, dict[str, float | None]]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("queries"), list):
        raise usage_error(f"{source}: expected an object with a `queries` list")
    out: dict[str, dict[str, float | None]] = {}
    for i, q in enumerate(raw["queries"]):
        if not isinstance(q, Mapping) or not isinstance(q.get("query_name"), str):
            raise usage_error(f"{source}: queries[{i}] needs a `query_name` string")
        where = f"{source}: queries[{i}] ({q['query_name']})"
        out[q["query_name"]] = {
            "p95_ms": _num(q.get("p95_ms"), f"{where} p95_ms"),
            "rows": _num(q.get("rows"), f"{where} rows"),
        }
    return out


def check_queries(
    raw_budgets: Any, stats: Mapping[str, Mapping[str, float | None]], source: str
) -> list[BudgetVerdict]:
    """A p95 over ``p95_ms_budget`` or rows over ``max_rows`` is a breach."""
    if not isinstance(raw_budgets, Mapping) or not isinstance(raw_budgets.get("queries"), list):
        raise usage_error(f"{source}: expected a mapping with a `queries:` list")
    out = []
    for i, b in enumerate(raw_budgets["queries"]):
        if not isinstance(b, Mapping) or not isinstance(b.get("query_name"), str):
            raise usage_error(f"{source}: queries[{i}] needs `query_name: NAME`")
        name = b["query_name"]
        if name not in stats:
            raise usage_error(
                f"query budget on {name}: the stats file has no such query "
                f"(it has {', '.join(sorted(stats)) or 'none'})"
            )
        for key, stat, unit in (("p95_ms_budget", "p95_ms", "ms"), ("max_rows", "rows", "rows")):
            limit = _num(b.get(key), f"{source}: queries[{i}] {key}")
            if limit is None:
                continue
            value = stats[name][stat]
            if value is None:
                raise usage_error(f"query budget on {name}: the stats file gives no {stat}")
            bad = value > limit
            out.append(
                BudgetVerdict(
                    name,
                    "max",
                    limit,
                    value,
                    unit,
                    "breach" if bad else "ok",
                    f"{name}: {stat} = {value:.4g} {unit} against the budget {limit:.4g}"
                    + (f" ({b['notes']})" if b.get("notes") else ""),
                )
            )
    return out
