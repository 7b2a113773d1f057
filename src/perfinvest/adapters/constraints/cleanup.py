"""Removing what a killed perfinvest run left behind: its cgroups and its containers.

Every cgroup and container perfinvest creates is named ``perfinvest-<owner pid>-...``
(containers also carry the ``perfinvest.owner`` label). ``cleanup_stale`` removes those
whose owner process is dead (killing any process still inside) and leaves the groups of
live runs alone. ``perfinvest recover`` calls it; it is cheap when there is nothing to do
(no Docker import unless the engine socket exists).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from perfinvest.adapters.constraints.base import (
    OWNER_LABEL,
    iter_dirs,
    owner_pid,
    remove_group,
)
from perfinvest.adapters.processes import pid_alive


def _cgroup_roots() -> list[Path]:
    from perfinvest.adapters.constraints.cgroup1 import v1_mounts
    from perfinvest.adapters.constraints.cgroup2 import v2_root

    roots = list(dict.fromkeys(v1_mounts().values()))
    unified = v2_root()
    if unified is not None:
        roots.append(unified)
    return roots


def stale_groups(roots: list[Path]) -> list[Path]:
    return [
        group
        for root in roots
        for group in iter_dirs(root)
        if (pid := owner_pid(group.name)) is not None and not pid_alive(pid)
    ]


def cleanup_cgroups(roots: list[Path] | None = None) -> list[str]:
    removed = []
    for group in stale_groups(_cgroup_roots() if roots is None else roots):
        try:
            remove_group(group)
        except OSError as exc:
            removed.append(f"could not remove cgroup {group}: {exc.strerror or exc}")
        else:
            removed.append(f"removed cgroup {group}")
    return removed


def _docker_socket_present() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        return True  # a remote engine: ask it
    path = host.removeprefix("unix://") or "/var/run/docker.sock"
    return Path(path).exists()


def cleanup_containers() -> list[str]:
    if not _docker_socket_present():
        return []
    try:
        import docker

        client = docker.from_env(timeout=5)
        containers = client.containers.list(all=True, filters={"label": OWNER_LABEL})
    except Exception:  # no engine answering: nothing perfinvest can clean there
        return []
    removed = []
    for container in containers:
        owner = container.labels.get(OWNER_LABEL, "")
        if owner.isdigit() and pid_alive(int(owner)):
            continue
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed.append(f"removed container {container.name}")
    return removed


def cleanup_stale() -> list[str]:
    """Remove perfinvest's leftover cgroups and containers whose owner is dead; say what."""
    return [*cleanup_cgroups(), *cleanup_containers()]
