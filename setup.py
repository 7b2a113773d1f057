"""Build hook: the wheel carries the JSON Schemas of ``schemas/`` as ``perfinvest/schemas/``.

Everything else is in pyproject.toml. ``schemas/`` stays at the repository root (where
``perfinvest schemas`` writes and checks it); the sdist includes it (MANIFEST.in) and this
copies it into the built package, so an installed perfinvest ships the schemas it documents.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithSchemas(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "schemas"
        if source.is_dir():
            target = Path(self.build_lib) / "perfinvest" / "schemas"
            shutil.copytree(source, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithSchemas})
