"""Fault sweep (issue 23): SIGKILLs at random points, a full disk, hostile inputs.

Runs the real CLI (``python -m perfinvest``) in throw-away git repositories under a
temporary folder and counts, per scenario, the trials and the invariant violations:

- kills: SIGKILL ``experiment start``, ``experiment run``, ``baseline`` and a checkpointing
  phase (``hypotheses add``) after a random delay, then ``recover``; afterwards the user's
  edits (a modified tracked file, a staged file, an untracked file) are intact, ``status``
  answers strict JSON, no process of the (daemonising) benchmark is alive, no stale
  perfinvest temp folder of the killed process is left, and a verified recover leaves no
  journal;
- full disk: the state folder on a tiny tmpfs filled up (needs root to mount): every
  command answers one JSON object with a documented code (0, 4 or 7), never 1, never a
  traceback, and the state stays readable;
- hostile inputs: a YAML bomb, a non-UTF-8 argument, ``report -o`` onto the state, a
  near-zero baseline diff, control characters in a scenario: each refused or answered
  cleanly as the issue says.

    python scripts/fault_sweep.py --kills 40 --seed 1

Prints one line per scenario and a JSON summary; exit 1 when any invariant failed.
Only processes it started are signalled, by pid.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PY = sys.executable
GIT_ENV = {
    "GIT_AUTHOR_NAME": "sweep",
    "GIT_AUTHOR_EMAIL": "sweep@example.invalid",
    "GIT_COMMITTER_NAME": "sweep",
    "GIT_COMMITTER_EMAIL": "sweep@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
BENCH = """\
import os, sys, time
tag = {tag!r}
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", tag])
    os._exit(0)
