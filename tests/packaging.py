"""Building this checkout's sdist and wheel, and installing one into a fresh virtualenv."""

from __future__ import annotations

import hashlib
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


#: What the wheel is built from: a change to any of these is a new wheel.
PACKAGED = ("src", "schemas", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE")


def source_digest() -> str:
    """SHA-256 of every file the wheel is built from (paths and bytes), caches left out."""
    sha = hashlib.sha256()
    for name in PACKAGED:
        top = ROOT / name
        files = sorted(top.rglob("*")) if top.is_dir() else [top]
        for path in files:
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            sha.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()
