"""Query budgets (pure): ``perf/query-budgets.yaml`` against a query stats file.

Budgets: ``queries: [{query_name, p95_ms_budget, max_rows, notes}]``. Stats (documented in
docs/guardrails.md, producible from ``pg_stat_statements`` or a timed SQLite run):
``{"source": "...", "queries": [{"query_name", "calls", "p95_ms", "rows"}]}``.

Nonsense is refused with the file's line and the field: a negative ``p95_ms`` or ``rows``,
``calls`` under 1 (a query that never ran has no p95), a budget of ``p95_ms_budget <= 0`` or
``max_rows < 0``. A query of the stats file that no budget names is reported
``unbudgeted`` (never a breach), so a slow new query is seen rather than skipped.
"""

from __future__ import annotations

import json
import json.scanner
import math
from collections.abc import Mapping
from typing import Any

from perfinvest.core.errors import usage_error
from perfinvest.core.guardrails.budgets import BudgetLimit, BudgetVerdict, number_text

# (index in `queries:`, field) -> the 1-based line of that field ((index, "") the item's)
Lines = Mapping[tuple[int, str], int]

_LIMITS: tuple[tuple[BudgetLimit, str, str], ...] = (
    ("p95_ms_budget", "p95_ms", "ms"),
    ("max_rows", "rows", "rows"),
)


class _Located(dict[str, Any]):
    """A JSON object that knows the line it starts on."""

    line: int = 0


def loads_stats(text: str, source: str) -> Any:
    """The stats file's JSON, each object a dict that knows its line (``.line``)."""
    decoder = json.JSONDecoder()
    plain_object = decoder.parse_object  # type: ignore[attr-defined]  # untyped in typeshed

    def located(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        text_, start = s_and_end
        obj, end = plain_object(s_and_end, *args)
        if isinstance(obj, dict):
            obj = _Located(obj)
            obj.line = text_.count("\n", 0, start) + 1
        return obj, end

    decoder.parse_object = located  # type: ignore[attr-defined]
    # the pure-Python scanner calls decoder.parse_object (the C one does not)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise usage_error(f"{source} is not JSON (line {exc.lineno}: {exc.msg})") from None


def _num(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise usage_error(f"{where} must be a number, got {value!r}")
    return float(value)


def _at_least(value: float | None, floor: float, where: str, what: str) -> float | None:
    if value is not None and value < floor:
        raise usage_error(f"{where} = {number_text(value)}: {what}")
    return value


def parse_stats(raw: Any, source: str) -> dict[str, dict[str, float | None]]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("queries"), list):
        raise usage_error(f"{source}: expected an object with a `queries` list")
    out: dict[str, dict[str, float | None]] = {}
    for i, q in enumerate(raw["queries"]):
        line = f":{q.line}" if getattr(q, "line", 0) else ""
        if not isinstance(q, Mapping) or not isinstance(q.get("query_name"), str):
            raise usage_error(f"{source}{line}: queries[{i}] needs a `query_name` string")
        where = f"{source}{line}: queries[{i}] ({q['query_name']})"
        calls = _num(q.get("calls"), f"{where} calls")
        if calls is not None and (calls < 1 or calls != int(calls)):
            raise usage_error(
                f"{where} calls = {number_text(calls)}: a query that ran has calls >= 1 "
                "(whole); leave out a query that never ran"
            )
        out[q["query_name"]] = {
            "p95_ms": _at_least(
                _num(q.get("p95_ms"), f"{where} p95_ms"), 0, f"{where} p95_ms", "a time is >= 0"
            ),
            "rows": _at_least(
                _num(q.get("rows"), f"{where} rows"), 0, f"{where} rows", "a row count is >= 0"
            ),
        }
    return out


def _budget_limit(b: Mapping[str, Any], key: str, where: str) -> float | None:
    limit = _num(b.get(key), f"{where} {key}")
    if limit is None:
        return None
    if key == "p95_ms_budget" and limit <= 0:
        raise usage_error(f"{where} {key} = {number_text(limit)}: a p95 budget is > 0 ms")
    return _at_least(limit, 0, f"{where} {key}", "a row budget is >= 0")


def check_queries(
    raw_budgets: Any,
    stats: Mapping[str, Mapping[str, float | None]],
    source: str,
    lines: Lines | None = None,
) -> list[BudgetVerdict]:
    """A p95 over ``p95_ms_budget`` or rows over ``max_rows`` is a breach; a stats query
    no budget names is one ``unbudgeted`` verdict."""
    lines = lines or {}
    if not isinstance(raw_budgets, Mapping) or not isinstance(raw_budgets.get("queries"), list):
        raise usage_error(f"{source}: expected a mapping with a `queries:` list")
    out = []
    for i, b in enumerate(raw_budgets["queries"]):
        at = f":{lines[(i, '')]}" if (i, "") in lines else ""
        if not isinstance(b, Mapping) or not isinstance(b.get("query_name"), str):
            raise usage_error(f"{source}{at}: queries[{i}] needs `query_name: NAME`")
        name = b["query_name"]
        if name not in stats:
            raise usage_error(
                f"{source}{at}: query budget on {name}: the stats file has no such query "
                f"(it has {', '.join(sorted(stats)) or 'none'})"
            )
        for key, stat, unit in _LIMITS:
            field_at = f":{lines[(i, key)]}" if (i, key) in lines else at
            limit = _budget_limit(b, key, f"{source}{field_at}: queries[{i}] ({name})")
            if limit is None:
                continue
            value = stats[name][stat]
            if value is None:
                raise usage_error(f"query budget on {name}: the stats file gives no {stat}")
            bad = value > limit
            out.append(
                BudgetVerdict(
                    name,
                    key,
                    limit,
                    value,
                    unit,
                    "breach" if bad else "ok",
                    f"{name}: {stat} = {number_text(value)} {unit} against the budget "
                    f"{number_text(limit)}" + (f" ({b['notes']})" if b.get("notes") else ""),
                )
            )
    budgeted = {b["query_name"] for b in raw_budgets["queries"]}
    out += [_unbudgeted(name, stats[name]) for name in sorted(set(stats) - budgeted)]
    return out


def _unbudgeted(name: str, stat: Mapping[str, float | None]) -> BudgetVerdict:
    p95, rows = stat["p95_ms"], stat["rows"]
    measured = ", ".join(
        f"{label} = {number_text(v)}{unit}"
        for label, v, unit in (("p95_ms", p95, " ms"), ("rows", rows, ""))
        if v is not None
    )
    return BudgetVerdict(
        name,
        "unbudgeted",
        None,
        p95,
        "ms",
        "unbudgeted",
        f"{name}: no budget ({measured or 'no p95_ms or rows'}); add one to the query budgets file",
    )
