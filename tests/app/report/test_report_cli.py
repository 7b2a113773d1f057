"""`perfinvest report` from the command line: where it writes, bad input, the bundle."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tests.support.synthetic import INV_ID, write_empty_state, write_state

#: What `export csv` writes for the synthetic state (it has probes and constraints).
CSV_FILES = ("runs.csv", "samples.csv", "load_latencies.csv", "probes.csv", "constraints.csv")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder (no git repository) whose .claude/perf holds the synthetic investigation."""
    monkeypatch.chdir(tmp_path)
    perf = tmp_path / ".claude" / "perf"
    write_state(perf)
    return perf


def test_the_report_is_written_under_reports_and_kept_out_of_git(state: Path, cli: Any) -> None:
    answer = cli("report", "--json")
    assert answer.code == 0, answer.out
    path = state / "reports" / f"{INV_ID}.html"
    assert answer.json["data"]["report"] == str(path)
    assert (state / "reports" / ".gitignore").read_text().splitlines()[-1] == "*"
    html = path.read_text(encoding="utf-8")
    assert html.count("<section ") == len(answer.json["data"]["sections"]) == 12
    assert len(answer.json["data"]["plots"]) == 11
    # self-contained: no external script, stylesheet or image; Plotly.js inlined once
    assert html.count("<script>") == 2  # plotly.js, then the drawing script
    page = re.sub(r"<script>.*?</script>", "", html, flags=re.S)  # the markup without code
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    # the state's words are escaped: a quote cannot close a script or add markup
    assert "</script><script>alert(1)" not in html
    assert "it got slow &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "render &lt;i&gt;allocates&lt;/i&gt;" in html
    assert 'class="badge badge-non-compliant"' in html
    assert 'class="badge badge-superseded"' in html


def test_text_mode_prints_the_path(state: Path, cli: Any) -> None:
    answer = cli("report")
    assert answer.code == 0
    assert f"report written: {state / 'reports' / (INV_ID + '.html')}" in answer.out


