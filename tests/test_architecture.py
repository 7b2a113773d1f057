"""docs/architecture.md is the map of record: its module map names every module, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "perfinvest"
DOC = ROOT / "docs" / "architecture.md"

pytestmark = pytest.mark.unit


def _documented() -> dict[str, set[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("<!-- module-map:start -->")[1].split("<!-- module-map:end -->")[0]
    folders: dict[str, set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"- `([\w./]+)`: (.*?)(?: — .*)?$", line)
        if match:
            folders[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
    return folders


def _actual() -> dict[str, set[str]]:
    folders: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        if path.name == "__init__.py" or "demo_app" in path.parts:
            continue
        folder = path.parent.relative_to(SRC).as_posix()
        key = "./" if folder == "." else folder + "/"
        folders.setdefault(key, set()).add(path.stem)
    return folders


def test_module_map_names_every_module_and_only_existing_ones() -> None:
    documented, actual = _documented(), _actual()
    missing = {f: sorted(m - documented.get(f, set())) for f, m in actual.items()}
    stale = {f: sorted(m - actual.get(f, set())) for f, m in documented.items()}
    assert {f: m for f, m in missing.items() if m} == {}, "modules the map does not name"
    assert {f: m for f, m in stale.items() if m} == {}, "modules the map names that are gone"


def test_layers_hold_at_most_25_modules_directly() -> None:
    for layer in ("core", "app", "adapters", "cli", "mcp"):
        modules = [p for p in (SRC / layer).glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 25, f"{layer}/ holds {len(modules)} modules"
