"""Stacks made readable for the icicle: imports folded, wrappers out, paths shortened."""

from __future__ import annotations

from perfinvest.core.profiling.hotspots import parse_frame
from perfinvest.core.report.flame import STARTUP, flame_stacks, readable, short_frame, short_path

ROOT = "/home/me/app"


def test_paths_are_shortened_to_the_repository_or_the_library() -> None:
    assert short_path(f"{ROOT}/src/app/views.py", ROOT) == "src/app/views.py"
    assert short_path("/usr/lib/python3.11/json/decoder.py", ROOT) == "json/decoder.py"
    assert short_path("/venv/lib/python3.12/site-packages/requests/api.py") == "requests/api.py"
    assert short_path("/opt/other/tool.py", ROOT) == "/opt/other/tool.py"  # nothing to cut
    assert short_path("app.py", ROOT) == "app.py"
    frame = parse_frame(f"handle ({ROOT}/app.py:10)")
    assert short_frame(frame, ROOT) == "handle (app.py:10)"


def test_imports_fold_into_one_node_and_wrappers_go() -> None:
    stack = (
        'process 1:"python -m app"',
        "_run_module_as_main (<frozen runpy>:198)",
        "_run_code (<frozen runpy>:88)",
        f"<module> ({ROOT}/app.py:1)",
        "_find_and_load (<frozen importlib._bootstrap>:1176)",
        "<module> (/usr/lib/python3.11/decimal.py:1)",
    )
    assert readable(stack, ROOT) == ("<module> (app.py:1)", STARTUP)
    built_in = (f"main ({ROOT}/app.py:3)", "<built-in method sorted>")
    assert readable(built_in, ROOT) == ("main (app.py:3)", "<built-in method sorted>")
    assert readable(('process 1:"python x.py"',)) == (STARTUP,)  # nothing of the program


def test_stacks_that_read_the_same_are_merged_with_their_counts() -> None:
    stacks = [
        ((f"main ({ROOT}/a.py:1)", "_find_and_load (<frozen importlib._bootstrap>:1)"), 3),
        ((f"main ({ROOT}/a.py:1)", "_load_unlocked (<frozen importlib._bootstrap>:9)"), 4),
        ((f"main ({ROOT}/a.py:1)", f"work ({ROOT}/a.py:5)"), 5),
    ]
    assert flame_stacks(stacks, ROOT) == [
        (("main (a.py:1)", STARTUP), 7),
        (("main (a.py:1)", "work (a.py:5)"), 5),
    ]
