"""The soak profile's leak check: the target's resident memory sampled during the run."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from perfinvest.core.errors import environment_error, usage_error

INTERVAL_S = 0.5


def container_pid(name: str) -> int:
    """The host pid of a running Docker container's main process."""
    try:
        done = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Pid}}", name],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise environment_error(f"soak: cannot ask docker for container {name}: {exc}") from None
    pid = done.stdout.strip()
    if done.returncode != 0 or not pid.isdigit() or pid == "0":
        raise usage_error(f"soak: container {name!r} is not running ({done.stderr.strip()})")
    return int(pid)


def read_rss(pid: int) -> int | None:
    """VmRSS of ``pid`` in bytes, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


class RssSampler:
    """Samples a pid's RSS every INTERVAL_S in a thread, from start() to stop()."""

    def __init__(self, pid: int) -> None:
        if read_rss(pid) is None:
            raise usage_error(f"soak: no process {pid} to watch (pid in the profile)")
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            rss = read_rss(self.pid)
            if rss is None:
                return
            self.samples.append((time.monotonic() - start, rss))
            self._stop.wait(INTERVAL_S)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.samples
