"""The smaller faults of issue 23 item 8, each through its real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.conftest import START_ARGS

from perfinvest.adapters.formats._helpers import parse_number
from perfinvest.adapters.tempdirs import stale_temp_folders
from perfinvest.app.phases.setup import shell_words_warning
from perfinvest.core.quantities import format_quantity


def test_a_non_utf8_argument_is_exit_2_on_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perfinvest", "start", "--scenario", b"caf\xe9", "--json"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1 and "not valid UTF-8" in lines[0] and "0xe9" in lines[0]
    assert b"Traceback" not in done.stderr


def test_control_characters_of_the_scenario_are_escaped_in_the_html(repo: Path, cli: Any) -> None:
    args = list(START_ARGS)
    args[args.index("--scenario") + 1] = "slow \x1b[31mred\x07 page"
    assert cli(*args, "--json").code == 0
    out = repo / "r.html"
    assert cli("report", "-o", str(out), "--json").code == 0
    html = out.read_text(encoding="utf-8")
    assert "\x1b" not in html and "\x07" not in html
    assert "slow \\x1b[31mred\\x07 page</title>" in html and "red\\x07 page</h1>" in html


def test_shell_operators_without_shell_warn(repo: Path, cli: Any) -> None:
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "make -s; ./app | tee out"
    answer = cli(*args, "--json")
    assert answer.code == 0
    warning = next(f for f in answer.json["findings"] if f.startswith("warning:"))
    assert "-s;" in warning and "|" in warning and "--shell" in warning
    assert shell_words_warning(["python", "bench.py", "--n", "3"], False) is None
    assert shell_words_warning(["make;", "x"], True) is None


def test_arabic_indic_digits_are_not_numbers() -> None:
    assert parse_number("\u0663\u0664") is None  # ٣٤
    assert parse_number("\uff11\uff12") is None  # fullwidth １２
    assert parse_number("34") == 34.0


def test_huge_values_print_compactly() -> None:
    assert format_quantity(1e308, "ms") == "1e+308 ms"
    assert format_quantity(1e308, "bytes") == "1e+308 bytes"
    assert format_quantity(12_345_678, "rps") == "12,345,678 rps"


def test_stale_temp_folders_of_dead_processes_are_found(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    gone = tmp_path / f"perfinvest-index-{pid}-abc123"
    mine = tmp_path / f"perfinvest-run-{os.getpid()}-def456"
    other = tmp_path / "perfinvest-demo-xyz"
    for folder in (gone, mine, other):
        folder.mkdir()
    assert stale_temp_folders(tmp_path) == [gone]
    assert Path(tempfile.gettempdir()).is_dir()


def test_the_journal_is_git_ignored_and_the_outputs_registry_is_outside_the_repo(
    repo: Path, cli: Any
) -> None:
    assert cli(*START_ARGS, "--json").code == 0
    ignore = (repo / ".claude" / "perf" / ".gitignore").read_text().splitlines()
    assert "experiment-journal.json" in ignore
    assert cli("ci", "init", "--json").code == 0  # an output: recorded in the registry
    registry = Path(os.environ["XDG_STATE_HOME"]) / "perfinvest" / "outputs.json"
    assert str(repo / ".github" / "workflows" / "perf-budgets.yml") in registry.read_text()
    assert not list(repo.rglob("*outputs.json"))


#: Prints one padding line, then ``PERF_METRICS aa=1 bb=2`` lines, so that the 16 MiB
#: capture cap cuts a line right after ``PERF_METRICS aa``.
OVER_CAP = """\
import sys, time
cap, line = 16 * 2**20, "PERF_METRICS aa=1 bb=2\\n"
pad = (cap - 15) % len(line) or len(line)
sys.stdout.write("#" * (pad - 1) + "\\n")
for _ in range(cap // len(line) + 20000):
    sys.stdout.write(line)
sys.stdout.flush()
time.sleep(0.2)
"""


def test_output_over_the_capture_cap_names_the_cap(tmp_path: Path, cli: Any) -> None:
    script = tmp_path / "flood.py"
    script.write_text(OVER_CAP)
    answer = cli(
        "run", "--mode", "duration", "--allow-short", "test", "--duration", "0.2", "--json",
        "--", sys.executable, str(script),
    )  # fmt: skip
    message = answer.json["error"]["message"] if answer.code else ""
    assert answer.code == 5, answer.out[:300]
    assert "16 MiB capture cap" in message, message


def test_a_line_of_400k_metrics_is_refused_at_once(tmp_path: Path, cli: Any) -> None:
    import time

    from perfinvest.adapters.formats import parse
    from perfinvest.adapters.formats._helpers import FormatError

    line = "PERF_METRICS " + " ".join(f"m{i}={i}" for i in range(400_000))
    started = time.monotonic()
    try:
        parse(line, None)
    except FormatError as error:
        assert "over the 2,000" in error.message
    else:
        raise AssertionError("a 400 000-metric line was accepted")
    assert time.monotonic() - started < 1.0


def test_each_state_folder_has_its_own_checkpoint_journal(tmp_path: Path) -> None:
    from perfinvest.adapters.git.checkpoint import JOURNAL_NAME, _journal

    one, two = _journal(tmp_path, "/repo/.claude/perf"), _journal(tmp_path, "/repo/other/perf")
    assert one != two and one.parent == two.parent == tmp_path
    assert _journal(tmp_path, "/repo/.claude/perf") == one  # stable
    assert _journal(tmp_path) == tmp_path / JOURNAL_NAME  # the older shared name
