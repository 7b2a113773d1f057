"""Shared fixtures: real git repositories in tmp_path and an in-process CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from perfinvest.cli.main import main

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return done.stdout


TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tiers (docs/architecture.md): tests/core/ is ``unit`` (pure), the rest ``integration``.

    The ``slow`` tests go first (in their order): xdist hands tests out in this order, and a
    70 s demo collected last (tests/test_demo.py sorts after tests/store/) kept one worker
    busy a minute after the others were done.
    """
    for item in items:
        if item.get_closest_marker("unit") or item.get_closest_marker("integration"):
            continue
        in_core = (TESTS / "core") in Path(str(item.path)).parents
        item.add_marker(pytest.mark.unit if in_core else pytest.mark.integration)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test sees the developer's AI_STATE_DIR, git identity, outputs registry or host
    benchmark lock.

    The host-wide lock (rule 1) is real in every test, but lives in a folder of the
    test's own, so a benchmark running elsewhere on this shared machine cannot refuse it.
    """
    monkeypatch.setenv("PERFINVEST_LOCK_DIR", str(tmp_path_factory.mktemp("hostlock")))
    # the per-user outputs registry (store/outputs.py), never the developer's own
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state-home")))
    monkeypatch.delenv("AI_STATE_DIR", raising=False)
    # a pytest the test starts (pytest-benchmark, the plugin's sessions) is no xdist worker
    for key in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("PERF_ALLOW_SHORT", raising=False)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real git repository with one commit; the current directory for the test."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("print('hello')\n")
    (root / "bench.py").write_text(BENCH)
    git(root, "add", "app.py", "bench.py")
    git(root, "commit", "-q", "-m", "initial")
    monkeypatch.chdir(root)
    return root


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict[str, Any]:
        lines = [line for line in self.out.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected exactly one JSON line on stdout, got {self.out!r}"
        parsed: dict[str, Any] = json.loads(lines[0])
        return parsed


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Run ``perfinvest`` in-process with the given arguments; returns code, stdout, stderr."""

    def run(*args: str) -> CliResult:
        code = main(list(args))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return CliResult(code, captured.out, captured.err)

    yield run


#: A real benchmark following the contract: runs PERF_RUN_DURATION seconds, prints metrics.
BENCH = """\
import os, sys, time
duration = float(os.environ["PERF_RUN_DURATION"])
start = time.perf_counter()
ticks = 0
while time.perf_counter() - start < duration:
    time.sleep(0.005)
    ticks += 1
latency = 12.0 + (ticks % 5) * 0.01
print(f"PERF_METRICS p95_ms={latency} requests={ticks}")
"""

#: Short runs for tests, under the recorded short-run policy.
SHORT = ("--duration", "0.3")

START_ARGS = (
    "start",
    "--scenario",
    "checkout p95 under load",
    "--command",
    f"{sys.executable} bench.py",
    "--metric",
    "p95_ms",
    "--direction",
    "lower",
    "--success",
    "p95_ms < 120",
    "--version",
    "v1",
    "--allow-short-runs",
    "tests use short runs",
)


def run_record(run_id: str, value: float, *, compliant: bool = False) -> dict[str, Any]:
    """A run document as a --record file would carry it."""
    return {
        "run_id": run_id,
        "started_at": "2026-11-23T10:00:00Z",
        "duration_s": 5.0,
        "requested_duration_s": 5.0,
        "compliant": compliant,
        "metrics": [{"name": "p95_ms", "value": value, "unit": "ms", "direction": "lower"}],
    }


@pytest.fixture(scope="session")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel of this checkout installed (not editable): its
    bin folder. Built once per content of the sources (about 25 s: the wheel, then pip with
    its deps) into the temp folder, under a lock: the xdist workers and the serial tier of
    one test command share it instead of building it three times."""
    import shutil
    import tempfile

    from tests.packaging import build_dists, fresh_venv, source_digest

    from perfinvest.store.locks import exclusive_lock

    cache = Path(tempfile.gettempdir()) / f"perfinvest-test-venv-{source_digest()[:16]}"
    with exclusive_lock(cache.with_name(cache.name + ".lock"), timeout_s=900, what="test venv"):
        ready = cache / "ready"
        if not ready.exists():
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()
            dist = build_dists(tmp_path_factory.mktemp("dist"), wheel_only=True)
            fresh_venv(cache, next(dist.glob("*.whl")))
            ready.write_text("built from this digest of the sources\n")
    return cache / "venv" / "bin"
