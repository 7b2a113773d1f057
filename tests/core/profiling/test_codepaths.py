"""Ranking code paths from hotspots, scenario words and history (pure)."""

from __future__ import annotations

from perfinvest.core.models import CommitEvidence, HotLine, Hotspot
from perfinvest.core.profiling.codepaths import Symbol, keywords, rank


def test_keywords_drop_stopwords_and_metric_noise() -> None:
    assert keywords("checkout p95 under load", "p95_ms < 120") == ["checkout"]


def test_hotspot_outranks_keywords_and_every_entry_says_why() -> None:
    symbols = [
        Symbol("app/cart.py", "compute_total", 10, 30, text="for item in items: tax(item)"),
        Symbol("app/checkout.py", "render_checkout_page", 5, 9),
        Symbol("app/util.py", "noop", 1, 2),
    ]
    hotspots = [
        Hotspot(function="compute_total", file="app/cart.py", line=10, self_pct=70, total_pct=90)
    ]
    ranked = rank(
        symbols, scenario_words=["checkout"], hotspots=hotspots, profile_label="profile-1"
    )
    assert [p.function for p in ranked] == ["compute_total", "render_checkout_page"]
    assert "hotspot in profile-1: self 70.0%" in ranked[0].reason
    assert "name matches scenario word 'checkout'" in ranked[1].reason
    assert all(p.reason for p in ranked)


def test_history_adds_weight_and_files_without_symbols_are_listed() -> None:
    commits = [
        CommitEvidence(
            sha="a" * 40,
            subject="cache prices",
            files=["app/prices.go"],
            flags=["mentions performance: cache"],
        ),
    ]
    ranked = rank([], scenario_words=[], commits=commits, files=["app/prices.go"])
    assert ranked[0].file == "app/prices.go"
    assert ranked[0].function is None
    assert "flagged commit" in ranked[0].reason


def test_native_frame_matches_a_c_function_by_name_not_a_python_one() -> None:
    symbols = [Symbol("src/hot.c", "burn", 4, 8), Symbol("bench.py", "burn", 1, 3)]
    hotspots = [Hotspot(function="burn", file="build/hot", self_pct=95, total_pct=95)]
    ranked = rank(symbols, scenario_words=[], hotspots=hotspots)
    assert [(p.file, p.function) for p in ranked] == [("src/hot.c", "burn")]


def test_a_profiled_function_is_ranked_at_its_hot_line() -> None:
    symbols = [Symbol("app/core.py", "hot", 1, 6), Symbol("app/core.py", "cold", 8, 9)]
    hotspots = [
        Hotspot(
            function="hot",
            file="app/core.py",
            line=1,
            self_pct=80,
            total_pct=80,
            lines=[HotLine(line=4, self_pct=62, total_pct=62, samples=62, total_samples=62)],
            hot_line="app/core.py:4",
        )
    ]
    [top] = rank(symbols, scenario_words=[], hotspots=hotspots, profile_label="profile-2")
    assert (top.function, top.line, top.hot_line) == ("hot", 1, "app/core.py:4")
    assert "hottest line app/core.py:4 (self 62.0%)" in top.reason


def test_a_hotspot_without_its_def_line_matches_by_its_hot_lines() -> None:
    symbols = [Symbol("app/a.py", "get", 1, 3), Symbol("app/a.py", "get", 10, 14)]
    lines = [HotLine(line=12, self_pct=50, total_pct=50, samples=5, total_samples=5)]
    hotspots = [Hotspot(function="B.get", file="app/a.py", self_pct=50, total_pct=50, lines=lines)]
    ranked = rank(symbols, scenario_words=[], hotspots=hotspots)
    assert [(p.function, p.line) for p in ranked] == [("get", 10)]
