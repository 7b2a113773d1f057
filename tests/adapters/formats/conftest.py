"""Shared pytest fixtures for the metric-format tests: fixture files, the generator."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"


@pytest.fixture
def fixture_text() -> Callable[[str], str]:
    """Read a committed fixture file by name."""

    def read(name: str) -> str:
        return (FIXTURES / name).read_text()

    return read


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    """``tests/fixtures/formats/generate.py``, imported by path (tests are not a package)."""
    spec = importlib.util.spec_from_file_location(
        "perfinvest_fixture_generate", FIXTURES / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