def test_an_id_prefix_and_an_output_file(state: Path, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "mine.html"
    answer = cli("report", INV_ID[:13], "-o", str(out), "--json")
    assert answer.code == 0, answer.out
    assert out.stat().st_size > 1_000_000  # Plotly.js is inside
    assert not (state / "reports").exists()  # nothing else written


def test_an_unknown_id_is_refused(state: Path, cli: Any) -> None:
    answer = cli("report", "perf-20200101-000000-deadbeef", "--json")
    assert answer.code == 4
    assert "unknown investigation perf-20200101-000000-deadbeef" in answer.json["error"]["message"]
    bad = cli("report", "../etc", "--json")
    assert bad.code == 2


def test_no_active_investigation_is_refused(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    answer = cli("report", "--json")
    assert answer.code == 4 and "no active investigation" in answer.json["error"]["message"]
    assert not (tmp_path / ".claude").exists()


def test_no_runs_yet_is_a_report_that_says_so(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_empty_state(tmp_path / ".claude" / "perf")
    answer = cli("report", "--json")
    assert answer.code == 0
    assert any(f.startswith("No runs yet") for f in answer.json["findings"])
    bundle = cli("report", "--bundle", "--json")
    assert bundle.code == 0, bundle.out  # nothing measured: a bundle without CSVs
    assert not [m for m in bundle.json["data"]["members"] if m.startswith("csv/")]
    html = Path(answer.json["data"]["report"]).read_text()
    assert "data-banner>No runs yet" in html and answer.json["data"]["plots"] == []


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("/proc/perfinvest-report.html", "cannot write the report to /proc/perfinvest-report.html"),
        ("missing/dir/report.html", "does not exist"),
        (".", "it is a folder"),
    ],
)
def test_an_unwritable_output_is_one_line_exit_2_and_no_file(
    state: Path, cli: Any, tmp_path: Path, where: str, says: str
) -> None:
    answer = cli("report", "-o", where, "--json")
    assert answer.code == 2, answer.out
    message = answer.json["error"]["message"]
    assert says in message and "\n" not in message
    assert not list(Path("/proc").glob(".perfinvest-report*"))
    assert not (tmp_path / "missing").exists()
    text = cli("report", "-o", where)
    assert text.code == 2 and "Traceback" not in text.err


def test_the_bundle_holds_report_log_state_baselines_artifacts(
    state: Path, cli: Any, tmp_path: Path
) -> None:
    (state / "investigations").mkdir(exist_ok=True)
    (state / "investigations" / f"{INV_ID}.md").write_text("# log\n")
    answer = cli("report", "--bundle", "--json")
    assert answer.code == 0, answer.out
    path = Path(answer.json["data"]["bundle"])
    assert path == state / "reports" / f"{INV_ID}.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == sorted(names) == answer.json["data"]["members"]
        assert {
            "report.html",
            "investigation.json",
            f"investigations/{INV_ID}.md",
            "baselines/v1.json",
            "baselines/archive/v1.20261130T100000000000Z.json",  # superseded: kept
            f"artifacts/{INV_ID}/experiment-1/runs.json",
            f"artifacts/{INV_ID}/profile-1/flamegraph.svg",
            f"artifacts/{INV_ID}/load-baseline-20261201T100500/latency.csv",
        } <= set(names)
        assert archive.read("investigation.json") == (state / "investigation.json").read_bytes()
        assert b'data-section="baseline"' in archive.read("report.html")
        for name in CSV_FILES:
            assert f"csv/{name}" in names
    assert not list(path.parent.glob(".*.tmp"))  # written atomically
    exported = cli("export", "csv", "-o", str(tmp_path / "csv"), "--json")
    assert exported.code == 0, exported.out
    with zipfile.ZipFile(path) as archive:
        for name in CSV_FILES:
            # the bundle's CSVs are those of `perfinvest export csv`, byte for byte
            assert archive.read(f"csv/{name}") == (tmp_path / "csv" / name).read_bytes()
        runs = archive.read("csv/runs.csv").decode().splitlines()
        assert runs[0].startswith("investigation,") and len(runs) > 1
    again = cli("report", "--bundle", "-o", str(tmp_path / "b.zip"), "--json")
    with zipfile.ZipFile(tmp_path / "b.zip") as second:
        assert second.namelist() == names  # the same order every time
    assert again.code == 0


def test_extra_members_go_into_the_bundle(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfinvest.app.context import AppContext
    from perfinvest.app.report import ReportRequest, report

    csv = tmp_path / "runs.csv"
    csv.write_text("investigation,run_id\n")
    out = tmp_path / "with-csv.zip"
    ctx = AppContext.discover(tmp_path, environ={})
    result = report(
        ctx, ReportRequest(output=out, bundle=True, extra_members=[("csv/runs.csv", csv)])
    )
    assert "csv/runs.csv" in result.data["members"]
    with zipfile.ZipFile(out) as archive:
        assert archive.read("csv/runs.csv") == csv.read_bytes()


def test_an_inactive_investigation_by_id(state: Path, cli: Any) -> None:
    (state / "investigations").mkdir(exist_ok=True)
    archived = state / "investigations" / f"{INV_ID}.json"
    (state / "investigation.json").rename(archived)
    answer = cli("report", INV_ID, "--bundle", "--json")
    assert answer.code == 0, answer.out
    with zipfile.ZipFile(answer.json["data"]["bundle"]) as archive:
        assert archive.read("investigation.json") == archived.read_bytes()
    assert cli("report", "--json").code == 4  # none active: the id is needed


def test_an_unreadable_state_is_exit_6_and_left_alone(state: Path, cli: Any) -> None:
    (state / "investigation.json").write_text("{not json")
    answer = cli("report", "--json")
    assert answer.code == 6 and "investigation.json" in answer.json["error"]["message"]
    assert (state / "investigation.json").read_text() == "{not json"
    assert not (state / "reports").exists()


def test_two_bundles_of_one_state_are_byte_identical(state: Path, tmp_path: Path) -> None:
    """Issue 25 item 7: the report states the state's last update, not the clock."""
    from datetime import UTC, datetime

    from perfinvest.app.context import AppContext
    from perfinvest.app.report import ReportRequest, report

    made = []
    for hour, name in ((11, "a.zip"), (23, "b.zip")):  # two runs hours apart
        ctx = AppContext.discover(tmp_path, environ={})
        ctx.clock = lambda hour=hour: datetime(2026, 12, 7, hour, 0, 7, tzinfo=UTC)  # type: ignore[misc]
        report(ctx, ReportRequest(output=tmp_path / name, bundle=True))
        made.append((tmp_path / name).read_bytes())
    assert made[0] == made[1]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        page = archive.read("report.html").decode()
    assert "as of 2026-12-01T10:10:00+00:00" in page  # the synthetic state's updated_at


def test_source_date_epoch_sets_the_time_a_report_states(
    state: Path, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    answer = cli("report", "-o", str(tmp_path / "r.html"), "--json")
    assert answer.code == 0, answer.out
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "as of 2026-01-01T00:00:00+00:00 (SOURCE_DATE_EPOCH)" in page
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    bad = cli("report", "--bundle", "-o", str(tmp_path / "bad.zip"), "--json")
    assert bad.code == 2, bad.out
    message = bad.json["error"]["message"]
    assert message.startswith("SOURCE_DATE_EPOCH='yesterday' is not a whole number") and (
        "\n" not in message
    )
    assert not (tmp_path / "bad.zip").exists()
