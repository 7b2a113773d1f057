"""Run one load plan on Locust, as a subprocess, bounded in time; read what it dumped."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perfinvest.adapters import deathsig
from perfinvest.core.errors import benchmark_failed, usage_error
from perfinvest.core.load.distribution import Distribution
from perfinvest.core.load.profiles import LoadPlan
from perfinvest.core.load.targets import Route, Targets

#: Beyond the plan's duration: start-up, the stop timeout, writing the dump.
GRACE_S = 30.0
#: Rows read from a route's data file (it is cycled).
MAX_DATA_ROWS = 10_000
PROGRESS_MARK = "PERFINVEST_PROGRESS "


@dataclass
class EngineResult:
    """What Locust left: the dump (histograms, statuses, per-second), its exit and files."""

    dump: dict[str, Any]
    exit_code: int
    wall_s: float
    workers: list[dict[str, Any]] = field(default_factory=list)  # each worker's own counts
    stderr_tail: str = ""
    command: list[str] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)  # soak: (s, bytes) of the target
    #: Stopped before its end (SIGINT/SIGTERM to perfinvest, or a stop asked): the dump
    #: holds what ran until then, a partial run.
    interrupted: bool = False


def read_rows(route: Route, base: Path) -> list[dict[str, Any]]:
    """A route's data file (JSON lines: path, body, headers), read up to MAX_DATA_ROWS."""
    if route.data is None:
        return []
    path = (base / route.data).resolve()
    if not path.is_file():
        raise usage_error(f"route {route.name}: data file {path} not found")
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise usage_error(f"{path}:{number}: not JSON: {exc.msg}") from None
            if not isinstance(row, dict) or set(row) - {"path", "body", "headers"}:
                raise usage_error(
                    f"{path}:{number}: each line must be an object with path, body, headers"
                )
            rows.append(row)
            if len(rows) >= MAX_DATA_ROWS:
                break
    if not rows:
        raise usage_error(f"route {route.name}: data file {path} has no rows")
    return rows


def plan_document(targets: Targets, plan: LoadPlan, base: Path, timeout_s: float) -> dict[str, Any]:
    """The JSON the generated locustfile reads."""
    per_user = None
    if plan.rate_rps is not None:
        per_user = plan.rate_rps / max(plan.peak_users, 1)
    return {
        "profile": plan.profile,
        "urls": [u.rstrip("/") for u in targets.urls],
        "timeout_s": timeout_s,
        "think_s": plan.think_s,
        "per_user_rps": per_user,
        "spawn_rate": plan.spawn_rate,
        "segments": [
            {
                "start_s": s.start_s,
                "end_s": s.end_s,
                "users_from": s.users_from,
                "users_to": s.users_to,
            }
            for s in plan.segments
        ],
        "routes": [
            {
                "name": r.name,
                "method": r.method,
                "path": r.path,
                "headers": r.headers,
                "body": r.body,
                "weight": r.weight,
                "expect_status": r.expect_status,
                "rows": read_rows(r, base),
            }
            for r in targets.routes
        ],
    }


