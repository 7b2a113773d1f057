"""Docker: the benchmark runs in a container of a user-given image, with real limits.

``nano_cpus``, ``mem_limit`` (with ``memswap_limit`` equal to it: no swap), ``pids_limit``;
the working tree is mounted at the same path (so relative paths and ``PERF_ARTIFACT_DIR``
work) and the container shares the host network (a benchmark reaching a local service
sees it as unconstrained runs do). Results: the container's stats (peak memory, CPU time,
throttling), streamed while it runs, and ``State.OOMKilled``.

The engine is driven through the docker SDK by a small wrapper process
(``python -m perfinvest.adapters.constraints.docker_backend SPEC -- command...``) that the
runner starts like any benchmark: it creates the container, streams its output to its own
stdout/stderr, exits with the container's exit code and writes the counters to a file. The
runner's timeouts, Ctrl-C handling and metric parsing therefore apply unchanged; SIGTERM to
the wrapper removes the container, and the slot removes it again by name on exit. Each
container carries the labels ``perfinvest`` and ``perfinvest.owner=<pid>`` so
``cleanup_stale`` can find leftovers of a killed run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfinvest.adapters.constraints.base import (
    LABEL,
    OWNER_LABEL,
    Limits,
    Placement,
    Usage,
    unit_name,
)
from perfinvest.core.errors import PerfError, environment_error, usage_error

_CONNECT_TIMEOUT_S = 10


def engine_problem(exc: BaseException) -> PerfError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return environment_error(
        f"no Docker engine: {text[:200]}; start dockerd (e.g. `dockerd &` as root, or "
        "`systemctl start docker`) or choose another --backend"
    )


def connect() -> Any:
    """A docker client that answered a ping, or a PerfError saying how to get one."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a dependency of perfinvest
        raise environment_error(
            f"the docker Python package is missing ({exc}): reinstall perfinvest"
        ) from None
    try:
        client = docker.from_env(timeout=_CONNECT_TIMEOUT_S)
        client.ping()
    except Exception as exc:  # every engine problem becomes one clear error
        raise engine_problem(exc) from None
    return client


@dataclass
class _Slot:
    placement: Placement
    result_path: Path
    notes: list[str] = field(default_factory=list)

    def usage(self) -> Usage:
        usage = Usage(notes=list(self.notes))
        try:
            data = json.loads(self.result_path.read_text())
        except (OSError, ValueError):
            usage.notes.append("the container's counters were not written (the run was stopped?)")
            return usage
        usage.peak_memory_bytes = data.get("peak_memory_bytes")
        usage.throttled_periods = data.get("throttled_periods")
        usage.throttled_time_s = data.get("throttled_time_s")
        usage.cpu_time_s = data.get("cpu_time_s")
        usage.oom_killed = bool(data.get("oom_killed"))
        usage.oom_kills = 1 if usage.oom_killed else 0
        return usage


class DockerBackend:
    name = "docker"
    approximate = False

    def __init__(self, image: str | None, mount: Path, client: Any | None = None) -> None:
        if not image:
            raise usage_error(
                "--backend docker needs --image IMAGE (an image present locally that can "
                "run the benchmark command)"
            )
        self.image = image
        self.mount = mount
        self.client = client if client is not None else connect()
        import docker.errors

        try:
            self.client.images.get(image)
        except docker.errors.ImageNotFound:
            raise environment_error(
                f"Docker image {image!r} is not present locally (nothing is pulled): build or "
                f"import it first, e.g. `docker build -t {image} .` or "
                f"`docker import rootfs.tar {image}`"
            ) from None
        except docker.errors.DockerException as exc:
            raise engine_problem(exc) from None

    @contextlib.contextmanager
    def slot(self, limits: Limits, tag: str) -> Iterator[_Slot]:
        name = unit_name(tag)
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        spec_path, result_path = folder / "spec.json", folder / "result.json"
        spec = {
            "image": self.image,
            "name": name,
            "mount": str(self.mount),
            "result": str(result_path),
            "cpu": limits.cpu,
            "memory_bytes": limits.memory_bytes,
            "pids": limits.pids,
            "labels": {LABEL: "1", OWNER_LABEL: str(os.getpid())},
        }
        spec_path.write_text(json.dumps(spec))
        prefix = (
            sys.executable,
            "-m",
            "perfinvest.adapters.constraints.docker_backend",
            str(spec_path),
            "--",
        )
        try:
            yield _Slot(Placement(argv_prefix=prefix), result_path, [f"image {self.image}"])
        finally:
            remove_container(self.client, name)
            for path in (spec_path, result_path):
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.rmdir()


