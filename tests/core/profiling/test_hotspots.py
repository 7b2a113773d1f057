"""Collapsed stacks → hotspots, filtering and profile diffs (pure)."""

from __future__ import annotations

import pytest

from perfinvest.core.profiling.hotspots import (
    ProfileFormatError,
    Stack,
    compute_hotspots,
    diff_hotspots,
    parse_collapsed,
    parse_frame,
    relative_file,
    short_name,
)

PYSPY = """\
process 12:"python bench.py";<module> (/repo/bench.py:1);main (/repo/bench.py:7);hot (/repo/app/core.py:2) 80
process 12:"python bench.py";<module> (/repo/bench.py:1);main (/repo/bench.py:7);cold (/repo/app/core.py:9) 15
process 12:"python bench.py";<module> (/repo/bench.py:1);main (/repo/bench.py:7) 5
_find_and_load (<frozen importlib._bootstrap>:1165);<module> (/usr/lib/python3.11/json/__init__.py:1) 0
"""


def test_frames_parse_with_and_without_location() -> None:
    assert parse_frame("hot (/repo/a.py:12)").file == "/repo/a.py"
    assert parse_frame("hot (/repo/a.py:12)").line == 12
    assert parse_frame("burn (/tmp/hot)").file == "/tmp/hot"
    assert parse_frame("burn (/tmp/hot)").line is None
    assert parse_frame("java.util.HashMap.get(Object)").function == "java.util.HashMap.get(Object)"


def test_self_total_and_repo_relative_files() -> None:
    hotspots = compute_hotspots(parse_collapsed(PYSPY), repo_root="/repo")
    top = hotspots[0]
    assert (top.function, top.file, top.line) == ("hot", "app/core.py", 2)
    assert top.self_pct == pytest.approx(80.0)
    assert top.total_pct == pytest.approx(80.0)
    main = next(h for h in hotspots if h.function == "main")
    assert main.total_pct == pytest.approx(100.0)
    assert main.self_pct == pytest.approx(5.0)
    assert main.samples == 100
    # py-spy's process pseudo-frames and frozen importlib frames never show up
    assert not any(h.function.startswith("process ") for h in hotspots)


def test_filtered_leaf_gives_self_time_to_its_caller() -> None:
    stacks = [Stack(("main (/r/a.py:1)", "_find_and_load (<frozen importlib._bootstrap>:1)"), 10)]
    [only] = compute_hotspots(stacks, repo_root="/r")
    assert (only.function, only.self_pct) == ("main", 100.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no samples"),
        ("\n\n", "no samples"),
        ("main (a.py:1) 3\nmain (a.py:1);hot (a.py:5", "truncated or malformed at last line"),
        ("main (a.py:1) x\n", "truncated or malformed"),
        ("main 0\n", "every count is zero"),
    ],
)
def test_empty_or_truncated_profiles_are_refused(text: str, message: str) -> None:
    with pytest.raises(ProfileFormatError, match=message):
        parse_collapsed(text)


def test_relative_file_only_inside_the_repository() -> None:
    assert relative_file("/repo/src/x.py", "/repo") == "src/x.py"
    assert relative_file("/repository/x.py", "/repo") == "/repository/x.py"
    assert relative_file("x.py", "/repo") == "x.py"


def test_diff_ranks_the_frame_whose_share_moved_most() -> None:
    a = compute_hotspots(
        parse_collapsed(
            "main (/r/a.py:1);hot (/r/a.py:5) 50\nmain (/r/a.py:1);cold (/r/a.py:9) 50\n"
        ),
        repo_root="/r",
    )
    b = compute_hotspots(
        parse_collapsed(
            "main (/r/a.py:1);hot (/r/a.py:5) 90\nmain (/r/a.py:1);cold (/r/a.py:9) 10\n"
        ),
        repo_root="/r",
    )
    changes = diff_hotspots(a, b)
    assert {changes[0].function, changes[1].function} == {"hot", "cold"}
    hot = next(c for c in changes if c.function == "hot")
    assert hot.self_delta == pytest.approx(40.0)
    assert changes[-1].function == "main"  # unchanged total share ranks last


