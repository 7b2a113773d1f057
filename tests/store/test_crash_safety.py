"""SIGKILL at random points during state writes never leaves an unreadable state file.

Acceptance criterion: "Killing the process with SIGKILL at random points during 200 state
writes never leaves an unreadable state file."

A real writer process (a fresh ``python`` each time, as the CLI is) appends events to the
active investigation through ``StateStore.transaction()``, one read-modify-write per event,
and reports each commit on stdout. The test kills it with SIGKILL after a random (seeded)
delay, checks the state folder, and starts a new writer on the same folder, many times.
While a writer runs, the test keeps reading the state file itself: a reader must always
see a whole document (the old one or the new one), never a torn one.

After every kill:

* ``investigation.json`` loads and validates (``read_document``);
* the events on disk extend the events seen at the previous check (nothing committed is
  lost or rewritten), and they include every write the killed writer reported as
  committed, plus at most the one write that was in flight;
* at most one new ``.investigation.json.*.tmp`` appeared (a writer killed between
  ``mkstemp`` and ``rename`` leaves its temp file; nothing cleans it up today), no other
  file appeared, and ``.gitignore`` keeps such files out of ``git status``.

Set ``PERFINVEST_CRASH_SEED`` to replay a failing sequence of kill delays.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import perfinvest
from perfinvest.app.context import AppContext
from perfinvest.app.phases.setup import SetupRequest, start
from perfinvest.core.errors import PerfError
from perfinvest.core.models import Investigation
from perfinvest.store.documents import read_document
from perfinvest.store.paths import StatePaths

KILLS = 30
#: On a loaded machine writes are slower: keep killing (up to this many runs) until the
#: criterion's 200 writes were attempted, instead of failing on the machine's speed.
MAX_KILLS = 150
#: Each writer would do this many writes if left alone; it is killed long before.
WRITES_PER_RUN = 200
#: Writes attempted across all killed runs must reach the criterion's 200.
MIN_TOTAL_WRITES = 200
#: Kill delay after the writer says it is ready, seconds (a write takes ~3-10 ms here).
MAX_KILL_DELAY_S = 0.12
FINAL_WRITES = 10
SEED = int(os.environ.get("PERFINVEST_CRASH_SEED", "20240611"))

SRC_DIR = Path(perfinvest.__file__).resolve().parent.parent

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path

    from perfinvest.core.report.log import render_event, render_header
    from perfinvest.core.models import Event
    from perfinvest.store.documents import dump_document
    from perfinvest.store.paths import StatePaths
    from perfinvest.store.state import StateStore

    state_dir, run, writes = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    store = StateStore(StatePaths(state_dir))
    # Build pydantic's deferred validators and serializers first, so that the kills land
    # in the writes themselves rather than in the first write's model build.
    dump_document(store.load_active())
    print("ready", flush=True)
    for i in range(writes):
        with store.transaction() as inv:
            event = Event(at=datetime.now(UTC), kind="crash-test", message=f"run {run} write {i}")
            inv.events.append(event)
            # the note goes to the reviewer's log as a command's would (compare's order)
            store.append_log(inv.id, render_header(inv), render_event(event))
            count = len(inv.events)
        # Only now is the write committed (renamed into place): report it.
        print(f"committed {count}", flush=True)
    """
)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC_DIR), env.get("PYTHONPATH")]))
    env.pop("AI_STATE_DIR", None)
    return env


def _start_investigation(root: Path) -> StatePaths:
    paths = StatePaths(root / "state")
    ctx = AppContext(repo_root=root, in_git_repo=False, paths=paths, checkpoint=False)
    start(
        ctx,
        SetupRequest(
            scenario="state survives SIGKILL",
            command="true",
            metric="latency_ms",
            direction="lower",
            success=["latency_ms < 10"],
            version="v1",
        ),
    )
    return paths


def _messages(paths: StatePaths) -> list[str]:
    return [event.message for event in read_document(paths.active, Investigation).events]


def _temp_files(paths: StatePaths) -> set[str]:
    return {p.name for p in paths.perf_dir.glob(".investigation.json.*.tmp")}


def _other_files(paths: StatePaths) -> set[str]:
    """Everything in the perf folder except the writer's temp files."""
    return {
        p.relative_to(paths.perf_dir).as_posix()
        for p in paths.perf_dir.rglob("*")
        if not (p.name.startswith(".investigation.json.") and p.name.endswith(".tmp"))
    }


def _spawn_writer(script: Path, paths: StatePaths, run: int, writes: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), str(paths.state_dir), str(run), str(writes)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"writer did not start (got {line!r}); stderr:\n{err}")


