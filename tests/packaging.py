"""Building this checkout's sdist and wheel, and installing one into a fresh virtualenv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_dists(out: Path, *, wheel_only: bool = False) -> Path:
    """``python -m build`` of this checkout into ``out`` (sdist, then the wheel from it)."""
    args = [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)]
    if wheel_only:
        args.insert(3, "--wheel")
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


def fresh_venv(where: Path, wheel: Path) -> Path:
    """A new virtualenv (no access to this one's packages) with ``wheel`` installed."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"