# py-spy ``--format raw`` without ``--function``: each frame names the line it was executing
# (shape of a real py-spy 0.4.3 run of tests/adapters/profilers' HOT_PY, counts rounded)
PYSPY_LINES = """\
process 7:"python app/hot.py";<module> (/repo/app/hot.py:22);main (/repo/app/hot.py:18);hot (/repo/app/hot.py:7) 125
process 7:"python app/hot.py";<module> (/repo/app/hot.py:22);main (/repo/app/hot.py:18);hot (/repo/app/hot.py:6) 47
process 7:"python app/hot.py";<module> (/repo/app/hot.py:22);main (/repo/app/hot.py:19);cold (/repo/app/hot.py:12) 6
"""
DEFS = {"hot": 4, "cold": 11, "main": 15, "<module>": 1}


def _defs(function: str, file: str | None, line: int | None) -> int | None:
    return DEFS.get(function)


def test_lines_are_kept_per_function_hottest_first() -> None:
    hotspots = compute_hotspots(parse_collapsed(PYSPY_LINES), repo_root="/repo", definition=_defs)
    hot = hotspots[0]
    assert (hot.function, hot.file, hot.line) == ("hot", "app/hot.py", 4)  # one row, def line
    assert hot.self_samples == 172
    assert [(h.line, h.samples) for h in hot.lines] == [(7, 125), (6, 47)]
    assert hot.lines[0].self_pct == pytest.approx(100 * 125 / 178)
    assert hot.hot_line == "app/hot.py:7"
    main = next(h for h in hotspots if h.function == "main")
    assert (main.line, main.self_pct, main.total_pct) == (15, 0.0, 100.0)
    # a caller's lines are its call sites: no self time, their total share
    assert [(h.line, h.total_samples, h.samples) for h in main.lines] == [(18, 172, 0), (19, 6, 0)]


def test_without_a_resolver_a_frame_line_is_the_definition() -> None:
    [hot, *_] = compute_hotspots(parse_collapsed(PYSPY), repo_root="/repo")
    assert (hot.line, hot.lines, hot.hot_line) == (2, [], None)


def test_diff_compares_lines_where_both_profiles_have_them() -> None:
    a = parse_collapsed(
        "main (/r/a.py:9);hot (/r/a.py:5) 50\nmain (/r/a.py:9);hot (/r/a.py:6) 50\n"
    )
    b = parse_collapsed(
        "main (/r/a.py:9);hot (/r/a.py:5) 90\nmain (/r/a.py:9);hot (/r/a.py:6) 10\n"
    )
    defs = {"hot": 4, "main": 8}

    def resolve(function: str, file: str | None, line: int | None) -> int | None:
        return defs[function]

    changes = diff_hotspots(
        compute_hotspots(a, repo_root="/r", definition=resolve),
        compute_hotspots(b, repo_root="/r", definition=resolve),
    )
    hot = next(c for c in changes if c.function == "hot")
    assert hot.self_delta == pytest.approx(0.0)  # the function's share did not move ...
    assert [(c.line, round(c.self_delta)) for c in hot.lines] == [(5, 40), (6, -40)]
    assert hot.hot_line == "a.py:5"  # ... but its line 5 took 40 points from line 6
    assert hot.as_dict()["lines"][0]["self_pct_b"] == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("function", "short"),
    [
        ("example.com/hot.hot", "hot"),
        ("main.(*Server).Handle", "Handle"),
        ("Hot.hot(long)", "hot"),
        ("ns::Foo::bar(int) const", "bar"),
        ("outer.<locals>.inner", "inner"),
        ("Cache.get", "get"),
        ("burn", "burn"),
    ],
)
def test_short_names_match_definitions(function: str, short: str) -> None:
    assert short_name(function) == short