def _last_committed(stdout: str) -> int | None:
    counts = [int(line.split()[1]) for line in stdout.splitlines() if line.startswith("committed")]
    return counts[-1] if counts else None


@pytest.mark.slow
def test_sigkill_during_writes_never_leaves_an_unreadable_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    paths = _start_investigation(tmp_path)
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")

    seen = _messages(paths)
    files_before = _other_files(paths)
    temps = _temp_files(paths)
    assert not temps
    assert ".*.tmp" in paths.gitignore.read_text(encoding="utf-8").splitlines()

    survived = 0  # kills after which every check below held
    failures: list[str] = []
    attempted = 0  # writes started: every committed one, plus the one a kill interrupted
    landed = 0  # kills that hit a running writer (not one that had already finished)
    reads = 0
    run = -1
    while (run := run + 1) < KILLS or (attempted < MIN_TOTAL_WRITES and run < MAX_KILLS):
        where = f"seed {SEED}, run {run}"
        proc = _spawn_writer(script, paths, run, WRITES_PER_RUN)
        _wait_ready(proc)
        kill_at = time.monotonic() + rng.uniform(0.0, MAX_KILL_DELAY_S)
        # A concurrent reader: every read during the writes sees a whole document.
        while time.monotonic() < kill_at:
            read_document(paths.active, Investigation)
            reads += 1
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode in (-signal.SIGKILL, 0), f"{where}: writer failed:\n{err}"
        killed = proc.returncode == -signal.SIGKILL
        landed += killed

        try:
            # The state file is whole and valid (a torn or empty file raises PerfError here).
            messages = _messages(paths)
            # Nothing committed before is lost or rewritten: the old events are a prefix.
            assert messages[: len(seen)] == seen, f"{where}: committed events were lost"
            # Every write the writer reported committed is on disk; at most one more (in flight).
            acked = _last_committed(out)
            if acked is not None:
                assert len(messages) >= acked, f"{where}: reported write {acked} is missing"
                assert len(messages) <= acked + 1, f"{where}: more writes on disk than made"
            else:
                assert len(messages) <= len(seen) + 1, f"{where}: more writes on disk than made"
            attempted += len(messages) - len(seen) + (1 if killed else 0)
            seen = messages

            # A kill may leave the in-flight temp file, at most one per kill; nothing else.
            now_temps = _temp_files(paths)
            assert temps <= now_temps, f"{where}: a temp file vanished: {temps - now_temps}"
            assert len(now_temps - temps) <= (1 if killed else 0), (
                f"{where}: stray temp files appeared: {sorted(now_temps - temps)}"
            )
            temps = now_temps
            assert _other_files(paths) == files_before, f"{where}: unexpected files appeared"
        except (AssertionError, PerfError) as failure:  # counted, not stopped at
            failures.append(str(failure).splitlines()[0])
            with contextlib.suppress(PerfError):
                seen = _messages(paths)
            temps = _temp_files(paths)
        else:
            survived += 1

    with capsys.disabled():
        print(
            f"\nSIGKILL storm: {run} kills tried, {landed} landed mid-write, {survived} "
            f"survived (state readable, nothing committed lost, {attempted} writes attempted, "
            f"{reads} concurrent reads)"
        )
    assert not failures, f"{survived}/{run} kills survived: " + " | ".join(failures[:5])
    assert attempted >= MIN_TOTAL_WRITES, f"only {attempted} writes attempted across kills"
    assert landed >= run * 0.9, f"only {landed}/{run} kills hit a running writer"
    assert reads > 0

    # After all that, the store still works: a writer left alone finishes cleanly and
    # leaves no temp file of its own.
    proc = _spawn_writer(script, paths, KILLS, FINAL_WRITES)
    _wait_ready(proc)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert _last_committed(out) == len(seen) + FINAL_WRITES
    final = _messages(paths)
    assert final[: len(seen)] == seen
    assert final[len(seen) :] == [f"run {KILLS} write {i}" for i in range(FINAL_WRITES)]
    assert _temp_files(paths) == temps

    # And the CLI reads it too (the state folder through AI_STATE_DIR, outside any repo).
    env = _child_env()
    env["AI_STATE_DIR"] = str(paths.state_dir)
    cli = subprocess.run(
        [sys.executable, "-m", "perfinvest", "status", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert '"ok": true' in cli.stdout
    # every committed note is in the reviewer's log (a lost one is rendered from state)
    log = paths.log(read_document(paths.active, Investigation).id).read_text(encoding="utf-8")
    assert all(message in log for message in final)
