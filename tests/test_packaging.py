"""A publishable package (issue 24): `python -m build` makes an sdist and a wheel that
`twine check --strict` passes, the wheel carries the schemas, scenarios and templates, and
installed into a fresh virtualenv (not this editable one) `perfinvest demo` runs (that run,
with its assertions, is ``tests/test_demo.py``'s)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from tests.packaging import ROOT, build_dists

TWINE = Path(sys.executable).parent / "twine"


@pytest.mark.slow
def test_build_makes_an_sdist_and_a_wheel_twine_check_strict_passes(tmp_path: Path) -> None:
    dist = build_dists(tmp_path)
    (sdist,), (wheel,) = list(dist.glob("*.tar.gz")), list(dist.glob("*.whl"))
    done = subprocess.run(
        [str(TWINE), "check", "--strict", str(sdist), str(wheel)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.count("PASSED") == 2, done.stdout + done.stderr
    names = zipfile.ZipFile(wheel).namelist()
    schemas = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "schemas").rglob("*.json"))
    assert schemas and all(f"perfinvest/{s}" in names for s in schemas), schemas
    for needed in ("perfinvest/scenarios/api_route.yaml", "perfinvest/demo_app/bench.py.txt",
                   "perfinvest/adapters/load/locustfile.py.txt", "perfinvest/py.typed"):  # fmt: skip
        assert needed in names
    assert not [n for n in names if "__pycache__" in n or ".ruff_cache" in n]
    meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
    meta = Parser().parsestr(zipfile.ZipFile(wheel).read(meta_name).decode())
    assert (
        meta["License-Expression"] == "MIT" and meta["Description-Content-Type"] == "text/markdown"
    )
    urls = meta.get_all("Project-URL") or []
    assert {u.split(",")[0] for u in urls} >= {"Homepage", "Source", "Issues"}
    assert all("example" not in u and "TODO" not in u for u in urls), urls
    assert any(
        c.startswith("Programming Language :: Python :: 3.11")
        for c in meta.get_all("Classifier") or []
    )
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("schemas/run.schema.json") for m in members)
    assert any(m.endswith("/setup.py") for m in members)  # the hook that copies schemas/


@pytest.mark.slow
@pytest.mark.xdist_group("installed_venv")
def test_the_wheel_installs_into_a_fresh_venv_with_its_schemas(
    installed_venv: Path, tmp_path: Path
) -> None:
    perfinvest = installed_venv / "perfinvest"
    env = {k: v for k, v in os.environ.items() if k not in ("AI_STATE_DIR", "PYTHONPATH")}
    where = subprocess.run(
        [str(installed_venv / "python"), "-c", "import perfinvest, sys; print(perfinvest.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    assert str(installed_venv.parent) in where  # the installed copy, not this checkout's src/
    package = Path(where).parent
    check = subprocess.run(
        [str(perfinvest), "schemas", "--check", "--out", str(package / "schemas"), "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    # the installed wheel's `perfinvest demo` runs in tests/test_demo.py (one demo, not two)
