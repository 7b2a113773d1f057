"""``perfinvest budget queries`` against queries timed for real on a real SQLite database."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

QUERIES = {
    "by_id": "SELECT * FROM orders WHERE id = 42",
    "full_scan": "SELECT * FROM orders WHERE note LIKE '%7%'",
    "export_all": "SELECT * FROM orders",  # no budget: reported unbudgeted
}


def _stats(tmp: Path) -> Path:
    """The documented stats file from timing each query 20 times on a real database."""
    db = sqlite3.connect(tmp / "app.db")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)")
    db.executemany("INSERT INTO orders VALUES (?, ?)", ((i, f"n{i}") for i in range(20000)))
    db.commit()
    rows: list[dict[str, Any]] = []
    for name, sql in QUERIES.items():
        times = []
        for _ in range(20):
            t = time.perf_counter()
            found = db.execute(sql).fetchall()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        rows.append({"query_name": name, "calls": 20, "p95_ms": times[18], "rows": len(found)})
    db.close()
    out = tmp / "stats.json"
    out.write_text(json.dumps({"source": "sqlite", "queries": rows}))
    return out


def test_query_budgets_on_real_sqlite(cli: Any, repo: Path, tmp_path: Path) -> None:
    stats = _stats(tmp_path)
    budgets = tmp_path / "query-budgets.yaml"
    budgets.write_text(
        "queries:\n"
        "  - query_name: by_id\n    p95_ms_budget: 50\n    max_rows: 1\n    notes: primary key\n"
        "  - query_name: full_scan\n    p95_ms_budget: 500\n    max_rows: 100\n"
    )
    junit = tmp_path / "junit.xml"
    warn = cli(
        "budget", "queries", str(stats), "--budgets", str(budgets), "--junit", str(junit), "--json"
    )  # fmt: skip
    assert warn.code == 0, warn.out
    breaches = [v for v in warn.json["data"]["verdicts"] if v["status"] == "breach"]
    # 20000 notes, those containing a 7: far more than 100 rows; by_id within budget
    assert [(b["metric"], b["unit"]) for b in breaches] == [("full_scan", "rows")]
    (unbudgeted,) = [v for v in warn.json["data"]["verdicts"] if v["status"] == "unbudgeted"]
    assert unbudgeted["metric"] == "export_all"
    assert "rows = 20,000)" in unbudgeted["message"]  # a count in full, not 2e+04
    names = [p.split('"')[0] for p in junit.read_text().split(' name="')[2:]]
    assert len(names) == len(set(names)) == 5  # p95 and rows of two queries, one unbudgeted
    assert "e+0" not in warn.json["data"]["markdown"]
    negative = json.loads(stats.read_text())
    negative["queries"][0]["p95_ms"] = -1.0
    stats.write_text(json.dumps(negative))
    bad_stats = cli("budget", "queries", str(stats), "--budgets", str(budgets), "--json")
    assert bad_stats.code == 2
    assert "queries[0] (by_id) p95_ms = -1: a time is >= 0" in bad_stats.json["error"]["message"]
    negative["queries"][0]["p95_ms"] = 1.0
    stats.write_text(json.dumps(negative))
    enforced = cli("budget", "queries", str(stats), "--budgets", str(budgets), "--enforce")
    assert enforced.code == 8
    budgets.write_text("queries:\n  - query_name: nope\n    max_rows: 1\n")
    bad = cli("budget", "queries", str(stats), "--budgets", str(budgets), "--json")
    assert bad.code == 2 and "no such query" in bad.json["error"]["message"]