def check_reachable(url: str, timeout_s: float = 3.0) -> None:
    """Refuse at once (exit 5) when the target does not accept connections."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise benchmark_failed(
            f"target {url} is unreachable ({exc.strerror or exc}); start the service or fix "
            "base_url in the targets file"
        ) from None


def write_locustfile(directory: Path) -> Path:
    text = (
        resources.files("perfinvest.adapters.load")
        .joinpath("locustfile.py.txt")
        .read_text(encoding="utf-8")
    )
    path = directory / "locustfile.py"
    path.write_text(text, encoding="utf-8")
    return path


def run_locust(
    document: dict[str, Any],
    plan: LoadPlan,
    out_dir: Path,
    *,
    distribution: Distribution = Distribution(),
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> EngineResult:
    """Run Locust headless on the plan; killed (its whole group) past duration + GRACE_S.

    Interrupted (KeyboardInterrupt: Ctrl-C, or SIGTERM made one; or ``stop`` set), Locust
    is stopped with SIGINT and writes its dump: the result is that partial run, marked
    ``interrupted``; without a dump the KeyboardInterrupt goes on."""
    out_dir.mkdir(parents=True, exist_ok=True)
    locustfile = write_locustfile(out_dir)
    plan_path = out_dir / "plan.json"
    plan_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    dump_path = out_dir / "locust-dump.json"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "2",
        "--exit-code-on-error",
        "0",
    ]
    if distribution.master_host is not None:
        command += [
            "--worker",
            "--master-host",
            distribution.master_host,
            "--master-port",
            str(distribution.master_port),
        ]
    else:
        command += ["--csv", str(out_dir / "locust"), "--csv-full-history"]
        if distribution.master:
            command += [
                "--master",
                "--expect-workers",
                str(distribution.expect_workers),
                "--master-bind-port",
                str(distribution.master_port),
            ]
        elif distribution.workers > 0:
            command += ["--processes", str(distribution.workers)]
    env = {
        **os.environ,
        "PERFINVEST_LOAD_PLAN": str(plan_path),
        "PERFINVEST_LOAD_OUT": str(dump_path),
        "PYTHONUNBUFFERED": "1",
    }
    deadline_s = plan.duration_s + GRACE_S
    if distribution.master or distribution.master_host is not None:
        deadline_s += 300.0  # waiting for the other side
    started = time.monotonic()
    with (out_dir / "locust-stderr.log").open("wb") as err:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            cwd=out_dir,
            start_new_session=True,
            preexec_fn=deathsig.preexec(),  # noqa: PLW1509 - prctl only: dies with us
        )
        from perfinvest.adapters.hostlock import note_benchmark

        note_benchmark(proc.pid)
        interrupted = False
        with deathsig.guard(proc.pid):  # its workers (--processes) die with us too
            try:
                _follow(proc, started + deadline_s, on_progress, stop)
            except KeyboardInterrupt:
                interrupted = True
            finally:
                interrupted = _stop_group(proc) or interrupted
    interrupted = interrupted or (stop is not None and stop.is_set())
    wall = time.monotonic() - started
    stderr = (out_dir / "locust-stderr.log").read_text(encoding="utf-8", errors="replace")
    tail = " | ".join(line for line in stderr.splitlines()[-5:] if line.strip())
    workers = []
    for path in sorted(out_dir.glob("locust-dump.json.worker-*.json")):
        with contextlib.suppress(OSError, ValueError):
            workers.append(json.loads(path.read_text(encoding="utf-8")))
    if distribution.master_host is not None:
        return EngineResult({}, proc.returncode or 0, wall, workers, tail, command)
    if not dump_path.is_file():
        if interrupted:
            raise KeyboardInterrupt
        timed_out = wall >= deadline_s
        why = f"killed after {deadline_s:g} s" if timed_out else f"exit code {proc.returncode}"
        raise benchmark_failed(
            f"locust wrote no results ({why}): {tail or 'no output'}; see "
            f"{out_dir / 'locust-stderr.log'}"
        )
    dump = json.loads(dump_path.read_text(encoding="utf-8"))
    return EngineResult(
        dump, proc.returncode or 0, wall, workers, tail, command, interrupted=interrupted
    )


def _follow(
    proc: subprocess.Popen[bytes],
    deadline: float,
    on_progress: Callable[[dict[str, Any]], None] | None,
    stop: threading.Event | None,
) -> None:
    """Read progress lines until Locust exits, the deadline passes or a stop is asked."""
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    buffer = b""
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            return
        if not selector.select(timeout=0.5):
            if proc.poll() is not None:
                return
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", errors="replace")
            if line.startswith(PROGRESS_MARK) and on_progress is not None:
                with contextlib.suppress(ValueError):
                    on_progress(json.loads(line[len(PROGRESS_MARK) :]))


def _stop_group(proc: subprocess.Popen[bytes]) -> bool:
    """SIGINT first (Locust then writes its results), SIGKILL the group if it lingers or a
    Ctrl-C comes while it stops (True: the stop was interrupted so)."""
    interrupted = False
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        except KeyboardInterrupt:  # a second Ctrl-C: no waiting for Locust's results
            interrupted = True
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()
    return interrupted