def remove_container(client: Any, name: str) -> bool:
    """Force-remove a container by name or id; False when there was none."""
    import docker.errors

    try:
        client.containers.get(name).remove(force=True)
    except docker.errors.NotFound:
        return False
    except docker.errors.DockerException:
        return False
    return True


# --- the wrapper process ------------------------------------------------------------------


class _StoppedError(Exception):
    pass


def _on_term(signum: int, frame: object) -> None:
    raise _StoppedError


def _watch_stats(container: Any, found: dict[str, Any]) -> None:
    try:
        for stats in container.stats(stream=True, decode=True):
            memory = stats.get("memory_stats") or {}
            peak = memory.get("max_usage") or memory.get("usage")
            if peak:
                found["peak_memory_bytes"] = max(found.get("peak_memory_bytes", 0), int(peak))
            cpu = stats.get("cpu_stats") or {}
            throttling = cpu.get("throttling_data") or {}
            if "throttled_periods" in throttling:
                found["throttled_periods"] = int(throttling["throttled_periods"])
                found["throttled_time_s"] = int(throttling.get("throttled_time", 0)) / 1e9
            total = (cpu.get("cpu_usage") or {}).get("total_usage")
            if total:
                found["cpu_time_s"] = int(total) / 1e9
    except Exception:  # stats end abruptly when the container goes
        pass


def _pump(stream: Any) -> None:
    for out, err in stream:
        if out:
            sys.stdout.buffer.write(out)
            sys.stdout.buffer.flush()
        if err:
            sys.stderr.buffer.write(err)
            sys.stderr.buffer.flush()


def wrapper_main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(
            "usage: python -m perfinvest.adapters.constraints.docker_backend SPEC -- COMMAND...",
            file=sys.stderr,
        )
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    command = argv[2:]
    signal.signal(signal.SIGTERM, _on_term)
    client = connect()
    env = {k: v for k, v in os.environ.items() if k.startswith("PERF_")}
    options: dict[str, Any] = {}
    if spec["cpu"] is not None:
        options["nano_cpus"] = int(spec["cpu"] * 1e9)
    if spec["memory_bytes"] is not None:
        options["mem_limit"] = spec["memory_bytes"]
        options["memswap_limit"] = spec["memory_bytes"]
    if spec["pids"] is not None:
        options["pids_limit"] = spec["pids"]
    found: dict[str, Any] = {}
    container = None
    code = 125
    try:
        container = client.containers.create(
            spec["image"],
            command,
            name=spec["name"],
            labels=spec["labels"],
            environment=env,
            working_dir=str(Path.cwd()),
            volumes={spec["mount"]: {"bind": spec["mount"], "mode": "rw"}},
            network_mode="host",
            user=f"{os.getuid()}:{os.getgid()}",
            **options,
        )
        stream = container.attach(stdout=True, stderr=True, stream=True, demux=True, logs=True)
        container.start()
        watcher = threading.Thread(target=_watch_stats, args=(container, found), daemon=True)
        watcher.start()
        _pump(stream)
        code = int(container.wait().get("StatusCode", 125))
        watcher.join(timeout=2)
        container.reload()
        found["oom_killed"] = bool(container.attrs.get("State", {}).get("OOMKilled"))
        found["exit_code"] = code
        Path(spec["result"]).write_text(json.dumps(found))
    except _StoppedError:
        code = 143
    except Exception as exc:  # reported on stderr, captured by the runner
        print(f"perfinvest docker wrapper: {exc}", file=sys.stderr)
        code = 125
    finally:
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)
    return code


if __name__ == "__main__":
    sys.exit(wrapper_main(sys.argv[1:]))