os.wait()
time.sleep(float(os.environ.get("PERF_RUN_DURATION", "0.2")))
print("PERF_METRICS p95_ms=12.5 requests=10")
"""


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **GIT_ENV}
    env.pop("AI_STATE_DIR", None)
    return {**env, **(extra or {})}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=_env()
    ).stdout


def cli(
    repo: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "perfinvest", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=_env(env),
        timeout=timeout,
        check=False,
    )


def strict(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"not strict JSON: {token}")

    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"expected one JSON line, got {len(lines)}")
    return json.loads(lines[0], parse_constant=refuse)


def alive_with(tag: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == f"sleep\0{tag}\0".encode():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def make_repo(root: Path, tag: str) -> Path:
    repo = root / f"repo-{tag}"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("print('hello')\n")
    (repo / "mine.txt").write_text("version 0\n")
    (repo / "bench.py").write_text(BENCH.format(tag=tag))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "initial")
    return repo


def start_args() -> list[str]:
    return [
        "start", "--scenario", "sweep", "--command", f"{PY} bench.py", "--metric", "p95_ms",
        "--direction", "lower", "--success", "p95_ms < 100", "--version", "v1",
        "--allow-short-runs", "fault sweep", "--json",
    ]  # fmt: skip


def user_edits(repo: Path, n: int) -> dict[str, str]:
    (repo / "mine.txt").write_text(f"version {n}\n")
    (repo / "staged.txt").write_text(f"staged {n}\n")
    git(repo, "add", "staged.txt")
    (repo / "notes.txt").write_text(f"untracked {n}\n")
    return {
        "mine.txt": f"version {n}\n",
        "staged.txt": f"staged {n}\n",
        "notes.txt": f"untracked {n}\n",
    }


def kill_after(repo: Path, args: Sequence[str], delay: float) -> tuple[int, bool]:
    proc = subprocess.Popen(
        [PY, "-m", "perfinvest", *args],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return proc.pid, alive


def check_after_kill(repo: Path, tag: str, pid: int, edits: dict[str, str]) -> list[str]:
    problems = []
    recovered = cli(repo, "recover", "--json")
    try:
        answer = strict(recovered.stdout)
    except ValueError as exc:
        return [f"recover answer: {exc}: {recovered.stdout[:200]} {recovered.stderr[-300:]}"]
    if recovered.returncode not in (0, 4):
        problems.append(f"recover exit {recovered.returncode}: {answer.get('error')}")
    for name, text in edits.items():
        path = repo / name
        if name in ("mine.txt", "notes.txt") and not path.exists():
            problems.append(f"{name} lost")
        elif name in ("mine.txt", "notes.txt") and path.read_text() != text:
            problems.append(f"{name} changed: {path.read_text()!r}")
    if "staged.txt" not in git(repo, "diff", "--cached", "--name-only"):
        problems.append("staged.txt no longer staged")
    status = cli(repo, "status", "--json")
    try:
        strict(status.stdout)
    except ValueError as exc:
        problems.append(f"status answer: {exc}")
    if status.returncode not in (0, 4):
        problems.append(f"status exit {status.returncode}")
    time.sleep(0.2)
    left = alive_with(tag)
    if left:
        problems.append(f"{len(left)} daemon(s) of the benchmark alive")
        for daemon in left:
            os.kill(daemon, signal.SIGKILL)  # started by this sweep's benchmark
    stale = [p for p in Path(tempfile.gettempdir()).glob(f"perfinvest-*-{pid}-*") if p.is_dir()]
    if stale:
        problems.append(f"stale temp folders: {[p.name for p in stale]}")
    journal = repo / ".claude" / "perf" / "experiment-journal.json"
    if recovered.returncode == 0 and journal.exists():
        stage = json.loads(journal.read_text()).get("stage")
        if stage != "open":
            problems.append(f"journal left at stage {stage}")
    return problems


def kill_sweep(root: Path, kills: int, rng: random.Random) -> dict[str, Any]:
    counts: dict[str, Any] = {"trials": 0, "killed": 0, "failed": 0, "failures": []}
    targets = ["experiment start", "experiment run", "baseline", "hypotheses add"]
    for n in range(kills):
        target = targets[n % len(targets)]
        tag = f"{7000 + n}.{os.getpid()}"
        repo = make_repo(root, tag)
        assert cli(repo, *start_args()).returncode == 0
        if target != "baseline":
            cli(repo, "baseline", "--runs", "2", "--duration", "0.2", "--json")
        if target == "hypotheses add":
            for phase in ("breaking-point", "constraints"):
                cli(repo, phase, "--skip-reason", "sweep", "--json")
            cli(repo, "hypotheses", "gather", "--json")
        if target.startswith("experiment"):
            for phase in ("breaking-point", "constraints", "hypotheses", "code-paths",
                          "profile"):  # fmt: skip
                cli(repo, phase, "--skip-reason", "sweep", "--json")
        edits = user_edits(repo, n + 1)
        if target == "experiment run":
            if cli(repo, "experiment", "start", "--change", "edit app", "--json").returncode:
                counts["failures"].append(f"{n}: experiment start failed before the kill")
                continue
            (repo / "app.py").write_text("print('the experiment')\n")
            args = ["experiment", "run", "--runs", "2", "--duration", "0.3", "--json"]
            delay = rng.uniform(0.0, 3.0)
        elif target == "experiment start":
            args = ["experiment", "start", "--change", "edit app", "--json"]
            delay = rng.uniform(0.0, 1.2)
        elif target == "baseline":
            args = ["baseline", "--runs", "2", "--duration", "0.3", "--json"]
            delay = rng.uniform(0.0, 2.5)
        else:
            args = ["hypotheses", "add", f"statement {n}", "--json"]
            delay = rng.uniform(0.0, 1.0)
        pid, killed = kill_after(repo, args, delay)
        counts["trials"] += 1
        counts["killed"] += int(killed)
        problems = check_after_kill(repo, tag, pid, edits)
        if problems:
            counts["failed"] += 1
            counts["failures"].append(f"{n} {target} @{delay:.2f}s: {'; '.join(problems)}")
    return counts


def disk_sweep(root: Path) -> dict[str, Any]:
    counts: dict[str, Any] = {"trials": 0, "failed": 0, "failures": [], "codes": {}}
    mount = root / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        counts["skipped"] = done.stderr.strip() or "cannot mount"
        return counts
    try:
        tag = f"6999.{os.getpid()}"
        repo = make_repo(root, tag)
        env = {"AI_STATE_DIR": str(mount)}
        cli(repo, *start_args(), env=env)
        filler = mount / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
        os.close(fd)
        for free in (0, 2048, 16384, 65536):
            os.truncate(filler, max(filler.stat().st_size - free, 0))
            for args in (
                ["baseline", "--runs", "2", "--duration", "0.2", "--json"],
                ["hypotheses", "add", "disk", "--json"],
                ["breaking-point", "--skip-reason", "disk", "--json"],
                ["experiment", "start", "--change", "x", "--json"],
                ["status", "--json"],
            ):
                result = cli(repo, *args, env=env)
                counts["trials"] += 1
                code = result.returncode
                counts["codes"][str(code)] = counts["codes"].get(str(code), 0) + 1
                bad = []
                try:
                    strict(result.stdout)
                except ValueError as exc:
                    bad.append(str(exc))
                if code not in (0, 4, 7) or "Traceback" in result.stderr:
                    bad.append(f"exit {code}: {result.stdout[:200]}")
                if bad:
                    counts["failed"] += 1
                    counts["failures"].append(f"free {free} {' '.join(args[:2])}: {bad}")
            os.truncate(filler, filler.stat().st_size)  # nothing given back yet
        for daemon in alive_with(tag):
            counts["failures"].append("a daemon survived the disk sweep")
            os.kill(daemon, signal.SIGKILL)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    return counts


def hostile_sweep(root: Path) -> dict[str, Any]:
    counts: dict[str, Any] = {"trials": 0, "failed": 0, "failures": []}
    tag = f"6998.{os.getpid()}"
    repo = make_repo(root, tag)
    cli(repo, *start_args())
    perf = repo / ".claude" / "perf"
    state_before = (perf / "investigation.json").read_bytes()

    def expect(name: str, ok: bool, detail: str = "") -> None:
        counts["trials"] += 1
        if not ok:
            counts["failed"] += 1
            counts["failures"].append(f"{name}: {detail}")

    bomb = ['a0: &a0 ["l","l","l","l","l","l","l","l","l","l"]']
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (repo / "targets.yaml").write_text(
        "version: 1\nbase_url: http://127.0.0.1:9\n" + "\n".join(bomb) + "\nroutes: *a8\n"
    )
    started = time.monotonic()
    result = cli(repo, "load", "check", "--targets", "targets.yaml", "--json")
    expect("yaml bomb", result.returncode == 2 and time.monotonic() - started < 5, result.stdout)
    result = subprocess.run(
        [PY, "-m", "perfinvest", "start", "--scenario",
         b"caf\xe9".decode("utf-8", "surrogateescape"), "--json"],
        cwd=repo, capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    expect(
        "non-UTF-8 argument",
        result.returncode == 2 and "Traceback" not in result.stderr,
        f"exit {result.returncode} {result.stdout[:160]}",
    )
    for target in (perf / "investigation.json", repo / "app.py"):
        result = cli(repo, "report", "-o", str(target), "--json")
        expect(f"report -o {target.name}", result.returncode == 2, result.stdout[:160])
    expect("state unchanged", (perf / "investigation.json").read_bytes() == state_before)
    expect("user file unchanged", (repo / "app.py").read_text() == "print('hello')\n")
    runs = []
    for i, value in enumerate([5e-324, 1e-323, 1.0, 1.1]):
        runs.append({
            "kind": "perfinvest.run", "format_version": 1, "run_id": f"r{i}",
            "started_at": "2026-11-23T10:00:00Z", "duration_s": 1.0,
            "requested_duration_s": 1.0, "compliant": False,
            "metrics": [{"name": "err", "value": value, "unit": "", "direction": "lower"}],
            "environment": {"config_hash": "x"},
        })  # fmt: skip
    (repo / "a.json").write_text(json.dumps(runs[:2]))
    (repo / "b.json").write_text(json.dumps(runs[2:]))
    result = cli(repo, "diff", "a.json", "b.json", "--json")
    try:
        strict(result.stdout)
        expect("near-zero diff strict JSON", "Warning" not in result.stderr, result.stderr[-200:])
    except ValueError as exc:
        expect("near-zero diff strict JSON", False, str(exc))
    evil = "slow \x1b[31mred\x07 page"
    evil_repo = make_repo(root, f"6997.{os.getpid()}")
    args = start_args()
    args[args.index("--scenario") + 1] = evil
    cli(evil_repo, *args)
    out = evil_repo / "r.html"
    result = cli(evil_repo, "report", "-o", str(out), "--json")
    html = out.read_text(encoding="utf-8") if out.exists() else ""
    expect("ESC/BEL escaped in the HTML", result.returncode == 0 and "\x1b" not in html
           and "\x07" not in html, result.stdout[:160])  # fmt: skip
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", action="append", default=[], choices=["kills", "disk", "hostile"])
    options = parser.parse_args(argv)
    rng = random.Random(options.seed)
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fault-sweep-") as tmp:
        root = Path(tmp)
        os.environ["PERFINVEST_LOCK_DIR"] = str(root)  # never the host's real lock
        if "kills" not in options.skip:
            summary["kills"] = kill_sweep(root, options.kills, rng)
        if "disk" not in options.skip:
            summary["disk"] = disk_sweep(root)
        if "hostile" not in options.skip:
            summary["hostile"] = hostile_sweep(root)
    failed = 0
    for name, counts in summary.items():
        failed += counts["failed"]
        extra = f", {counts['killed']} killed alive" if "killed" in counts else ""
        print(f"{name}: {counts['trials']} trials{extra}, {counts['failed']} failed")
        for line in counts["failures"]:
            print(f"  - {line}")
    print(json.dumps(summary, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
