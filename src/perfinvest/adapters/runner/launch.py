"""Starting a command: resolving it once, spawning it in its own session, clear errors."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters import deathsig
from perfinvest.adapters.runner.spec import RunSpec
from perfinvest.core.errors import PerfError, benchmark_failed, environment_error


@dataclass(frozen=True)
class Prepared:
    """A spec resolved once: absolute executable, argv, cwd, environment."""

    name: str  # how the user wrote the command, for messages
    executable: str
    argv: list[str]
    cwd: str
    env: dict[str, str]
    cgroup_procs: tuple[str, ...]


def prepare(spec: RunSpec) -> Prepared:
    cwd = spec.cwd.absolute()
    if not cwd.is_dir():
        raise benchmark_failed(
            f"cannot run the benchmark: working directory {cwd} does not exist; "
            "check the benchmark's cwd"
        )
    env = {**os.environ, **spec.env} if spec.inherit_env else dict(spec.env)
    if spec.shell:
        argv = ["/bin/sh", "-c", *spec.argv]
        name = spec.argv[0]
    else:
        argv = list(spec.argv)
        name = argv[0]
    executable = _resolve_executable(argv[0], cwd, env.get("PATH", os.defpath))
    procs = tuple(str(path) for path in spec.preexec_cgroup_procs)
    for procs_file in procs:
        if not os.access(procs_file, os.W_OK):
            raise environment_error(
                f"cannot join the cgroup: {procs_file} is missing or not writable; "
                "check the constraint set-up (and that perfinvest may write to cgroupfs)"
            )
    return Prepared(name, executable, argv, str(cwd), env, procs)


def _resolve_executable(command: str, cwd: Path, search_path: str) -> str:
    """The absolute program path, like ``execvp`` would find it, or a clear PerfError."""
    if "/" in command:
        found = cwd / command  # an absolute command replaces cwd
        if not found.exists():
            raise benchmark_failed(
                f"command not found: {command} (no such file from {cwd}); "
                "check the benchmark command"
            )
    else:
        which = shutil.which(command, path=search_path)
        if which is None:
            raise benchmark_failed(
                f"command not found: {command} is not on PATH; install it or give its full path"
            )
        found = Path(which)
    if found.is_dir():
        raise benchmark_failed(f"cannot execute {command}: it is a directory")
    if not os.access(found, os.X_OK):
        raise benchmark_failed(
            f"cannot execute {command}: it is not executable; make it executable "
            f"(chmod +x {command}) or run it through its interpreter"
        )
    return str(found.absolute())


def spawn_error(prep: Prepared, exc: OSError) -> PerfError:
    if exc.errno == errno.ENOENT:
        return benchmark_failed(f"command not found: {prep.name}; install it or give its full path")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return benchmark_failed(
            f"cannot execute {prep.name}: permission denied; make it executable or run it "
            "through its interpreter"
        )
    if exc.errno == errno.ENOEXEC:
        return benchmark_failed(
            f"cannot execute {prep.name}: not a program, nor a script starting with #!; "
            "run it through its interpreter"
        )
    return benchmark_failed(f"cannot start {prep.name}: {exc.strerror or exc}")


def _cgroup_error(prep: Prepared) -> PerfError:
    return environment_error(
        f"the benchmark could not join its cgroup ({', '.join(prep.cgroup_procs)}) before "
        "starting; check the constraint set-up"
    )


def _joiner(procs_files: tuple[str, ...]) -> Callable[[], None] | None:
    """A ``preexec_fn`` writing the child's own pid to each cgroup.procs file, before exec.

    Only when needed: any ``preexec_fn`` makes CPython fork instead of vfork.
    """
    if not procs_files:
        return None
    encoded = tuple(os.fsencode(path) for path in procs_files)

    die_with_us = deathsig.preexec()  # a fork is paid for here anyway

    def join() -> None:
        die_with_us()
        pid = str(os.getpid()).encode()
        for path in encoded:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    return join


def popen(
    prep: Prepared, stdout: int, stderr: int, *, close_fds: bool = True
) -> subprocess.Popen[bytes]:
    try:
        proc = subprocess.Popen(
            prep.argv,
            executable=prep.executable,
            cwd=prep.cwd,
            env=prep.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_joiner(prep.cgroup_procs),  # noqa: PLW1509 - cgroup join only
            close_fds=close_fds,
            bufsize=0,
        )
    except OSError as exc:
        raise spawn_error(prep, exc) from None
    except subprocess.SubprocessError:  # the preexec_fn failed in the child
        raise _cgroup_error(prep) from None
    deathsig.track(proc.pid)  # killed (with its group) by the watchdog if we die; see reaped
    return proc
