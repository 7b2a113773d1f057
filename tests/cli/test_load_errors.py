"""A Locust run with failed requests is a measurement: metrics kept, errors marked.

Real Locust (headless, ``--csv``) against a real HTTP server on 127.0.0.1 that answers every
fourth request with a 500; Locust then exits 1, as it does whenever a request failed.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

pytestmark = pytest.mark.slow

LOCUSTFILE = """\
from locust import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.01)

    @task
    def index(self):
        self.client.get("/")
"""

#: The benchmark: Locust for PERF_RUN_DURATION seconds, its stats in out_stats.csv.
LOAD = """\
import math, os, subprocess, sys
seconds = math.ceil(float(os.environ["PERF_RUN_DURATION"]))
sys.exit(subprocess.call([
    sys.executable, "-m", "locust", "-f", "locustfile.py", "--headless", "-u", "2", "-r", "2",
    "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{os.environ['LOAD_PORT']}",
    "--csv", "out", "--only-summary", "--loglevel", "WARNING",
]))
"""


class _Handler(BaseHTTPRequestHandler):
    count = 0
    fail_every = 4  # 0: never
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            type(self).count += 1
            failing = bool(self.fail_every) and self.count % self.fail_every == 0
        body = b"boom" if failing else b"ok"
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Locust stopping mid-request resets connections: not the test's concern."""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LOAD_PORT", str(httpd.server_address[1]))
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def start_load(repo: Path, cli: Any, load: str = LOAD) -> None:
    (repo / "locustfile.py").write_text(LOCUSTFILE)
    (repo / "load.py").write_text(load)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} load.py"
    args[args.index("--metric") + 1] = "mean_ms"
    answer = cli(*args, "--format", "locust-csv", "--metrics-file", "out_stats.csv", "--json")
    assert answer.code == 0, answer.out


def test_locust_failures_keep_the_run_and_mark_the_errors(
    repo: Path, cli: Any, server: ThreadingHTTPServer
) -> None:
    start_load(repo, cli)
    result = cli("baseline", "--runs", "2", "--duration", "2", "--json")
    assert result.code == 0, result.out
    doc = json.loads((repo / ".claude" / "perf" / "baselines" / "v1.json").read_text())
    for run in doc["runs"]:
        assert run["valid"] and run["exit_code"] == 1  # Locust's own verdict, kept as it is
        assert "locust-csv exited with code 1 because requests failed" in run["load_errors"]
        aggregate = {m["name"]: m["value"] for m in run["metrics"] if m.get("scenario") is None}
        assert aggregate["failures"] > 0 and 0.1 < aggregate["error_rate"] < 0.4
        assert aggregate["requests"] > aggregate["failures"]
    findings = " ".join(result.json["findings"])
    assert findings.count("because requests failed (error_rate 0.") == len(doc["runs"])
    assert "failures " in findings and "kept as a measurement" in findings
    assert server.RequestHandlerClass.count > 0  # type: ignore[attr-defined]


def test_a_non_zero_exit_without_failed_requests_is_still_a_failed_run(
    repo: Path, cli: Any, server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Handler, "fail_every", 0)
    start_load(
        repo, cli, LOAD.replace("sys.exit(subprocess.call(", "sys.exit(2 + subprocess.call(")
    )
    result = cli("baseline", "--runs", "2", "--duration", "2", "--json")
    assert result.code == 5, result.out
    assert "exit code 2" in result.json["error"]["message"]
    assert (repo / "out_stats.csv").is_file()  # Locust did run and wrote its stats
