"""Definition lines of profiled frames, read from real source files."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfinvest.adapters.profilers.base import stack_hotspots
from perfinvest.adapters.symbols import Definitions, ctags_path, definitions_for
from perfinvest.core.profiling.hotspots import Stack

CODE = """\
class A:
    def get(self):
        return [i for i in range(9)]


class B:
    def get(self):
        total = 0
        for i in range(9):
            total += i
        return total


def outer():
    def inner():
        return 1

    return inner()
"""


def test_python_frames_get_the_innermost_def_of_their_name(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(CODE)
    found = Definitions([str(tmp_path / "m.py")])
    m = str(tmp_path / "m.py")
    assert found("A.get", m, 3) == 2
    assert found("B.get", m, 10) == 7
    assert found("get", m, 10) == 7  # py-spy on Python < 3.11 gives bare names
    assert found("outer.<locals>.inner", m, 16) == 15
    assert found("outer", m, 18) == 14
    assert found("<module>", m, 7) == 1
    assert found("missing", m, 3) is None
    assert found("get", str(tmp_path / "absent.py"), 3) is None


def test_same_name_methods_in_one_file_stay_two_hotspots(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(CODE)
    m = str(tmp_path / "m.py")
    stacks = [Stack((f"get ({m}:10)",), 60), Stack((f"get ({m}:3)",), 40)]
    first, second = stack_hotspots(stacks, tmp_path)
    assert (first.line, first.hot_line, first.self_pct) == (7, "m.py:10", 60.0)
    assert (second.line, second.hot_line, second.self_pct) == (2, "m.py:3", 40.0)


@pytest.mark.parametrize("use_ctags", [True, False])
def test_c_functions_through_ctags_or_the_regex(tmp_path: Path, use_ctags: bool) -> None:
    if use_ctags and ctags_path() is None:
        pytest.skip("Universal Ctags is not installed")
    (tmp_path / "hot.c").write_text(
        "static int light(int n) { return n; }\n"
        "int burn(long n)\n{\n    long s = 0;\n    for (long i = 0; i < n; i++)\n        s += i;\n"
        "    return (int)s;\n}\n"
    )
    found = Definitions(["hot.c"], [tmp_path], use_ctags=use_ctags)
    assert found("burn", "hot.c", 6) == 2
    if use_ctags:  # the regex does not read one-line bodies
        assert found("light", "hot.c", 1) == 1


def test_library_files_are_read_only_when_hot(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "lib.py").write_text("def slow():\n    return 1\n\n\ndef cold():\n    return 2\n")
    (tmp_path / "repo" / "app.py").write_text("def main():\n    return 0\n")
    lib, app = tmp_path / "lib.py", tmp_path / "repo" / "app.py"
    cold = [Stack((f"main ({app}:2)", f"cold ({lib}:6)"), 1), Stack((f"main ({app}:2)",), 999)]
    found = definitions_for(cold, [], repo_root=tmp_path / "repo")
    assert found("main", str(app), 2) == 1
    assert found("cold", str(lib), 6) is None  # 0.1 % of the samples: not worth parsing
    hot = [Stack((f"main ({app}:2)", f"slow ({lib}:2)"), 50), Stack((f"main ({app}:2)",), 50)]
    assert definitions_for(hot, [], repo_root=tmp_path / "repo")("slow", str(lib), 2) == 1
