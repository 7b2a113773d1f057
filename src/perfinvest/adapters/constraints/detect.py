"""Choosing a constraint backend, with the reason recorded next to every result.

``auto`` prefers, in order: Docker when an ``--image`` is given (the user asked for a
container), cgroup v2 when the unified hierarchy offers the cpu and memory controllers and
is writable, cgroup v1 when its cpu, cpuacct and memory hierarchies are mounted and
writable, and else the approximate fallback (taskset + prlimit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters.constraints.base import Backend
from perfinvest.core.errors import usage_error

BACKENDS = ("auto", "cgroup2", "cgroup1", "docker", "fallback")


@dataclass(frozen=True)
class Choice:
    backend: Backend
    reason: str


def _make(name: str, image: str | None, mount: Path) -> Backend:
    if name == "cgroup2":
        from perfinvest.adapters.constraints.cgroup2 import Cgroup2Backend

        return Cgroup2Backend()
    if name == "cgroup1":
        from perfinvest.adapters.constraints.cgroup1 import Cgroup1Backend

        return Cgroup1Backend()
    if name == "docker":
        from perfinvest.adapters.constraints.docker_backend import DockerBackend

        return DockerBackend(image, mount)
    from perfinvest.adapters.constraints.fallback import FallbackBackend

    return FallbackBackend()


def choose(requested: str, image: str | None, mount: Path) -> Choice:
    """The backend for ``--backend requested`` and why it was chosen."""
    from perfinvest.adapters.constraints.cgroup1 import NEEDED, v1_mounts
    from perfinvest.adapters.constraints.cgroup2 import available_controllers, v2_root

    if requested not in BACKENDS:
        raise usage_error(f"unknown --backend {requested!r}: use {', '.join(BACKENDS)}")
    if requested != "auto":
        if image and requested != "docker":
            raise usage_error("--image is for --backend docker (or auto); drop one of them")
        return Choice(_make(requested, image, mount), f"--backend {requested} was asked for")
    if image:
        return Choice(_make("docker", image, mount), f"--image {image} given: Docker")
    root = v2_root()
    if root is not None:
        have = available_controllers(root)
        if {"cpu", "memory"} <= have and os.access(root, os.W_OK):
            return Choice(
                _make("cgroup2", None, mount),
                f"cgroup v2 at {root} offers {', '.join(sorted(have))} and is writable",
            )
    mounts = v1_mounts()
    if all(c in mounts for c in NEEDED) and all(os.access(mounts[c], os.W_OK) for c in NEEDED):
        why = "no cgroup v2 with cpu+memory controllers" if root is not None else "no cgroup v2"
        return Choice(
            _make("cgroup1", None, mount),
            f"{why}; cgroup v1 cpu, cpuacct and memory hierarchies are mounted and writable",
        )
    return Choice(
        _make("fallback", None, mount),
        "no writable cgroup v2 or v1 hierarchy and no --image: approximate taskset + prlimit",
    )
